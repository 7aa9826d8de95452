package compare

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
)

// PrintTable writes the comparison as kubectl prints tables:
//
//	METRIC   A (main)   B (pr-42)   DELTA     CHANGE   LIMIT   RESULT
//	p99      12.3ms     14.1ms      +1.8ms    +14.6%   +10%    REGRESSION
func (c *Comparison) PrintTable(w io.Writer) error {
	// kubectl's tab writer settings (printers.GetNewTabWriter).
	tw := tabwriter.NewWriter(w, 6, 4, 3, ' ', 0)
	fmt.Fprintf(tw, "METRIC\t%s\t%s\tDELTA\tCHANGE\tLIMIT\tRESULT\n", header("A", c.A.Name), header("B", c.B.Name))
	for _, r := range c.Rows {
		result := "ok"
		if r.Regressed {
			result = "REGRESSION"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Metric,
			r.value(r.A, false), r.value(r.B, false), r.value(r.Delta, true),
			change(r.ChangePercent), limit(r.kind, r.Threshold), result)
	}
	return tw.Flush()
}

// PrintNotes writes the notes as kubectl writes warnings (to stderr).
func (c *Comparison) PrintNotes(w io.Writer) error {
	for _, n := range c.Notes {
		if _, err := fmt.Fprintf(w, "Warning: %s\n", n); err != nil {
			return err
		}
	}
	return nil
}

func header(side, name string) string {
	if name == "" {
		return side
	}
	return side + " (" + name + ")"
}

// value formats v in the row's unit; signed adds "+" to positive values.
func (r Row) value(v float64, signed bool) string {
	var s string
	switch r.kind {
	case Usage:
		s = strconv.FormatFloat(v, 'f', 0, 64) + " " + r.Unit
	case Rate:
		s = strconv.FormatFloat(v, 'f', 1, 64)
	case ErrorRate:
		s = strconv.FormatFloat(v, 'f', 2, 64) + "%"
	default:
		s = Millis(v)
	}
	if signed && v > 0 {
		s = "+" + s
	}
	return s
}

// Millis formats a latency in ms with about three significant digits:
// "0.052ms", "1.234ms", "12.3ms", "1.23s".
func Millis(ms float64) string {
	a := math.Abs(ms)
	switch {
	case ms == 0:
		return "0ms"
	case math.IsNaN(ms) || math.IsInf(ms, 0):
		return strconv.FormatFloat(ms, 'f', -1, 64)
	case a < 10:
		return strconv.FormatFloat(ms, 'f', 3, 64) + "ms"
	case a < 1000:
		return strconv.FormatFloat(ms, 'f', 1, 64) + "ms"
	default:
		return strconv.FormatFloat(ms/1000, 'f', 2, 64) + "s"
	}
}

func change(p *float64) string {
	if p == nil {
		return "-"
	}
	s := strconv.FormatFloat(*p, 'f', 1, 64) + "%"
	if !strings.HasPrefix(s, "-") {
		s = "+" + s
	}
	return s
}

// limit shows the worst B may be, as a change from A: "+10%" for a
// latency, "-5%" for qps, "+0.5%" (points) for errors, "+2ms" absolute.
func limit(k Kind, t *Threshold) string {
	if t == nil {
		return "-"
	}
	if k == Rate {
		return "-" + t.limit()
	}
	return "+" + t.limit()
}
