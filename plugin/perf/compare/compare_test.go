package compare

import (
	"reflect"
	"testing"
	"time"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"
)

// result is a run with the given latencies (ms), qps and errors out of
// requests, against svc/echo at 100 qps over 4 connections.
func result(name string, l smp.Latencies, qps float64, requests, errors int64) *smp.Result {
	return &smp.Result{
		SMPVersion: smp.Version,
		Name:       name,
		StartTime:  time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC),
		Latencies:  l,
		ActualQPS:  qps,
		Requests:   requests,
		Errors:     errors,
		Config: smp.TestConfig{Clients: []smp.Client{{
			Target: "svc/echo:8080", Connections: 4, RPS: 100, Loop: "open", HTTPVersion: "1.1",
		}}},
	}
}

func lat(p99 float64) smp.Latencies {
	return smp.Latencies{Min: 1, Average: 2, P50: 2, P90: 5, P99: p99, P999: 20, Max: 30}
}

func TestCompareRegressions(t *testing.T) {
	base := result("a", lat(10), 1000, 1000, 10) // errors 1%
	tests := []struct {
		name string
		b    *smp.Result
		th   string
		// regressed lists the metrics that must regress; all others must not.
		regressed []string
	}{
		{"no thresholds never regress", result("b", lat(100), 10, 1000, 500), "", nil},
		{"latency exactly at the limit", result("b", lat(11), 1000, 1000, 10), "p99=10%", nil},
		{"latency over the limit", result("b", lat(11.01), 1000, 1000, 10), "p99=10%", []string{"p99"}},
		// 2.2 - 2 is 0.20000000000000018 in floating point.
		{"latency at the limit despite rounding", result("b", smp.Latencies{Min: 1, Average: 2, P50: 2.2, P90: 5, P99: 10, P999: 20, Max: 30}, 1000, 1000, 10), "p50=10%", nil},
		{"latency improvement with zero tolerance", result("b", lat(5), 1000, 1000, 10), "p99=0%", nil},
		{"latency equal with zero tolerance", result("b", lat(10), 1000, 1000, 10), "p99=0%", nil},
		{"latency any increase with zero tolerance", result("b", lat(10.001), 1000, 1000, 10), "p99=0%", []string{"p99"}},
		{"absolute limit exactly", result("b", lat(12), 1000, 1000, 10), "p99=2ms", nil},
		{"absolute limit over", result("b", lat(12.5), 1000, 1000, 10), "p99=2ms", []string{"p99"}},
		{"absolute limit sub-millisecond", result("b", lat(10.6), 1000, 1000, 10), "p99=500us", []string{"p99"}},
		{"qps lower exactly at the limit", result("b", lat(10), 950, 1000, 10), "qps=5%", nil},
		{"qps lower over the limit", result("b", lat(10), 949, 1000, 10), "qps=5%", []string{"qps"}},
		{"qps higher is an improvement", result("b", lat(10), 5000, 1000, 10), "qps=0%", nil},
		{"errors within points", result("b", lat(10), 1000, 1000, 15), "errors=0.5%", nil},
		{"errors over points", result("b", lat(10), 1000, 1000, 16), "errors=0.5%", []string{"errors"}},
		{"errors fewer is an improvement", result("b", lat(10), 1000, 1000, 0), "errors=0%", nil},
		{"several at once", result("b", smp.Latencies{Min: 1, Average: 3, P50: 2, P90: 5, P99: 20, P999: 20, Max: 31}, 900, 1000, 30),
			"avg=10%,p99=10%,max=10%,qps=5%,errors=1%", []string{"avg", "p99", "qps", "errors"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th, err := ParseThresholds(tt.th)
			if err != nil {
				t.Fatal(err)
			}
			c := Compare(base, tt.b, th)
			var got []string
			for _, r := range c.Rows {
				if r.Regressed {
					got = append(got, r.Metric)
				}
			}
			if !reflect.DeepEqual(got, tt.regressed) {
				t.Errorf("regressed metrics = %v, want %v", got, tt.regressed)
			}
			if want := len(tt.regressed) > 0; c.Regressed() != want || c.Regression != want {
				t.Errorf("Regressed() = %v, Regression = %v, want %v", c.Regressed(), c.Regression, want)
			}
		})
	}
}

// withTelemetry adds what the mesh measured: server-side p99 and success,
// proxy and control-plane CPU and memory.
func withTelemetry(r *smp.Result, p99, success float64, proxyCPU int32) *smp.Result {
	r.Telemetry = &smp.Telemetry{Format: smp.TelemetryFormat, Server: &smp.ServerSignals{
		Requests: r.Requests, SuccessRate: success, LatenciesMs: smp.ServerLatencies{P50: &p99, P95: &p99, P99: &p99},
	}}
	r.Mesh = &smp.MeshConfig{Type: "ISTIO",
		Sidecar:      &smp.Resources{Count: 1, CPUMCores: proxyCPU, MemMB: 40},
		ControlPlane: &smp.Resources{Count: 1, CPUMCores: 5, MemMB: 100}}
	return r
}

func TestCompareRowValues(t *testing.T) {
	a := withTelemetry(result("a", lat(10), 1000, 1000, 10), 8, 0.75, 100)
	b := withTelemetry(result("b", lat(12), 800, 2000, 40), 9, 0.5, 120)
	a.Latencies.Min = 0
	c := Compare(a, b, []Threshold{{Metric: "p99", Percent: 10}, {Metric: "proxy_cpu", Percent: 10}})
	f := func(v float64) *float64 { return &v }
	want := map[string]Row{
		"server_p99":    {Metric: "server_p99", Unit: "ms", A: 8, B: 9, Delta: 1, ChangePercent: f(12.5), kind: Latency},
		"server_errors": {Metric: "server_errors", Unit: "%", A: 25, B: 50, Delta: 25, kind: ErrorRate},
		"proxy_cpu": {Metric: "proxy_cpu", Unit: "mCores", A: 100, B: 120, Delta: 20, ChangePercent: f(20),
			Threshold: &Threshold{Metric: "proxy_cpu", Percent: 10}, Regressed: true, kind: Usage},
		"control_plane_mem": {Metric: "control_plane_mem", Unit: "MB", A: 100, B: 100, Delta: 0, ChangePercent: f(0), kind: Usage},
		"min":               {Metric: "min", Unit: "ms", A: 0, B: 1, Delta: 1, kind: Latency},
		"p99":               {Metric: "p99", Unit: "ms", A: 10, B: 12, Delta: 2, ChangePercent: f(20), Threshold: &Threshold{Metric: "p99", Percent: 10}, Regressed: true, kind: Latency},
		"qps":               {Metric: "qps", Unit: "qps", A: 1000, B: 800, Delta: -200, ChangePercent: f(-20), kind: Rate},
		"errors":            {Metric: "errors", Unit: "%", A: 1, B: 2, Delta: 1, kind: ErrorRate},
	}
	if len(c.Rows) != len(MetricNames()) {
		t.Fatalf("got %d rows, want one per metric (%d)", len(c.Rows), len(MetricNames()))
	}
	for i, r := range c.Rows {
		if r.Metric != MetricNames()[i] {
			t.Errorf("row %d is %s, want %s", i, r.Metric, MetricNames()[i])
		}
		if w, ok := want[r.Metric]; ok && !reflect.DeepEqual(r, w) {
			t.Errorf("row %s = %+v, want %+v", r.Metric, r, w)
		}
	}
	if c.A != (Run{Name: "a", Target: "svc/echo:8080", StartTime: a.StartTime}) {
		t.Errorf("A = %+v", c.A)
	}
}

// A run without the mesh's telemetry compares on the client's figures; a
// limit on a mesh figure it lacks is a note, not a pass or a failure.
func TestCompareWithoutTelemetry(t *testing.T) {
	a := result("a", lat(10), 1000, 1000, 10)
	b := withTelemetry(result("b", lat(10), 1000, 1000, 10), 9, 1, 120)
	th, err := ParseThresholds("p99=10%,proxy_cpu=10%")
	if err != nil {
		t.Fatal(err)
	}
	c := Compare(a, b, th)
	if len(c.Rows) != 9 || c.Regressed() {
		t.Errorf("rows %d (want the client's 9), regressed %v", len(c.Rows), c.Regressed())
	}
	want := "proxy_cpu=10% is not checked: A (a) has no mesh telemetry of it"
	if len(c.Notes) != 1 || c.Notes[0] != want {
		t.Errorf("notes %q, want [%q]", c.Notes, want)
	}
}

func TestCompareNotes(t *testing.T) {
	tests := []struct {
		name   string
		modify func(a, b *smp.Result)
		want   []string
	}{
		{"comparable", func(a, b *smp.Result) {}, nil},
		{"different target", func(a, b *smp.Result) { b.Config.Clients[0].Target = "svc/echo-v2:8080" },
			[]string{"target differs: svc/echo:8080 (A) vs svc/echo-v2:8080 (B)"}},
		{"different qps", func(a, b *smp.Result) { b.Config.Clients[0].RPS = 0 },
			[]string{"requested QPS differs: 100 (A) vs max (B)"}},
		{"different connections and loop", func(a, b *smp.Result) {
			b.Config.Clients[0].Connections = 8
			b.Config.Clients[0].Loop = "closed"
		}, []string{"connections differs: 4 (A) vs 8 (B)", "loop differs: open (A) vs closed (B)"}},
		{"different HTTP version", func(a, b *smp.Result) { a.Config.Clients[0].HTTPVersion = "2" },
			[]string{"HTTP version differs: 2 (A) vs 1.1 (B)"}},
		{"interrupted", func(a, b *smp.Result) { b.Interrupted = true },
			[]string{"B (b) was interrupted: its figures cover only the requests made before it stopped"}},
		{"no requests", func(a, b *smp.Result) { a.Requests, a.Errors = 0, 0 },
			[]string{"A (a) made no requests"}},
		{"no clients", func(a, b *smp.Result) { a.Config.Clients = nil },
			[]string{"target differs: none (A) vs svc/echo:8080 (B)", "requested QPS differs: max (A) vs 100 (B)",
				"connections differs: 0 (A) vs 4 (B)", "loop differs: none (A) vs open (B)", "HTTP version differs: none (A) vs 1.1 (B)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := result("a", lat(10), 100, 1000, 0), result("b", lat(10), 100, 1000, 0)
			tt.modify(a, b)
			if got := Compare(a, b, nil).Notes; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Notes =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

// --ab's unmeshed side has no proxy (0 mCores): a percentage of it allows
// nothing, so the limit is a note, not a failure of every run; an
// absolute limit on a latency of 0 still gates.
func TestComparePercentOfZero(t *testing.T) {
	a := withTelemetry(result("a", lat(10), 1000, 1000, 10), 8, 1, 0)
	b := withTelemetry(result("b", lat(10), 1000, 1000, 10), 8, 1, 120)
	a.Latencies.Min, b.Latencies.Min = 0, 3
	th, err := ParseThresholds("proxy_cpu=10%,min=1ms")
	if err != nil {
		t.Fatal(err)
	}
	c := Compare(a, b, th)
	want := "proxy_cpu=10% is not checked: A (a) is 0, and a percentage of 0 allows nothing"
	if len(c.Notes) != 1 || c.Notes[0] != want {
		t.Errorf("notes %q, want [%q]", c.Notes, want)
	}
	for _, r := range c.Rows {
		if r.Metric == "proxy_cpu" && (r.Regressed || r.Threshold != nil) {
			t.Errorf("proxy_cpu row %+v, want it shown without a limit", r)
		}
		if r.Metric == "min" && !r.Regressed {
			t.Errorf("min row %+v: an absolute limit on a 0 ms minimum still gates", r)
		}
	}
}
