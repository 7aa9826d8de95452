// Package metrics defines the webhook's Prometheus metrics. They are
// registered on controller-runtime's registry, so the manager's /metrics
// endpoint serves them next to controller-runtime's own.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Metrics are the webhook's metrics. Create them once per process with New.
type Metrics struct {
	// AdmissionRequests counts reviews by operation, kind and verdict
	// (allowed, denied, warned, error).
	AdmissionRequests *prometheus.CounterVec
	// AdmissionLatency is the handler's time per review, in seconds, from
	// 100 µs: a review of a small object takes well under a millisecond.
	AdmissionLatency *prometheus.HistogramVec
	// AdmissionErrors counts reviews that met an error: answered 400
	// (reason "decode") or 500, or (reason "policy") a policy failing while
	// the others decided.
	AdmissionErrors *prometheus.CounterVec
	// AdmissionConfirmations counts reviews whose warn or deny findings
	// were confirmed before they were reported, by result: current (the
	// inventory held what the apiserver holds, or the policies look
	// nothing up; the findings stand), caught-up (it was behind; the
	// review was evaluated again) or failed (the findings stand
	// unconfirmed).
	AdmissionConfirmations *prometheus.CounterVec
	// PolicyTimeouts counts policies cut off at their deadline, by policy
	// and where (admission: not enforced on that request; audit: reported
	// as an error result).
	PolicyTimeouts *prometheus.CounterVec
	// Violations counts findings by policy, severity and where they were
	// found (admission or audit).
	Violations *prometheus.CounterVec
	// PolicyLoads counts loads of custom policies by result (ok, refused).
	PolicyLoads *prometheus.CounterVec
	// PoliciesLoaded is the number of policies in force.
	PoliciesLoaded prometheus.Gauge
	// AuditDuration is the time of one background audit, in seconds.
	AuditDuration prometheus.Histogram
	// AuditLastRun is the Unix time of the last completed audit.
	AuditLastRun prometheus.Gauge
	// AuditViolations is the number of violations the last audit found, by
	// policy and severity.
	AuditViolations *prometheus.GaugeVec
}

// LatencyBuckets are the admission latency buckets in seconds: 100 µs to 10 s.
var LatencyBuckets = []float64{
	0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
}

// New creates the metrics without registering them.
func New() *Metrics {
	return &Metrics{
		AdmissionRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kubectl_mesh_admission_requests_total",
			Help: "Admission reviews handled, by operation, kind and verdict (allowed, denied, warned, error).",
		}, []string{"operation", "kind", "verdict"}),
		AdmissionLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kubectl_mesh_admission_duration_seconds",
			Help:    "Time to review one admission request, in seconds.",
			Buckets: LatencyBuckets,
		}, []string{"operation"}),
		AdmissionErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kubectl_mesh_admission_errors_total",
			Help: "Admission reviews that met an error, by reason: answered 400 (decode: the request carries no object) or 500 (review, panic, overloaded, timeout, not-synced: the replica had not loaded its inventory and custom policies) or a policy failing at run time (policy; the other policies still decide).",
		}, []string{"reason"}),
		AdmissionConfirmations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kubectl_mesh_admission_confirmations_total",
			Help: "Admission reviews whose warn or deny findings were confirmed before they were reported, by result: current (the inventory was up to date, or the policies look nothing up), caught-up (it was behind the apiserver; evaluated again), failed (reported unconfirmed).",
		}, []string{"result"}),
		PolicyTimeouts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kubectl_mesh_policy_timeouts_total",
			Help: "Policies cut off at their deadline (--policy-timeout), by policy and source (admission: not enforced on that request; audit: an error result in the report).",
		}, []string{"policy", "source"}),
		Violations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kubectl_mesh_violations_total",
			Help: "Policy violations found, by policy, severity and source (admission, audit).",
		}, []string{"policy", "severity", "source"}),
		PolicyLoads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kubectl_mesh_policy_loads_total",
			Help: "Loads of custom policies from ConfigMaps, by result (ok, refused).",
		}, []string{"result"}),
		PoliciesLoaded: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kubectl_mesh_policies_loaded",
			Help: "Policies in force, built-in and custom.",
		}),
		AuditDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "kubectl_mesh_audit_duration_seconds",
			Help:    "Time of one background audit, in seconds.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 14),
		}),
		AuditLastRun: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kubectl_mesh_audit_last_run_timestamp_seconds",
			Help: "Unix time at which the last background audit completed.",
		}),
		AuditViolations: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kubectl_mesh_audit_violations",
			Help: "Violations found by the last background audit, by policy and severity.",
		}, []string{"policy", "severity"}),
	}
}

func (m *Metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{
		m.AdmissionRequests, m.AdmissionLatency, m.AdmissionErrors, m.AdmissionConfirmations, m.PolicyTimeouts, m.Violations,
		m.PolicyLoads, m.PoliciesLoaded, m.AuditDuration, m.AuditLastRun, m.AuditViolations,
	}
}

// Register adds the metrics to reg.
func (m *Metrics) Register(reg prometheus.Registerer) error {
	for _, c := range m.collectors() {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// NewRegistered creates the metrics and registers them on
// controller-runtime's registry, served at the manager's /metrics.
func NewRegistered() (*Metrics, error) {
	m := New()
	return m, m.Register(crmetrics.Registry)
}
