// Package smp is the result of a load test in the shape of the Service Mesh
// Performance specification (smp-spec.io): PerformanceTestResult with its
// PerformanceTestConfig, ServiceMeshConfig and EnvironmentConfig, plus the
// full latency histogram and the errors by status code, which SMP leaves to
// the load generator. Field names follow the spec's proto field names.
package smp

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"
)

// Version is the SMP version the results are written in.
const Version = "v0.6.1"

// Result is one load test run.
type Result struct {
	SMPVersion string            `json:"smp_version"`
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Labels     map[string]string `json:"labels,omitempty"`
	// All times in UTC.
	StartTime time.Time `json:"start_time"`
	EndTime   time.Time `json:"end_time"`
	// Interrupted is true when the run was stopped (Ctrl-C) before its end:
	// the figures are those of the requests made until then.
	Interrupted bool      `json:"interrupted,omitempty"`
	Latencies   Latencies `json:"latencies_ms"`
	ActualQPS   float64   `json:"actual_qps"`
	// Requests is the number of requests made; Errors of them failed
	// (socket errors and HTTP status codes of 400 and above).
	Requests int64 `json:"requests"`
	Errors   int64 `json:"errors"`
	// StatusCodes counts responses by HTTP status code; "-1" counts socket
	// errors (refused, reset, timed out), as fortio does.
	StatusCodes map[string]int64 `json:"status_codes"`
	Config      TestConfig       `json:"config"`
	Mesh        *MeshConfig      `json:"mesh_config,omitempty"`
	Env         *Environment     `json:"env,omitempty"`
	Histogram   Histogram        `json:"histogram"`
	// Telemetry is what the mesh measured of the target: this project's
	// extension of SMP (telemetry.go).
	Telemetry *Telemetry `json:"kubectl_mesh_telemetry,omitempty"`
}

// Latencies are in milliseconds (SMP's latencies_ms, plus p99.9).
type Latencies struct {
	Min     float64 `json:"min"`
	Average float64 `json:"average"`
	P50     float64 `json:"p50"`
	P90     float64 `json:"p90"`
	P99     float64 `json:"p99"`
	P999    float64 `json:"p99_9"`
	Max     float64 `json:"max"`
}

// TestConfig is SMP's PerformanceTestConfig.
type TestConfig struct {
	SMPVersion string            `json:"smp_version"`
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Labels     map[string]string `json:"labels,omitempty"`
	Clients    []Client          `json:"clients"`
	// Duration is how long the target was under load, as requested ("30s");
	// empty when a number of requests was asked for instead.
	Duration string `json:"duration,omitempty"`
	// Requests is the number of requests asked for (--requests), else 0.
	Requests int64 `json:"requests,omitempty"`
}

// Client is one load generator (SMP's PerformanceTestConfig.Client).
type Client struct {
	// Internal is true when the load came from inside the cluster (a Job).
	Internal      bool   `json:"internal"`
	LoadGenerator string `json:"load_generator"`
	Protocol      string `json:"protocol"`
	Connections   int    `json:"connections"`
	// RPS is the requested rate; 0 means as fast as possible.
	RPS         float64           `json:"rps"`
	Headers     map[string]string `json:"headers,omitempty"`
	Body        string            `json:"body,omitempty"`
	ContentType string            `json:"content_type,omitempty"`
	EndpointURL []string          `json:"endpoint_url"`

	// Not in SMP: what reproducing the run needs.
	// Target is what the user named (a URL or svc/NAME[:PORT]).
	Target string `json:"target,omitempty"`
	// HTTPVersion is "1.1" or "2".
	HTTPVersion string `json:"http_version,omitempty"`
	// Loop is "open" (requests at the rate whatever the answers; a late
	// request is skipped, never caught up) or "closed" (each connection
	// waits for its answer before the next request).
	Loop string `json:"loop,omitempty"`
	// ResolutionMs is the histogram's bucket resolution.
	ResolutionMs float64 `json:"resolution_ms,omitempty"`
}

// MeshConfig is the part of SMP's ServiceMeshConfig that is read from the
// cluster: which mesh, which build.
type MeshConfig struct {
	// Type is SMP's ServiceMeshes enum name: ISTIO, LINKERD, or NONE when no
	// mesh is installed.
	Type      string `json:"mesh_type"`
	Build     string `json:"mesh_build,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Revision  string `json:"revision,omitempty"`
	// Injected tells whether the load generator's pod was meshed
	// (in-cluster runs only).
	Injected *bool `json:"injected,omitempty"`
	// Sidecar and ControlPlane are what the target's proxies and the
	// mesh's control plane used during the run, read from the mesh's
	// Prometheus (SMP's ServiceMeshConfig.sidecar and .mesh_control_plane).
	Sidecar      *Resources `json:"sidecar,omitempty"`
	ControlPlane *Resources `json:"mesh_control_plane,omitempty"`
}

// Resources are the fields of SMP's Sidecar and MeshControlPlane messages
// a run measures, in SMP's integer units.
type Resources struct {
	// Count is the number of containers (proxies, control-plane containers).
	Count     int32 `json:"count"`
	CPUMCores int32 `json:"cpu_mCores"`
	MemMB     int32 `json:"mem_mb"`
}

// Environment is SMP's EnvironmentConfig.
type Environment struct {
	KubernetesVersion string `json:"kubernetes_version,omitempty"`
	Nodes             []Node `json:"node,omitempty"`
}

// Node is one node of the cluster.
type Node struct {
	Name  string `json:"name,omitempty"`
	Type  string `json:"type,omitempty"`
	Cores int32  `json:"cores,omitempty"`
	MemMB int64  `json:"mem_mb,omitempty"`
}

// Histogram is the full latency distribution, in milliseconds.
type Histogram struct {
	Count        int64        `json:"count"`
	Min          float64      `json:"min"`
	Max          float64      `json:"max"`
	Average      float64      `json:"average"`
	StdDev       float64      `json:"stddev"`
	ResolutionMs float64      `json:"resolution_ms,omitempty"`
	Buckets      []Bucket     `json:"buckets"`
	Percentiles  []Percentile `json:"percentiles,omitempty"`
}

// Bucket counts the requests whose latency fell in [Start, End) ms;
// Percent is the cumulative percentage up to End.
type Bucket struct {
	Start   float64 `json:"start"`
	End     float64 `json:"end"`
	Count   int64   `json:"count"`
	Percent float64 `json:"percent"`
}

// Percentile is the latency in ms at a percentile.
type Percentile struct {
	Percentile float64 `json:"percentile"`
	Value      float64 `json:"value"`
}

// Percentile estimates the latency at percentile p (0-100) from the buckets,
// interpolating linearly inside the bucket where it falls, as fortio does.
func (h *Histogram) Percentile(p float64) float64 {
	if h.Count == 0 || len(h.Buckets) == 0 {
		return 0
	}
	if p <= 0 {
		return h.Min
	}
	if p >= 100 {
		return h.Max
	}
	prev := 0.0
	for _, b := range h.Buckets {
		if b.Percent >= p {
			if b.Count == 0 || b.Percent == prev {
				return b.End
			}
			start, end := math.Max(b.Start, h.Min), math.Min(b.End, h.Max)
			return start + (end-start)*(p-prev)/(b.Percent-prev)
		}
		prev = b.Percent
	}
	return h.Max
}

// ErrorRate is Errors as a percentage of Requests.
func (r *Result) ErrorRate() float64 {
	if r.Requests == 0 {
		return 0
	}
	return 100 * float64(r.Errors) / float64(r.Requests)
}

// Target is what the first client was pointed at, for tables.
func (r *Result) Target() string {
	if len(r.Config.Clients) == 0 {
		return ""
	}
	c := r.Config.Clients[0]
	if c.Target != "" {
		return c.Target
	}
	if len(c.EndpointURL) > 0 {
		return c.EndpointURL[0]
	}
	return ""
}

// RequestedQPS is the first client's requested rate, "max" for as fast as
// possible.
func (r *Result) RequestedQPS() string {
	if len(r.Config.Clients) == 0 || r.Config.Clients[0].RPS <= 0 {
		return "max"
	}
	return strconv.FormatFloat(r.Config.Clients[0].RPS, 'f', -1, 64)
}

// SortedStatusCodes returns the status codes in numeric order.
func (r *Result) SortedStatusCodes() []string {
	codes := make([]string, 0, len(r.StatusCodes))
	for c := range r.StatusCodes {
		codes = append(codes, c)
	}
	sort.Slice(codes, func(i, j int) bool {
		a, errA := strconv.Atoi(codes[i])
		b, errB := strconv.Atoi(codes[j])
		if errA != nil || errB != nil {
			return codes[i] < codes[j]
		}
		return a < b
	})
	return codes
}

// Validate reports what makes r unusable as a result (a file someone edited
// or another tool wrote), naming the field.
func (r *Result) Validate() error {
	switch {
	case r.SMPVersion == "":
		return fmt.Errorf("smp_version is empty")
	case r.StartTime.IsZero():
		return fmt.Errorf("start_time is missing")
	case r.Requests < 0 || r.Errors < 0 || r.Errors > r.Requests:
		return fmt.Errorf("requests (%d) and errors (%d) do not add up", r.Requests, r.Errors)
	case r.Histogram.Count != r.Requests:
		return fmt.Errorf("histogram.count (%d) differs from requests (%d)", r.Histogram.Count, r.Requests)
	}
	return nil
}
