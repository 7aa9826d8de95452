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
)

// metric is one row of a comparison.
type metric struct {
	name  string
	kind  Kind
	value func(*smp.Result) float64
}

// metrics are the rows, in the order printed.
func metrics() []metric {
	return []metric{
		{"min", Latency, func(r *smp.Result) float64 { return r.Latencies.Min }},
		{"avg", Latency, func(r *smp.Result) float64 { return r.Latencies.Average }},
		{"p50", Latency, func(r *smp.Result) float64 { return r.Latencies.P50 }},
		{"p90", Latency, func(r *smp.Result) float64 { return r.Latencies.P90 }},
		{"p99", Latency, func(r *smp.Result) float64 { return r.Latencies.P99 }},
		{"p99.9", Latency, func(r *smp.Result) float64 { return r.Latencies.P999 }},
		{"max", Latency, func(r *smp.Result) float64 { return r.Latencies.Max }},
		{"qps", Rate, func(r *smp.Result) float64 { return r.ActualQPS }},
		{"errors", ErrorRate, func(r *smp.Result) float64 { return r.ErrorRate() }},
	}
}

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
