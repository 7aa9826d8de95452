package telemetry_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/telemetry"
	"github.com/kubectl-mesh/kubectl-mesh/test/promserver"
)

func TestCandidates(t *testing.T) {
	var got []string
	for _, l := range telemetry.Candidates() {
		got = append(got, l.String())
	}
	// The add-on's locations (istio-system for Istio, prometheus for
	// Linkerd), then Linkerd viz's.
	want := "istio-system/prometheus prometheus/prometheus linkerd-viz/prometheus"
	if strings.Join(got, " ") != want {
		t.Errorf("candidates %v, want %s", got, want)
	}
}

func TestConnectFindsNothing(t *testing.T) {
	_, err := telemetry.Connect(context.Background(), telemetry.ConnectOptions{Client: fake.NewClientset()})
	if err == nil || !strings.Contains(err.Error(), "no Prometheus found: looked for the Services istio-system/prometheus (the prometheus add-on for istio), prometheus/prometheus") ||
		!strings.Contains(err.Error(), "--prometheus URL|svc/NAME") {
		t.Errorf("err = %v", err)
	}
}

func TestConnectFindsAService(t *testing.T) {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "prometheus", Namespace: "linkerd-viz"}}
	_, err := telemetry.Connect(context.Background(), telemetry.ConnectOptions{Client: fake.NewClientset(svc)})
	// Found; the fake cluster has no REST config to forward through.
	if err == nil || !strings.Contains(err.Error(), "reaching svc/prometheus needs a cluster") {
		t.Errorf("err = %v", err)
	}
}

func TestConnectOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    telemetry.ConnectOptions
		want string
	}{
		{"bad target", telemetry.ConnectOptions{Prometheus: "deploy/prometheus"}, `--prometheus: invalid target "deploy/prometheus"`},
		{"two tokens", telemetry.ConnectOptions{Prometheus: "http://x", BearerToken: "a", BearerTokenFile: "b"}, "give one"},
		{"missing CA", telemetry.ConnectOptions{Prometheus: "https://x", CAFile: "/nonexistent/ca.crt"}, "/nonexistent/ca.crt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := telemetry.Connect(context.Background(), tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestBearerToken checks what the client sends, from a file as from the
// flag; the server is no Prometheus, it only refuses.
func TestBearerToken(t *testing.T) {
	var mu sync.Mutex
	got := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		got[r.Header.Get("Authorization")] = true
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	}))
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, o := range []telemetry.ConnectOptions{
		{Prometheus: srv.URL, BearerToken: "inline"},
		{Prometheus: srv.URL, BearerTokenFile: file},
	} {
		conn, err := telemetry.Connect(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		_, err = telemetry.Query(context.Background(), conn.API, []telemetry.Mesh{telemetry.Istio}, telemetry.Selector{},
			telemetry.Window{Start: time.Now().Add(-time.Minute), End: time.Now()})
		if err == nil || !strings.Contains(err.Error(), "401") {
			t.Errorf("err = %v, want the 401", err)
		}
	}
	if len(got) != 2 || !got["Bearer inline"] || !got["Bearer from-file"] {
		t.Errorf("Authorization headers %v", got)
	}
}

// TestConnectHTTPS reaches a real Prometheus serving HTTPS with a CA of its
// own: trusted through --prometheus-ca-file or not verified, and refused
// without either.
func TestConnectHTTPS(t *testing.T) {
	prom := promserver.StartHTTPS(t)
	query := func(o telemetry.ConnectOptions) error {
		o.Prometheus = prom.URL
		conn, err := telemetry.Connect(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		_, err = telemetry.Query(context.Background(), conn.API, nil, telemetry.Selector{}, telemetry.Window{Start: time.Now().Add(-time.Minute), End: time.Now()})
		return err
	}
	var noData *telemetry.NoDataError
	if err := query(telemetry.ConnectOptions{CAFile: prom.CAFile}); !errors.As(err, &noData) {
		t.Errorf("with the CA: %v, want an answer (no mesh metrics)", err)
	}
	if err := query(telemetry.ConnectOptions{Insecure: true}); !errors.As(err, &noData) {
		t.Errorf("insecure: %v, want an answer (no mesh metrics)", err)
	}
	if err := query(telemetry.ConnectOptions{}); err == nil || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
		t.Errorf("without the CA: %v, want the certificate refused", err)
	}
}
