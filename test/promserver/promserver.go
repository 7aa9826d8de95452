// Package promserver runs a real Prometheus server on loopback for tests:
// Debian's prometheus package (installed by `make prometheus`, part of
// `make test`), started with a generated configuration that scrapes the
// targets a test gives every second, and stopped when the test ends. It is
// the real server, not a stand-in; what it scrapes in the telemetry tests is
// the stand-in exporter of test/meshmetrics.
package promserver

import (
	"context"
	cryptotls "crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-mesh/kubectl-mesh/test/cmdrun"
	"github.com/kubectl-mesh/kubectl-mesh/webhook/certs"
)

// Path is where Debian's package puts the binary; PROMETHEUS overrides it.
const Path = "/usr/bin/prometheus"

// ScrapeInterval is short so that a test sees a scrape within seconds.
const ScrapeInterval = time.Second

// Target is one scrape target: host:port on loopback, with labels the
// server adds to every series scraped from it.
type Target struct {
	Addr   string
	Labels map[string]string
}

// Server is a running Prometheus.
type Server struct {
	// URL is its HTTP API's base, http(s)://127.0.0.1:PORT.
	URL string
	// CAFile signs its certificate (StartHTTPS only).
	CAFile string

	cmd    *exec.Cmd
	exited chan struct{}
	logs   *cmdrun.SyncBuffer
}

// Binary returns the prometheus binary, or skips the test (fails it under
// CI, where `make test` installs it) when there is none.
func Binary(t testing.TB) string {
	t.Helper()
	path := os.Getenv("PROMETHEUS")
	if path == "" {
		path = Path
	}
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s: %v: install Debian's prometheus package (make prometheus)", path, err)
		}
		t.Skipf("%s not found: install Debian's prometheus package (make prometheus) to run this test", path)
	}
	return path
}

// Start runs Prometheus scraping targets every ScrapeInterval, waits until
// it is ready, and stops it when the test ends.
func Start(t testing.TB, targets ...Target) *Server {
	t.Helper()
	return StartInterval(t, ScrapeInterval, targets...)
}

// StartInterval is Start with another scrape interval, for targets too
// large to scrape every second on a busy machine.
func StartInterval(t testing.TB, interval time.Duration, targets ...Target) *Server {
	t.Helper()
	return startWith(t, interval, nil, targets)
}

// StartHTTPS is Start serving HTTPS only, with a certificate for 127.0.0.1
// from a CA of its own, whose certificate is the Server's CAFile.
func StartHTTPS(t testing.TB, targets ...Target) *Server {
	t.Helper()
	ca, err := certs.NewCA("kubectl-mesh test Prometheus", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	serving, err := ca.IssueServing([]string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string][]byte{"ca.crt": ca.CertPEM, "tls.crt": serving.CertPEM, "tls.key": serving.KeyPEM}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return startWith(t, ScrapeInterval, &tlsFiles{dir: dir, caPEM: ca.CertPEM}, targets)
}

type tlsFiles struct {
	dir   string
	caPEM []byte
}

func startWith(t testing.TB, interval time.Duration, tls *tlsFiles, targets []Target) *Server {
	t.Helper()
	bin := Binary(t)
	dir := t.TempDir()
	config, err := Config(interval, targets)
	if err != nil {
		t.Fatal(err)
	}
	configPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(configPath, config, 0o600); err != nil {
		t.Fatal(err)
	}
	scheme, client, extra := "http", http.DefaultClient, []string(nil)
	if tls != nil {
		// Prometheus's web configuration file (--web.config.file).
		web, err := yaml.Marshal(map[string]any{"tls_server_config": map[string]string{
			"cert_file": filepath.Join(tls.dir, "tls.crt"), "key_file": filepath.Join(tls.dir, "tls.key"),
		}})
		if err != nil {
			t.Fatal(err)
		}
		webPath := filepath.Join(dir, "web.yml")
		if err := os.WriteFile(webPath, web, 0o600); err != nil {
			t.Fatal(err)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(tls.caPEM)
		scheme, extra = "https", []string{"--web.config.file=" + webPath}
		client = &http.Client{Transport: &http.Transport{TLSClientConfig: &cryptotls.Config{RootCAs: pool, MinVersion: cryptotls.VersionTLS12}}}
	}
	// Prometheus cannot report a port it picked, so the test picks one; a
	// port taken in between fails the start, which is retried.
	var lastErr error
	for range 3 {
		addr, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		s, err := start(bin, configPath, filepath.Join(dir, "data"), addr, scheme, client, extra)
		if err == nil {
			if tls != nil {
				s.CAFile = filepath.Join(tls.dir, "ca.crt")
			}
			t.Cleanup(s.stop)
			return s
		}
		lastErr = err
	}
	t.Fatalf("starting prometheus: %v", lastErr)
	return nil
}

// Config is the prometheus.yml for targets: one job, "mesh", scraped every
// interval.
func Config(interval time.Duration, targets []Target) ([]byte, error) {
	type staticConfig struct {
		Targets []string          `json:"targets"`
		Labels  map[string]string `json:"labels,omitempty"`
	}
	statics := make([]staticConfig, 0, len(targets))
	for _, target := range targets {
		statics = append(statics, staticConfig{Targets: []string{target.Addr}, Labels: target.Labels})
	}
	every := model.Duration(interval).String()
	return yaml.Marshal(map[string]any{
		"global": map[string]any{"scrape_interval": every, "evaluation_interval": every},
		"scrape_configs": []map[string]any{{
			"job_name":        "mesh",
			"scrape_interval": every,
			"scrape_timeout":  every,
			"static_configs":  statics,
		}},
	})
}

func start(bin, config, data, addr, scheme string, client *http.Client, extra []string) (*Server, error) {
	logs := &cmdrun.SyncBuffer{}
	cmd := exec.Command(bin, append([]string{
		"--config.file=" + config,
		"--storage.tsdb.path=" + data,
		"--web.listen-address=" + addr,
		"--log.level=warn",
	}, extra...)...)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	s := &Server{URL: scheme + "://" + addr, cmd: cmd, exited: exited, logs: logs}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		if ready(ctx, client, s.URL) {
			return s, nil
		}
		select {
		case <-exited:
			return nil, fmt.Errorf("prometheus exited: %s", lastLines(logs.String(), 10))
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			<-exited
			return nil, fmt.Errorf("prometheus not ready after 30s: %s", lastLines(logs.String(), 10))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func ready(ctx context.Context, client *http.Client, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/-/ready", nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Logs returns what the server printed.
func (s *Server) Logs() string { return s.logs.String() }

func (s *Server) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Silent is a Prometheus's address that accepts connections and never
// answers (a black hole, not a Prometheus), for the timeouts' tests.
func Silent(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				_ = c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	return l.Addr().String()
}
