package runner

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/url"
	"time"

	"fortio.org/fortio/fhttp"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/load"
)

// probeRequests are sent one after the other before the run.
const probeRequests = 5

// Probe checks that the target accepts connections and returns the lowest
// latency of a few sequential requests: the latency the histogram must
// resolve. Requests that fail still count (a target may answer 503 fast).
func Probe(ctx context.Context, spec *load.Spec) (time.Duration, error) {
	if err := checkReachable(ctx, spec.URL, spec.Timeout); err != nil {
		return 0, err
	}
	opts := httpOptions(spec)
	opts.Init(spec.URL)
	opts.InitHeaders()
	for _, h := range spec.Headers {
		if err := opts.AddAndValidateExtraHeader(h); err != nil {
			return 0, fmt.Errorf("--header %q: %w", h, err)
		}
	}
	client, err := fhttp.NewClient(&opts)
	if err != nil {
		return 0, fmt.Errorf("target %s: %w", spec.URL, err)
	}
	defer client.Close()
	fastest := time.Duration(math.MaxInt64)
	socketErrors := 0
	for range probeRequests {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		start := time.Now()
		code, _, _ := client.StreamFetch(ctx)
		elapsed := time.Since(start)
		if code < 0 {
			socketErrors++
			continue
		}
		fastest = min(fastest, elapsed)
	}
	if socketErrors == probeRequests {
		return 0, fmt.Errorf("target %s: unreachable: it accepts connections but answered none of %d HTTP requests", spec.URL, probeRequests)
	}
	return fastest, nil
}

// checkReachable dials the target's host and port once, so that a wrong
// address is one clear line instead of a run of socket errors.
func checkReachable(ctx context.Context, rawURL string, timeout time.Duration) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("target %q: %w", rawURL, err)
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	dialer := net.Dialer{Timeout: timeout}
	conn, err := dialer.DialContext(ctx, "tcp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return fmt.Errorf("target %s: unreachable: %w", rawURL, err)
	}
	return conn.Close()
}

// FitResolution picks the histogram resolution for a latency: the largest
// 1-2-5 step at most a tenth of it, so that the latency lands in fortio's
// finest buckets (10 to 25 units wide 1 or 2) and the histogram still
// covers latencies thousands of times higher. Bounded to [1µs, 10ms].
func FitResolution(latency time.Duration) time.Duration {
	target := latency / 10
	best := time.Microsecond
	for unit := time.Microsecond; unit <= 10*time.Millisecond; unit *= 10 {
		for _, step := range []time.Duration{1, 2, 5} {
			if r := step * unit; r <= target && r <= 10*time.Millisecond {
				best = r
			}
		}
	}
	return best
}
