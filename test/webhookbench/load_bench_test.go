package webhookbench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"fortio.org/fortio/fhttp"
	"fortio.org/fortio/periodic"
	"fortio.org/log"
	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/kubectl-mesh/kubectl-mesh/internal/meshgen"
	"github.com/kubectl-mesh/kubectl-mesh/policies"
	"github.com/kubectl-mesh/kubectl-mesh/policies/manifest"
	"github.com/kubectl-mesh/kubectl-mesh/test/loadstat"
	meshadmission "github.com/kubectl-mesh/kubectl-mesh/webhook/admission"
	"github.com/kubectl-mesh/kubectl-mesh/webhook/certs"
)

// Both servers are pinned to this CPU; the load generator gets the others.
const serverCPU = "1"

const (
	fixedQPS      = 500
	fixedDuration = 4 * time.Second
	maxDuration   = 3 * time.Second
	rounds        = 3
	// Rounds, and reviews per round, of the in-process comparison with the
	// floor: each costs about a millisecond, and a collection of the
	// benchmark's heap lands in one round or another.
	floorRounds  = 7
	floorReviews = 500
)

// BenchmarkWebhookLoad measures what issue 15's webhook targets are judged
// by, the full library against baselines in the same run, on the 5 KB
// VirtualService AdmissionReview (which draws no finding, so no
// confirmation read is measured):
//   - over HTTPS, each server pinned to the same core: p50 and p99 at 500
//     reviews/s (open loop, no catch-up, 10 µs histogram resolution) and
//     the maximum reviews/s, of the no-op handler, of the full library and,
//     for information, of the floor (as many trivial policies as the
//     library has for a VirtualService, webhookbench.FloorPolicies); the
//     library's peak RSS;
//   - in process: CPU time per review (decoding, evaluation, verdict) of
//     the handler with the full library and with the floor.
//
// Ratios are medians of per-round ratios, rounds alternating which server
// goes first. One iteration is the whole run; hack/bench-summary.sh prints
// the ratios against the targets.
func BenchmarkWebhookLoad(b *testing.B) {
	if _, err := exec.LookPath("taskset"); err != nil {
		b.Skip("taskset (util-linux) is needed to pin the webhooks to one core")
	}
	log.SetLogLevel(log.Error)
	dir := b.TempDir()
	bin := filepath.Join(dir, "server")
	if out, err := exec.Command("go", "build", "-o", bin, "./server").CombinedOutput(); err != nil {
		b.Fatalf("building the benchmark server: %v\n%s", err, out)
	}
	caFile, certDir := writeCertificates(b, dir)
	noop := startServer(b, bin, certDir, "--mode=noop")
	library := startServer(b, bin, certDir, "--mode=policies")
	floor := startServer(b, bin, certDir, "--mode=floor")
	payload := virtualServiceReview(b)
	for name, s := range map[string]*server{"library": library, "floor": floor} {
		if v := review(b, s, caFile, payload); !v.Allowed || len(v.Warnings) > 0 {
			b.Fatalf("%s: the benchmark's VirtualService must draw no finding: %+v", name, v)
		}
	}
	libraryHandler, floorHandler := inProcessHandlers(b)
	req := admissionRequest(b, payload)

	for b.Loop() {
		var p50, p99 [3][]float64
		for r := range rounds {
			order := []int{0, 1, 2}
			if r%2 == 1 {
				order = []int{2, 1, 0}
			}
			for _, i := range order {
				res := load(b, []*server{noop, library, floor}[i], caFile, payload, fixedQPS, fixedDuration, 4)
				p50[i] = append(p50[i], loadstat.Percentile(res, 50))
				p99[i] = append(p99[i], loadstat.Percentile(res, 99))
			}
		}
		var maxQPS [3][]float64
		var libraryRatio, floorRatio []float64
		for r := range rounds {
			order := []int{0, 1, 2}
			if r%2 == 1 {
				order = []int{2, 1, 0}
			}
			var got [3]float64
			for _, i := range order {
				got[i] = load(b, []*server{noop, library, floor}[i], caFile, payload, -1, maxDuration, 8).ActualQPS
				maxQPS[i] = append(maxQPS[i], got[i])
			}
			libraryRatio = append(libraryRatio, got[1]/got[0])
			floorRatio = append(floorRatio, got[2]/got[0])
		}
		var libraryCPU, floorCPU, cpuRatio []float64
		for r := range floorRounds {
			l, f := reviewCPU(b, libraryHandler, req), reviewCPU(b, floorHandler, req)
			if r%2 == 1 {
				f, l = reviewCPU(b, floorHandler, req), reviewCPU(b, libraryHandler, req)
			}
			libraryCPU, floorCPU, cpuRatio = append(libraryCPU, l), append(floorCPU, f), append(cpuRatio, l/f)
		}
		b.ReportMetric(loadstat.Median(p50[0])*1e6, "noop-p50-us")
		b.ReportMetric(loadstat.Median(p99[0])*1e6, "noop-p99-us")
		b.ReportMetric(loadstat.Median(p50[1])*1e6, "policies-p50-us")
		b.ReportMetric(loadstat.Median(p99[1])*1e6, "policies-p99-us")
		b.ReportMetric(loadstat.Median(p50[2])*1e6, "floor-p50-us")
		b.ReportMetric(loadstat.Median(p99[2])*1e6, "floor-p99-us")
		b.ReportMetric(loadstat.Median(maxQPS[0]), "noop-max-qps")
		b.ReportMetric(loadstat.Median(maxQPS[1]), "policies-max-qps")
		b.ReportMetric(loadstat.Median(maxQPS[2]), "floor-max-qps")
		b.ReportMetric(loadstat.Median(libraryRatio), "policies-noop-max-ratio")
		b.ReportMetric(loadstat.Median(floorRatio), "floor-noop-max-ratio")
		b.ReportMetric(float64(peakRSSKiB(b, library.cmd.Process.Pid))/1024, "policies-peak-RSS-MiB")
		b.ReportMetric(loadstat.Median(libraryCPU), "library-review-cpu-us")
		b.ReportMetric(loadstat.Median(floorCPU), "floor-review-cpu-us")
		b.ReportMetric(loadstat.Median(cpuRatio), "library-floor-ratio")
	}
}

// inProcessHandlers returns the admission handler with the full library
// and with the floor, over the benchmark servers' inventory.
func inProcessHandlers(b *testing.B) (library, floor admission.Handler) {
	b.Helper()
	ctx := context.Background()
	n, err := LibraryPoliciesFor(ctx, "networking.istio.io", "VirtualService")
	if err != nil {
		b.Fatal(err)
	}
	var handlers []admission.Handler
	for _, opts := range []policies.Options{{}, {Library: []policies.Source{}, Custom: FloorPolicies(n)}} {
		engine, err := NewEngine(ctx, opts, InventoryNamespaces)
		if err != nil {
			b.Fatal(err)
		}
		h, err := meshadmission.New(meshadmission.Config{Engine: engine})
		if err != nil {
			b.Fatal(err)
		}
		handlers = append(handlers, h)
	}
	return handlers[0], handlers[1]
}

// reviewCPU is the CPU time, GC included, of one review by h, in µs: steadier
// than wall time on a shared machine.
func reviewCPU(b *testing.B, h admission.Handler, req admission.Request) float64 {
	b.Helper()
	ctx := context.Background()
	runtime.GC() // each round starts from the same heap
	start := cpuTime()
	for range floorReviews {
		if resp := h.Handle(ctx, req); !resp.Allowed || len(resp.Warnings) > 0 {
			b.Fatalf("the benchmark's VirtualService must draw no finding: %+v, warnings %q", resp.Result, resp.Warnings)
		}
	}
	return float64((cpuTime() - start).Nanoseconds()) / floorReviews / 1e3
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// admissionRequest decodes an AdmissionReview body as controller-runtime does.
func admissionRequest(tb testing.TB, body []byte) admission.Request {
	tb.Helper()
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &review); err != nil {
		tb.Fatal(err)
	}
	return admission.Request{AdmissionRequest: *review.Request}
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

// virtualServiceReview is an AdmissionReview of an UPDATE of the generated
// VirtualService team-000/svc-01 (the old object) to one of about 5 KB:
// fifteen header-matched routes to a subset of the Service, which the
// inventory has. As an UPDATE of an object the inventory holds, it draws no
// finding: no rival VirtualService for the host, nothing missing.
func virtualServiceReview(tb testing.TB) []byte {
	tb.Helper()
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
		"metadata": map[string]any{"name": "svc-01", "namespace": "team-000", "labels": map[string]any{"app": "svc-01"}},
		"spec":     map[string]any{"hosts": []any{"svc-01"}, "http": routes},
	}
	review := map[string]any{
		"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
		"request": map[string]any{
			"uid":       "705ab4f5-6393-11e8-b7cc-42010a800002",
			"kind":      map[string]any{"group": "networking.istio.io", "version": "v1", "kind": "VirtualService"},
			"resource":  map[string]any{"group": "networking.istio.io", "version": "v1", "resource": "virtualservices"},
			"name":      "svc-01",
			"namespace": "team-000",
			"operation": "UPDATE",
			"userInfo":  map[string]any{"username": "alice", "groups": []any{"system:authenticated"}},
			"object":    vs,
			"oldObject": generatedObject(tb, "team-000", "VirtualService", "svc-01"),
			"options":   map[string]any{"kind": "UpdateOptions", "apiVersion": "meta.k8s.io/v1", "fieldManager": "kubectl-client-side-apply"},
			"dryRun":    false,
		},
	}
	data, err := json.Marshal(review)
	if err != nil {
		tb.Fatal(err)
	}
	if len(data) < 4500 || len(data) > 7000 {
		tb.Fatalf("the review is %d bytes, want about 5 KB and the old object", len(data))
	}
	return data
}

// generatedObject is an object of the benchmark inventory (meshgen).
func generatedObject(tb testing.TB, namespace, kind, name string) map[string]any {
	tb.Helper()
	var buf bytes.Buffer
	if err := meshgen.Write(&buf, InventoryNamespaces); err != nil {
		tb.Fatal(err)
	}
	objects, errs := manifest.Read("inventory.yaml", &buf)
	if len(errs) > 0 {
		tb.Fatal(errs)
	}
	for _, o := range objects {
		if o.Namespace() == namespace && o.Kind() == kind && o.Name() == name {
			return o.Content
		}
	}
	tb.Fatalf("the generated inventory has no %s %s/%s", kind, namespace, name)
	return nil
}
