package meshcmd

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh/istio"
	"github.com/kubectl-mesh/kubectl-mesh/test/helmrepo"
)

// helm pull's flags reach the pull of install and upgrade; each is
// refused with --offline, which pulls nothing.
func TestChartPullFlags(t *testing.T) {
	charts, err := helmrepo.IstioReleases(istio.DefaultVersion)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := http.FileServer(http.Dir(dir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "mesh" || p != "s3cret" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	if err := helmrepo.Build(dir, srv.URL, charts...); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_CACHE_HOME", t.TempDir())

	tests := []struct {
		name string
		args []string
		// want is "" for success, else a part of the one-line error.
		want string
	}{
		{name: "credentials", args: []string{"install", "istio", "--repo", srv.URL, "--username", "mesh", "--password", "s3cret"}},
		{name: "upgrade takes them too", args: []string{"upgrade", "istio", "--repo", srv.URL, "--username", "mesh", "--password", "s3cret"}},
		{name: "no credentials", args: []string{"install", "istio", "--repo", srv.URL}, want: "HTTP 401 Unauthorized"},
		{name: "--username alone", args: []string{"install", "istio", "--repo", srv.URL, "--username", "mesh"}, want: "--username and --password go together"},
		{name: "--ca-file missing", args: []string{"install", "istio", "--repo", srv.URL, "--ca-file", "/nonexistent/ca.crt"}, want: "reading --ca-file"},
		{name: "--verify with --offline", args: []string{"install", "istio", "--offline", "--verify"}, want: "if any flags in the group [offline verify] are set none of the others can be"},
		{name: "--ca-file with --offline", args: []string{"install", "istio", "--offline", "--ca-file", "ca.crt"}, want: "if any flags in the group [offline ca-file] are set none of the others can be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := runRoot(t, append(tt.args, "--profile", "minimal", "--dry-run=client")...)
			if tt.want == "" {
				if err != nil || !strings.Contains(out, "docker.io/istio/pilot:"+istio.DefaultVersion) {
					t.Errorf("err %v; want the manifests of istiod %s", err, istio.DefaultVersion)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("got %v, want one line containing %q", err, tt.want)
			}
		})
	}
}
