package portforward

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
	"k8s.io/klog/v2"
	"k8s.io/streaming/pkg/httpstream"
)

// Forward is a running port-forward from 127.0.0.1 to a pod.
type Forward struct {
	namespace, pod string
	remote         int32
	local          uint16

	cancel context.CancelFunc
	done   chan struct{}
	// err is what ended the forward, set before done is closed.
	err error
	// errs collects what the forwarder reported about single connections.
	errs *errorLog
}

// Open resolves t in namespace to a pod and a container port, as kubectl
// port-forward does, and forwards a random port on 127.0.0.1 to it. It
// returns once the local port listens; ctx bounds that wait, and the
// forward ends when ctx ends or Close is called.
func Open(ctx context.Context, cfg *rest.Config, client kubernetes.Interface, namespace string, t Target) (*Forward, error) {
	ep, err := resolve(ctx, client, namespace, t)
	if err != nil {
		return nil, err
	}
	req := client.CoreV1().RESTClient().Post().
		Resource("pods").Namespace(namespace).Name(ep.Pod.Name).SubResource("portforward")
	dialer, err := newDialer(cfg, req.URL())
	if err != nil {
		return nil, fmt.Errorf("port-forwarding to pod %s/%s: %w", namespace, ep.Pod.Name, err)
	}

	f := &Forward{
		namespace: namespace,
		pod:       ep.Pod.Name,
		remote:    ep.Port,
		done:      make(chan struct{}),
		errs:      &errorLog{},
	}
	// The forwarder reports broken connections only through its logger:
	// capture them so that Err can tell why the forward ended.
	fwdCtx, cancel := context.WithCancel(klog.NewContext(ctx, f.errs.logger()))
	f.cancel = cancel
	ready := make(chan struct{})
	pf, err := portforward.NewOnAddressesForStreamingWithContext(fwdCtx, dialer, []string{"127.0.0.1"},
		[]string{"0:" + strconv.Itoa(int(ep.Port))}, ready, io.Discard, io.Discard)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("port-forwarding to pod %s/%s: %w", namespace, ep.Pod.Name, err)
	}
	go func() {
		err := pf.ForwardPorts()
		f.err = f.errs.wrap(err)
		close(f.done)
	}()

	select {
	case <-ready:
	case <-f.done:
		cancel()
		if f.err == nil {
			f.err = errors.New("the forward ended before it was ready")
		}
		return nil, fmt.Errorf("port-forwarding to pod %s/%s port %d: %w", namespace, ep.Pod.Name, ep.Port, f.err)
	case <-ctx.Done():
		cancel()
		return nil, fmt.Errorf("port-forwarding to pod %s/%s port %d: %w", namespace, ep.Pod.Name, ep.Port, ctx.Err())
	}
	ports, err := pf.GetPorts()
	if err == nil && len(ports) != 1 {
		err = fmt.Errorf("%d ports forwarded, want 1", len(ports))
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("port-forwarding to pod %s/%s: reading the local port: %w", namespace, ep.Pod.Name, err)
	}
	f.local = ports[0].Local
	return f, nil
}

// newDialer tries a WebSocket tunnel first and falls back to SPDY, as
// kubectl does (servers before 1.30 and some proxies only speak SPDY). The
// WebSocket dialer fails with k8s.io/streaming's UpgradeFailureError, which
// only that package's IsUpgradeFailure recognises (apimachinery's deprecated
// copy has a type of its own and never falls back).
func newDialer(cfg *rest.Config, target *url.URL) (httpstream.Dialer, error) {
	transport, upgrader, err := spdy.RoundTripperFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating the SPDY transport: %w", err)
	}
	spdyDialer := spdy.NewDialerForStreaming(upgrader, &http.Client{Transport: transport}, http.MethodPost, target)
	wsDialer, err := portforward.NewSPDYOverWebsocketDialerForStreaming(target, cfg)
	if err != nil {
		return nil, fmt.Errorf("creating the WebSocket transport: %w", err)
	}
	return portforward.NewFallbackDialerForStreaming(wsDialer, spdyDialer, shouldFallBack), nil
}

// shouldFallBack tells whether the WebSocket dialer's error calls for SPDY.
func shouldFallBack(err error) bool {
	return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
}

// LocalAddr is the address the forward listens on: "127.0.0.1:PORT".
func (f *Forward) LocalAddr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(int(f.local)))
}

// URL is scheme://127.0.0.1:PORT/path.
func (f *Forward) URL(scheme, path string) string {
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return scheme + "://" + f.LocalAddr() + path
}

// Pod is the name of the pod the forward reaches.
func (f *Forward) Pod() string { return f.pod }

// RemotePort is the container port the forward reaches.
func (f *Forward) RemotePort() int32 { return f.remote }

// Done is closed when the forward has ended (Close, ctx, or the connection
// to the pod was lost).
func (f *Forward) Done() <-chan struct{} { return f.done }

// Err tells why the forward ended: nil while it runs and after Close;
// an error naming the pod when the connection to it was lost.
func (f *Forward) Err() error {
	select {
	case <-f.done:
	default:
		return nil
	}
	if f.err == nil {
		return nil
	}
	return fmt.Errorf("port-forward to pod %s/%s port %d: %w", f.namespace, f.pod, f.remote, f.err)
}

// Close stops the forward and waits until its listener is closed.
func (f *Forward) Close() {
	f.cancel()
	<-f.done
}

// errorLog keeps the first error the forwarder logged.
type errorLog struct {
	mu    sync.Mutex
	first error
}

func (l *errorLog) record(err error, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.first != nil:
	case err == nil:
		l.first = errors.New(strings.ToLower(msg))
	default:
		l.first = fmt.Errorf("%s: %w", strings.ToLower(msg), err)
	}
}

// wrap adds the first logged error to what ended the forward, which alone
// says only "lost connection to pod".
func (l *errorLog) wrap(err error) error {
	if err == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.first != nil {
		return fmt.Errorf("%w: %w", err, l.first)
	}
	return err
}
