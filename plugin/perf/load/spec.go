// Package load describes a load test: what to send, where, how fast and for
// how long. The local runner and the in-cluster Job both run a Spec, and the
// result's SMP test configuration is made from it.
package load

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"
)

// Loop is how requests are paced.
type Loop string

const (
	// Open sends at the requested rate whatever the answers; a request whose
	// time has passed is skipped, never caught up, so a slow target cannot
	// hide its latency by slowing the client (no coordinated omission).
	Open Loop = "open"
	// Closed: each connection sends its next request when the previous one
	// is answered (as fast as possible, or paced to --qps with catch-up).
	Closed Loop = "closed"
)

// Spec is one load test.
type Spec struct {
	// Name and Labels identify the result.
	Name   string
	Labels map[string]string
	// URL is where requests go; Target is what the user named (a URL or
	// svc/NAME[:PORT]), kept for the result.
	URL    string
	Target string
	// QPS is the total rate over all connections; 0 means as fast as possible.
	QPS         float64
	Connections int
	// Duration or Requests (exactly one is set).
	Duration time.Duration
	Requests int64
	Loop     Loop
	// Payload makes the requests POSTs (unless Method says otherwise).
	Payload     []byte
	ContentType string
	Method      string
	// Headers are "Name: value".
	Headers []string
	HTTP2   bool
	// Timeout bounds each request.
	Timeout time.Duration
	TLS     TLS
	// Resolution is the latency histogram's bucket width; 0 means fitted to
	// the latency measured before the run.
	Resolution time.Duration
}

// TLS options for https targets.
type TLS struct {
	CACert, Cert, Key string
	Insecure          bool
}

// Validate checks the spec before anything is sent; errors name the flag.
func (s *Spec) Validate() error {
	var errs []error
	if s.URL == "" {
		errs = append(errs, errors.New("no target: give a URL or svc/NAME[:PORT]"))
	} else if u, err := url.Parse(s.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("target %q: want an http:// or https:// URL, or svc/NAME[:PORT]", s.URL))
	}
	if s.QPS < 0 {
		errs = append(errs, fmt.Errorf("--qps must be 0 (as fast as possible) or positive, got %g", s.QPS))
	}
	if s.Connections < 1 {
		errs = append(errs, fmt.Errorf("--connections must be at least 1, got %d", s.Connections))
	}
	switch {
	case s.Duration < 0:
		errs = append(errs, fmt.Errorf("--duration must be positive, got %s", s.Duration))
	case s.Requests < 0:
		errs = append(errs, fmt.Errorf("--requests must be positive, got %d", s.Requests))
	case s.Duration > 0 && s.Requests > 0:
		errs = append(errs, errors.New("--duration and --requests cannot be used together"))
	case s.Duration == 0 && s.Requests == 0:
		errs = append(errs, errors.New("--duration or --requests must be set"))
	}
	if s.Requests > 0 && s.Requests < int64(s.Connections) {
		errs = append(errs, fmt.Errorf("--requests (%d) must be at least --connections (%d)", s.Requests, s.Connections))
	}
	switch s.Loop {
	case Open:
		if s.QPS == 0 {
			errs = append(errs, errors.New("--loop=open needs a rate: set --qps, or use --loop=closed to go as fast as possible"))
		}
	case Closed:
	default:
		errs = append(errs, fmt.Errorf("--loop must be open or closed, got %q", s.Loop))
	}
	for _, h := range s.Headers {
		if name, _, ok := strings.Cut(h, ":"); !ok || strings.TrimSpace(name) == "" {
			errs = append(errs, fmt.Errorf("--header %q: want \"Name: value\"", h))
		}
	}
	if s.Timeout < 0 {
		errs = append(errs, fmt.Errorf("--timeout must be positive, got %s", s.Timeout))
	}
	if s.Resolution < 0 {
		errs = append(errs, fmt.Errorf("--resolution must be positive, got %s", s.Resolution))
	}
	if (s.TLS.Cert == "") != (s.TLS.Key == "") {
		errs = append(errs, errors.New("--cert and --key must be given together"))
	}
	return errors.Join(errs...)
}

// HeaderMap returns the headers as SMP records them.
func (s *Spec) HeaderMap() map[string]string {
	if len(s.Headers) == 0 {
		return nil
	}
	m := make(map[string]string, len(s.Headers))
	for _, h := range s.Headers {
		name, value, _ := strings.Cut(h, ":")
		m[strings.TrimSpace(name)] = strings.TrimSpace(value)
	}
	return m
}

// TestConfig is the SMP test configuration of a run of s; internal is true
// for a load generator in the cluster.
func (s *Spec) TestConfig(id string, internal bool) smp.TestConfig {
	httpVersion := "1.1"
	if s.HTTP2 {
		httpVersion = "2"
	}
	cfg := smp.TestConfig{
		SMPVersion: smp.Version,
		ID:         id,
		Name:       s.Name,
		Labels:     s.Labels,
		Requests:   s.Requests,
		Clients: []smp.Client{{
			Internal:      internal,
			LoadGenerator: "fortio",
			Protocol:      "http",
			Connections:   s.Connections,
			RPS:           s.QPS,
			Headers:       s.HeaderMap(),
			Body:          string(s.Payload),
			ContentType:   s.ContentType,
			EndpointURL:   []string{s.URL},
			Target:        s.Target,
			HTTPVersion:   httpVersion,
			Loop:          string(s.Loop),
			ResolutionMs:  float64(s.Resolution) / float64(time.Millisecond),
		}},
	}
	if s.Duration > 0 {
		cfg.Duration = s.Duration.String()
	}
	return cfg
}

// SortedLabels renders labels as k=v,k=v in key order.
func SortedLabels(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + labels[k]
	}
	return strings.Join(parts, ",")
}
