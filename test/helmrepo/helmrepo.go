// Package helmrepo serves Helm chart repositories on loopback for tests:
// chart directories are packaged with the Helm SDK, indexed as `helm repo
// index` does, and served by an httptest server for the test's lifetime.
package helmrepo

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"testing"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	repo "helm.sh/helm/v4/pkg/repo/v1"
)

// Chart is a chart directory to serve, optionally at another version than
// its Chart.yaml says, so that one directory gives the versions an upgrade
// test needs.
type Chart struct {
	Dir string
	// Loaded, when set, is served instead of loading Dir.
	Loaded *chart.Chart
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
	// httptest listens on 127.0.0.1 only.
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	if err := Build(dir, srv.URL, charts...); err != nil {
		t.Fatal(err)
	}
	return srv.URL
}

// Build packages the charts into dir and writes the index.yaml of a
// repository served from dir at baseURL.
func Build(dir, baseURL string, charts ...Chart) error {
	for _, c := range charts {
		ch := c.Loaded
		if ch == nil {
			var err error
			if ch, err = loader.LoadDir(c.Dir); err != nil {
				return fmt.Errorf("loading chart %s: %w", c.Dir, err)
			}
		}
		if c.Version != "" {
			ch.Metadata.Version = c.Version
		}
		if c.AppVersion != "" {
			ch.Metadata.AppVersion = c.AppVersion
		}
		if _, err := chartutil.Save(ch, dir); err != nil {
			return fmt.Errorf("packaging chart %s: %w", ch.Name(), err)
		}
	}
	// Absolute URLs, as most public repositories write them.
	index, err := repo.IndexDirectory(dir, baseURL)
	if err != nil {
		return fmt.Errorf("indexing the charts: %w", err)
	}
	index.SortEntries()
	if err := index.WriteFile(filepath.Join(dir, "index.yaml"), 0o644); err != nil {
		return fmt.Errorf("writing index.yaml: %w", err)
	}
	return nil
}

// ChartsDir is the repository's test/charts directory, where the charts the
// project writes for its tests live; usable from any package's tests.
func ChartsDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "charts")
}
