package smp

import (
	"strconv"

	"fortio.org/fortio/fhttp"
	"fortio.org/fortio/stats"
)

// Percentiles are those fortio is asked to compute for every run.
var Percentiles = []float64{50, 75, 90, 95, 99, 99.9}

// FromFortio turns fortio's HTTP results into a Result with cfg as its test
// configuration. Socket errors are counted under status "-1".
func FromFortio(res *fhttp.HTTPRunnerResults, cfg TestConfig) *Result {
	r := &Result{
		SMPVersion:  Version,
		ID:          cfg.ID,
		Name:        cfg.Name,
		Labels:      cfg.Labels,
		StartTime:   res.StartTime.UTC(),
		EndTime:     res.StartTime.Add(res.ActualDuration).UTC(),
		ActualQPS:   res.ActualQPS,
		StatusCodes: map[string]int64{},
		Config:      cfg,
	}
	for code, n := range res.RetCodes {
		r.StatusCodes[strconv.Itoa(code)] += n
		if IsError(code) {
			r.Errors += n
		}
	}
	if res.DurationHistogram != nil {
		r.Histogram = histogramMs(res.DurationHistogram)
		r.Requests = res.DurationHistogram.Count
	}
	if len(cfg.Clients) > 0 {
		r.Histogram.ResolutionMs = cfg.Clients[0].ResolutionMs
	}
	r.Latencies = LatenciesOf(&r.Histogram)
	return r
}

// IsError tells whether a fortio return code is a failed request: a socket
// error (negative) or an HTTP status of 400 and above.
func IsError(code int) bool { return code < 0 || code >= 400 }

// LatenciesOf summarises a histogram as SMP's latencies_ms.
func LatenciesOf(h *Histogram) Latencies {
	l := Latencies{Min: h.Min, Average: h.Average, Max: h.Max}
	at := map[float64]*float64{50: &l.P50, 90: &l.P90, 99: &l.P99, 99.9: &l.P999}
	for p, dst := range at {
		*dst = h.Percentile(p)
	}
	// fortio's own percentiles, where it computed them, are the reference.
	for _, pc := range h.Percentiles {
		if dst, ok := at[pc.Percentile]; ok {
			*dst = pc.Value
		}
	}
	return l
}

func histogramMs(d *stats.HistogramData) Histogram {
	const ms = 1000
	h := Histogram{
		Count:   d.Count,
		Min:     d.Min * ms,
		Max:     d.Max * ms,
		Average: d.Avg * ms,
		StdDev:  d.StdDev * ms,
		Buckets: make([]Bucket, 0, len(d.Data)),
	}
	for _, b := range d.Data {
		h.Buckets = append(h.Buckets, Bucket{Start: b.Start * ms, End: b.End * ms, Count: b.Count, Percent: b.Percent})
	}
	for _, p := range d.Percentiles {
		h.Percentiles = append(h.Percentiles, Percentile{Percentile: p.Percentile, Value: p.Value * ms})
	}
	return h
}
