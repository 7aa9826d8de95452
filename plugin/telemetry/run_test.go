package telemetry_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/telemetry"
	"github.com/kubectl-mesh/kubectl-mesh/test/meshmetrics"
	"github.com/kubectl-mesh/kubectl-mesh/test/promserver"
)

// TestQueryRun reads, from a real Prometheus scraping the stand-in proxy and
// kubelet, what a known load test was: requests counted exactly (no
// warm-up: the series are born during the run), the proxy's CPU as spent
// per request, the control plane's steady use.
func TestQueryRun(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for scrapes")
	}
	istio := startExporter(t, meshmetrics.Istio, meshmetrics.Workload{Name: "httpbin", Namespace: "demo", MTLS: true})
	kubelet, err := meshmetrics.StartKubelet()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kubelet.Close() })
	const cpuPerRequest = 2 * time.Millisecond
	kubelet.Add(meshmetrics.Container{Namespace: "demo", Pod: "httpbin-0", Name: "istio-proxy"}, istio.ProxyUsage(cpuPerRequest, 40<<20))
	kubelet.Add(meshmetrics.Container{Namespace: "demo", Pod: "httpbin-0", Name: "httpbin"}, meshmetrics.Steady(500, 1<<30))
	kubelet.Add(meshmetrics.Container{Namespace: "istio-system", Pod: "istiod-7d4b9c", Name: "discovery"}, meshmetrics.Steady(50, 100<<20))
	prom := promserver.Start(t, promserver.Target{Addr: istio.Addr}, promserver.Target{Addr: kubelet.Addr})
	promAPI := newAPI(t, prom.URL)
	waitFor(t, promAPI, `count(container_memory_working_set_bytes)`)

	target := telemetry.RunTarget{
		Mesh: telemetry.Istio, Namespace: "demo", Kind: "deployment", Workloads: []string{"httpbin"},
		Pods: []string{"httpbin-0"}, ProxyContainer: "istio-proxy",
		ControlPlaneNamespace: "istio-system", ControlPlanePods: []string{"istiod-7d4b9c"},
	}
	interval, err := telemetry.ScrapeInterval(context.Background(), promAPI, target)
	if err != nil || interval != promserver.ScrapeInterval {
		t.Fatalf("scrape interval %v, %v; want %v", interval, err, promserver.ScrapeInterval)
	}

	// 4 s of load, 50 requests a second.
	start := time.Now()
	const n = 200
	for i := range 4 {
		send(t, istio, n/4)
		time.Sleep(time.Until(start.Add(time.Duration(i+1) * time.Second)))
	}
	end := time.Now()
	time.Sleep(interval + 200*time.Millisecond) // the covering scrape
	w := telemetry.Window{Start: start, End: end}

	got, err := telemetry.QueryRun(context.Background(), promAPI, target, w, interval, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s := got.Server
	if s == nil {
		t.Fatal("no server-side signals")
	}
	t.Logf("server: %v requests, %.1f rps, success %v, p50 %v p99 %v ms; proxies %+v; control plane %+v",
		s.Requests, s.RPS, deref(s.SuccessRate), deref(s.LatencyMs.P50), deref(s.LatencyMs.P99), got.Proxies, got.ControlPlane)
	if s.Requests != n {
		t.Errorf("requests %v, want exactly %d", s.Requests, n)
	}
	if want := n / w.Duration().Seconds(); math.Abs(s.RPS-want) > 0.01 {
		t.Errorf("rps %v, want %v", s.RPS, want)
	}
	if s.SuccessRate == nil || *s.SuccessRate != 0.75 || s.MTLSShare == nil || *s.MTLSShare != 1 {
		t.Errorf("success %v, mTLS %v; want 0.75 and 1", deref(s.SuccessRate), deref(s.MTLSShare))
	}
	if l := s.LatencyMs; l == nil || l.P50 == nil || *l.P50 < 25 || *l.P50 > 100 || l.P99 == nil || *l.P99 < *l.P50 {
		t.Errorf("latency %+v, want p50 in the delay's bucket (%v)", l, delay)
	}
	// The proxy spent 2 ms a request: 50 requests a second is 100 mCores;
	// rate() extrapolates to the window's edges.
	if p := got.Proxies; p == nil || p.Containers != 1 || p.MemMB != 40 || p.CPUMCores < 70 || p.CPUMCores > 130 {
		t.Errorf("proxies %+v, want 1 container, 40 MB, about 100 mCores", p)
	}
	if c := got.ControlPlane; c == nil || c.Containers != 1 || c.MemMB != 100 || c.CPUMCores < 40 || c.CPUMCores > 60 {
		t.Errorf("control plane %+v, want 1 container, 100 MB, about 50 mCores", c)
	}

	// A Prometheus that scrapes every 5 s gives no CPU rate over 4 s.
	short, err := telemetry.QueryRun(context.Background(), promAPI, target, w, 5*time.Second, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if short.Proxies != nil || short.ControlPlane != nil || !strings.Contains(short.TooShort, "shorter than two scrape intervals (2 x 5s)") || short.Server == nil {
		t.Errorf("too short: %+v", short)
	}

	// The unmeshed side of --ab: pods without a proxy use none.
	plain := telemetry.RunTarget{Mesh: telemetry.Istio, Namespace: "plain", Workloads: []string{"httpbin"}, Pods: []string{"httpbin-0"}}
	unmeshed, err := telemetry.QueryRun(context.Background(), promAPI, plain, w, interval, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if unmeshed.Server != nil || unmeshed.Proxies == nil || *unmeshed.Proxies != (telemetry.Usage{}) {
		t.Errorf("unmeshed: %+v", unmeshed)
	}
}

// BenchmarkRunJoin: what perf run's telemetry join costs beyond the wait
// for the covering scrape (ScrapeInterval, then QueryRun's queries at
// once), against one PromQL round trip, the floor (issue 18: at most 1 s).
func BenchmarkRunJoin(b *testing.B) {
	istio, err := meshmetrics.Start(meshmetrics.Istio, meshmetrics.Workload{Name: "httpbin", Namespace: "demo", MTLS: true}, meshmetrics.Options{ErrorEvery: 4})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = istio.Close() })
	kubelet, err := meshmetrics.StartKubelet()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = kubelet.Close() })
	kubelet.Add(meshmetrics.Container{Namespace: "demo", Pod: "httpbin-0", Name: "istio-proxy"}, istio.ProxyUsage(time.Millisecond, 40<<20))
	kubelet.Add(meshmetrics.Container{Namespace: "istio-system", Pod: "istiod-0", Name: "discovery"}, meshmetrics.Steady(20, 80<<20))
	prom := promserver.Start(b, promserver.Target{Addr: istio.Addr}, promserver.Target{Addr: kubelet.Addr})
	promAPI := newAPI(b, prom.URL)
	waitFor(b, promAPI, `count(container_memory_working_set_bytes) == 2`)
	start := time.Now()
	for range 3 {
		send(b, istio, 100)
		time.Sleep(time.Second)
	}
	end := time.Now()
	time.Sleep(promserver.ScrapeInterval + 200*time.Millisecond)
	target := telemetry.RunTarget{Mesh: telemetry.Istio, Namespace: "demo", Kind: "deployment", Workloads: []string{"httpbin"},
		Pods: []string{"httpbin-0"}, ProxyContainer: "istio-proxy", ControlPlaneNamespace: "istio-system", ControlPlanePods: []string{"istiod-0"}}
	ctx := context.Background()

	b.Run("join", func(b *testing.B) {
		for b.Loop() {
			interval, err := telemetry.ScrapeInterval(ctx, promAPI, target)
			if err != nil {
				b.Fatal(err)
			}
			s, err := telemetry.QueryRun(ctx, promAPI, target, telemetry.Window{Start: start, End: end}, interval, time.Now())
			if err != nil || s.Server == nil || s.Proxies == nil || s.ControlPlane == nil {
				b.Fatalf("%+v, %v", s, err)
			}
		}
	})
	b.Run("one-query", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := promAPI.Query(ctx, `count(istio_requests_total)`, time.Now()); err != nil {
				b.Fatal(err)
			}
		}
	})
}
