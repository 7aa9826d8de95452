package report

import (
	"fmt"
	"math"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"
)

// percentileTicks are the named percentiles on the x axis; each is a
// factor of ten closer to 100 than the one before, which is what the
// log(1/(1-p)) scale spaces evenly (after 50).
var percentileTicks = []float64{0, 50, 90, 99, 99.9, 99.99}

// pctSteps is how many points a percentile line has.
const pctSteps = 200

// percentilePlot draws latency against percentile on a log(1/(1-p)) axis,
// which gives the tail as much room as the median, as HdrHistogram's plots.
func percentilePlot(results []*smp.Result, names, colours []string) *plot {
	empty := emptyFlags(results)
	p := newPlot("latency-percentiles", "Latency by percentile", names, colours, empty)
	lo, hi, ok := latencyRange(results)
	if !ok {
		p.Empty = true
		return p
	}
	xMax := tailX(percentileTicks[len(percentileTicks)-1])
	xs := scale{lo: 0, hi: xMax}
	for _, t := range percentileTicks {
		xs.ticks = append(xs.ticks, tailX(t))
	}
	ys := latencyScale(lo, hi, true)
	f := p.Frame
	xs.p0, xs.p1 = f.X, f.X+f.W
	ys.p0, ys.p1 = f.Y+f.H, f.Y
	p.setAxes(xs, ys, "percentile (log(1/(1-p)) scale)", latencyLabel(ys), func(x float64) string {
		return tickLabel(math.Round(100*(1-math.Pow(10, -x))*100) / 100)
	})

	for i, r := range results {
		if empty[i] {
			continue
		}
		h := &r.Histogram
		var pb pathBuilder
		for s := 0; s <= pctSteps; s++ {
			x := xMax * float64(s) / pctSteps
			pt := 100 * (1 - math.Pow(10, -x))
			if s == 0 {
				pb.move(xs.pos(x), ys.pos(h.Percentile(pt)))
				continue
			}
			pb.line(xs.pos(x), ys.pos(h.Percentile(pt)))
		}
		sr := series{Name: names[i], Colour: colours[i], Path: pb.String(), Fill: "0"}
		for _, pt := range percentileTicks[1:] {
			v := h.Percentile(pt)
			sr.Markers = append(sr.Markers, marker{
				X: xs.pos(tailX(pt)), Y: ys.pos(v),
				Title: fmt.Sprintf("%s: p%s = %s ms", names[i], tickLabel(pt), ms(v)),
			})
		}
		p.Series = append(p.Series, sr)
	}
	return p
}

// tailX is log10(1/(1-p)) for p in percent: 50 -> 0.3, 90 -> 1, 99 -> 2.
func tailX(p float64) float64 {
	return math.Log10(1 / (1 - p/100))
}
