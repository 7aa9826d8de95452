package compare

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"
	"github.com/kubectl-mesh/kubectl-mesh/test/golden"
)

// sample is a comparison with a regression, an absolute limit, a zero in A,
// sub-ms, ms and s latencies, qps and errors.
func sample(t *testing.T) *Comparison {
	t.Helper()
	a := result("main-20261123-100000", smp.Latencies{Min: 0, Average: 1.2345, P50: 0.9876, P90: 4.2, P99: 12.34, P999: 250.5, Max: 1234.5}, 998.76, 30000, 3)
	b := result("pr-42-20261123-110000", smp.Latencies{Min: 0.052, Average: 1.3, P50: 0.9876, P90: 4.1, P99: 14.1, P999: 251, Max: 2500}, 950.1, 28500, 57)
	b.Interrupted = true
	th, err := ParseThresholds("p50=5%,p90=1ms,p99=10%,qps=5%,errors=0.1%")
	if err != nil {
		t.Fatal(err)
	}
	return Compare(a, b, th)
}

func TestPrintTable(t *testing.T) {
	tests := []struct {
		name string
		c    func(t *testing.T) *Comparison
	}{
		{"regression", sample},
		{"no-limits", func(t *testing.T) *Comparison {
			a := result("", lat(10), 100, 1000, 0)
			return Compare(a, a, nil)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tt.c(t).PrintTable(&buf); err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, filepath.Join("testdata", "table-"+tt.name+".golden"), buf.Bytes())
		})
	}
}

func TestPrintNotes(t *testing.T) {
	var buf bytes.Buffer
	if err := sample(t).PrintNotes(&buf); err != nil {
		t.Fatal(err)
	}
	want := "Warning: B (pr-42-20261123-110000) was interrupted: its figures cover only the requests made before it stopped\n"
	if buf.String() != want {
		t.Errorf("PrintNotes:\n got %q\nwant %q", buf.String(), want)
	}
}

func TestMarshal(t *testing.T) {
	c := sample(t)
	js, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, filepath.Join("testdata", "comparison.json.golden"), append(js, '\n'))
	ys, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, filepath.Join("testdata", "comparison.yaml.golden"), ys)
}

func TestMillis(t *testing.T) {
	tests := []struct {
		name string
		in   float64
		want string
	}{
		{"zero", 0, "0ms"},
		{"sub-millisecond", 0.0523, "0.052ms"},
		{"single digit", 1.2345, "1.234ms"},
		{"just under ten", 9.9994, "9.999ms"},
		{"tens", 12.34, "12.3ms"},
		{"hundreds", 999.94, "999.9ms"},
		{"seconds", 1234.5, "1.23s"},
		{"negative", -12.34, "-12.3ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Millis(tt.in); got != tt.want {
				t.Errorf("Millis(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
