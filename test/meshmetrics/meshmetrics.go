// Package meshmetrics is a test stand-in for the meshes' proxies as a
// Prometheus sees them: a loopback HTTP server that answers requests
// (optionally failing some and delaying all) and exposes, for each request it
// served, the series a server-side proxy would: Istio's standard metrics
// (istio_requests_total, istio_request_duration_milliseconds with
// reporter="destination" and Istio's label set and buckets) or Linkerd's
// (request_total, response_total, response_latency_ms with
// direction="inbound", and the namespace/deployment/pod labels Linkerd viz's
// Prometheus adds when it scrapes). No proxy runs and no traffic is
// intercepted: the server counts what it serves itself, so that a test knows
// exactly what the mesh "measured".
package meshmetrics

import (
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Mesh picks the metric families served.
type Mesh string

const (
	Istio   Mesh = "istio"
	Linkerd Mesh = "linkerd"
)

// Istio's default buckets for istio_request_duration_milliseconds
// (istio/istio: the stats filter's histogram buckets).
var istioBuckets = []float64{0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000}

// The Linkerd proxy's buckets for response_latency_ms.
var linkerdBuckets = []float64{1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500, 1000, 2000, 3000, 4000, 5000, 10000, 20000, 30000, 40000, 50000}

// Istio's standard labels, as the destination's proxy reports them.
var istioLabels = []string{
	"reporter",
	"source_workload", "source_workload_namespace", "source_principal", "source_app", "source_version",
	"source_cluster", "source_canonical_service", "source_canonical_revision",
	"destination_workload", "destination_workload_namespace", "destination_principal", "destination_app",
	"destination_version", "destination_service", "destination_service_name", "destination_service_namespace",
	"destination_cluster", "destination_canonical_service", "destination_canonical_revision",
	"request_protocol", "response_code", "grpc_response_status", "response_flags", "connection_security_policy",
}

// Linkerd's inbound labels: the proxy's own, then the ones Linkerd viz's
// scrape configuration adds from the pod.
var linkerdLabels = []string{
	"direction", "authority", "target_addr", "target_ip", "target_port", "tls", "client_id",
	"srv_group", "srv_kind", "srv_name", "srv_port",
	"namespace", "pod", "deployment", "pod_template_hash", "control_plane_ns",
}

var linkerdResponseLabels = append(append([]string{}, linkerdLabels...), "status_code", "classification", "error")

// Workload names the destination the recorded requests count for.
type Workload struct {
	Name      string
	Namespace string
	// MTLS records the requests as mutual TLS (Istio's
	// connection_security_policy="mutual_tls", Linkerd's tls="true").
	MTLS bool
	// Routes also counts each request in Linkerd's per-route series, as a
	// ServiceProfile whose routes are "METHOD PATH" would (Linkerd only).
	Routes bool
}

// Exporter records requests in one mesh's metric families.
type Exporter struct {
	mesh     Mesh
	registry *prometheus.Registry

	istioRequests *prometheus.CounterVec
	istioDuration *prometheus.HistogramVec

	linkerdRequests  *prometheus.CounterVec
	linkerdResponses *prometheus.CounterVec
	linkerdLatency   *prometheus.HistogramVec

	routeResponses *prometheus.CounterVec
	routeLatency   *prometheus.HistogramVec
}

// Linkerd's inbound per-route labels (a ServiceProfile's routes), then the
// ones Linkerd viz's scrape adds from the pod.
var linkerdRouteLabels = []string{"direction", "dst", "rt_route", "classification", "status_code",
	"namespace", "pod", "deployment", "pod_template_hash", "control_plane_ns"}

// NewExporter returns an exporter of mesh's metric families.
func NewExporter(mesh Mesh) *Exporter {
	e := &Exporter{mesh: mesh, registry: prometheus.NewRegistry()}
	switch mesh {
	case Istio:
		e.istioRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "istio_requests_total", Help: "Total requests.",
		}, istioLabels)
		e.istioDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "istio_request_duration_milliseconds", Help: "Request duration.", Buckets: istioBuckets,
		}, istioLabels)
		e.registry.MustRegister(e.istioRequests, e.istioDuration)
	case Linkerd:
		e.linkerdRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "request_total", Help: "Total count of HTTP requests.",
		}, linkerdLabels)
		e.linkerdResponses = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "response_total", Help: "Total count of HTTP responses.",
		}, linkerdResponseLabels)
		e.linkerdLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "response_latency_ms", Help: "Elapsed times between a request's headers being received and its response stream completing.",
			Buckets: linkerdBuckets,
		}, linkerdResponseLabels)
		e.routeResponses = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "route_response_total", Help: "Total count of HTTP responses by route.",
		}, linkerdRouteLabels)
		e.routeLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "route_response_latency_ms", Help: "Elapsed times between a request's headers being received and its response stream completing, by route.",
			Buckets: linkerdBuckets,
		}, linkerdRouteLabels)
		e.registry.MustRegister(e.linkerdRequests, e.linkerdResponses, e.linkerdLatency, e.routeResponses, e.routeLatency)
	default:
		panic("meshmetrics: unknown mesh " + string(mesh))
	}
	return e
}

// Record counts one request served by w with status code after elapsed;
// route names it in Linkerd's per-route series when w.Routes.
func (e *Exporter) Record(w Workload, route string, code int, elapsed time.Duration) {
	ms := float64(elapsed) / float64(time.Millisecond)
	switch e.mesh {
	case Istio:
		policy := "none"
		if w.MTLS {
			policy = "mutual_tls"
		}
		labels := prometheus.Labels{
			"reporter":                  "destination",
			"source_workload":           "fortio",
			"source_workload_namespace": w.Namespace,
			"source_principal":          "spiffe://cluster.local/ns/" + w.Namespace + "/sa/fortio",
			"source_app":                "fortio", "source_version": "unknown", "source_cluster": "Kubernetes",
			"source_canonical_service": "fortio", "source_canonical_revision": "latest",
			"destination_workload":           w.Name,
			"destination_workload_namespace": w.Namespace,
			"destination_principal":          "spiffe://cluster.local/ns/" + w.Namespace + "/sa/" + w.Name,
			"destination_app":                w.Name, "destination_version": "v1",
			"destination_service":           w.Name + "." + w.Namespace + ".svc.cluster.local",
			"destination_service_name":      w.Name,
			"destination_service_namespace": w.Namespace,
			"destination_cluster":           "Kubernetes",
			"destination_canonical_service": w.Name, "destination_canonical_revision": "v1",
			"request_protocol": "http", "response_code": strconv.Itoa(code), "grpc_response_status": "",
			"response_flags": "-", "connection_security_policy": policy,
		}
		e.istioRequests.With(labels).Inc()
		e.istioDuration.With(labels).Observe(ms)
	case Linkerd:
		tls, clientID := "no_identity", ""
		if w.MTLS {
			tls, clientID = "true", "fortio."+w.Namespace+".serviceaccount.identity.linkerd.cluster.local"
		}
		labels := prometheus.Labels{
			"direction": "inbound", "authority": w.Name + "." + w.Namespace + ".svc.cluster.local:8080",
			"target_addr": "10.0.0.1:8080", "target_ip": "10.0.0.1", "target_port": "8080",
			"tls": tls, "client_id": clientID,
			"srv_group": "", "srv_kind": "default", "srv_name": "all-unauthenticated", "srv_port": "8080",
			"namespace": w.Namespace, "pod": w.Name + "-5d9c7b7f4-x2x7k", "deployment": w.Name,
			"pod_template_hash": "5d9c7b7f4", "control_plane_ns": "linkerd",
		}
		e.linkerdRequests.With(labels).Inc()
		labels["status_code"] = strconv.Itoa(code)
		labels["classification"] = "success"
		labels["error"] = ""
		if code >= 500 {
			labels["classification"] = "failure"
		}
		e.linkerdResponses.With(labels).Inc()
		e.linkerdLatency.With(labels).Observe(ms)
		if w.Routes {
			routeLabels := prometheus.Labels{
				"direction": "inbound", "dst": labels["authority"], "rt_route": route,
				"classification": labels["classification"], "status_code": labels["status_code"],
				"namespace": w.Namespace, "pod": labels["pod"], "deployment": w.Name,
				"pod_template_hash": labels["pod_template_hash"], "control_plane_ns": "linkerd",
			}
			e.routeResponses.With(routeLabels).Inc()
			e.routeLatency.With(routeLabels).Observe(ms)
		}
	}
}

// Metrics serves the recorded series in Prometheus's exposition format.
func (e *Exporter) Metrics() http.Handler {
	return promhttp.HandlerFor(e.registry, promhttp.HandlerOpts{})
}

// Options shape the answers of a Server.
type Options struct {
	// Delay is added to every answer.
	Delay time.Duration
	// ErrorEvery answers every Nth request with 503 (0: none).
	ErrorEvery int
}

// Server answers requests for one workload and records them: any path but
// /metrics is traffic (?delay=DURATION delays the answer, as fortio's echo
// handler does), /metrics is the scrape.
type Server struct {
	Exporter *Exporter
	Workload Workload
	Options  Options
	// Addr is host:port on loopback once Start returns.
	Addr string

	served   atomic.Int64
	failed   atomic.Int64
	listener net.Listener
	server   *http.Server
}

// Start serves on 127.0.0.1 until Close.
func Start(mesh Mesh, w Workload, opts Options) (*Server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{Exporter: NewExporter(mesh), Workload: w, Options: opts, Addr: l.Addr().String(), listener: l}
	mux := http.NewServeMux()
	mux.Handle("/metrics", s.Exporter.Metrics())
	mux.HandleFunc("/", s.serve)
	s.server = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.server.Serve(l) }()
	return s, nil
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	n := s.served.Add(1)
	code := http.StatusOK
	if s.Options.ErrorEvery > 0 && n%int64(s.Options.ErrorEvery) == 0 {
		code = http.StatusServiceUnavailable
		s.failed.Add(1)
	}
	delay := s.Options.Delay
	// ?delay=5ms asks for more, as fortio's echo handler takes it.
	if d, err := time.ParseDuration(r.URL.Query().Get("delay")); err == nil && d > 0 && d <= 10*time.Second {
		delay = d
	}
	if delay > 0 {
		time.Sleep(delay)
	}
	// Recorded before the answer, so that a client that has its answers
	// can count on the series.
	s.Exporter.Record(s.Workload, r.Method+" "+r.URL.Path, code, time.Since(start))
	w.WriteHeader(code)
}

// Served and Failed count the requests answered so far.
func (s *Server) Served() int64 { return s.served.Load() }
func (s *Server) Failed() int64 { return s.failed.Load() }

// Close stops the server.
func (s *Server) Close() error { return s.server.Close() }
