package smp

import (
	"encoding/json"
	"strings"
	"testing"
)

// A result whose telemetry another version wrote stays readable: the load
// figures are read, the extension is kept as it was and said unreadable.
func TestTelemetryOfAnotherFormat(t *testing.T) {
	in := `{"smp_version":"v0.6.1","requests":3,"kubectl_mesh_telemetry":{"format":"kubectl-mesh.io/telemetry/v2","server":{"requests":"three"}}}`
	var r Result
	if err := json.Unmarshal([]byte(in), &r); err != nil {
		t.Fatal(err)
	}
	if r.Requests != 3 || r.ReadableTelemetry() != nil {
		t.Errorf("requests %d, readable telemetry %+v", r.Requests, r.ReadableTelemetry())
	}
	if got := r.Telemetry.Unreadable(); !strings.Contains(got, `format "kubectl-mesh.io/telemetry/v2", which this kubectl-mesh does not read (it reads kubectl-mesh.io/telemetry/v1)`) {
		t.Errorf("Unreadable() = %q", got)
	}
	out, err := json.Marshal(&r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"kubectl_mesh_telemetry":{"format":"kubectl-mesh.io/telemetry/v2","server":{"requests":"three"}}`) {
		t.Errorf("saved again: %s", out)
	}
}

// This build's format round-trips, and a broken one names the extension.
func TestTelemetryRoundTrip(t *testing.T) {
	p99 := 12.5
	r := Result{SMPVersion: Version, Telemetry: &Telemetry{Format: TelemetryFormat, Prometheus: "svc/prometheus in istio-system",
		Server: &ServerSignals{Requests: 10, RPS: 2, SuccessRate: 0.9, MTLSShare: 1, LatenciesMs: ServerLatencies{P99: &p99}}}}
	data, err := json.Marshal(&r)
	if err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if tel := back.ReadableTelemetry(); tel == nil || tel.Server == nil || *tel.Server.LatenciesMs.P99 != p99 || tel.Unreadable() != "" {
		t.Errorf("read back %s as %+v", data, back.Telemetry)
	}
	bad := `{"kubectl_mesh_telemetry":{"format":"kubectl-mesh.io/telemetry/v1","server":{"requests":"three"}}}`
	if err := json.Unmarshal([]byte(bad), &back); err == nil || !strings.Contains(err.Error(), "kubectl_mesh_telemetry (kubectl-mesh.io/telemetry/v1)") {
		t.Errorf("broken extension: %v", err)
	}
}
