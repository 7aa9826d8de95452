// Package webhookbench measures the admission webhook under load with fortio,
// side by side with a no-op webhook on the same core in the same run (issue 4,
// docs/architecture.md, "Measuring performance"). `make bench` runs it.
package webhookbench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"fortio.org/fortio/fhttp"
	"fortio.org/fortio/periodic"
	"fortio.org/log"

	"github.com/kubectl-mesh/kubectl-mesh/test/loadstat"
	"github.com/kubectl-mesh/kubectl-mesh/webhook/certs"
)

// Both servers are pinned to this CPU; the load generator gets the others.
const serverCPU = "1"

const (
	fixedQPS      = 1000
	fixedDuration = 4 * time.Second
	rounds        = 3
	// 45 library policies and 55 generated ones.
	extraPolicies = 55
)

// BenchmarkWebhookLoad reports, for the no-op handler and the full policy
// handler: p50 and p99 at 1,000 reviews/s (open loop, no catch-up, 10 µs
// histogram resolution, a 5 KB VirtualService AdmissionReview), the maximum
// reviews/s, and the policy webhook's peak RSS. One iteration is the whole
// side-by-side run; hack/bench-summary.sh prints the ratios.
func BenchmarkWebhookLoad(b *testing.B) {
	if _, err := exec.LookPath("taskset"); err != nil {
		b.Skip("taskset (util-linux) is needed to pin both webhooks to one core")
	}
	log.SetLogLevel(log.Error)
	dir := b.TempDir()
	bin := filepath.Join(dir, "server")
	if out, err := exec.Command("go", "build", "-o", bin, "./server").CombinedOutput(); err != nil {
		b.Fatalf("building the benchmark server: %v\n%s", err, out)
	}
	caFile, certDir := writeCertificates(b, dir)
	noop := startServer(b, bin, certDir, "--mode=noop")
	full := startServer(b, bin, certDir, "--mode=policies", fmt.Sprintf("--extra-policies=%d", extraPolicies))
	payload := virtualServiceReview(b)

	for b.Loop() {
		var p50, p99 [2][]float64
		for range rounds {
			for i, s := range []*server{noop, full} {
				res := load(b, s, caFile, payload, fixedQPS, fixedDuration, 4)
				p50[i] = append(p50[i], loadstat.Percentile(res, 50))
				p99[i] = append(p99[i], loadstat.Percentile(res, 99))
			}
		}
		var maxQPS [2]float64
		for i, s := range []*server{noop, full} {
			maxQPS[i] = load(b, s, caFile, payload, -1, 3*time.Second, 8).ActualQPS
		}
		b.ReportMetric(loadstat.Median(p50[0])*1e6, "noop-p50-us")
		b.ReportMetric(loadstat.Median(p99[0])*1e6, "noop-p99-us")
		b.ReportMetric(loadstat.Median(p50[1])*1e6, "policies-p50-us")
		b.ReportMetric(loadstat.Median(p99[1])*1e6, "policies-p99-us")
		b.ReportMetric(maxQPS[0], "noop-max-qps")
		b.ReportMetric(maxQPS[1], "policies-max-qps")
		b.ReportMetric(float64(peakRSSKiB(b, full.cmd.Process.Pid))/1024, "policies-peak-RSS-MiB")
	}
}

type server struct {
	cmd  *exec.Cmd
	port int
}

func startServer(b *testing.B, bin, certDir string, args ...string) *server {
	b.Helper()
	s := &server{port: freePort(b)}
	s.cmd = exec.Command("taskset", append([]string{"-c", serverCPU, bin, "--cert-dir", certDir, "--port", strconv.Itoa(s.port)}, args...)...)
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	s.cmd.Stderr = os.Stderr
	if err := s.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		_ = s.cmd.Wait()
	})
	ready := make(chan bool, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		ready <- strings.TrimSpace(line) == "ready"
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case ok := <-ready:
		if !ok {
			b.Fatalf("benchmark server %v did not start", args)
		}
	case <-time.After(2 * time.Minute):
		b.Fatalf("benchmark server %v not ready after 2 minutes", args)
	}
	return s
}

// load runs fortio against s: qps < 0 means as fast as possible.
func load(b *testing.B, s *server, caFile string, payload []byte, qps float64, d time.Duration, connections int) *fhttp.HTTPRunnerResults {
	b.Helper()
	opts := fhttp.HTTPRunnerOptions{
		RunnerOptions: periodic.RunnerOptions{
			QPS: qps, Duration: d, NumThreads: connections,
			Resolution: 0.00001, NoCatchUp: true,
			Percentiles: []float64{50, 99},
			Out:         io.Discard,
		},
		HTTPOptions: fhttp.HTTPOptions{
			URL:         fmt.Sprintf("https://127.0.0.1:%d/validate", s.port),
			Payload:     payload,
			ContentType: "application/json",
			TLSOptions:  fhttp.TLSOptions{CACert: caFile},
		},
	}
	res, err := fhttp.RunHTTPTest(&opts)
	if err != nil {
		b.Fatalf("fortio: %v", err)
	}
	for code, n := range res.RetCodes {
		if code != 200 {
			b.Fatalf("%d responses with status %d (of %d)", n, code, res.DurationHistogram.Count)
		}
	}
	return res
}

func writeCertificates(b *testing.B, dir string) (caFile, certDir string) {
	b.Helper()
	ca, err := certs.NewCA("webhook-bench-ca", time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	serving, err := ca.IssueServing([]string{"localhost"}, []net.IP{net.ParseIP("127.0.0.1")}, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	certDir = filepath.Join(dir, "certs")
	caFile = filepath.Join(dir, "ca.crt")
	for path, data := range map[string][]byte{
		caFile: ca.CertPEM, filepath.Join(certDir, "tls.crt"): serving.CertPEM, filepath.Join(certDir, "tls.key"): serving.KeyPEM,
	} {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	return caFile, certDir
}

func freePort(b *testing.B) int {
	b.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// peakRSSKiB reads VmHWM, the peak resident set of a live process.
func peakRSSKiB(b *testing.B, pid int) int {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kib, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				b.Fatal(err)
			}
			return kib
		}
	}
	b.Fatal("no VmHWM in /proc status")
	return 0
}

// virtualServiceReview is an AdmissionReview of a CREATE of a VirtualService
// of about 5 KB: fifteen header-matched routes to subsets of a Service the
// inventory has.
func virtualServiceReview(b *testing.B) []byte {
	b.Helper()
	var routes []map[string]any
	for i := range 15 {
		routes = append(routes, map[string]any{
			"name":    fmt.Sprintf("route-%02d", i),
			"match":   []any{map[string]any{"headers": map[string]any{"x-canary-group": map[string]any{"exact": fmt.Sprintf("group-%02d", i)}}, "uri": map[string]any{"prefix": fmt.Sprintf("/api/v%d", i)}}},
			"route":   []any{map[string]any{"destination": map[string]any{"host": "svc-01", "subset": "v1", "port": map[string]any{"number": 8080}}, "weight": 100}},
			"timeout": "5s",
			"retries": map[string]any{"attempts": 2, "perTryTimeout": "2s", "retryOn": "5xx,reset,connect-failure"},
		})
	}
	vs := map[string]any{
		"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
		"metadata": map[string]any{"name": "svc-01-canary", "namespace": "team-000", "labels": map[string]any{"app": "svc-01"}},
		"spec":     map[string]any{"hosts": []any{"svc-01"}, "http": routes},
	}
	review := map[string]any{
		"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
		"request": map[string]any{
			"uid":       "705ab4f5-6393-11e8-b7cc-42010a800002",
			"kind":      map[string]any{"group": "networking.istio.io", "version": "v1", "kind": "VirtualService"},
			"resource":  map[string]any{"group": "networking.istio.io", "version": "v1", "resource": "virtualservices"},
			"name":      "svc-01-canary",
			"namespace": "team-000",
			"operation": "CREATE",
			"userInfo":  map[string]any{"username": "alice", "groups": []any{"system:authenticated"}},
			"object":    vs,
			"dryRun":    false,
		},
	}
	data, err := json.Marshal(review)
	if err != nil {
		b.Fatal(err)
	}
	if len(data) < 4500 || len(data) > 6000 {
		b.Fatalf("the review is %d bytes, want about 5 KB", len(data))
	}
	return data
}
