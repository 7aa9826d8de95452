package compare

import (
	"reflect"
	"testing"
	"time"
)

func TestParseThresholds(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Threshold
	}{
		{"empty", "", nil},
		{"one percent", "p99=10%", []Threshold{{Metric: "p99", Percent: 10}}},
		{"issue example", "p99=10%,qps=5%", []Threshold{{Metric: "p99", Percent: 10}, {Metric: "qps", Percent: 5}}},
		{"spaces and case", " P99 = 10 % , errors=0.5%", []Threshold{{Metric: "p99", Percent: 10}, {Metric: "errors", Percent: 0.5}}},
		{"absolute ms", "p99=2ms", []Threshold{{Metric: "p99", Absolute: 2 * time.Millisecond}}},
		{"absolute seconds on max", "max=1.5s", []Threshold{{Metric: "max", Absolute: 1500 * time.Millisecond}}},
		{"p99.9 zero tolerance", "p99.9=0%", []Threshold{{Metric: "p99.9", Percent: 0}}},
		{"every metric", "min=1%,avg=2%,p50=3%,p90=4%,p99=5%,p99.9=6%,max=7%,qps=8%,errors=9%", []Threshold{
			{Metric: "min", Percent: 1}, {Metric: "avg", Percent: 2}, {Metric: "p50", Percent: 3},
			{Metric: "p90", Percent: 4}, {Metric: "p99", Percent: 5}, {Metric: "p99.9", Percent: 6},
			{Metric: "max", Percent: 7}, {Metric: "qps", Percent: 8}, {Metric: "errors", Percent: 9},
		}},
		{"trailing comma", "p50=1%,", []Threshold{{Metric: "p50", Percent: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseThresholds(tt.in)
			if err != nil {
				t.Fatalf("ParseThresholds(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseThresholds(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseThresholdsErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"unknown metric", "p98=10%", `--max-regression "p98=10%": unknown metric p98 (want one of min, avg, p50, p90, p99, p99.9, max, qps, errors, server_p50, server_p95, server_p99, server_errors, proxy_cpu, proxy_mem, control_plane_cpu, control_plane_mem)`},
		{"bad item among good", "p99=10%,latency=1%", `--max-regression "latency=1%": unknown metric latency (want one of min, avg, p50, p90, p99, p99.9, max, qps, errors, server_p50, server_p95, server_p99, server_errors, proxy_cpu, proxy_mem, control_plane_cpu, control_plane_mem)`},
		{"no value", "p99", `--max-regression "p99": want METRIC=VALUE, like p99=10%`},
		{"duration for qps", "qps=5ms", `--max-regression "qps=5ms": want a percentage for qps, like qps=5%`},
		{"duration for errors", "errors=1ms", `--max-regression "errors=1ms": want a percentage for errors, like errors=5%`},
		{"not a number", "p99=ten%", `--max-regression "p99=ten%": ten% is not a percentage`},
		{"NaN", "p99=NaN%", `--max-regression "p99=NaN%": NaN% is not a percentage`},
		{"negative percent", "p99=-1%", `--max-regression "p99=-1%": -1%: the limit cannot be negative`},
		{"negative duration", "p99=-2ms", `--max-regression "p99=-2ms": -2ms: the limit must be positive`},
		{"bare number", "p99=10", `--max-regression "p99=10": want a percentage or a duration for p99, like p99=10% or p99=2ms`},
		{"duration for proxy_cpu", "proxy_cpu=5ms", `--max-regression "proxy_cpu=5ms": want a percentage for proxy_cpu, like proxy_cpu=5%`},
		{"twice", "p99=10%,p99=5%", `--max-regression "p99=5%": p99 is given more than once`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseThresholds(tt.in)
			if err == nil {
				t.Fatalf("ParseThresholds(%q) = %+v, want error %q", tt.in, got, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("ParseThresholds(%q) error:\n got %s\nwant %s", tt.in, err, tt.want)
			}
		})
	}
}

func TestThresholdString(t *testing.T) {
	tests := []struct {
		name string
		in   Threshold
		want string
	}{
		{"percent", Threshold{Metric: "p99", Percent: 10}, "p99=10%"},
		{"fraction", Threshold{Metric: "errors", Percent: 0.5}, "errors=0.5%"},
		{"absolute", Threshold{Metric: "p50", Absolute: 1500 * time.Microsecond}, "p50=1.5ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}
