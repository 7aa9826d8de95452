// Package perfbench measures kubectl mesh perf's load runner side by side
// with raw fortio against the same loopback server in one run (issue 7,
// docs/architecture.md, "Measuring performance"), and the runner's rate accuracy up to
// 10,000 requests/s with the load generator on one core. `make bench` runs
// it; hack/bench-summary.sh prints the ratios.
package perfbench

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"fortio.org/fortio/fhttp"
	"fortio.org/fortio/periodic"
	"fortio.org/log"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/load"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/runner"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"
	"github.com/kubectl-mesh/kubectl-mesh/test/loadstat"
)

const (
	// The echo server gets this CPU; the load generator runs with
	// GOMAXPROCS=1 beside it.
	serverCPU   = "1"
	roundLength = 3 * time.Second
	rounds      = 7
	pairLength  = 1500 * time.Millisecond
	pairs       = 12
	connections = 8
)

// BenchmarkRunnerVsFortio runs the same load through our runner and through
// fortio's fhttp directly, at a fixed 1,000 requests/s and as fast as
// possible. This machine's speed drifts by tens of percent from one second
// to the next, so the two run in short adjacent pairs (who goes first
// alternates) and each pair gives a ratio: the medians of those ratios are
// reported (runner/fortio), with the medians of the raw figures.
func BenchmarkRunnerVsFortio(b *testing.B) {
	url := startEchoServer(b)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for b.Loop() {
		metrics := map[string][]float64{}
		add := func(name string, v float64) { metrics[name] = append(metrics[name], v) }
		for _, qps := range []float64{1000, 0} {
			mode := "fixed"
			if qps == 0 {
				mode = "max"
			}
			for pair := range pairs {
				var ours *runner.Outcome
				var raw *fhttp.HTTPRunnerResults
				if pair%2 == 0 {
					ours = runOurs(b, url, qps, connections, sameResolution, pairLength)
					raw = runRawFortio(b, url, qps, sameResolution, pairLength)
				} else {
					raw = runRawFortio(b, url, qps, sameResolution, pairLength)
					ours = runOurs(b, url, qps, connections, sameResolution, pairLength)
				}
				add("runner-"+mode+"-qps", ours.Fortio.ActualQPS)
				add("fortio-"+mode+"-qps", raw.ActualQPS)
				add("runner-"+mode+"-p50-us", loadstat.Percentile(ours.Fortio, 50)*1e6)
				add("fortio-"+mode+"-p50-us", loadstat.Percentile(raw, 50)*1e6)
				add(mode+"-qps-ratio", ours.Fortio.ActualQPS/raw.ActualQPS)
				add(mode+"-p50-ratio", loadstat.Percentile(ours.Fortio, 50)/loadstat.Percentile(raw, 50))
			}
		}
		for name, values := range metrics {
			b.ReportMetric(loadstat.Median(values), name)
		}
	}
}

// BenchmarkQPSAccuracy reports the achieved rate as a percentage of the
// requested one, open loop without catch-up, load generator on one core.
// Each connection is paced at about 78 requests/s (12.8 ms between its
// requests): a connection whose answer comes after its next slot skips that
// slot, and on this machine the hypervisor takes the CPU away for
// milliseconds at a time (the steal is reported beside the accuracy).
func BenchmarkQPSAccuracy(b *testing.B) {
	url := startEchoServer(b)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for _, qps := range []float64{1000, 5000, 10000} {
		b.Run(fmt.Sprintf("qps=%.0f", qps), func(b *testing.B) {
			for b.Loop() {
				var accuracy, steal []float64
				for range rounds {
					var out *runner.Outcome
					steal = append(steal, stealPercent(func() {
						out = runOurs(b, url, qps, max(connections, int(qps/78)), 0, roundLength)
					}))
					accuracy = append(accuracy, 100*out.Fortio.ActualQPS/qps)
				}
				b.ReportMetric(loadstat.Median(accuracy), "accuracy-pct")
				b.ReportMetric(loadstat.Median(steal), "cpu-steal-pct")
			}
		})
	}
}

// runOurs runs the perf runner; resolution 0 lets it fit the resolution.
func runOurs(b *testing.B, url string, qps float64, conns int, resolution, d time.Duration) *runner.Outcome {
	b.Helper()
	spec := &load.Spec{URL: url, QPS: qps, Connections: conns, Duration: d, Loop: load.Open, Resolution: resolution}
	if qps == 0 {
		spec.Loop = load.Closed
	}
	out, err := runner.Run(b.Context(), spec, runner.Options{})
	if err != nil {
		b.Fatal(err)
	}
	checkNoErrors(b, out.Fortio)
	return out
}

// sameResolution is given to both runners so that their histograms are
// alike: what the runner fits to loopback latency (100-200µs).
const sameResolution = 10 * time.Microsecond

// runRawFortio is fortio's HTTP runner as its own CLI would set it up, with
// the resolution our runner fitted, so that both histograms are alike.
func runRawFortio(b *testing.B, url string, qps float64, resolution, d time.Duration) *fhttp.HTTPRunnerResults {
	b.Helper()
	opts := fhttp.HTTPRunnerOptions{
		RunnerOptions: periodic.RunnerOptions{
			QPS: qps, Duration: d, NumThreads: connections,
			Resolution: resolution.Seconds(), NoCatchUp: qps > 0, Uniform: true,
			Percentiles: smp.Percentiles, Out: io.Discard,
		},
		HTTPOptions: fhttp.HTTPOptions{URL: url},
	}
	if qps == 0 {
		opts.QPS = -1
	}
	res, err := fhttp.RunHTTPTest(&opts)
	if err != nil {
		b.Fatal(err)
	}
	checkNoErrors(b, res)
	return res
}

func checkNoErrors(b *testing.B, res *fhttp.HTTPRunnerResults) {
	b.Helper()
	for code, n := range res.RetCodes {
		if code != 200 {
			b.Fatalf("%d responses with status %d", n, code)
		}
	}
}

// startEchoServer builds and starts test/echoserver pinned to serverCPU
// when taskset exists, and returns its URL.
func startEchoServer(b *testing.B) string {
	b.Helper()
	log.SetLogLevelQuiet(log.Error)
	bin := filepath.Join(b.TempDir(), "echoserver")
	if out, err := exec.Command("go", "build", "-o", bin, "../echoserver").CombinedOutput(); err != nil {
		b.Fatalf("building the echo server: %v\n%s", err, out)
	}
	args := []string{bin}
	if _, err := exec.LookPath("taskset"); err == nil && runtime.NumCPU() > 1 {
		args = append([]string{"taskset", "-c", serverCPU}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if err != nil || !ok {
		b.Fatalf("echo server did not start: %q %v", line, err)
	}
	url := "http://" + addr + "/"
	// A fresh server answers slower for its first seconds (its heap, the
	// CPU's frequency): load it before anything is measured.
	runRawFortio(b, url, 2000, sameResolution, roundLength)
	return url
}
