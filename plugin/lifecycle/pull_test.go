package lifecycle

import (
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/repo/v1"
)

// pullRepo is a Helm repository on loopback serving the demo chart in the
// given versions; downloads counts the archive requests.
type pullRepo struct {
	url       string
	downloads atomic.Int64
}

type pullOptions struct {
	versions []string
	// absolute makes the index point at archives by absolute URL.
	absolute bool
	// badDigest puts a wrong digest into the index.
	badDigest bool
}

func newPullRepo(t *testing.T, o pullOptions) *pullRepo {
	t.Helper()
	dir := t.TempDir()
	r := &pullRepo{}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	r.url = srv.URL + "/charts"
	mux.Handle("/charts/", http.StripPrefix("/charts/", http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if strings.HasSuffix(req.URL.Path, ".tgz") {
			r.downloads.Add(1)
		}
		http.ServeFile(w, req, filepath.Join(dir, filepath.FromSlash(req.URL.Path)))
	})))

	index := repo.NewIndexFile()
	for _, v := range o.versions {
		ch := loadDemo(t)
		md := *ch.Metadata
		md.Version = v
		ch.Metadata = &md
		path, err := chartutil.Save(ch, dir)
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		dig := hex.EncodeToString(sum[:])
		if o.badDigest {
			dig = strings.Repeat("0", 64)
		}
		base := ""
		if o.absolute {
			base = r.url
		}
		if err := index.MustAdd(&md, filepath.Base(path), base, dig); err != nil {
			t.Fatal(err)
		}
	}
	index.SortEntries()
	if err := index.WriteFile(filepath.Join(dir, "index.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestPullChart(t *testing.T) {
	tests := []struct {
		name    string
		repo    pullOptions
		version string
		want    string
	}{
		{name: "latest stable skips prereleases", repo: pullOptions{versions: []string{"0.1.0", "0.2.0", "0.3.0-rc.1"}}, want: "0.2.0"},
		{name: "only prereleases: the latest of them", repo: pullOptions{versions: []string{"0.3.0-edge.1", "0.3.0-edge.2"}}, want: "0.3.0-edge.2"},
		{name: "exact version", repo: pullOptions{versions: []string{"0.1.0", "0.2.0"}}, version: "0.1.0", want: "0.1.0"},
		{name: "exact version with a v", repo: pullOptions{versions: []string{"0.1.0", "0.2.0"}}, version: "v0.1.0", want: "0.1.0"},
		{name: "constraint", repo: pullOptions{versions: []string{"0.1.0", "0.1.5", "0.2.0"}}, version: "~0.1", want: "0.1.5"},
		{name: "exact prerelease", repo: pullOptions{versions: []string{"0.2.0", "0.3.0-rc.1"}}, version: "0.3.0-rc.1", want: "0.3.0-rc.1"},
		{name: "absolute archive URLs", repo: pullOptions{versions: []string{"0.1.0"}, absolute: true}, want: "0.1.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("XDG_CACHE_HOME", t.TempDir())
			r := newPullRepo(t, tt.repo)
			ch, err := PullChart(t.Context(), r.url, "demo", tt.version)
			if err != nil {
				t.Fatal(err)
			}
			if ch.Name() != "demo" || ch.Metadata.Version != tt.want {
				t.Errorf("pulled %s %s, want demo %s", ch.Name(), ch.Metadata.Version, tt.want)
			}
			if len(ch.Templates) == 0 || len(ch.CRDObjects()) != 1 {
				t.Errorf("pulled chart has %d templates and %d CRDs", len(ch.Templates), len(ch.CRDObjects()))
			}
		})
	}
}

func TestPullChartCachesByDigest(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	r := newPullRepo(t, pullOptions{versions: []string{"0.1.0"}})
	for range 2 {
		if _, err := PullChart(t.Context(), r.url+"/", "demo", ""); err != nil {
			t.Fatal(err)
		}
	}
	if n := r.downloads.Load(); n != 1 {
		t.Errorf("archive downloaded %d times, want once (then from the cache)", n)
	}
}

func TestPullChartErrors(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	good := newPullRepo(t, pullOptions{versions: []string{"0.1.0", "0.2.0"}})
	tampered := newPullRepo(t, pullOptions{versions: []string{"0.1.0"}, badDigest: true})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/charts"
	l.Close()

	tests := []struct {
		name, repo, chart, version string
		want                       []string
	}{
		{name: "unreachable", repo: closed, chart: "demo", want: []string{"fetching the chart index from " + closed + "/index.yaml: connection refused; check --repo or the network"}},
		{name: "not a repository", repo: good.url + "/nothing", chart: "demo", want: []string{"/nothing/index.yaml: HTTP 404 Not Found; check --repo"}},
		{name: "neither http nor oci", repo: "ftp://charts.example/charts", chart: "demo", want: []string{`repository URL "ftp://charts.example/charts": want http(s)://host/path or oci://host/path; check --repo`}},
		{name: "unknown chart", repo: good.url, chart: "nope", want: []string{"no chart nope; it has charts demo"}},
		{name: "unknown version lists the available ones", repo: good.url, chart: "demo", version: "9.9.9", want: []string{"chart demo has no version 9.9.9; available: 0.2.0, 0.1.0"}},
		{name: "no version matches the constraint", repo: good.url, chart: "demo", version: ">=1.0", want: []string{"chart demo has no version matching >=1.0; available: 0.2.0, 0.1.0"}},
		{name: "digest mismatch", repo: tampered.url, chart: "demo", want: []string{"its sha256 digest is", "the index says 0000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := PullChart(t.Context(), tt.repo, tt.chart, tt.version)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q, want it to contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is not one line", err)
			}
		})
	}
}
