package report

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"
)

func tickTexts(a axis) string {
	var s []string
	for _, t := range a.Ticks {
		s = append(s, t.Text)
	}
	return strings.Join(s, " ")
}

func plotFor(results []*smp.Result, build func([]*smp.Result, []string, []string) *plot) *plot {
	sums := summaries(results)
	names, colours := make([]string, len(sums)), make([]string, len(sums))
	for i, s := range sums {
		names[i], colours[i] = s.Name, s.Colour
	}
	return build(results, names, colours)
}

func TestDistributionPlot(t *testing.T) {
	tests := []struct {
		name       string
		results    []*smp.Result
		wantSeries int
		wantX      string
		wantXTicks string
		wantYTicks string
	}{
		{"wide span is log", []*smp.Result{istioResult(), linkerdResult()}, 2, "latency (ms, log scale)", "0.05 0.1 1 10 100 500", "0 2 4 6 8 10 12 14 16"},
		{"narrow is linear", []*smp.Result{narrowResult()}, 1, "latency (ms, linear scale)", "2 2.2 2.4 2.6 2.8 3", "0 10 20 30 40 50 60"},
		{"empty results have no series", []*smp.Result{emptyResult(), narrowResult()}, 1, "latency (ms, linear scale)", "2 2.2 2.4 2.6 2.8 3", "0 10 20 30 40 50 60"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := plotFor(tt.results, distributionPlot)
			if len(p.Series) != tt.wantSeries {
				t.Errorf("got %d series, want %d", len(p.Series), tt.wantSeries)
			}
			if len(p.Legend) != len(tt.results) {
				t.Errorf("got %d legend entries, want %d", len(p.Legend), len(tt.results))
			}
			if p.X.Label != tt.wantX || p.Y.Label != "% of requests" {
				t.Errorf("labels %q, %q", p.X.Label, p.Y.Label)
			}
			if got := tickTexts(p.X); got != tt.wantXTicks {
				t.Errorf("x ticks %q, want %q", got, tt.wantXTicks)
			}
			if got := tickTexts(p.Y); got != tt.wantYTicks {
				t.Errorf("y ticks %q, want %q", got, tt.wantYTicks)
			}
		})
	}
}

// TestDistributionHeights: the top of each step is the bucket's share of
// the requests. narrowResult has 400 requests: 4 at 2.0 ms, 200 in
// (2.0, 2.5] and 196 in (2.5, 3.0).
func TestDistributionHeights(t *testing.T) {
	r := narrowResult()
	var got []string
	for _, b := range r.Histogram.Buckets {
		got = append(got, fmt.Sprintf("%.4g-%.4g:%.2f%%", b.Start, b.End, bucketPct(b, r.Histogram.Count)))
	}
	if want := "2-2:1.00% 2-2.5:50.00% 2.5-2.99:49.00%"; strings.Join(got, " ") != want {
		t.Fatalf("buckets %q, want %q", strings.Join(got, " "), want)
	}
	p := plotFor([]*smp.Result{r}, distributionPlot)
	// y scale 0..60 over the frame's height: the steps sit at these y.
	f := p.Frame
	y := func(pct float64) string { return num(f.Y + f.H - pct/60*f.H) }
	path := p.Series[0].Path
	for _, pct := range []float64{1, 50, 49} {
		if !strings.Contains(path, " "+y(pct)+" ") && !strings.HasSuffix(path, " "+y(pct)) {
			t.Errorf("path %q has no step at y=%s (%.2f%%)", path, y(pct), pct)
		}
	}
}

func TestPercentilePlot(t *testing.T) {
	tests := []struct {
		name       string
		results    []*smp.Result
		wantSeries int
		wantY      string
		wantYTicks string
	}{
		{"wide span is log", []*smp.Result{istioResult(), linkerdResult()}, 2, "latency (ms, log scale)", "0.05 0.1 1 10 100 500"},
		{"narrow is linear from 0", []*smp.Result{narrowResult()}, 1, "latency (ms, linear scale)", "0 0.5 1 1.5 2 2.5 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := plotFor(tt.results, percentilePlot)
			if len(p.Series) != tt.wantSeries {
				t.Fatalf("got %d series, want %d", len(p.Series), tt.wantSeries)
			}
			if p.X.Label != "percentile (log(1/(1-p)) scale)" || p.Y.Label != tt.wantY {
				t.Errorf("labels %q, %q", p.X.Label, p.Y.Label)
			}
			if got, want := tickTexts(p.X), "0 50 90 99 99.9 99.99"; got != want {
				t.Errorf("x ticks %q, want %q", got, want)
			}
			if got := tickTexts(p.Y); got != tt.wantYTicks {
				t.Errorf("y ticks %q, want %q", got, tt.wantYTicks)
			}
			// 90, 99, 99.9 and 99.99 are evenly spaced: each is ten times
			// closer to 100 than the one before.
			x := p.X.Ticks
			step := x[3].X1 - x[2].X1
			for i := 4; i < len(x); i++ {
				if d := x[i].X1 - x[i-1].X1; fmt.Sprintf("%.3f", d) != fmt.Sprintf("%.3f", step) {
					t.Errorf("tick %s is %.3f from the previous, want %.3f", x[i].Text, d, step)
				}
			}
			for i, s := range p.Series {
				if n := strings.Count(s.Path, "L") + strings.Count(s.Path, "M"); n != pctSteps+1 {
					t.Errorf("series %s has %d points, want %d", s.Name, n, pctSteps+1)
				}
				h := tt.results[i].Histogram
				want := fmt.Sprintf("%s: p99 = %s ms", s.Name, ms(h.Percentile(99)))
				if s.Markers[2].Title != want {
					t.Errorf("p99 marker %q, want %q", s.Markers[2].Title, want)
				}
			}
		})
	}
}

func TestPlotsEmpty(t *testing.T) {
	for _, build := range []func([]*smp.Result, []string, []string) *plot{distributionPlot, percentilePlot} {
		p := plotFor([]*smp.Result{emptyResult(), emptyResult()}, build)
		if !p.Empty || len(p.Series) != 0 {
			t.Errorf("%s: empty=%v with %d series, want empty with none", p.ID, p.Empty, len(p.Series))
		}
	}
}
