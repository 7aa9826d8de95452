package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/telemetry"
)

// PrometheusFlags reach a mesh's Prometheus: the commands that read what
// the mesh measured share them (metrics; perf run's telemetry join).
type PrometheusFlags struct {
	Prometheus string
	Namespace  string
	Token      string
	TokenFile  string
	CAFile     string
	Insecure   bool
	// Timeout bounds the connection and the queries together.
	Timeout time.Duration
}

// AddPrometheusFlags adds --prometheus and its connection options.
func AddPrometheusFlags(cmd *cobra.Command, p *PrometheusFlags) {
	f := cmd.Flags()
	var where []string
	for _, l := range telemetry.Candidates() {
		where = append(where, l.String())
	}
	f.StringVar(&p.Prometheus, "prometheus", "", "The mesh's Prometheus: an http(s):// URL, or svc/NAME[:PORT] reached through a port-forward (default: the first Service of "+strings.Join(where, ", ")+")")
	f.StringVar(&p.Namespace, "prometheus-namespace", "", "The namespace of --prometheus svc/NAME (default: the command's namespace)")
	f.StringVar(&p.Token, "prometheus-token", "", "Bearer token for the Prometheus")
	f.StringVar(&p.TokenFile, "prometheus-token-file", "", "File holding the bearer token for the Prometheus")
	f.StringVar(&p.CAFile, "prometheus-ca-file", "", "CA certificate that signs the Prometheus's HTTPS certificate")
	f.BoolVar(&p.Insecure, "prometheus-insecure-skip-tls-verify", false, "Do not verify the Prometheus's HTTPS certificate")
	f.DurationVar(&p.Timeout, "prometheus-timeout", 30*time.Second, "How long to wait for the Prometheus: the port-forward and the queries together")
}

// WithTimeout bounds ctx by --prometheus-timeout; TimeoutError turns what
// its end did to an error into one line that names the flag.
func (p *PrometheusFlags) WithTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if p.Timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeoutCause(ctx, p.Timeout, errPrometheusTimeout)
}

var errPrometheusTimeout = errors.New("timed out")

// TimedOut reports whether ctx ended by --prometheus-timeout.
func (p *PrometheusFlags) TimedOut(ctx context.Context) bool {
	return errors.Is(context.Cause(ctx), errPrometheusTimeout)
}

// TimeoutError is err, or when ctx ended by --prometheus-timeout, a line
// that says so.
func (p *PrometheusFlags) TimeoutError(ctx context.Context, err error) error {
	if err != nil && p.TimedOut(ctx) {
		return fmt.Errorf("no answer within %s (--prometheus-timeout)", p.Timeout)
	}
	return err
}

// Connect opens the connection: a URL needs no cluster; a Service, given
// or found, is reached through a port-forward in namespace unless
// --prometheus-namespace names another. --prometheus-timeout bounds the
// setup; the connection lasts until it is closed or ctx ends.
func (p *PrometheusFlags) Connect(ctx context.Context, f Factory, namespace string) (*telemetry.Conn, error) {
	o := telemetry.ConnectOptions{
		Prometheus: p.Prometheus, Namespace: namespace,
		BearerToken: p.Token, BearerTokenFile: p.TokenFile, CAFile: p.CAFile, Insecure: p.Insecure,
	}
	if p.Namespace != "" {
		o.Namespace = p.Namespace
	}
	if !strings.HasPrefix(p.Prometheus, "http://") && !strings.HasPrefix(p.Prometheus, "https://") {
		client, err := f.KubernetesClientSet()
		if err != nil {
			return nil, err
		}
		o.Client, o.RESTConfig = client, f.ToRESTConfig
	}
	// A port-forward lives as long as the context it was opened with: the
	// timeout ends the setup only.
	life, end := context.WithCancelCause(ctx)
	timedOut := func() bool { return false }
	if p.Timeout > 0 {
		timer := time.AfterFunc(p.Timeout, func() { end(errPrometheusTimeout) })
		timedOut = func() bool { return !timer.Stop() }
	}
	conn, err := telemetry.Connect(life, o)
	if timedOut() {
		if conn != nil {
			conn.Close()
		}
		end(nil)
		return nil, fmt.Errorf("no answer within %s (--prometheus-timeout)", p.Timeout)
	}
	if err != nil {
		end(nil)
		return nil, err
	}
	conn.OnClose(func() { end(nil) })
	return conn, nil
}
