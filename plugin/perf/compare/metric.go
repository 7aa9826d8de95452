// Package compare sets a new load test result (B) against a baseline (A),
// metric by metric, and gates on the regressions that --max-regression
// allows.
package compare

import "github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"

// Kind is how a metric is measured and which way is worse.
type Kind int

const (
	// Latency in ms: higher is worse.
	Latency Kind = iota
	// Rate in requests per second: lower is worse.
	Rate
	// ErrorRate in percent of requests: higher is worse; limits are in
	// percentage points.
	ErrorRate
	// Usage of CPU (mCores) or memory (MB): higher is worse.
	Usage
)

// metric is one row of a comparison.
type metric struct {
	name  string
	kind  Kind
	unit  string
	value func(*smp.Result) float64
	// has reports whether r has the metric (the mesh's telemetry may be
	// absent); nil means always.
	has func(*smp.Result) bool
}

// metrics are the rows, in the order printed: the client's view, then
// the mesh's (server_*: its proxies' count of the target's requests;
// proxy_* and control_plane_*: CPU in mCores and memory in MB).
func metrics() []metric {
	ms := []metric{
		{name: "min", kind: Latency, value: func(r *smp.Result) float64 { return r.Latencies.Min }},
		{name: "avg", kind: Latency, value: func(r *smp.Result) float64 { return r.Latencies.Average }},
		{name: "p50", kind: Latency, value: func(r *smp.Result) float64 { return r.Latencies.P50 }},
		{name: "p90", kind: Latency, value: func(r *smp.Result) float64 { return r.Latencies.P90 }},
		{name: "p99", kind: Latency, value: func(r *smp.Result) float64 { return r.Latencies.P99 }},
		{name: "p99.9", kind: Latency, value: func(r *smp.Result) float64 { return r.Latencies.P999 }},
		{name: "max", kind: Latency, value: func(r *smp.Result) float64 { return r.Latencies.Max }},
		{name: "qps", kind: Rate, value: func(r *smp.Result) float64 { return r.ActualQPS }},
		{name: "errors", kind: ErrorRate, value: func(r *smp.Result) float64 { return r.ErrorRate() }},
	}
	for _, p := range []struct {
		name string
		ms   func(smp.ServerLatencies) *float64
	}{
		{"server_p50", func(l smp.ServerLatencies) *float64 { return l.P50 }},
		{"server_p95", func(l smp.ServerLatencies) *float64 { return l.P95 }},
		{"server_p99", func(l smp.ServerLatencies) *float64 { return l.P99 }},
	} {
		ms = append(ms, metric{name: p.name, kind: Latency,
			value: func(r *smp.Result) float64 { return *p.ms(server(r).LatenciesMs) },
			has:   func(r *smp.Result) bool { return server(r) != nil && p.ms(server(r).LatenciesMs) != nil }})
	}
	ms = append(ms, metric{name: "server_errors", kind: ErrorRate,
		value: func(r *smp.Result) float64 { return 100 * (1 - server(r).SuccessRate) },
		has:   func(r *smp.Result) bool { return server(r) != nil }})
	for _, u := range []struct {
		name  string
		usage func(*smp.MeshConfig) *smp.Resources
	}{
		{"proxy", func(m *smp.MeshConfig) *smp.Resources { return m.Sidecar }},
		{"control_plane", func(m *smp.MeshConfig) *smp.Resources { return m.ControlPlane }},
	} {
		has := func(r *smp.Result) bool { return r.Mesh != nil && u.usage(r.Mesh) != nil }
		ms = append(ms,
			metric{name: u.name + "_cpu", kind: Usage, unit: "mCores", has: has,
				value: func(r *smp.Result) float64 { return float64(u.usage(r.Mesh).CPUMCores) }},
			metric{name: u.name + "_mem", kind: Usage, unit: "MB", has: has,
				value: func(r *smp.Result) float64 { return float64(u.usage(r.Mesh).MemMB) }})
	}
	return ms
}

// server is r's server-side telemetry, nil when it has none readable.
func server(r *smp.Result) *smp.ServerSignals {
	if t := r.ReadableTelemetry(); t != nil {
		return t.Server
	}
	return nil
}

// present reports whether r has m.
func (m metric) present(r *smp.Result) bool { return m.has == nil || m.has(r) }

// MetricNames are the metrics --max-regression accepts, in order.
func MetricNames() []string {
	ms := metrics()
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.name
	}
	return names
}

func lookup(name string) (metric, bool) {
	for _, m := range metrics() {
		if m.name == name {
			return m, true
		}
	}
	return metric{}, false
}
