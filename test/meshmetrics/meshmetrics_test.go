package meshmetrics

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

func TestServerRecordsWhatItServes(t *testing.T) {
	for _, mesh := range []Mesh{Istio, Linkerd} {
		t.Run(string(mesh), func(t *testing.T) {
			s, err := Start(mesh, Workload{Name: "httpbin", Namespace: "demo", MTLS: true}, Options{ErrorEvery: 4, Delay: 20 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			codes := map[int]int{}
			for range 8 {
				resp, err := http.Get("http://" + s.Addr + "/get")
				if err != nil {
					t.Fatal(err)
				}
				_ = resp.Body.Close()
				codes[resp.StatusCode]++
			}
			if codes[200] != 6 || codes[503] != 2 || s.Served() != 8 || s.Failed() != 2 {
				t.Fatalf("answers %v, served %d, failed %d; want 6 ok, 2 503", codes, s.Served(), s.Failed())
			}
			families, err := s.Exporter.registry.Gather()
			if err != nil {
				t.Fatal(err)
			}
			byName := map[string]*dto.MetricFamily{}
			for _, f := range families {
				byName[f.GetName()] = f
			}
			switch mesh {
			case Istio:
				ok := count(byName["istio_requests_total"], map[string]string{"reporter": "destination", "destination_workload": "httpbin",
					"destination_workload_namespace": "demo", "response_code": "200", "connection_security_policy": "mutual_tls"})
				failed := count(byName["istio_requests_total"], map[string]string{"response_code": "503"})
				if ok != 6 || failed != 2 {
					t.Errorf("istio_requests_total: %v ok, %v 503", ok, failed)
				}
				if min := minSum(byName["istio_request_duration_milliseconds"]); min < 20 {
					t.Errorf("istio_request_duration_milliseconds: mean %vms, want >= 20", min)
				}
			case Linkerd:
				inbound := map[string]string{"direction": "inbound", "deployment": "httpbin", "namespace": "demo", "tls": "true"}
				if n := count(byName["request_total"], inbound); n != 8 {
					t.Errorf("request_total: %v, want 8", n)
				}
				if n := count(byName["response_total"], map[string]string{"classification": "failure", "status_code": "503"}); n != 2 {
					t.Errorf("response_total failures: %v, want 2", n)
				}
				if n := count(byName["response_total"], map[string]string{"classification": "success"}); n != 6 {
					t.Errorf("response_total successes: %v, want 6", n)
				}
				if min := minSum(byName["response_latency_ms"]); min < 20 {
					t.Errorf("response_latency_ms: mean %vms, want >= 20", min)
				}
			}
			resp, err := http.Get("http://" + s.Addr + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if !strings.Contains(string(body), "_bucket{") {
				t.Errorf("/metrics has no histogram buckets:\n%s", body)
			}
		})
	}
}

// count sums the counters (or histogram counts) of the series matching want.
func count(f *dto.MetricFamily, want map[string]string) float64 {
	var n float64
	for _, m := range f.GetMetric() {
		if matches(m, want) {
			n += m.GetCounter().GetValue() + float64(m.GetHistogram().GetSampleCount())
		}
	}
	return n
}

// minSum is the smallest mean observation of the histogram's series.
func minSum(f *dto.MetricFamily) float64 {
	min := -1.0
	for _, m := range f.GetMetric() {
		h := m.GetHistogram()
		if mean := h.GetSampleSum() / float64(h.GetSampleCount()); min < 0 || mean < min {
			min = mean
		}
	}
	return min
}

func matches(m *dto.Metric, want map[string]string) bool {
	got := map[string]string{}
	for _, l := range m.GetLabel() {
		got[l.GetName()] = l.GetValue()
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}
