// Package loadstat holds the figures the load benchmarks read from fortio's
// results.
package loadstat

import (
	"slices"

	"fortio.org/fortio/fhttp"
)

// Percentile is the latency (seconds) fortio computed at percentile p, 0
// when it was not asked for.
func Percentile(res *fhttp.HTTPRunnerResults, p float64) float64 {
	for _, pc := range res.DurationHistogram.Percentiles {
		if pc.Percentile == p {
			return pc.Value
		}
	}
	return 0
}

// Median of xs (the upper one of an even count); xs is left as it is.
func Median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
