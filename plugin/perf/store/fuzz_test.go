package store

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/compare"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"
)

// FuzzLoad reads any file as a result (perf show/compare FILE) and as a
// baseline: a file it accepts names itself in errors otherwise, survives
// being made a baseline unchanged, and compares with itself without a
// regression or a figure that is not a number.
func FuzzLoad(f *testing.F) {
	good, err := json.Marshal(newResult("r", "svc/reviews", t0, map[string]string{"a": "b"}))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(strings.Replace(string(good), `"requests":1000`, `"requests":-1`, 1)))
	f.Add([]byte(strings.Replace(string(good), `"buckets":[`, `"buckets":[{"start":9,"end":1,"count":5,"percent":250},`, 1)))
	f.Add([]byte(`{"smp_version": "v0.6.1", "start_time": "2026-01-01T00:00:00Z", "histogram": {"count": 0}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := open(t)
		path := filepath.Join(t.TempDir(), "in.json")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		r, err := s.Load(path)
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			return
		}
		if err := s.SetBaseline("b", path); err != nil {
			t.Fatalf("an accepted result cannot be made a baseline: %v", err)
		}
		b, err := s.Baseline("b")
		if err != nil {
			t.Fatalf("reading back the baseline of an accepted result: %v", err)
		}
		if got, want := mustJSON(t, b), mustJSON(t, r); got != want {
			t.Errorf("the baseline differs from its result:\n got %s\nwant %s", got, want)
		}
		var limits []string
		for _, m := range compare.MetricNames() {
			limits = append(limits, m+"=0%")
		}
		th, err := compare.ParseThresholds(strings.Join(limits, ","))
		if err != nil {
			t.Fatal(err)
		}
		c := compare.Compare(r, b, th)
		if c.Regression {
			t.Errorf("a result regressed against itself: %+v", c.Rows)
		}
		if _, err := json.Marshal(c); err != nil {
			t.Fatalf("the comparison of a result with itself does not print: %v", err)
		}
		for _, p := range []float64{50, 90, 99, 99.9} {
			if v := r.Histogram.Percentile(p); math.IsNaN(v) || math.IsInf(v, 0) {
				t.Errorf("p%v = %v", p, v)
			}
		}
		_ = r.SortedStatusCodes()
		_ = smp.LatenciesOf(&r.Histogram)
	})
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
