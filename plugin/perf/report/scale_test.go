package report

import (
	"fmt"
	"testing"
)

func TestScales(t *testing.T) {
	tests := []struct {
		name      string
		lo, hi    float64
		zeroBased bool
		wantLog   bool
		wantLo    float64
		wantHi    float64
		wantTicks string
	}{
		{"narrow latencies stay linear", 2, 2.99, false, false, 2, 3, "[2 2.2 2.4 2.6 2.8 3]"},
		{"linear from zero", 2, 2.99, true, false, 0, 3, "[0 0.5 1 1.5 2 2.5 3]"},
		{"percentages", 0, 14.1, false, false, 0, 16, "[0 2 4 6 8 10 12 14 16]"},
		{"0.05 to 500 ms is log", 0.05, 500, true, true, 0.05, 500, "[0.05 0.1 1 10 100 500]"},
		{"ends near a decade", 0.09, 1100, false, true, 0.05, 2000, "[0.05 0.1 1 10 100 1000 2000]"},
		{"two decades keep 1-2-5", 0.3, 40, false, true, 0.2, 50, "[0.2 0.5 1 2 5 10 20 50]"},
		{"ratio at the threshold is linear", 1, 20, true, false, 0, 20, "[0 5 10 15 20]"},
		{"equal values", 3, 3, false, false, 3, 4, "[3 3.2 3.4 3.6 3.8 4]"},
		{"zero minimum is linear", 0, 500, false, false, 0, 500, "[0 100 200 300 400 500]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := latencyScale(tt.lo, tt.hi, tt.zeroBased)
			got := fmt.Sprintf("%v %v %v %v", s.log, s.lo, s.hi, s.ticks)
			want := fmt.Sprintf("%v %v %v %v", tt.wantLog, tt.wantLo, tt.wantHi, tt.wantTicks)
			if got != want {
				t.Errorf("got %s, want %s", got, want)
			}
		})
	}
}

func TestScalePos(t *testing.T) {
	tests := []struct {
		name string
		s    scale
		v    float64
		want float64
	}{
		{"linear middle", scale{lo: 0, hi: 10, p0: 100, p1: 200}, 5, 150},
		{"linear inverted (y)", scale{lo: 0, hi: 10, p0: 300, p1: 100}, 2.5, 250},
		{"log middle decade", scale{log: true, lo: 0.1, hi: 1000, p0: 0, p1: 400}, 10, 200},
		{"log clamps zero to the bottom", scale{log: true, lo: 0.1, hi: 1000, p0: 0, p1: 400}, 0, 0},
		{"empty domain", scale{lo: 3, hi: 3, p0: 7, p1: 9}, 3, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.pos(tt.v); fmt.Sprintf("%.6f", got) != fmt.Sprintf("%.6f", tt.want) {
				t.Errorf("pos(%g) = %g, want %g", tt.v, got, tt.want)
			}
		})
	}
}
