// Package soakbench is issue 20's soak as a benchmark (`make soak`): the
// mixed admission load of test/soak through a sandbox's real apiserver, at
// half the capacity measured in the same run, for ten minutes (SOAK_MINUTES
// changes it), reporting for each minute the requests, failed admissions,
// wrong verdicts, latency percentiles, and the webhook's goroutines and
// resident memory. It fails when an admission failed or a verdict was
// wrong, or when goroutines or RSS grew by 5% or more from minute 2 to the
// last minute. `make bench` leaves it out: it takes the minutes it reports.
package soakbench

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
	"github.com/kubectl-mesh/kubectl-mesh/test/soak"
)

// maxGrowth is the most goroutines and RSS may grow from minute 2 to the
// last minute.
const maxGrowth = 0.05

func TestMain(m *testing.M) {
	flag.Parse()
	// The sandbox only for the benchmark: `go test` of every package
	// (make test-unit) runs nothing here.
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		os.Exit(m.Run())
	}
	os.Exit(harness.Main(m, harness.Options{Commands: []string{harness.WebhookBin}, Setup: harness.InstallCRDs}))
}

func BenchmarkSoak(b *testing.B) {
	minutes := 10
	if v := os.Getenv("SOAK_MINUTES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 3 {
			b.Fatalf("SOAK_MINUTES=%q: want a number of minutes, at least 3", v)
		}
		minutes = n
	}
	for b.Loop() {
		soakRun(b, minutes)
	}
}

func soakRun(b *testing.B, minutes int) {
	load, wh := soak.Start(b, "soak", "--namespace=soak-system", "--audit-interval=1m")
	capacity := load.Run(b.Context(), -1, 10*time.Second)
	rate := capacity.QPS / 2
	b.Logf("capacity %s\nsoak at %.1f requests/s for %d minutes", capacity, rate, minutes)

	type minute struct {
		w                soak.Window
		goroutines, rssB float64
	}
	var (
		got           []minute
		failed, wrong int
	)
	b.Logf("%-6s %8s %8s %6s %6s %8s %8s %8s %8s %10s %8s", "minute", "requests", "req/s", "failed", "wrong", "p50 ms", "p90 ms", "p99 ms", "max ms", "goroutines", "RSS MiB")
	for i := range minutes {
		w := load.Run(b.Context(), rate, time.Minute)
		m, err := wh.Metrics("go_goroutines", "process_resident_memory_bytes")
		if err != nil {
			b.Fatalf("minute %d: reading the webhook's metrics: %v", i+1, err)
		}
		got = append(got, minute{w: w, goroutines: m["go_goroutines"], rssB: m["process_resident_memory_bytes"]})
		failed += w.Failed
		wrong += w.Wrong
		b.Logf("%-6d %8d %8.1f %6d %6d %8.1f %8.1f %8.1f %8.1f %10.0f %8.1f", i+1, w.Requests, w.QPS, w.Failed, w.Wrong,
			w.P50*1e3, w.P90*1e3, w.P99*1e3, w.Max*1e3, m["go_goroutines"], m["process_resident_memory_bytes"]/(1<<20))
		for _, e := range w.Examples {
			b.Log("  ", e)
		}
	}
	growth := func(f func(minute) float64) float64 { return f(got[len(got)-1])/f(got[1]) - 1 }
	goroutineGrowth := growth(func(m minute) float64 { return m.goroutines })
	rssGrowth := growth(func(m minute) float64 { return m.rssB })
	last := got[len(got)-1].w
	b.ReportMetric(capacity.QPS, "capacity-qps")
	b.ReportMetric(rate, "soak-qps")
	b.ReportMetric(float64(failed), "failed-admissions")
	b.ReportMetric(float64(wrong), "wrong-verdicts")
	b.ReportMetric(goroutineGrowth*100, "goroutine-growth-%")
	b.ReportMetric(rssGrowth*100, "rss-growth-%")
	b.ReportMetric(last.P50*1e3, "last-minute-p50-ms")
	b.ReportMetric(last.P99*1e3, "last-minute-p99-ms")
	if failed > 0 || wrong > 0 {
		b.Errorf("%d failed admissions and %d wrong verdicts, want 0\nwebhook log:\n%s", failed, wrong, wh.Tail(30))
	}
	for what, g := range map[string]float64{"goroutines": goroutineGrowth, "RSS": rssGrowth} {
		if g >= maxGrowth {
			b.Errorf("%s grew by %s from minute 2 to minute %d, want under %.0f%%", what, fmt.Sprintf("%.1f%%", g*100), minutes, maxGrowth*100)
		}
	}
}
