package perf

import (
	"bytes"
	"encoding/json"
	"fmt"
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

	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/incluster"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"
	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
)

// cmdDelayServer answers after delay, on loopback: kwok forwards the
// simulated pod's port to it.
func cmdDelayServer(t *testing.T, delay time.Duration) int {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(delay)
		_, _ = w.Write([]byte("ok"))
	}))
	srv.Config.ErrorLog = stdlog.New(io.Discard, "", 0)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().(*net.TCPAddr).Port
}

func readResult(t *testing.T, dir, name string) *smp.Result {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "results", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var r smp.Result
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// kubectl mesh perf run svc/NAME reaches the Service through a real
// port-forward, and the result records the cluster it ran against.
func TestPerfRunThroughAService(t *testing.T) {
	const delay = 2 * time.Millisecond
	ns := pfEchoNamespace(t, "perf-cmd-svc", cmdDelayServer(t, delay))
	dir := t.TempDir()

	// A closed loop with a count: exactly 200 requests however loaded the
	// machine is (the open loop's accuracy is the runner's tests' job).
	r := harness.Must(t, harness.Mesh(t, "perf", "run", "svc/echo:http", "-n", ns, "--qps", "100", "--loop", "closed", "-c", "2",
		"--requests", "200", "--name", "through-svc", "--results-dir", dir))
	if !strings.Contains(r.Stderr, "Forwarding 127.0.0.1:") || !strings.Contains(r.Stderr, ns+"/echo-0 port 8080") {
		t.Errorf("stderr does not say where the load goes:\n%s", r.Stderr)
	}
	res := readResult(t, dir, "through-svc")
	if res.Requests != 200 || res.Errors != 0 {
		t.Errorf("requests %d errors %d, want 200 and none", res.Requests, res.Errors)
	}
	if res.Latencies.P50 < float64(delay)/float64(time.Millisecond) {
		t.Errorf("p50 %.3f ms below the server's %s", res.Latencies.P50, delay)
	}
	c := res.Config.Clients[0]
	if c.Target != "svc/echo:http" || c.Internal || !strings.HasPrefix(c.EndpointURL[0], "http://127.0.0.1:") {
		t.Errorf("client %+v", c)
	}
	var versions struct {
		ServerVersion struct{ GitVersion string } `json:"serverVersion"`
	}
	if err := json.Unmarshal([]byte(harness.Must(t, harness.Kubectl(t, "version", "-o", "json")).Stdout), &versions); err != nil {
		t.Fatal(err)
	}
	version := versions.ServerVersion.GitVersion
	if res.Env == nil || res.Env.KubernetesVersion != version || len(res.Env.Nodes) != 2 {
		t.Errorf("environment %+v, want Kubernetes %s and the sandbox's 2 nodes", res.Env, version)
	}
	if res.Mesh == nil || res.Mesh.Type != "NONE" {
		t.Errorf("mesh %+v, want NONE: the sandbox has no mesh installed", res.Mesh)
	}
}

// --in-cluster runs fortio in a Job and stores the result read from its
// output (kwok serves a recorded fortio output as the pod's logs).
func TestPerfRunInCluster(t *testing.T) {
	ns := harness.Namespace(t, "perf-cmd-job")
	recorded, err := os.ReadFile(recordedFortio)
	if err != nil {
		t.Fatal(err)
	}
	want, err := incluster.ParseOutput(bytes.NewReader(recorded))
	if err != nil {
		t.Fatal(err)
	}
	icServeLogs(t, ns, string(recorded))
	harness.Must(t, harness.KubectlStdin(t, fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: checkout, namespace: %s}
spec:
  selector: {app: checkout}
  ports: [{name: http, port: 8080}]
`, ns), "apply", "-f", "-"))
	dir := t.TempDir()

	r := harness.Must(t, harness.Mesh(t, "perf", "run", "svc/checkout", "-n", ns, "--in-cluster", "--qps", "200", "-t", "2s",
		"--name", "from-job", "--results-dir", dir))
	for _, line := range []string{" created", " deleted"} {
		if !strings.Contains(r.Stderr, line) {
			t.Errorf("stderr lacks %q:\n%s", line, r.Stderr)
		}
	}
	res := readResult(t, dir, "from-job")
	if res.Requests != want.DurationHistogram.Count || res.ActualQPS != want.ActualQPS {
		t.Errorf("requests %d qps %.2f, want the recorded %d and %.2f", res.Requests, res.ActualQPS, want.DurationHistogram.Count, want.ActualQPS)
	}
	c := res.Config.Clients[0]
	if !c.Internal || c.EndpointURL[0] != "http://checkout."+ns+".svc:8080/" {
		t.Errorf("client %+v, want internal and the Service's in-cluster URL", c)
	}
	if jobs := harness.Must(t, harness.Kubectl(t, "get", "jobs", "-n", ns, "-o", "name")).Stdout; jobs != "" {
		t.Errorf("jobs left behind: %s", jobs)
	}
}

// Errors a user makes with a cluster target are one line naming it.
func TestPerfRunServiceErrors(t *testing.T) {
	ns := harness.Namespace(t, "perf-cmd-errors")
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"missing service":   {[]string{"svc/missing"}, "service " + ns + "/missing not found"},
		"in-cluster no svc": {[]string{"svc/missing", "--in-cluster"}, `target svc/missing: services "missing" not found`},
	} {
		t.Run(name, func(t *testing.T) {
			r := harness.Mesh(t, append([]string{"perf", "run", "-n", ns, "-t", "1s", "--results-dir", t.TempDir()}, tc.args...)...)
			if r.Code != 1 || !strings.Contains(r.Stderr, tc.want) {
				t.Errorf("exit %d, stderr %q: want 1 and %q", r.Code, r.Stderr, tc.want)
			}
		})
	}
}

// Ctrl-C stops the run; the partial result is printed and stored.
func TestPerfRunInterrupted(t *testing.T) {
	port := cmdDelayServer(t, time.Millisecond)
	dir := t.TempDir()
	cmd := harness.Command(t.Context(), harness.Bin("kubectl-mesh"), "perf", "run",
		fmt.Sprintf("http://127.0.0.1:%d/", port), "--qps", "200", "-t", "10m", "--name", "stopped", "--results-dir", dir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "Interrupted: the result holds the requests made until then.") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
	res := readResult(t, dir, "stopped")
	if !res.Interrupted || res.Requests < 100 || res.Requests > 1000 {
		t.Errorf("interrupted %v after %d requests: want true and about 2 s worth (400)", res.Interrupted, res.Requests)
	}
	if !strings.Contains(stdout.String(), fmt.Sprintf("Requests:      %d", res.Requests)) {
		t.Errorf("summary does not show the partial count %d:\n%s", res.Requests, stdout.String())
	}
}
