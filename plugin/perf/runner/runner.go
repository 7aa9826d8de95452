// Package runner runs a load test from this machine with fortio's HTTP
// runner (fortio.org/fortio/fhttp and periodic): the target is checked and its
// latency probed first, the histogram resolution is fitted to that latency,
// progress is reported while the load runs, and cancelling the context stops
// the run and keeps what was measured until then.
package runner

import (
	"context"
	"fmt"
	"io"
	"math"
	"time"

	"fortio.org/fortio/fhttp"
	"fortio.org/fortio/periodic"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/load"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"
)

// Options tune a run without changing what is measured.
type Options struct {
	// Progress receives a live line (elapsed, QPS, p50 and p99 so far)
	// every ProgressInterval; nil means no progress.
	Progress io.Writer
	// InPlace redraws one line (a terminal) instead of printing a line per
	// interval.
	InPlace          bool
	ProgressInterval time.Duration
	// Warnings receives advice about the settings (one line each); nil
	// means none.
	Warnings io.Writer
}

// Outcome is fortio's result of a run and how the run went.
type Outcome struct {
	Fortio *fhttp.HTTPRunnerResults
	// Resolution is the histogram resolution used (fitted or given).
	Resolution time.Duration
	// Interrupted is true when ctx was cancelled before the run's end.
	Interrupted bool
}

// Run checks spec, probes the target and runs the load. A target that does
// not accept connections is an error before any load is sent.
func Run(ctx context.Context, spec *load.Spec, opts Options) (*Outcome, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	resolution := spec.Resolution
	if resolution == 0 {
		probe, err := Probe(ctx, spec)
		if err != nil {
			return nil, err
		}
		resolution = FitResolution(probe)
		if opts.Warnings != nil {
			if advice := spacingAdvice(spec, probe); advice != "" {
				fmt.Fprintln(opts.Warnings, "Warning: "+advice)
			}
		}
	} else if err := checkReachable(ctx, spec.URL, spec.Timeout); err != nil {
		return nil, err
	}

	ro, err := fortioOptions(spec, resolution)
	if err != nil {
		return nil, err
	}
	var live *liveStats
	if opts.Progress != nil {
		live = newLiveStats(resolution)
		ro.AccessLogger = live
	}

	// fortio moves the options into its runner and clears ro.Stop.
	aborter := ro.Stop
	done := make(chan struct{})
	defer close(done)
	interrupted := make(chan bool, 1)
	go func() {
		select {
		case <-ctx.Done():
			interrupted <- true
			aborter.Abort(false)
		case <-done:
			interrupted <- false
		}
	}()
	if live != nil {
		stopProgress := live.report(opts, spec)
		defer stopProgress()
	}

	res, err := fhttp.RunHTTPTest(ro)
	if err != nil {
		return nil, fmt.Errorf("running the load against %s: %w", spec.URL, err)
	}
	out := &Outcome{Fortio: res, Resolution: resolution}
	select {
	case out.Interrupted = <-interrupted:
	default:
		out.Interrupted = ctx.Err() != nil
	}
	return out, nil
}

// slowSlots is how many times the probed latency a connection's time
// between requests should be: answers vary, and in an open loop a
// connection whose answer comes after its next slot skips that slot.
const slowSlots = 10

// spacingAdvice says when an open loop spreads its rate over too few
// connections for the target's latency, and how many would do.
func spacingAdvice(spec *load.Spec, latency time.Duration) string {
	if spec.Loop != load.Open || spec.QPS <= 0 {
		return ""
	}
	slot := time.Duration(float64(spec.Connections) / spec.QPS * float64(time.Second))
	if slot >= slowSlots*latency {
		return ""
	}
	want := int(math.Ceil(spec.QPS * slowSlots * latency.Seconds()))
	return fmt.Sprintf("at --qps %g over %d connections each connection sends every %s and the target answered in %s: "+
		"answers later than that skip requests (open loop, no catch-up); --connections %d keeps the rate",
		spec.QPS, spec.Connections, FormatLatency(slot), FormatLatency(latency), want)
}

// Result turns an outcome into the SMP result of spec's run.
func (o *Outcome) Result(spec *load.Spec, id string) *smp.Result {
	withResolution := *spec
	withResolution.Resolution = o.Resolution
	r := smp.FromFortio(o.Fortio, withResolution.TestConfig(id, false))
	r.Interrupted = o.Interrupted
	return r
}

// fortioOptions maps a spec onto fortio's runner and HTTP options.
func fortioOptions(spec *load.Spec, resolution time.Duration) (*fhttp.HTTPRunnerOptions, error) {
	qps := spec.QPS
	if qps == 0 {
		qps = -1 // fortio: negative is as fast as possible, 0 its default rate
	}
	ro := &fhttp.HTTPRunnerOptions{
		RunnerOptions: periodic.RunnerOptions{
			QPS:         qps,
			Duration:    spec.Duration,
			Exactly:     spec.Requests,
			NumThreads:  spec.Connections,
			Resolution:  resolution.Seconds(),
			NoCatchUp:   spec.Loop == load.Open,
			Uniform:     true,
			Percentiles: smp.Percentiles,
			Labels:      spec.Name,
			Out:         io.Discard,
			// Our own aborter: fortio then leaves SIGINT to us.
			Stop: periodic.NewAborter(),
		},
		HTTPOptions: httpOptions(spec),
	}
	for _, h := range spec.Headers {
		if err := ro.AddAndValidateExtraHeader(h); err != nil {
			return nil, fmt.Errorf("--header %q: %w", h, err)
		}
	}
	return ro, nil
}

func httpOptions(spec *load.Spec) fhttp.HTTPOptions {
	return fhttp.HTTPOptions{
		URL:            spec.URL,
		Payload:        spec.Payload,
		ContentType:    spec.ContentType,
		MethodOverride: spec.Method,
		H2:             spec.HTTP2,
		// fortio's fast client speaks HTTP/1.1 only.
		DisableFastClient: spec.HTTP2,
		NumConnections:    spec.Connections,
		HTTPReqTimeOut:    spec.Timeout,
		TLSOptions: fhttp.TLSOptions{
			CACert: spec.TLS.CACert, Cert: spec.TLS.Cert, Key: spec.TLS.Key, Insecure: spec.TLS.Insecure,
		},
	}
}
