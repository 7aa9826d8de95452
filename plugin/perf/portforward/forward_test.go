package portforward

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
)

func TestForwardURL(t *testing.T) {
	f := &Forward{local: 40123}
	tests := []struct {
		name, scheme, path, want string
	}{
		{name: "root", scheme: "http", path: "/", want: "http://127.0.0.1:40123/"},
		{name: "empty path", scheme: "http", path: "", want: "http://127.0.0.1:40123/"},
		{name: "path without slash", scheme: "https", path: "echo?size=10", want: "https://127.0.0.1:40123/echo?size=10"},
		{name: "path", scheme: "http", path: "/api/v1", want: "http://127.0.0.1:40123/api/v1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := f.URL(tt.scheme, tt.path); got != tt.want {
				t.Errorf("URL(%q, %q) = %q, want %q", tt.scheme, tt.path, got, tt.want)
			}
		})
	}
	if got := f.LocalAddr(); got != "127.0.0.1:40123" {
		t.Errorf("LocalAddr() = %q", got)
	}
}

func TestForwardErr(t *testing.T) {
	refused := errors.New(`error forwarding port 8080 to pod 1234, uid : failed to execute portforward in network namespace: connection refused`)
	tests := []struct {
		name   string
		logged [][2]any // error, message
		ended  error
		want   string
		is     error
	}{
		{name: "closed", ended: nil, want: ""},
		{
			name:  "lost without a logged cause",
			ended: portforward.ErrLostConnectionToPod,
			want:  "port-forward to pod shop/echo-a port 8080: lost connection to pod",
			is:    portforward.ErrLostConnectionToPod,
		},
		{
			name:   "lost with the first logged cause",
			logged: [][2]any{{refused, "An error occurred forwarding"}, {errors.New("later"), "Error copying"}},
			ended:  portforward.ErrLostConnectionToPod,
			want:   "port-forward to pod shop/echo-a port 8080: lost connection to pod: an error occurred forwarding: " + refused.Error(),
			is:     refused,
		},
		{
			name:   "logged message without an error",
			logged: [][2]any{{nil, "Listener closed"}},
			ended:  portforward.ErrLostConnectionToPod,
			want:   "port-forward to pod shop/echo-a port 8080: lost connection to pod: listener closed",
			is:     portforward.ErrLostConnectionToPod,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &Forward{namespace: "shop", pod: "echo-a", remote: 8080, done: make(chan struct{}), errs: &errorLog{}}
			log := f.errs.logger()
			for _, l := range tt.logged {
				err, _ := l[0].(error)
				log.Error(err, l[1].(string), "localPort", 1234)
			}
			if err := f.Err(); err != nil {
				t.Fatalf("Err() before the end = %v, want nil", err)
			}
			f.err = f.errs.wrap(tt.ended)
			close(f.done)
			err := f.Err()
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("Err() = %q, want %q", got, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Err() = %v, want it to wrap %v", err, tt.is)
			}
		})
	}
}

// A server that refuses the WebSocket upgrade (before Kubernetes 1.30, or a
// proxy in the way) makes the forward fall back to SPDY.
func TestFallsBackToSPDYWhenTheWebSocketUpgradeIsRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "upgrade refused", http.StatusBadRequest)
	}))
	defer srv.Close()
	target, err := url.Parse(srv.URL + "/api/v1/namespaces/ns/pods/p/portforward")
	if err != nil {
		t.Fatal(err)
	}
	ws, err := portforward.NewSPDYOverWebsocketDialerForStreaming(target, &rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = ws.Dial(portforward.PortForwardProtocolV1Name)
	if err == nil {
		t.Fatal("the WebSocket dial succeeded against a server that refuses upgrades")
	}
	if !shouldFallBack(err) {
		t.Errorf("shouldFallBack(%v) = false, want true", err)
	}
}
