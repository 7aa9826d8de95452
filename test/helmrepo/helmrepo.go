// Package helmrepo serves Helm chart repositories on loopback for tests:
// chart directories are packaged with the Helm SDK, indexed as `helm repo
// index` does, and served by an httptest server for the test's lifetime.
package helmrepo

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"testing"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	repo "helm.sh/helm/v4/pkg/repo/v1"
)

// Chart is a chart directory to serve, optionally at another version than
// its Chart.yaml says, so that one directory gives the versions an upgrade
// test needs.
type Chart struct {
	Dir string
	// Version and AppVersion override Chart.yaml when set.
	Version, AppVersion string
}

// Serve packages the chart directories as they are and serves them; it
// returns the repository URL (http://127.0.0.1:PORT).
func Serve(t testing.TB, chartDirs ...string) string {
	t.Helper()
	charts := make([]Chart, len(chartDirs))
	for i, d := range chartDirs {
		charts[i] = Chart{Dir: d}
	}
	return ServeCharts(t, charts...)
}

// ServeCharts packages the charts (at their overridden versions) into a
// temporary directory, writes its index.yaml and serves it on loopback
// until the test ends; it returns the repository URL.
func ServeCharts(t testing.TB, charts ...Chart) string {
	t.Helper()
	dir := t.TempDir()
	for _, c := range charts {
		ch, err := loader.LoadDir(c.Dir)
		if err != nil {
			t.Fatalf("loading chart %s: %v", c.Dir, err)
		}
		if c.Version != "" {
			ch.Metadata.Version = c.Version
		}
		if c.AppVersion != "" {
			ch.Metadata.AppVersion = c.AppVersion
		}
		if _, err := chartutil.Save(ch, dir); err != nil {
			t.Fatalf("packaging chart %s: %v", c.Dir, err)
		}
	}

	// httptest listens on 127.0.0.1 only.
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)

	// Absolute URLs, as most public repositories write them.
	index, err := repo.IndexDirectory(dir, srv.URL)
	if err != nil {
		t.Fatalf("indexing the charts: %v", err)
	}
	index.SortEntries()
	if err := index.WriteFile(filepath.Join(dir, "index.yaml"), 0o644); err != nil {
		t.Fatalf("writing index.yaml: %v", err)
	}
	return srv.URL
}

// ChartsDir is the repository's test/charts directory, where the charts the
// project writes for its tests live; usable from any package's tests.
func ChartsDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "charts")
}
