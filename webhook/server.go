package webhook

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	crwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"
)

// shutdownTimeout bounds how long requests in flight may take to finish
// once the webhook stops.
const shutdownTimeout = time.Minute

// drainingServer is controller-runtime's webhook server with a shutdown
// that answers every request it accepted. The default server cancels TLS
// handshakes the moment shutdown begins, and net/http's Shutdown drops a
// request read after it began (the client sees EOF). Here the listener
// closes first, so new connections are refused; keep-alives stop; and the
// server waits until every accepted connection has been answered before
// it shuts down.
type drainingServer struct {
	crwebhook.Server // registration and the mux
	opts             crwebhook.Options
	started          atomic.Bool
	busy             busyConns
}

func newDrainingServer(opts crwebhook.Options) *drainingServer {
	return &drainingServer{Server: crwebhook.NewServer(opts), opts: opts}
}

// Start serves until ctx ends, then drains.
func (s *drainingServer) Start(ctx context.Context) error {
	cfg := &tls.Config{}
	for _, op := range s.opts.TLSOpts {
		op(cfg)
	}
	watcher, err := certwatcher.New(filepath.Join(s.opts.CertDir, s.opts.CertName), filepath.Join(s.opts.CertDir, s.opts.KeyName))
	if err != nil {
		return fmt.Errorf("loading the serving certificate: %w", err)
	}
	cfg.GetCertificate = watcher.GetCertificate
	watchErr := make(chan error, 1)
	go func() { watchErr <- watcher.Start(ctx) }()

	listener, err := tls.Listen("tcp", net.JoinHostPort(s.opts.Host, strconv.Itoa(s.opts.Port)), cfg)
	if err != nil {
		return fmt.Errorf("listening for admission reviews: %w", err)
	}
	srv := &http.Server{
		Handler:           s.WebhookMux(),
		MaxHeaderBytes:    1 << 20,
		IdleTimeout:       90 * time.Second,
		ReadHeaderTimeout: 32 * time.Second,
		ConnState:         s.busy.track,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(listener) }()
	s.started.Store(true)

	select {
	case err := <-served:
		return fmt.Errorf("serving admission reviews: %w", err)
	case err := <-watchErr:
		if err != nil {
			_ = srv.Close()
			return fmt.Errorf("watching the serving certificate: %w", err)
		}
		<-ctx.Done() // the watcher ends only with ctx
	case <-ctx.Done():
	}
	drain, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	// Refuse new connections, answer what was accepted, then shut down.
	_ = listener.Close()
	_ = <-served // Serve fails once its listener is closed: nothing to report
	srv.SetKeepAlivesEnabled(false)
	if err := s.busy.wait(drain); err != nil {
		return fmt.Errorf("draining the webhook server: %w", err)
	}
	if err := srv.Shutdown(drain); err != nil {
		return fmt.Errorf("draining the webhook server: %w", err)
	}
	return nil
}

// busyConns tracks the connections that were accepted and not yet answered
// (new or active), through http.Server.ConnState.
type busyConns struct {
	mu    sync.Mutex
	conns map[net.Conn]busyConn
}

type busyConn struct {
	state http.ConnState
	since time.Time
}

// staleNew is how long a connection may stay new (no request read) and
// still hold up the drain, as net/http's Shutdown does: a client that opens
// a connection and sends nothing is not owed an answer.
const staleNew = 5 * time.Second

func (b *busyConns) track(c net.Conn, state http.ConnState) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.conns == nil {
		b.conns = map[net.Conn]busyConn{}
	}
	switch state {
	case http.StateNew, http.StateActive:
		b.conns[c] = busyConn{state: state, since: time.Now()}
	default: // idle, closed or hijacked: nothing owed
		delete(b.conns, c)
	}
}

// owed counts the connections still owed an answer.
func (b *busyConns) owed(now time.Time) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, c := range b.conns {
		if c.state == http.StateActive || now.Sub(c.since) < staleNew {
			n++
		}
	}
	return n
}

// wait returns once no connection is owed an answer.
func (b *busyConns) wait(ctx context.Context) error {
	for {
		n := b.owed(time.Now())
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d connections still busy: %w", n, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// StartedChecker is healthy once the server listens.
func (s *drainingServer) StartedChecker() healthz.Checker {
	return func(*http.Request) error {
		if !s.started.Load() {
			return errors.New("webhook server has not started yet")
		}
		return nil
	}
}
