package incluster

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"fortio.org/fortio/fhttp"
	"fortio.org/fortio/periodic"
	"fortio.org/log"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"
	"github.com/kubectl-mesh/kubectl-mesh/test/golden"
)

const recordedLog = "testdata/fortio-load.log"

// TestRecordedLog keeps testdata/fortio-load.log honest: with -update it
// records a real fortio run against a loopback echo server, written the way
// `fortio load -json - ...` writes it in a pod (stderr: the CLI's lines,
// the runner's report and JSON log lines; stdout: the indented result);
// without, it checks that the result in the file is exactly what
// json.MarshalIndent writes for the result ParseOutput reads from it.
func TestRecordedLog(t *testing.T) {
	if golden.Update() {
		recordFortioRun(t)
	}
	data, err := os.ReadFile(recordedLog)
	if err != nil {
		t.Fatal(err)
	}
	res, err := ParseOutput(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	j, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, append(append([]byte("\n"), j...), '\n')) {
		t.Errorf("the recorded result is not json.MarshalIndent of what ParseOutput returned:\n%s", j)
	}
	if want := fmt.Sprintf("Successfully wrote %d bytes of Json data to stdout\n", len(j)+1); !bytes.HasSuffix(data, []byte(want)) {
		t.Errorf("the log does not end with %q", want)
	}
}

// recordFortioRun runs fortio's HTTP load test with the options the CLI
// builds from `load -json - -qps 200 -c 4 -t 2s -p ... -labels ...` and
// writes its output as fortio's main program does (cli/fortio_main.go).
func recordFortioRun(t *testing.T) {
	_, addr := fhttp.ServeTCP("127.0.0.1:0", "")
	if addr == nil {
		t.Fatal("starting the echo server failed")
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/echo?delay=2ms:30,6ms:10", addr.Port)
	qps, threads, dur := 200.0, 4, 2*time.Second

	var stderr bytes.Buffer
	log.SetOutput(&stderr)
	defer log.SetOutput(os.Stderr)
	procs := runtime.GOMAXPROCS(0)
	fmt.Fprintf(&stderr, "Fortio %s running at %g queries per second, %d->%d procs, for %v: %s\n",
		"1.75.3", qps, procs, procs, dur, url)
	o := fhttp.HTTPRunnerOptions{
		HTTPOptions: fhttp.HTTPOptions{URL: url, HTTPReqTimeOut: fhttp.HTTPReqTimeOutDefaultValue, LogErrors: true},
		RunnerOptions: periodic.RunnerOptions{
			QPS:         qps,
			Duration:    dur,
			NumThreads:  threads,
			Percentiles: smp.Percentiles,
			Resolution:  0.001,
			Out:         &stderr,
			Labels:      "checkout-baseline mesh=istio",
		},
	}
	res, err := fhttp.RunHTTPTest(&o)
	if err != nil {
		t.Fatal(err)
	}
	// The fortio binary finds its version in its build info; a test binary
	// does not have it.
	res.Version = "1.75.3"
	fmt.Fprintf(&stderr, "All done %d calls (plus %d warmup) %.3f ms avg, %.1f qps\n",
		res.DurationHistogram.Count, threads, 1000.*res.DurationHistogram.Avg, res.ActualQPS)
	j, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	out := stderr.String() + string(j) + "\n" +
		fmt.Sprintf("Successfully wrote %d bytes of Json data to stdout\n", len(j)+1)
	if err := os.MkdirAll(filepath.Dir(recordedLog), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(recordedLog, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("recorded %d calls to %s (%d lines)", res.DurationHistogram.Count, recordedLog, strings.Count(out, "\n"))
}
