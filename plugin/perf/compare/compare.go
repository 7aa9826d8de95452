package compare

import (
	"fmt"
	"math"
	"time"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"
)

// Comparison is B (the new run) set against A (the baseline).
type Comparison struct {
	A    Run   `json:"a"`
	B    Run   `json:"b"`
	Rows []Row `json:"rows"`
	// Regression is true when a row regressed (Regressed()).
	Regression bool `json:"regression"`
	// Notes say why A and B may not be comparable.
	Notes []string `json:"notes,omitempty"`
}

// Run names one side of the comparison.
type Run struct {
	Name      string    `json:"name"`
	Target    string    `json:"target"`
	StartTime time.Time `json:"start_time"`
}

// Row is one metric. Latencies are in ms, qps in requests per second,
// errors in percent of requests.
type Row struct {
	Metric string  `json:"metric"`
	Unit   string  `json:"unit"`
	A      float64 `json:"a"`
	B      float64 `json:"b"`
	// Delta is B - A.
	Delta float64 `json:"delta"`
	// ChangePercent is Delta as a percentage of A; nil when A is 0, and for
	// errors, whose limits are in percentage points.
	ChangePercent *float64 `json:"change_percent,omitempty"`
	// Threshold is the limit on this metric, if any.
	Threshold *Threshold `json:"threshold,omitempty"`
	Regressed bool       `json:"regressed"`

	kind Kind
}

// Compare sets b against a; th are the limits (metrics without one never
// regress). a and b must not be nil.
func Compare(a, b *smp.Result, th []Threshold) *Comparison {
	c := &Comparison{
		A:     Run{Name: a.Name, Target: a.Target(), StartTime: a.StartTime},
		B:     Run{Name: b.Name, Target: b.Target(), StartTime: b.StartTime},
		Notes: notes(a, b),
	}
	limits := map[string]Threshold{}
	for _, t := range th {
		limits[t.Metric] = t
	}
	for _, m := range metrics() {
		if !m.present(a) || !m.present(b) {
			if t, ok := limits[m.name]; ok {
				c.Notes = append(c.Notes, fmt.Sprintf("%s is not checked: %s", t, absent(m, a, b)))
			}
			continue
		}
		row := Row{Metric: m.name, Unit: m.unitName(), A: m.value(a), B: m.value(b), kind: m.kind}
		row.Delta = row.B - row.A
		if row.A != 0 && m.kind != ErrorRate {
			ch := 100 * row.Delta / row.A
			row.ChangePercent = &ch
		}
		if t, ok := limits[m.name]; ok {
			if row.A == 0 && t.Absolute == 0 && m.kind != ErrorRate {
				// No percentage of 0 allows anything: --ab's unmeshed side
				// has no proxy, so proxy_cpu=10% would fail every run.
				c.Notes = append(c.Notes, fmt.Sprintf("%s is not checked: A (%s) is 0, and a percentage of 0 allows nothing", t, a.Name))
			} else {
				row.Threshold = &t
				row.Regressed = regressed(m.kind, row.A, row.B, t)
			}
		}
		c.Regression = c.Regression || row.Regressed
		c.Rows = append(c.Rows, row)
	}
	return c
}

// Regressed tells whether any metric got worse than its limit allows.
func (c *Comparison) Regressed() bool {
	for _, r := range c.Rows {
		if r.Regressed {
			return true
		}
	}
	return false
}

// absent says which side lacks m.
func absent(m metric, a, b *smp.Result) string {
	switch {
	case !m.present(a) && !m.present(b):
		return "neither run has the mesh's telemetry of it"
	case !m.present(a):
		return fmt.Sprintf("A (%s) has no mesh telemetry of it", a.Name)
	}
	return fmt.Sprintf("B (%s) has no mesh telemetry of it", b.Name)
}

func (m metric) unitName() string {
	if m.unit != "" {
		return m.unit
	}
	switch m.kind {
	case Rate:
		return "qps"
	case ErrorRate:
		return "%"
	}
	return "ms"
}

// regressed: B is worse than A by more than t allows. Exactly at the limit
// is not a regression; an improvement never is.
func regressed(k Kind, a, b float64, t Threshold) bool {
	worse := b - a
	if k == Rate {
		worse = a - b
	}
	if worse <= 0 {
		return false
	}
	var allowed float64
	switch {
	case t.Absolute > 0:
		allowed = float64(t.Absolute) / float64(time.Millisecond)
	case k == ErrorRate:
		allowed = t.Percent
	default:
		allowed = math.Abs(a) * t.Percent / 100
	}
	// Tolerate float rounding so that "exactly at the limit" holds.
	const eps = 1e-9
	return worse-allowed > eps*math.Max(1, math.Abs(allowed))
}
