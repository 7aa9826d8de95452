package runner

import (
	"context"
	"fmt"
	"sync"
	"time"

	"fortio.org/fortio/periodic"
	"fortio.org/fortio/stats"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/load"
)

// liveStats is a fortio access logger that keeps the latencies seen so far,
// for the progress line. fortio's own histograms are per connection and
// merged only at the end.
type liveStats struct {
	mu     sync.Mutex
	hist   *stats.Histogram
	errors int64
	start  time.Time
}

var _ periodic.AccessLogger = (*liveStats)(nil)

func newLiveStats(resolution time.Duration) *liveStats {
	return &liveStats{hist: stats.NewHistogram(0, resolution.Seconds()), start: time.Now()}
}

func (l *liveStats) Start(ctx context.Context, _ periodic.ThreadID, _ int64, _ time.Time) context.Context {
	return ctx
}

func (l *liveStats) Report(_ context.Context, _ periodic.ThreadID, _ int64, _ time.Time, latency float64, ok bool, _ string) {
	l.mu.Lock()
	l.hist.Record(latency)
	if !ok {
		l.errors++
	}
	l.mu.Unlock()
}

func (l *liveStats) Info() string { return "kubectl-mesh progress" }

// line renders the progress so far.
func (l *liveStats) line(total string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	elapsed := time.Since(l.start)
	count := l.hist.Count
	data := l.hist.Export().CalcPercentiles([]float64{50, 99})
	p50, p99 := 0.0, 0.0
	if len(data.Percentiles) == 2 {
		p50, p99 = data.Percentiles[0].Value, data.Percentiles[1].Value
	}
	return fmt.Sprintf("elapsed %s%s  requests %d  qps %.1f  p50 %s  p99 %s  errors %d",
		elapsed.Round(time.Second), total, count, float64(count)/elapsed.Seconds(),
		formatSeconds(p50), formatSeconds(p99), l.errors)
}

// report prints the progress every interval until the returned func is
// called, which prints the last line.
func (l *liveStats) report(opts Options, spec *load.Spec) (stop func()) {
	interval := opts.ProgressInterval
	if interval <= 0 {
		interval = time.Second
	}
	total := ""
	if spec.Duration > 0 {
		total = "/" + spec.Duration.String()
	}
	print := func(final bool) {
		switch {
		case opts.InPlace && final:
			fmt.Fprintf(opts.Progress, "\r\033[K%s\n", l.line(total))
		case opts.InPlace:
			fmt.Fprintf(opts.Progress, "\r\033[K%s", l.line(total))
		default:
			fmt.Fprintln(opts.Progress, l.line(total))
		}
	}
	ticker := time.NewTicker(interval)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-ticker.C:
				print(false)
			case <-done:
				return
			}
		}
	}()
	return func() {
		ticker.Stop()
		close(done)
		wg.Wait()
		print(true)
	}
}

// formatSeconds shows a latency in the unit that keeps 3-4 digits.
func formatSeconds(s float64) string {
	return FormatLatency(time.Duration(s * float64(time.Second)))
}

// FormatLatency renders a latency like "850µs", "1.23ms", "12.3ms", "1.23s".
func FormatLatency(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}
