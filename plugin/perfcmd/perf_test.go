package perfcmd

import (
	"encoding/json"
	"io"
	stdlog "log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil/cmdtesting"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/store"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/table"
)

// slowServer answers after the delay its ?delay= query asks for.
func slowServer(t *testing.T) string {
	t.Helper()
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d, err := time.ParseDuration(r.URL.Query().Get("delay")); err == nil {
			time.Sleep(d)
		}
		_, _ = w.Write([]byte("ok"))
	}))
	s.Config.ErrorLog = stdlog.New(io.Discard, "", 0)
	s.Start()
	t.Cleanup(s.Close)
	return s.URL
}

// A run is stored, listed, shown, made a baseline, compared and reported;
// a slower run against the baseline exits 3.
func TestPerfRunStoreCompareReport(t *testing.T) {
	url := slowServer(t)
	dir := t.TempDir()
	perf := func(args ...string) (string, string, error) {
		return runRootStdin(t, "", append([]string{"perf", "--results-dir", dir}, args...)...)
	}
	out, errOut, err := perf("run", url+"/?delay=1ms", "--qps", "100", "-t", "1s", "--name", "fast", "-l", "branch=main")
	if err != nil {
		t.Fatalf("run: %v\n%s", err, errOut)
	}
	for _, want := range []string{"Name:", "fast", "100 requested", "Loop:", "open"} {
		if !strings.Contains(out, want) {
			t.Errorf("run summary lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "Result fast saved to "+filepath.Join(dir, "results", "fast.json")) {
		t.Errorf("stderr %q: want where the result was saved", errOut)
	}
	var stored smp.Result
	data, err := os.ReadFile(filepath.Join(dir, "results", "fast.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &stored); err != nil {
		t.Fatal(err)
	}
	if stored.SMPVersion != smp.Version || stored.Labels["branch"] != "main" || stored.Requests < 50 || stored.Requests > 101 || stored.Latencies.P50 < 1 {
		t.Errorf("stored result: version %q labels %v requests %d p50 %.3f", stored.SMPVersion, stored.Labels, stored.Requests, stored.Latencies.P50)
	}

	if _, errOut, err := perf("baseline", "set", "main"); err != nil {
		t.Fatalf("baseline set: %v\n%s", err, errOut)
	}
	_, errOut, err = perf("run", url+"/?delay=6ms", "--qps", "100", "-t", "1s", "--name", "slow", "--compare-to", "main", "--max-regression", "p50=10%")
	if cmdutil.ExitCode(err) != cmdutil.ExitViolation || !strings.Contains(err.Error(), "performance regression: p50") {
		t.Fatalf("run against the baseline: exit %d, %v, want 3 and a p50 regression\n%s", cmdutil.ExitCode(err), err, errOut)
	}

	out, _, err = perf("list", "-l", "branch=main", "-o", "name")
	if err != nil || out != "fast\n" {
		t.Errorf("list -l branch=main: %q, %v", out, err)
	}
	out, _, err = perf("list")
	if err != nil || !strings.HasPrefix(out, "NAME ") || !strings.Contains(out, "\nfast ") || !strings.Contains(out, "\nslow ") {
		t.Errorf("list:\n%s%v", out, err)
	}
	out, _, err = perf("compare", "fast", "slow", "--max-regression", "qps=50%")
	if err != nil || !strings.Contains(out, "p50 ") {
		t.Errorf("compare within limits: %v\n%s", err, out)
	}
	out, _, err = perf("show", "slow", "-o", "json")
	if err != nil || !strings.Contains(out, `"smp_version"`) || !strings.Contains(out, `"histogram"`) {
		t.Errorf("show -o json: %v\n%.300s", err, out)
	}
	report := filepath.Join(t.TempDir(), "report.html")
	if _, errOut, err := perf("report", "fast", "slow", "main", "-o", report); err != nil {
		t.Fatalf("report: %v\n%s", err, errOut)
	}
	page, err := os.ReadFile(report)
	if n := strings.Count(string(page), `<svg class="plot"`); err != nil || n != 2 {
		t.Errorf("report: %v, %d plots, want 2", err, n)
	}
}

// Bad input is one clear line naming the flag, and nothing is sent.
func TestPerfRunBadInput(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/"
	l.Close()
	url := slowServer(t)
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"negative qps":      {[]string{url, "--qps", "-10"}, "--qps must be 0 (as fast as possible) or positive, got -10"},
		"invalid duration":  {[]string{url, "-t", "soon"}, `invalid argument "soon" for "-t, --duration" flag`},
		"zero duration":     {[]string{url, "-t", "0s"}, "--duration or --requests must be set"},
		"unreachable":       {[]string{closed, "-t", "1s"}, "target " + closed + ": unreachable: dial tcp"},
		"open loop no rate": {[]string{url, "--qps", "0", "--loop", "open"}, "--loop=open needs a rate"},
		"inject local":      {[]string{url, "--inject", "istio"}, "--inject applies to the in-cluster load generator: add --in-cluster"},
		"inject unknown":    {[]string{url, "--in-cluster", "--inject", "consul"}, `--inject: unknown mesh "consul" (allowed: istio, linkerd)`},
		"bad regression":    {[]string{url, "--compare-to", "x", "--max-regression", "p98=1%"}, `--max-regression "p98=1%": unknown metric p98`},
		"bad label":         {[]string{url, "-l", "novalue"}, `--label "novalue": want key=value`},
		"no such baseline":  {[]string{url, "-t", "1s", "--compare-to", "nope"}, `"nope"`},
		"not a target":      {[]string{"deployment/x", "-t", "1s"}, "deployment/x"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := runRootStdin(t, "", append([]string{"perf", "--results-dir", t.TempDir(), "run"}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans several lines: %q", err)
			}
		})
	}
}

// --ab runs the same load against the unmeshed target first, stores both
// results, and gates the overhead with --max-regression.
func TestPerfRunAB(t *testing.T) {
	url := slowServer(t)
	dir := t.TempDir()
	out, errOut, err := runRootStdin(t, "", "perf", "--results-dir", dir, "run", url+"/?delay=5ms",
		"--ab", url+"/?delay=1ms", "--qps", "100", "-t", "1s", "--name", "reviews", "--max-regression", "p50=50%")
	if cmdutil.ExitCode(err) != cmdutil.ExitViolation {
		t.Fatalf("exit %d (%v), want 3: a 5 ms target is more than 50%% slower than a 1 ms one\n%s", cmdutil.ExitCode(err), err, errOut)
	}
	for _, want := range []string{"Unmeshed: " + url + "/?delay=1ms", "Meshed: " + url + "/?delay=5ms", "Result reviews-unmeshed saved", "Result reviews-meshed saved"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if !strings.Contains(out, "A (reviews-unmeshed)") || !strings.Contains(out, "B (reviews-meshed)") || !strings.Contains(out, "REGRESSION") {
		t.Errorf("overhead table missing:\n%s", out)
	}
	list, _, err := runRootStdin(t, "", "perf", "--results-dir", dir, "list", "-l", "kubectl-mesh.io/ab=unmeshed", "-o", "name")
	if err != nil || list != "reviews-unmeshed\n" {
		t.Errorf("list -l kubectl-mesh.io/ab=unmeshed: %q %v", list, err)
	}
}

// perf list's default table fits table.Width for a generated name of an
// in-cluster host; -o wide keeps the whole target.
func TestResultTableFits(t *testing.T) {
	target := "http://reviews.bookinfo.svc.cluster.local:9080/api/v1/products"
	start := time.Date(2026, 12, 6, 7, 15, 0, 0, time.UTC)
	r := &smp.Result{Name: store.GenerateName(target, start), StartTime: start, EndTime: start.Add(30 * time.Second)}
	r.Config.Clients = []smp.Client{{EndpointURL: []string{target}, RPS: 1000}}
	r.ActualQPS, r.Errors = 999.7, 12
	r.Latencies.P50, r.Latencies.P99 = 12.345, 123.45
	var out strings.Builder
	if err := printResultTable(&out, []*smp.Result{r}, false, start.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(out.String()) {
		if n := utf8.RuneCountInString(strings.TrimSuffix(line, "\n")); n > table.Width {
			t.Errorf("a line of %d columns, want at most %d:\n%s", n, table.Width, out.String())
		}
	}
	if !strings.Contains(out.String(), "http://reviews.…/api/v1/products") {
		t.Errorf("the target is not shortened:\n%s", out.String())
	}
	out.Reset()
	if err := printResultTable(&out, []*smp.Result{r}, true, start.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), target) {
		t.Errorf("-o wide does not show the whole target:\n%s", out.String())
	}
}

// runRootStdin runs `kubectl mesh ARGS` with the perf command, stdin, and
// no cluster.
func runRootStdin(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	return cmdtesting.NewFactory(t).Run(t, stdin, args, NewCmdPerf)
}
