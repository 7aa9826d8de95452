package webhook

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	crwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"
)

// A request in flight when shutdown begins is answered; a connection
// attempted after it is refused.
func TestDrainingServerAnswersWhatItAccepted(t *testing.T) {
	ca, dir := servingCert(t)
	port := freePort(t)

	s := newDrainingServer(crwebhook.Options{Host: "127.0.0.1", Port: port, CertDir: dir, CertName: "tls.crt", KeyName: "tls.key"})
	entered, release := make(chan struct{}), make(chan struct{})
	s.Register("/slow", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		_, _ = io.WriteString(w, "answered")
	}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Start(ctx) }()
	for s.StartedChecker()(nil) != nil {
		time.Sleep(time.Millisecond)
	}

	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.CertPEM)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, DisableKeepAlives: true}}
	url := "https://127.0.0.1:" + strconv.Itoa(port) + "/slow"
	got := make(chan string, 1)
	go func() {
		resp, err := client.Get(url)
		if err != nil {
			got <- err.Error()
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		got <- string(body)
	}()
	<-entered
	cancel() // shutdown begins with the request in flight

	// The listener closes before the in-flight request is released.
	deadline := time.Now().Add(5 * time.Second)
	for {
		conn, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if errors.Is(err, syscall.ECONNREFUSED) {
			break
		}
		if conn != nil {
			_ = conn.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("new connections still accepted after shutdown began: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	if body := <-got; body != "answered" {
		t.Errorf("the request in flight got %q, want its answer", body)
	}
	if err := <-done; err != nil {
		t.Errorf("Start: %v", err)
	}
}

// A connection that never sends a request holds the drain only briefly.
func TestBusyConnsIgnoresStaleNewConnections(t *testing.T) {
	var b busyConns
	active, fresh, stale := &net.TCPConn{}, &net.UDPConn{}, &net.IPConn{}
	b.track(active, http.StateActive)
	b.track(fresh, http.StateNew)
	b.track(stale, http.StateNew)
	b.conns[stale] = busyConn{state: http.StateNew, since: time.Now().Add(-staleNew - time.Second)}
	if got := b.owed(time.Now()); got != 2 {
		t.Errorf("owed %d, want 2 (the active and the fresh connection)", got)
	}
	b.track(active, http.StateIdle)
	b.track(fresh, http.StateClosed)
	if got := b.owed(time.Now()); got != 0 {
		t.Errorf("owed %d after they were answered, want 0", got)
	}
}

// The manager's context outlives SIGTERM by the shutdown delay, and the
// webhook reports not ready from the signal on.
func TestDelayedCancel(t *testing.T) {
	parent, signal := context.WithCancel(t.Context())
	var ended atomic.Bool
	const delay = 200 * time.Millisecond
	run, stop := delayedCancel(parent, delay, func() { ended.Store(true) })
	defer stop()
	signalled := time.Now()
	signal()
	time.Sleep(delay / 4)
	if !ended.Load() {
		t.Error("onEnd did not run when the parent ended")
	}
	if run.Err() != nil {
		t.Fatal("the context ended with its parent, want it to last the delay")
	}
	<-run.Done()
	if took := time.Since(signalled); took < delay {
		t.Errorf("ended %s after the parent, want at least %s", took, delay)
	}

	_, stop2 := delayedCancel(t.Context(), time.Hour, func() { t.Error("onEnd ran without the parent ending") })
	stop2() // released early: the goroutine ends without calling onEnd
	time.Sleep(10 * time.Millisecond)
}
