// Package telemetry reads what a mesh itself measured from its Prometheus:
// the connection (a URL, a Service reached through plugin/perf/portforward,
// or found where the prometheus add-on and the meshes' documentation
// install it) and the golden signals per workload from Istio's and
// Linkerd's standard metrics, through Prometheus's own Go client and PromQL.
// It knows no cobra; plugin/telemetrycmd is its command.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/config"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/addon"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/portforward"
)

// ConnectOptions say where the Prometheus is and how to talk to it.
type ConnectOptions struct {
	// Prometheus is an http(s):// URL or svc/NAME[:PORT] in Namespace;
	// empty finds it (Candidates).
	Prometheus string
	Namespace  string
	// Bearer token, inline or from a file; CAFile and Insecure for HTTPS.
	BearerToken     string
	BearerTokenFile string
	CAFile          string
	Insecure        bool

	// Client finds the Prometheus and, with RESTConfig, reaches svc/
	// targets; a URL needs neither.
	Client     kubernetes.Interface
	RESTConfig func() (*rest.Config, error)
}

// Location is a Service a Prometheus may be behind.
type Location struct {
	Namespace, Service string
	// Why it is looked for there.
	Why string
}

func (l Location) String() string { return l.Namespace + "/" + l.Service }

// Candidates are where a Prometheus is looked for, in order: the prometheus
// add-on's install location for each mesh, then where Istio's and Linkerd's
// documentation install one.
func Candidates() []Location {
	var out []Location
	seen := map[string]bool{}
	add := func(l Location) {
		if !seen[l.String()] {
			seen[l.String()] = true
			out = append(out, l)
		}
	}
	if a, err := addon.Get("prometheus"); err == nil {
		for _, mesh := range a.Meshes {
			add(Location{Namespace: a.Namespace(mesh), Service: a.Service, Why: "the prometheus add-on for " + mesh})
		}
	}
	add(Location{Namespace: "istio-system", Service: "prometheus", Why: "Istio's Prometheus add-on"})
	add(Location{Namespace: "linkerd-viz", Service: "prometheus", Why: "Linkerd viz's Prometheus"})
	return out
}

// Conn is a Prometheus connection.
type Conn struct {
	API v1.API
	// Address is what the user would recognise: the URL given, or
	// svc/NAME in NAMESPACE (through a port-forward).
	Address string
	forward *portforward.Forward
	onClose []func()
}

// Close ends the port-forward, if any.
func (c *Conn) Close() {
	if c.forward != nil {
		c.forward.Close()
	}
	for _, f := range c.onClose {
		f()
	}
}

// OnClose has Close call f too.
func (c *Conn) OnClose(f func()) { c.onClose = append(c.onClose, f) }

// Connect opens the connection o describes. ctx bounds the port-forward's
// setup and, for a forward, its life.
func Connect(ctx context.Context, o ConnectOptions) (*Conn, error) {
	rt, err := roundTripper(o)
	if err != nil {
		return nil, err
	}
	switch {
	case strings.HasPrefix(o.Prometheus, "http://") || strings.HasPrefix(o.Prometheus, "https://"):
		if _, err := url.Parse(o.Prometheus); err != nil {
			return nil, fmt.Errorf("--prometheus: %w", err)
		}
		return newConn(o.Prometheus, o.Prometheus, rt, nil)
	case o.Prometheus != "":
		target, err := portforward.ParseTarget(o.Prometheus)
		if err != nil {
			return nil, fmt.Errorf("--prometheus: %w (or an http(s):// URL)", err)
		}
		return forward(ctx, o, o.Namespace, target, rt)
	}
	if o.Client == nil {
		return nil, errors.New("finding the Prometheus needs a cluster: give --prometheus URL")
	}
	var looked []string
	for _, l := range Candidates() {
		_, err := o.Client.CoreV1().Services(l.Namespace).Get(ctx, l.Service, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			looked = append(looked, l.String()+" ("+l.Why+")")
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("looking for the Prometheus at %s: %w", l, err)
		}
		return forward(ctx, o, l.Namespace, portforward.Target{Kind: portforward.KindService, Name: l.Service}, rt)
	}
	return nil, fmt.Errorf("no Prometheus found: looked for the Services %s; install one (kubectl mesh addon install prometheus) or give --prometheus URL|svc/NAME --prometheus-namespace NAMESPACE",
		strings.Join(looked, ", "))
}

func forward(ctx context.Context, o ConnectOptions, namespace string, t portforward.Target, rt http.RoundTripper) (*Conn, error) {
	if o.Client == nil || o.RESTConfig == nil {
		return nil, fmt.Errorf("reaching %s needs a cluster", t)
	}
	cfg, err := o.RESTConfig()
	if err != nil {
		return nil, fmt.Errorf("reaching %s: %w", t, err)
	}
	fw, err := portforward.Open(ctx, cfg, o.Client, namespace, t)
	if err != nil {
		return nil, fmt.Errorf("reaching the Prometheus at %s in %s: %w", t, namespace, err)
	}
	scheme := "http"
	if o.CAFile != "" || o.Insecure {
		scheme = "https"
	}
	c, err := newConn(fw.URL(scheme, ""), fmt.Sprintf("%s in %s", t, namespace), rt, fw)
	if err != nil {
		fw.Close()
	}
	return c, err
}

func newConn(address, shown string, rt http.RoundTripper, fw *portforward.Forward) (*Conn, error) {
	client, err := api.NewClient(api.Config{Address: address, RoundTripper: rt})
	if err != nil {
		return nil, fmt.Errorf("connecting to the Prometheus at %s: %w", shown, err)
	}
	return &Conn{API: v1.NewAPI(client), Address: shown, forward: fw}, nil
}

// roundTripper is Prometheus's own HTTP client configuration: bearer token
// and TLS as its scrape and remote-read clients do them.
func roundTripper(o ConnectOptions) (http.RoundTripper, error) {
	if o.BearerToken != "" && o.BearerTokenFile != "" {
		return nil, errors.New("--prometheus-token and --prometheus-token-file: give one")
	}
	cfg := config.DefaultHTTPClientConfig
	if o.BearerToken != "" || o.BearerTokenFile != "" {
		cfg.Authorization = &config.Authorization{Type: "Bearer", Credentials: config.Secret(o.BearerToken), CredentialsFile: o.BearerTokenFile}
	}
	cfg.TLSConfig = config.TLSConfig{CAFile: o.CAFile, InsecureSkipVerify: o.Insecure}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("the Prometheus client's options: %w", err)
	}
	rt, err := config.NewRoundTripperFromConfig(cfg, "kubectl-mesh")
	if err != nil {
		return nil, fmt.Errorf("the Prometheus client's options: %w", err)
	}
	return rt, nil
}
