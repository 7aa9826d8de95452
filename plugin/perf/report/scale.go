package report

import (
	"math"
	"strconv"
)

// logThreshold is the max/min ratio above which a latency axis is
// logarithmic: past it a linear axis squeezes the fast requests into a few
// pixels (0.05 ms and 500 ms on one page).
const logThreshold = 20

// scale maps data values to pixels, linearly or by log10.
type scale struct {
	log    bool
	lo, hi float64 // domain; both > 0 on a log scale
	p0, p1 float64 // pixels for lo and hi
	ticks  []float64
}

func (s scale) pos(v float64) float64 {
	if s.hi == s.lo {
		return s.p0
	}
	var f float64
	if s.log {
		v = math.Max(v, s.lo)
		f = (math.Log10(v) - math.Log10(s.lo)) / (math.Log10(s.hi) - math.Log10(s.lo))
	} else {
		f = (v - s.lo) / (s.hi - s.lo)
	}
	return s.p0 + f*(s.p1-s.p0)
}

// latencyScale picks a log scale when the values span more than
// logThreshold, else a linear one; zeroBased makes a linear scale start at 0.
func latencyScale(lo, hi float64, zeroBased bool) scale {
	if lo > 0 && hi/lo > logThreshold {
		return logScale(lo, hi)
	}
	if zeroBased {
		lo = 0
	}
	return linearScale(lo, hi, 6)
}

// linearScale covers [lo, hi] with about n ticks at "nice" steps (1, 2 or 5
// times a power of ten), widening the domain to whole steps.
func linearScale(lo, hi float64, n int) scale {
	if hi <= lo {
		hi = lo + math.Max(math.Abs(lo)*0.1, 1)
	}
	step := niceNum((hi-lo)/float64(n-1), true)
	nlo := math.Floor(lo/step) * step
	nhi := math.Ceil(hi/step) * step
	s := scale{lo: nlo, hi: nhi}
	for i := 0; ; i++ {
		v := nlo + float64(i)*step
		if v > nhi+step/2 {
			break
		}
		s.ticks = append(s.ticks, roundTo(v, step))
	}
	return s
}

// logScale covers [lo, hi] from the 1-2-5 value below lo to the one above
// hi; ticks are the 1-2-5 values inside, or only the powers of ten when the
// span is wide.
func logScale(lo, hi float64) scale {
	nlo := step125(lo, false)
	nhi := step125(hi, true)
	var all, decades []float64
	for e := math.Floor(math.Log10(nlo)); e <= math.Ceil(math.Log10(nhi)); e++ {
		for _, m := range []float64{1, 2, 5} {
			v := roundTo(m*math.Pow(10, e), math.Pow(10, e))
			if v < nlo*0.999 || v > nhi*1.001 {
				continue
			}
			all = append(all, v)
			if m == 1 {
				decades = append(decades, v)
			}
		}
	}
	s := scale{log: true, lo: nlo, hi: nhi, ticks: all}
	if len(all) > 9 && len(decades) >= 2 {
		// Only the decades, plus the ends when they are not too close to
		// one, so that the extremes stay labelled.
		s.ticks = nil
		if math.Log10(decades[0]/nlo) >= 0.25 {
			s.ticks = append(s.ticks, nlo)
		}
		s.ticks = append(s.ticks, decades...)
		if math.Log10(nhi/decades[len(decades)-1]) >= 0.25 {
			s.ticks = append(s.ticks, nhi)
		}
	}
	return s
}

// step125 is the largest 1-2-5 value at or below v (up=false) or the
// smallest at or above it.
func step125(v float64, up bool) float64 {
	e := math.Floor(math.Log10(v))
	p := math.Pow(10, e)
	ms := []float64{1, 2, 5, 10}
	if up {
		for _, m := range ms {
			if m*p >= v*(1-1e-9) {
				return roundTo(m*p, p)
			}
		}
	}
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i]*p <= v*(1+1e-9) {
			return roundTo(ms[i]*p, p)
		}
	}
	return p
}

// niceNum is Heckbert's nice number: 1, 2, 5 or 10 times a power of ten,
// near x (round) or at least x.
func niceNum(x float64, round bool) float64 {
	e := math.Floor(math.Log10(x))
	f := x / math.Pow(10, e)
	var nf float64
	switch {
	case round && f < 1.5, !round && f <= 1:
		nf = 1
	case round && f < 3, !round && f <= 2:
		nf = 2
	case round && f < 7, !round && f <= 5:
		nf = 5
	default:
		nf = 10
	}
	return nf * math.Pow(10, e)
}

// roundTo removes the float noise of v, a multiple of step.
func roundTo(v, step float64) float64 {
	dec := decimals(step)
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', dec, 64), 64)
	return r
}

func decimals(step float64) int {
	return max(0, int(-math.Floor(math.Log10(step)+1e-9)))
}

// tickLabel prints a tick value with no more digits than it has.
func tickLabel(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64)
}
