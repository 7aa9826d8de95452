package harness

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/kubectl-mesh/kubectl-mesh/test/cmdrun"
	"github.com/kubectl-mesh/kubectl-mesh/webhook"
	"github.com/kubectl-mesh/kubectl-mesh/webhook/certs"
)

// WebhookBin is the package of the mesh-webhook command: a test package
// that starts webhooks lists it in Options.Commands.
const WebhookBin = "github.com/kubectl-mesh/kubectl-mesh/cmd/mesh-webhook"

// Webhook is a mesh-webhook process started by StartWebhook.
type Webhook struct {
	Cmd *exec.Cmd
	Log *cmdrun.SyncBuffer
	// Host and Port are where it serves admission reviews; HealthPort and
	// MetricsPort its probes and /metrics, on 127.0.0.1.
	Host                    string
	Port                    int
	HealthPort, MetricsPort int
	exited                  chan struct{}
}

// WebhookOptions configure StartWebhook.
type WebhookOptions struct {
	// Host to serve on, 127.0.0.1 by default (another local address for a
	// replica reached through a Service's endpoints).
	Host string
	// CA, when set, issues a serving certificate for Host and DNSNames into
	// a new --cert-dir (external mode); without it, Args set the mode.
	CA       *certs.CA
	DNSNames []string
	// CertDir is an existing --cert-dir (a test's own certificate); with
	// neither CA nor CertDir, Args set the mode.
	CertDir string
	// Kubeconfig is the process's, the sandbox's by default (another: a
	// ServiceAccount's token).
	Kubeconfig string
	// Args are further flags.
	Args []string
	// NoWait returns as soon as the process started, without waiting for
	// /readyz.
	NoWait bool
}

// StartWebhook runs the mesh-webhook binary against the sandbox and waits
// until it is ready (TLS up, first inventory in the engine, policy
// ConfigMaps loaded); the test's end stops it with SIGTERM.
func StartWebhook(t testing.TB, o WebhookOptions) *Webhook {
	t.Helper()
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	if o.Kubeconfig == "" {
		o.Kubeconfig = Kubeconfig()
	}
	w := &Webhook{Host: o.Host, Log: &cmdrun.SyncBuffer{}, Port: FreePort(t), HealthPort: FreePort(t), MetricsPort: FreePort(t), exited: make(chan struct{})}
	args := []string{
		"--kubeconfig", o.Kubeconfig,
		"--host", o.Host,
		"--port", strconv.Itoa(w.Port),
		"--metrics-bind-address", Loopback(w.MetricsPort),
		"--health-probe-bind-address", Loopback(w.HealthPort),
	}
	if o.CA != nil {
		serving, err := o.CA.IssueServing(append([]string{"localhost"}, o.DNSNames...), []net.IP{net.ParseIP(o.Host)}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		certDir := t.TempDir()
		for name, data := range map[string][]byte{"tls.crt": serving.CertPEM, "tls.key": serving.KeyPEM} {
			if err := os.WriteFile(filepath.Join(certDir, name), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		o.CertDir = certDir
	}
	if o.CertDir != "" {
		args = append(args, "--cert-dir", o.CertDir)
	}
	w.Cmd = exec.Command(Bin("mesh-webhook"), append(args, o.Args...)...)
	out := io.MultiWriter(w.Log, &Logs) // Main looks for keys in every log
	w.Cmd.Stdout, w.Cmd.Stderr = out, out
	if err := w.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = w.Cmd.Wait(); close(w.exited) }()
	t.Cleanup(func() { w.Stop(t) })
	if !o.NoWait {
		w.WaitReady(t, time.Minute)
	}
	return w
}

// URL is where the apiserver reaches this webhook by url:.
func (w *Webhook) URL() string {
	return "https://" + net.JoinHostPort(w.Host, strconv.Itoa(w.Port)) + webhook.ValidatePath
}

// Ready tells whether /readyz answers 200.
func (w *Webhook) Ready() bool {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get("http://" + Loopback(w.HealthPort) + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// WaitReady waits until /readyz answers 200.
func (w *Webhook) WaitReady(t testing.TB, timeout time.Duration) {
	t.Helper()
	err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
		return w.Ready(), nil
	})
	if err != nil {
		t.Fatalf("webhook not ready: %v\n%s", err, w.Log.String())
	}
}

// Exited is closed once the process has exited.
func (w *Webhook) Exited() <-chan struct{} { return w.exited }

// Signal sends sig to the process.
func (w *Webhook) Signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	if err := w.Cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signalling the webhook: %v", err)
	}
}

// Stop sends SIGTERM and waits up to 40 s for the exit, then kills it.
func (w *Webhook) Stop(t testing.TB) {
	select {
	case <-w.exited:
		return
	default:
	}
	_ = w.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.exited:
	case <-time.After(40 * time.Second):
		_ = w.Cmd.Process.Kill()
		<-w.exited
		t.Errorf("webhook did not stop within 40s of SIGTERM")
	}
}

// Metrics reads the named unlabelled gauges or counters from /metrics
// (go_goroutines, process_resident_memory_bytes...); absent ones are left
// out.
func (w *Webhook) Metrics(names ...string) (map[string]float64, error) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + Loopback(w.MetricsPort) + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") {
			continue
		}
		for _, want := range names {
			if name == want {
				v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
				if err != nil {
					return nil, fmt.Errorf("metric %s: %w", name, err)
				}
				out[name] = v
			}
		}
	}
	return out, sc.Err()
}

// Tail is the last n lines of the process's log.
func (w *Webhook) Tail(n int) string {
	lines := strings.Split(strings.TrimRight(w.Log.String(), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// FreePort returns a TCP port on loopback that is free now.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Loopback is 127.0.0.1:port.
func Loopback(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }
