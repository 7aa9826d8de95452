package compare

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Threshold is how much worse B may be than A on one metric before it is a
// regression. Exactly one of Percent and Absolute is set.
type Threshold struct {
	Metric string `json:"metric"`
	// Percent is a share of A's value (latencies, qps), or percentage
	// points of the error rate (errors).
	Percent float64 `json:"percent,omitempty"`
	// Absolute is a latency increase (latency metrics only).
	Absolute time.Duration `json:"absolute,omitempty"`
}

// MarshalJSON writes Absolute as a duration ("2ms"), not nanoseconds.
func (t Threshold) MarshalJSON() ([]byte, error) {
	out := struct {
		Metric   string   `json:"metric"`
		Percent  *float64 `json:"percent,omitempty"`
		Absolute string   `json:"absolute,omitempty"`
	}{Metric: t.Metric}
	if t.Absolute > 0 {
		out.Absolute = t.Absolute.String()
	} else {
		out.Percent = &t.Percent
	}
	return json.Marshal(out)
}

// String renders t as --max-regression takes it.
func (t Threshold) String() string {
	return t.Metric + "=" + t.limit()
}

// limit is the threshold's value: "10%" or "2ms".
func (t Threshold) limit() string {
	if t.Absolute > 0 {
		return t.Absolute.String()
	}
	return strconv.FormatFloat(t.Percent, 'f', -1, 64) + "%"
}

// ParseThresholds parses --max-regression: METRIC=VALUE items separated by
// commas, VALUE a percentage ("p99=10%", "qps=5%", "errors=0.5%") or, for
// latencies, a duration ("p99=2ms").
func ParseThresholds(s string) ([]Threshold, error) {
	var out []Threshold
	seen := map[string]bool{}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		t, err := parseThreshold(item)
		if err != nil {
			return nil, fmt.Errorf("--max-regression %q: %w", item, err)
		}
		if seen[t.Metric] {
			return nil, fmt.Errorf("--max-regression %q: %s is given more than once", item, t.Metric)
		}
		seen[t.Metric] = true
		out = append(out, t)
	}
	return out, nil
}

func parseThreshold(item string) (Threshold, error) {
	name, value, ok := strings.Cut(item, "=")
	if !ok {
		return Threshold{}, fmt.Errorf("want METRIC=VALUE, like p99=10%%")
	}
	name, value = strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(value)
	m, ok := lookup(name)
	if !ok {
		return Threshold{}, fmt.Errorf("unknown metric %s (want one of %s)", name, strings.Join(MetricNames(), ", "))
	}
	t := Threshold{Metric: name}
	if pct, ok := strings.CutSuffix(value, "%"); ok {
		p, err := strconv.ParseFloat(strings.TrimSpace(pct), 64)
		if err != nil || math.IsNaN(p) || math.IsInf(p, 0) {
			return Threshold{}, fmt.Errorf("%s is not a percentage", value)
		}
		if p < 0 {
			return Threshold{}, fmt.Errorf("%s: the limit cannot be negative", value)
		}
		t.Percent = p
		return t, nil
	}
	if m.kind != Latency {
		return Threshold{}, fmt.Errorf("want a percentage for %s, like %s=5%%", name, name)
	}
	d, err := time.ParseDuration(value)
	if err != nil {
		return Threshold{}, fmt.Errorf("want a percentage or a duration for %s, like %s=10%% or %s=2ms", name, name, name)
	}
	if d <= 0 {
		return Threshold{}, fmt.Errorf("%s: the limit must be positive", value)
	}
	t.Absolute = d
	return t, nil
}
