package helmrepo

import (
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"

	repo "helm.sh/helm/v4/pkg/repo/v1"
)

func TestServeChartsIndexesEveryVersion(t *testing.T) {
	dir := filepath.Join(ChartsDir(), "linkerd-control-plane")
	u := ServeCharts(t,
		Chart{Dir: dir},
		Chart{Dir: dir, Version: "2026.2.1", AppVersion: "edge-26.2.1"},
	)
	if pu, err := url.Parse(u); err != nil || pu.Hostname() != "127.0.0.1" {
		t.Fatalf("repository URL %q, want one on 127.0.0.1", u)
	}
	body := get(t, u+"/index.yaml")
	var index repo.IndexFile
	if err := yaml.Unmarshal(body, &index); err != nil {
		t.Fatalf("reading index.yaml: %v", err)
	}
	versions := index.Entries["linkerd-control-plane"]
	if len(versions) != 2 {
		t.Fatalf("index has %d versions of linkerd-control-plane, want 2", len(versions))
	}
	// SortEntries puts the newest first, as helm repo index does.
	if versions[0].Version != "2026.2.1" || versions[0].AppVersion != "edge-26.2.1" || versions[1].Version != "2026.1.1" {
		t.Errorf("versions %s/%s, %s, want 2026.2.1/edge-26.2.1, 2026.1.1", versions[0].Version, versions[0].AppVersion, versions[1].Version)
	}
	for _, v := range versions {
		if len(v.URLs) != 1 || v.Digest == "" {
			t.Fatalf("version %s: urls %v digest %q, want one URL and a digest", v.Version, v.URLs, v.Digest)
		}
		if data := get(t, v.URLs[0]); len(data) == 0 {
			t.Errorf("version %s: empty archive at %s", v.Version, v.URLs[0])
		}
	}
}

func get(t *testing.T, u string) []byte {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", u, resp.Status)
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
