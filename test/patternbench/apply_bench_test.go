// Package patternbench measures kubectl mesh apply of a pattern that
// renders 1,000 objects against the same sandbox apiserver as kubectl
// apply --server-side of the same rendered YAML, and with the admission
// webhook in the path against without it (issue 6). The sandbox starts
// only when a benchmark runs.
package patternbench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kubectl-mesh/kubectl-mesh/test/cmdrun"
	"github.com/kubectl-mesh/kubectl-mesh/test/loadstat"
	"github.com/kubectl-mesh/kubectl-mesh/test/sandbox"
	"github.com/kubectl-mesh/kubectl-mesh/webhook/certs"
)

var (
	cluster *sandbox.Cluster
	binDir  string
)

func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		os.Exit(m.Run()) // unit test runs: no cluster needed
	}
	os.Exit(sandbox.Main(sandbox.Options{}, func(ctx context.Context, c *sandbox.Cluster) int {
		cluster = c
		binDir = filepath.Join(c.Dir, "bench-bin")
		if err := cmdrun.Build(binDir,
			"github.com/kubectl-mesh/kubectl-mesh/cmd/kubectl-mesh",
			"github.com/kubectl-mesh/kubectl-mesh/cmd/mesh-webhook",
			"github.com/kubectl-mesh/kubectl-mesh/test/webhookbench/server"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		// Istio's CRDs, and a control plane, from the embedded charts.
		if out, err := command(ctx, filepath.Join(binDir, "kubectl-mesh"), "install", "istio", "--offline", "--profile", "minimal").CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "installing Istio: %v\n%s", err, out)
			return 1
		}
		return m.Run()
	}))
}

// services is how many services the generated pattern has; each renders
// a VirtualService, a DestinationRule, a PeerAuthentication and an
// AuthorizationPolicy on Istio: 1,000 objects.
const services = 250

// BenchmarkPatternApply1000 applies the generated pattern into a fresh
// namespace per iteration (creating 1,000 objects), through kubectl mesh
// apply and through kubectl apply --server-side of `kubectl mesh render`'s
// output.
func BenchmarkPatternApply1000(b *testing.B) {
	dir := b.TempDir()
	patternFile := filepath.Join(dir, "pattern.yaml")
	if err := os.WriteFile(patternFile, []byte(generatePattern(services)), 0o644); err != nil {
		b.Fatal(err)
	}
	// render writes the pattern rendered into namespace ns, for kubectl.
	renderedFile := filepath.Join(dir, "rendered.yaml")
	render := func(b *testing.B, ns string) {
		rendered, err := command(b.Context(), filepath.Join(binDir, "kubectl-mesh"), "render", "-f", patternFile, "--mesh", "istio", "-n", ns).Output()
		if err != nil {
			b.Fatalf("rendering: %v", err)
		}
		if n := bytes.Count(rendered, []byte("\n---\n")) + 1; n != 4*services {
			b.Fatalf("the pattern renders %d objects, want %d", n, 4*services)
		}
		if err := os.WriteFile(renderedFile, rendered, 0o644); err != nil {
			b.Fatal(err)
		}
	}

	iteration := 0
	applyInto := func(b *testing.B, args func(ns string) []string, bin string) {
		for b.Loop() {
			b.StopTimer()
			iteration++
			ns := fmt.Sprintf("bench-%d", iteration)
			run(b, "/usr/bin/kubectl", "create", "namespace", ns)
			if bin == "/usr/bin/kubectl" {
				render(b, ns)
			}
			b.StartTimer()
			run(b, bin, args(ns)...)
			b.StopTimer()
			run(b, "/usr/bin/kubectl", "delete", "namespace", ns, "--timeout=5m") // waits: a deletion still running would slow the next measurement
			b.StartTimer()
		}
	}
	meshApply := func(ns string) []string { return []string{"apply", "-f", patternFile, "--mesh", "istio", "-n", ns} }
	b.Run("kubectl-mesh", func(b *testing.B) { applyInto(b, meshApply, filepath.Join(binDir, "kubectl-mesh")) })
	// Another build of kubectl-mesh, e.g. of the last commit, measured in
	// the same run: on a noisy machine only same-run figures compare.
	if old := os.Getenv("PATTERNBENCH_OTHER_KUBECTL_MESH"); old != "" {
		b.Run("kubectl-mesh-other", func(b *testing.B) { applyInto(b, meshApply, old) })
	}
	b.Run("kubectl-apply-server-side", func(b *testing.B) {
		applyInto(b, func(ns string) []string {
			return []string{"apply", "--server-side", "--field-manager", "kubectl-mesh", "-f", renderedFile}
		}, "/usr/bin/kubectl")
	})
}

// overheadRounds is how many times BenchmarkWebhookOverhead1000 applies
// the pattern under each configuration.
const overheadRounds = 5

// BenchmarkWebhookOverhead1000 is kubectl mesh apply of the generated
// pattern without a webhook, with the no-op webhook (every review allowed
// unread: the cost of any webhook at all, TLS and the apiserver's side
// included) and with mesh-webhook evaluating the full library on every
// object. The three alternate, in a rotating order, so that each round's
// ratios compare runs that shared the state of this noisy machine; the
// medians of the per-round ratios are reported.
// PATTERNBENCH_WEBHOOK_PROFILE=FILE writes an 8-second CPU profile of
// mesh-webhook over its first apply, for `go tool pprof`.
func BenchmarkWebhookOverhead1000(b *testing.B) {
	patternFile := filepath.Join(b.TempDir(), "pattern.yaml")
	if err := os.WriteFile(patternFile, []byte(generatePattern(services)), 0o644); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = command(context.Background(), "/usr/bin/kubectl", "delete", "validatingwebhookconfiguration", "patternbench", "--ignore-not-found").Run()
	})
	profile := os.Getenv("PATTERNBENCH_WEBHOOK_PROFILE")
	// Each server runs only for its own apply: mesh-webhook's informers,
	// inventory rebuilds and audit would otherwise load the other runs.
	const none, noop, policies = 0, 1, 2
	iteration := 0
	for b.Loop() {
		b.StopTimer()
		var seconds [3][]float64
		for round := range overheadRounds {
			for k := range 3 {
				config := (round + k) % 3
				var endpoint *webhookEndpoint
				switch config {
				case noop:
					endpoint = startNoopWebhook(b)
				case policies:
					endpoint = startWebhook(b)
				}
				registerWebhook(b, endpoint)
				iteration++
				ns := fmt.Sprintf("overhead-%d", iteration)
				run(b, "/usr/bin/kubectl", "create", "namespace", ns)
				var profiled <-chan struct{}
				if config == policies && profile != "" {
					profiled = profileWebhook(b, endpoint.pprof, profile)
					profile = ""
				}
				start := time.Now()
				run(b, filepath.Join(binDir, "kubectl-mesh"), "apply", "-f", patternFile, "--mesh", "istio", "-n", ns)
				seconds[config] = append(seconds[config], time.Since(start).Seconds())
				if profiled != nil {
					<-profiled
				}
				registerWebhook(b, nil)
				if endpoint != nil {
					endpoint.stop()
				}
				run(b, "/usr/bin/kubectl", "delete", "namespace", ns, "--timeout=5m")
			}
		}
		var noopRatio, policiesRatio []float64
		for r := range overheadRounds {
			noopRatio = append(noopRatio, seconds[noop][r]/seconds[none][r])
			policiesRatio = append(policiesRatio, seconds[policies][r]/seconds[none][r])
		}
		b.ReportMetric(loadstat.Median(seconds[none]), "no-webhook-s")
		b.ReportMetric(loadstat.Median(seconds[noop]), "noop-webhook-s")
		b.ReportMetric(loadstat.Median(seconds[policies]), "policies-webhook-s")
		b.ReportMetric(loadstat.Median(noopRatio), "noop-webhook-ratio")
		b.ReportMetric(loadstat.Median(policiesRatio), "policies-webhook-ratio")
		b.StartTimer()
	}
}

// generatePattern is a pattern of n services in the style of a canary:
// two versions split 90/10 with a timeout and retries, outlier detection,
// STRICT mTLS and one allow rule each. The rendered objects go into the
// namespace of -n (metadata.namespace is left out).
func generatePattern(n int) string {
	var b strings.Builder
	b.WriteString("apiVersion: kubectl-mesh.io/v1alpha1\nkind: Pattern\nmetadata:\n  name: bench\nspec:\n  services:\n")
	for i := range n {
		fmt.Fprintf(&b, `  - name: svc-%04d
    ports: [{name: http, port: 8080}]
    versions:
    - {name: v1, labels: {version: v1}}
    - {name: v2, labels: {version: v2}}
    traffic:
      routes:
      - split: [{version: v1, weight: 90}, {version: v2, weight: 10}]
        timeout: 2s
        retries: {attempts: 2, perTryTimeout: 500ms}
    resilience:
      outlierDetection: {consecutiveErrors: 5, baseEjectionTime: 30s}
    security:
      mtls: STRICT
      allow:
      - from: {serviceAccounts: [svc-%04d]}
        methods: [GET]
`, i, (i+1)%n)
	}
	return b.String()
}

// servingCerts writes a serving certificate for 127.0.0.1 into a new
// directory and returns it with the CA certificate that signs it.
func servingCerts(b *testing.B) (certDir string, caPEM []byte) {
	ca, err := certs.NewCA("patternbench-ca", time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	serving, err := ca.IssueServing([]string{"localhost"}, []net.IP{net.ParseIP("127.0.0.1")}, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	certDir = b.TempDir()
	for name, data := range map[string][]byte{"tls.crt": serving.CertPEM, "tls.key": serving.KeyPEM} {
		if err := os.WriteFile(filepath.Join(certDir, name), data, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	return certDir, ca.CertPEM
}

// webhookEndpoint is a webhook server running on 127.0.0.1.
type webhookEndpoint struct {
	port  int
	caPEM []byte
	pprof string // address of its profiling endpoints, when it has them
	stop  func()
}

// startWebhook runs mesh-webhook on loopback with the full library.
func startWebhook(b *testing.B) *webhookEndpoint {
	certDir, caPEM := servingCerts(b)
	port, health, metrics, pprof := freePort(b), freePort(b), freePort(b), freePort(b)
	var log bytes.Buffer
	cmd := command(context.Background(), filepath.Join(binDir, "mesh-webhook"),
		"--kubeconfig", cluster.Kubeconfig, "--cert-dir", certDir, "--host", "127.0.0.1", "--port", fmt.Sprint(port),
		"--namespace", "kube-system",
		"--metrics-bind-address", fmt.Sprintf("127.0.0.1:%d", metrics),
		"--health-probe-bind-address", fmt.Sprintf("127.0.0.1:%d", health),
		"--pprof-bind-address", fmt.Sprintf("127.0.0.1:%d", pprof))
	cmd.Args = append(cmd.Args, http2Flags()...)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	stop := stopper(cmd)
	b.Cleanup(stop)
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", health))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("webhook not ready:\n%s", log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return &webhookEndpoint{port: port, caPEM: caPEM, pprof: fmt.Sprintf("127.0.0.1:%d", pprof), stop: stop}
}

// stopper kills cmd and waits for it, once; the test's cleanup does the
// same for a benchmark that fails first.
func stopper(cmd *exec.Cmd) func() {
	return sync.OnceFunc(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
}

// startNoopWebhook runs the webhook benchmark's server in its noop mode:
// every review allowed without decoding it.
func startNoopWebhook(b *testing.B) *webhookEndpoint {
	certDir, caPEM := servingCerts(b)
	port := freePort(b)
	cmd := command(context.Background(), filepath.Join(binDir, "server"), append([]string{"--mode", "noop", "--cert-dir", certDir, "--port", fmt.Sprint(port)}, http2Flags()...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	stop := stopper(cmd)
	b.Cleanup(stop)
	if line, _ := bufio.NewReader(stdout).ReadString('\n'); strings.TrimSpace(line) != "ready" {
		b.Fatalf("the noop webhook did not start: %q", line)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	return &webhookEndpoint{port: port, caPEM: caPEM, stop: stop}
}

// http2Flags lets both webhooks offer HTTP/2 when PATTERNBENCH_HTTP2 is
// set; by default they speak HTTP/1.1 only, as mesh-webhook does.
func http2Flags() []string {
	if os.Getenv("PATTERNBENCH_HTTP2") != "" {
		return []string{"--enable-http2"}
	}
	return nil
}

// registerWebhook registers w, failing closed, for every Istio networking
// and security resource, as the chart does; nil removes the registration.
// The apiserver picks the change up through an informer: it waits a
// moment for it.
func registerWebhook(b *testing.B, w *webhookEndpoint) {
	defer time.Sleep(2 * time.Second)
	if w == nil {
		run(b, "/usr/bin/kubectl", "delete", "validatingwebhookconfiguration", "patternbench", "--ignore-not-found")
		return
	}
	config := fmt.Sprintf(`apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: patternbench}
webhooks:
- name: validate.kubectl-mesh.io
  clientConfig: {url: "https://127.0.0.1:%d/validate", caBundle: %s}
  rules:
  - operations: [CREATE, UPDATE]
    apiGroups: [networking.istio.io, security.istio.io]
    apiVersions: ["*"]
    resources: ["*"]
  namespaceSelector:
    matchExpressions: [{key: kubernetes.io/metadata.name, operator: NotIn, values: [kube-system]}]
  failurePolicy: Fail
  sideEffects: None
  timeoutSeconds: 10
  admissionReviewVersions: [v1]
`, w.port, base64.StdEncoding.EncodeToString(w.caPEM))
	apply := command(b.Context(), "/usr/bin/kubectl", "apply", "-f", "-")
	apply.Stdin = strings.NewReader(config)
	if out, err := apply.CombinedOutput(); err != nil {
		b.Fatalf("registering the webhook: %v\n%s", err, out)
	}
}

// profileWebhook fetches an 8-second CPU profile of the webhook at addr
// into file, in the background; the channel closes when it is written.
func profileWebhook(b *testing.B, addr, file string) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, err := http.Get("http://" + addr + "/debug/pprof/profile?seconds=8")
		if err != nil {
			b.Errorf("profiling the webhook: %v", err)
			return
		}
		defer resp.Body.Close()
		f, err := os.Create(file)
		if err != nil {
			b.Errorf("profiling the webhook: %v", err)
			return
		}
		if _, err := io.Copy(f, resp.Body); err != nil {
			b.Errorf("profiling the webhook: %v", err)
		}
		if err := f.Close(); err != nil {
			b.Errorf("profiling the webhook: %v", err)
		}
	}()
	return done
}

func command(ctx context.Context, bin string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+cluster.Kubeconfig)
	return cmd
}

func run(b *testing.B, bin string, args ...string) {
	if out, err := command(b.Context(), bin, args...).CombinedOutput(); err != nil {
		b.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, out)
	}
}

func freePort(b *testing.B) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
