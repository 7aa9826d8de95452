package store

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// newResult is a valid result against target started at start.
func newResult(name, target string, start time.Time, labels map[string]string) *smp.Result {
	return &smp.Result{
		SMPVersion:  smp.Version,
		Name:        name,
		Labels:      labels,
		StartTime:   start,
		EndTime:     start.Add(10 * time.Second),
		ActualQPS:   100,
		Requests:    1000,
		Errors:      2,
		StatusCodes: map[string]int64{"200": 998, "503": 2},
		Latencies:   smp.Latencies{Min: 1, Average: 2, P50: 2, P90: 3, P99: 5, P999: 6, Max: 7},
		Config: smp.TestConfig{SMPVersion: smp.Version, Clients: []smp.Client{{
			Target: target, EndpointURL: []string{"http://127.0.0.1:8080/"}, Connections: 4, RPS: 100, Loop: "open",
			Headers: map[string]string{"Authorization": "Bearer secret"},
		}}},
		Histogram: smp.Histogram{Count: 1000, Min: 1, Max: 7, Average: 2,
			Buckets: []smp.Bucket{{Start: 1, End: 7, Count: 1000, Percent: 100}}},
	}
}

func open(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "perf"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustSave(t *testing.T, s *Store, r *smp.Result) string {
	t.Helper()
	if _, err := s.Save(r); err != nil {
		t.Fatal(err)
	}
	return r.Name
}

// files lists every file under dir, relative, sorted.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		out = append(out, rel)
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func resultNames(rs []*smp.Result) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}
