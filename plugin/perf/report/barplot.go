package report

import (
	"fmt"
	"math"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"
)

// barGroup is one category of a bar plot: a figure of each result, NaN
// where a result has none.
type barGroup struct {
	Label string
	Unit  string
	Value func(*smp.Result) float64
}

// barPlot draws, for each group, one bar per result side by side. It
// returns nil when no result has any of the figures.
func barPlot(id, title, yLabel string, groups []barGroup, results []*smp.Result, names, colours []string) *plot {
	values := make([][]float64, len(results))
	top, any := 0.0, false
	for i, r := range results {
		for _, g := range groups {
			v := g.Value(r)
			values[i] = append(values[i], v)
			if !math.IsNaN(v) {
				top, any = math.Max(top, v), true
			}
		}
	}
	if !any {
		return nil
	}
	p := newPlot(id, title, names, colours, make([]bool, len(results)))
	xs := scale{lo: -0.5, hi: float64(len(groups)) - 0.5}
	for g := range groups {
		xs.ticks = append(xs.ticks, float64(g))
	}
	ys := linearScale(0, math.Max(top*1.1, 1), 6)
	f := p.Frame
	xs.p0, xs.p1 = f.X, f.X+f.W
	ys.p0, ys.p1 = f.Y+f.H, f.Y
	p.setAxes(xs, ys, "", yLabel, func(x float64) string { return groups[int(math.Round(x))].Label })

	// The bars of a group fill 80% of its width.
	width := 0.8 / float64(len(results))
	base := ys.pos(0)
	for i := range results {
		var pb pathBuilder
		var marks []marker
		for g, group := range groups {
			v := values[i][g]
			if math.IsNaN(v) {
				continue
			}
			x0 := xs.pos(float64(g) - 0.4 + float64(i)*width)
			x1 := xs.pos(float64(g) - 0.4 + float64(i+1)*width)
			y := ys.pos(v)
			pb.move(x0, base)
			pb.line(x0, y)
			pb.line(x1, y)
			pb.line(x1, base)
			marks = append(marks, marker{X: (x0 + x1) / 2, Y: y, Title: fmt.Sprintf("%s: %s = %s %s", names[i], group.Label, ms(v), group.Unit)})
		}
		if len(marks) == 0 {
			p.Legend[i].Note = "(no figures)"
			continue
		}
		p.Series = append(p.Series, series{Name: names[i], Colour: colours[i], Path: pb.String() + " Z", Fill: "0.7", Markers: marks})
	}
	return p
}

// meshLatencyPlot sets the latency the client measured beside the one the
// target's proxies measured.
func meshLatencyPlot(results []*smp.Result, names, colours []string) *plot {
	// The figures the summary and perf compare show beside the plot.
	client := func(pick func(smp.Latencies) float64) func(*smp.Result) float64 {
		return func(r *smp.Result) float64 {
			if r.Histogram.Count == 0 {
				return math.NaN()
			}
			return pick(r.Latencies)
		}
	}
	server := func(pick func(smp.ServerLatencies) *float64) func(*smp.Result) float64 {
		return func(r *smp.Result) float64 {
			if t := r.ReadableTelemetry(); t != nil && t.Server != nil && pick(t.Server.LatenciesMs) != nil {
				return *pick(t.Server.LatenciesMs)
			}
			return math.NaN()
		}
	}
	groups := []barGroup{
		{"client p50", "ms", client(func(l smp.Latencies) float64 { return l.P50 })},
		{"server p50", "ms", server(func(l smp.ServerLatencies) *float64 { return l.P50 })},
		{"client p99", "ms", client(func(l smp.Latencies) float64 { return l.P99 })},
		{"server p99", "ms", server(func(l smp.ServerLatencies) *float64 { return l.P99 })},
	}
	if !hasServerLatency(results) {
		return nil
	}
	return barPlot("mesh-latency", "Latency: the client's and the mesh's", "latency (ms)", groups, results, names, colours)
}

func hasServerLatency(results []*smp.Result) bool {
	for _, r := range results {
		if t := r.ReadableTelemetry(); t != nil && t.Server != nil {
			return true
		}
	}
	return false
}

// meshCPUPlot shows what the proxies and the control plane used.
func meshCPUPlot(results []*smp.Result, names, colours []string) *plot {
	cpu := func(pick func(*smp.MeshConfig) *smp.Resources) func(*smp.Result) float64 {
		return func(r *smp.Result) float64 {
			if r.Mesh == nil || pick(r.Mesh) == nil {
				return math.NaN()
			}
			return float64(pick(r.Mesh).CPUMCores)
		}
	}
	return barPlot("mesh-cpu", "CPU of the mesh during the run", "CPU (mCores)", []barGroup{
		{"proxies", "mCores", cpu(func(m *smp.MeshConfig) *smp.Resources { return m.Sidecar })},
		{"control plane", "mCores", cpu(func(m *smp.MeshConfig) *smp.Resources { return m.ControlPlane })},
	}, results, names, colours)
}
