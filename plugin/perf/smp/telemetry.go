package smp

import (
	"encoding/json"
	"fmt"
)

// TelemetryFormat is the version of the Telemetry extension this build
// writes and reads.
const TelemetryFormat = "kubectl-mesh.io/telemetry/v1"

// Telemetry extends SMP with what the mesh itself measured of the target
// during the run, from its Prometheus: the server side's requests, success
// and latency, which SMP has no fields for (its proxies' and control
// plane's CPU and memory go in MeshConfig's SMP fields). docs/perf.md
// documents it.
type Telemetry struct {
	Format string `json:"format"`
	// Prometheus is where it was read; ScrapeInterval how often that
	// Prometheus scrapes the target.
	Prometheus     string `json:"prometheus,omitempty"`
	ScrapeInterval string `json:"scrape_interval,omitempty"`
	// Workloads are the target's, whose server sides are summed.
	Workloads []string `json:"workloads,omitempty"`
	// Server is nil when the mesh recorded no request of the target.
	Server *ServerSignals `json:"server,omitempty"`
	// Error is why the run has no telemetry at all: the Prometheus could
	// not be reached or queried.
	Error string `json:"error,omitempty"`
	// Missing says what the run has no telemetry of, and why: the run was
	// too short for CPU rates, the Prometheus has no series of the target.
	Missing []string `json:"missing,omitempty"`

	// foreign holds an extension in another format as read, so that saving
	// the result again keeps it.
	foreign json.RawMessage
}

// ServerSignals are the target's server side as its proxies counted it.
type ServerSignals struct {
	Requests int64   `json:"requests"`
	RPS      float64 `json:"rps"`
	// SuccessRate and MTLSShare are fractions of Requests (0 to 1).
	SuccessRate float64 `json:"success_rate"`
	MTLSShare   float64 `json:"mtls_share"`
	// LatenciesMs are interpolated in the proxies' histogram buckets; nil
	// where the histogram had none.
	LatenciesMs ServerLatencies `json:"latencies_ms"`
}

// ServerLatencies are server-side percentiles in milliseconds.
type ServerLatencies struct {
	P50 *float64 `json:"p50,omitempty"`
	P95 *float64 `json:"p95,omitempty"`
	P99 *float64 `json:"p99,omitempty"`
}

// UnmarshalJSON reads this build's format; another is kept as it is, so
// that the rest of the result stays usable (Unreadable says so).
func (t *Telemetry) UnmarshalJSON(data []byte) error {
	var head struct {
		Format string `json:"format"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return fmt.Errorf("kubectl_mesh_telemetry: %w", err)
	}
	if head.Format != TelemetryFormat {
		*t = Telemetry{Format: head.Format, foreign: append(json.RawMessage(nil), data...)}
		return nil
	}
	type plain Telemetry
	if err := json.Unmarshal(data, (*plain)(t)); err != nil {
		return fmt.Errorf("kubectl_mesh_telemetry (%s): %w", TelemetryFormat, err)
	}
	return nil
}

// MarshalJSON writes a foreign extension back as it was read.
func (t Telemetry) MarshalJSON() ([]byte, error) {
	if t.foreign != nil {
		return t.foreign, nil
	}
	type plain Telemetry
	return json.Marshal(plain(t))
}

// Unreadable is the line that says why the extension cannot be shown, or
// "" when it can.
func (t *Telemetry) Unreadable() string {
	if t == nil || t.foreign == nil {
		return ""
	}
	return fmt.Sprintf("its telemetry is in format %q, which this kubectl-mesh does not read (it reads %s): the load figures only", t.Format, TelemetryFormat)
}

// ReadableTelemetry is the result's telemetry when this build can read it, else nil.
func (r *Result) ReadableTelemetry() *Telemetry {
	if r.Telemetry == nil || r.Telemetry.foreign != nil {
		return nil
	}
	return r.Telemetry
}
