package webhook

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	crwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/kubectl-mesh/kubectl-mesh/webhook/certs"
)

// servingCert writes a serving certificate for 127.0.0.1 as tls.crt and
// tls.key into a directory, and returns its CA.
func servingCert(t *testing.T) (*certs.CA, string) {
	t.Helper()
	ca, err := certs.NewCA("webhook-test", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	serving, err := ca.IssueServing(nil, []net.IP{net.ParseIP("127.0.0.1")}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, data := range map[string][]byte{"tls.crt": serving.CertPEM, "tls.key": serving.KeyPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return ca, dir
}

// freePort is a loopback port nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// The webhook's server, configured as mesh-webhook configures it, refuses
// a TLS 1.0 or 1.1 handshake and completes a TLS 1.2 or 1.3 one.
func TestServesTLS12AndNewerOnly(t *testing.T) {
	ca, dir := servingCert(t)
	port := freePort(t)
	o := DefaultOptions()
	s := newDrainingServer(crwebhook.Options{Host: "127.0.0.1", Port: port, CertDir: dir, CertName: "tls.crt", KeyName: "tls.key", TLSOpts: o.tlsOptions()})
	done := make(chan error, 1)
	go func() { done <- s.Start(t.Context()) }()
	for s.StartedChecker()(nil) != nil {
		select {
		case err := <-done:
			t.Fatalf("the server stopped: %v", err)
		case <-time.After(time.Millisecond):
		}
	}

	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.CertPEM)
	for _, tc := range []struct {
		name    string
		version uint16
		want    bool
	}{
		{"TLS 1.0", tls.VersionTLS10, false},
		{"TLS 1.1", tls.VersionTLS11, false},
		{"TLS 1.2", tls.VersionTLS12, true},
		{"TLS 1.3", tls.VersionTLS13, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := tls.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port), &tls.Config{
				RootCAs: roots, MinVersion: tc.version, MaxVersion: tc.version,
			})
			if tc.want {
				if err != nil {
					t.Fatalf("handshake refused: %v", err)
				}
				defer func() { _ = conn.Close() }()
				if got := conn.ConnectionState().Version; got != tc.version {
					t.Errorf("negotiated %s, want %s", tls.VersionName(got), tls.VersionName(tc.version))
				}
				return
			}
			if err == nil {
				_ = conn.Close()
				t.Fatalf("the server completed a %s handshake", tc.name)
			}
			if !strings.Contains(err.Error(), "protocol version") {
				t.Errorf("handshake failed with %v, want the server's protocol version alert", err)
			}
		})
	}
}
