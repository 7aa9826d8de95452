package smp

import (
	"testing"
	"time"

	"fortio.org/fortio/fhttp"
	"fortio.org/fortio/periodic"
	"fortio.org/fortio/stats"
)

// fortioResult records latencies (seconds) in a fortio histogram of the
// given resolution, as fortio's runner does.
func fortioResult(resolution float64, codes map[int]int64, latencies ...float64) *fhttp.HTTPRunnerResults {
	h := stats.NewHistogram(0, resolution)
	for _, l := range latencies {
		h.Record(l)
	}
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	return &fhttp.HTTPRunnerResults{
		RunnerResults: periodic.RunnerResults{
			StartTime: start, ActualDuration: 2 * time.Second, ActualQPS: float64(len(latencies)) / 2,
			DurationHistogram: h.Export().CalcPercentiles(Percentiles),
		},
		RetCodes: codes,
	}
}

func TestFromFortio(t *testing.T) {
	var latencies []float64
	for i := 1; i <= 100; i++ {
		latencies = append(latencies, float64(i)/1000) // 1 ms .. 100 ms
	}
	res := fortioResult(0.0001, map[int]int64{200: 90, 503: 6, -1: 4}, latencies...)
	r := FromFortio(res, TestConfig{ID: "id", Name: "n", Clients: []Client{{ResolutionMs: 0.1}}})
	if r.SMPVersion != Version || r.Requests != 100 || r.Errors != 10 || r.ActualQPS != 50 {
		t.Errorf("version %q requests %d errors %d qps %.1f", r.SMPVersion, r.Requests, r.Errors, r.ActualQPS)
	}
	if r.StatusCodes["200"] != 90 || r.StatusCodes["503"] != 6 || r.StatusCodes["-1"] != 4 {
		t.Errorf("status codes %v", r.StatusCodes)
	}
	if got := r.SortedStatusCodes(); len(got) != 3 || got[0] != "-1" || got[1] != "200" || got[2] != "503" {
		t.Errorf("sorted codes %v", got)
	}
	if !r.EndTime.Equal(r.StartTime.Add(2*time.Second)) || r.StartTime.Location() != time.UTC {
		t.Errorf("start %s end %s", r.StartTime, r.EndTime)
	}
	l := r.Latencies
	if l.Min != 1 || l.Max != 100 || l.Average < 50.49 || l.Average > 50.51 {
		t.Errorf("min %.3f max %.3f avg %.3f ms, want 1, 100, 50.5", l.Min, l.Max, l.Average)
	}
	// Uniform 1..100 ms: the percentiles are close to their rank.
	for name, c := range map[string]struct{ got, want float64 }{"p50": {l.P50, 50}, "p90": {l.P90, 90}, "p99": {l.P99, 99}} {
		if c.got < c.want-1.5 || c.got > c.want+1.5 {
			t.Errorf("%s %.3f ms, want about %.0f", name, c.got, c.want)
		}
	}
	if l.P999 < l.P99 || l.P999 > l.Max {
		t.Errorf("p99.9 %.3f outside [p99, max]", l.P999)
	}
	if r.Histogram.ResolutionMs != 0.1 || r.Histogram.Count != 100 {
		t.Errorf("histogram resolution %.3f count %d", r.Histogram.ResolutionMs, r.Histogram.Count)
	}
	if err := r.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestHistogramPercentile(t *testing.T) {
	h := Histogram{Count: 4, Min: 1, Max: 4, Buckets: []Bucket{
		{Start: 0, End: 2, Count: 2, Percent: 50},
		{Start: 2, End: 4, Count: 2, Percent: 100},
	}}
	for p, want := range map[float64]float64{0: 1, 25: 1.5, 50: 2, 75: 3, 100: 4} {
		if got := h.Percentile(p); got != want {
			t.Errorf("Percentile(%g) = %g, want %g", p, got, want)
		}
	}
	if got := (&Histogram{}).Percentile(50); got != 0 {
		t.Errorf("empty histogram: %g", got)
	}
}

func TestValidate(t *testing.T) {
	good := func() *Result {
		return &Result{SMPVersion: Version, StartTime: time.Now(), Requests: 10, Errors: 1, Histogram: Histogram{Count: 10}}
	}
	for name, tc := range map[string]struct {
		mutate func(*Result)
		want   string
	}{
		"no version":      {func(r *Result) { r.SMPVersion = "" }, "smp_version is empty"},
		"no start":        {func(r *Result) { r.StartTime = time.Time{} }, "start_time is missing"},
		"errors>requests": {func(r *Result) { r.Errors = 11 }, "requests (10) and errors (11) do not add up"},
		"count mismatch":  {func(r *Result) { r.Histogram.Count = 9 }, "histogram.count (9) differs from requests (10)"},
	} {
		t.Run(name, func(t *testing.T) {
			r := good()
			tc.mutate(r)
			if err := r.Validate(); err == nil || err.Error() != tc.want {
				t.Errorf("Validate() = %v, want %q", err, tc.want)
			}
		})
	}
	if err := good().Validate(); err != nil {
		t.Errorf("valid result: %v", err)
	}
}
