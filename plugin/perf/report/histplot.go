package report

import (
	"math"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"
)

// distributionPlot draws each result's histogram as a filled step line:
// x is the latency, y the share of the requests in each bucket. Steps
// overlay better than bars when several results share the plot.
func distributionPlot(results []*smp.Result, names, colours []string) *plot {
	empty := emptyFlags(results)
	p := newPlot("latency-distribution", "Latency distribution", names, colours, empty)
	lo, hi, ok := latencyRange(results)
	if !ok {
		p.Empty = true
		return p
	}
	maxPct := 0.0
	for _, r := range results {
		for _, b := range r.Histogram.Buckets {
			maxPct = math.Max(maxPct, bucketPct(b, r.Histogram.Count))
		}
	}
	xs := latencyScale(lo, hi, false)
	// Headroom above the highest bar keeps it off the frame.
	ys := linearScale(0, math.Max(maxPct*1.05, 1), 6)
	f := p.Frame
	xs.p0, xs.p1 = f.X, f.X+f.W
	ys.p0, ys.p1 = f.Y+f.H, f.Y
	p.setAxes(xs, ys, latencyLabel(xs), "% of requests", tickLabel)

	base := ys.pos(0)
	for i, r := range results {
		if empty[i] {
			continue
		}
		var pb pathBuilder
		prev := math.NaN()
		for _, b := range r.Histogram.Buckets {
			if b.Count == 0 {
				continue
			}
			x0, x1 := xs.pos(b.Start), xs.pos(b.End)
			// A bucket of one value (min = max) still gets a visible bar.
			x1 = math.Max(x1, x0+1)
			y := ys.pos(bucketPct(b, r.Histogram.Count))
			switch {
			case math.IsNaN(prev):
				pb.move(x0, base)
			case x0-prev > 0.05:
				// A gap: fortio leaves out empty buckets.
				pb.line(prev, base)
				pb.line(x0, base)
			}
			pb.line(x0, y)
			pb.line(x1, y)
			prev = x1
		}
		pb.line(prev, base)
		p.Series = append(p.Series, series{Name: names[i], Colour: colours[i], Path: pb.String() + " Z", Fill: "0.18"})
	}
	return p
}

func bucketPct(b smp.Bucket, total int64) float64 {
	if total == 0 {
		return 0
	}
	return 100 * float64(b.Count) / float64(total)
}

func emptyFlags(results []*smp.Result) []bool {
	e := make([]bool, len(results))
	for i, r := range results {
		e[i] = r.Histogram.Count == 0 || len(r.Histogram.Buckets) == 0
	}
	return e
}

// latencyRange is the smallest and the largest latency of all results
// with requests; ok is false when none has any.
func latencyRange(results []*smp.Result) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for i, empty := range emptyFlags(results) {
		if empty {
			continue
		}
		h := results[i].Histogram
		lo, hi = math.Min(lo, h.Min), math.Max(hi, h.Max)
		ok = true
	}
	return lo, hi, ok
}

func latencyLabel(s scale) string {
	if s.log {
		return "latency (ms, log scale)"
	}
	return "latency (ms, linear scale)"
}
