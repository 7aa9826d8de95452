package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestRegisterOnceAndExpose(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New()
	if err := m.Register(reg); err != nil {
		t.Fatal(err)
	}
	if err := m.Register(reg); err == nil {
		t.Error("registering the same metrics twice was accepted")
	}
	m.AdmissionLatency.WithLabelValues("CREATE").Observe(0.0003)
	m.AdmissionRequests.WithLabelValues("CREATE", "VirtualService", "denied").Inc()
	want := `
# HELP kubectl_mesh_admission_requests_total Admission reviews handled, by operation, kind and verdict (allowed, denied, warned, error).
# TYPE kubectl_mesh_admission_requests_total counter
kubectl_mesh_admission_requests_total{kind="VirtualService",operation="CREATE",verdict="denied"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "kubectl_mesh_admission_requests_total"); err != nil {
		t.Error(err)
	}
	// A 300 µs review lands in the 500 µs bucket, not in the first (100 µs).
	if got := testutil.CollectAndCount(m.AdmissionLatency); got != 1 {
		t.Errorf("latency series = %d, want 1", got)
	}
	if LatencyBuckets[0] > 0.0001 {
		t.Errorf("first latency bucket %v s, want sub-millisecond resolution", LatencyBuckets[0])
	}
}
