package telemetry_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/telemetry"
	"github.com/kubectl-mesh/kubectl-mesh/test/meshmetrics"
	"github.com/kubectl-mesh/kubectl-mesh/test/promserver"
)

const delay = 30 * time.Millisecond

// TestQuery reads, from a real Prometheus scraping the stand-in exporters,
// what a known load was: an Istio workload and a Linkerd one, each sent the
// same requests, a quarter of them failed, all delayed.
func TestQuery(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for scrapes")
	}
	istio := startExporter(t, meshmetrics.Istio, meshmetrics.Workload{Name: "httpbin", Namespace: "demo", MTLS: true})
	linkerd := startExporter(t, meshmetrics.Linkerd, meshmetrics.Workload{Name: "web", Namespace: "emojivoto", MTLS: true})
	prom := promserver.Start(t, promserver.Target{Addr: istio.Addr}, promserver.Target{Addr: linkerd.Addr})
	promAPI := newAPI(t, prom.URL)

	// Before the window: one request each, so that the series exist when
	// the load starts (a counter's first scrape is its baseline).
	send(t, istio, 4)
	send(t, linkerd, 4)
	waitFor(t, promAPI, `count(istio_requests_total) + count(response_total)`)

	start := time.Now()
	const n = 200
	send(t, istio, n)
	send(t, linkerd, n)
	time.Sleep(2500 * time.Millisecond) // the covering scrape
	end := start.Add(10 * time.Second)
	if now := time.Now(); now.Before(end) {
		time.Sleep(end.Sub(now))
	}

	queries := &countingAPI{API: promAPI}
	got, err := telemetry.Query(context.Background(), queries, nil, telemetry.Selector{}, telemetry.Window{Start: start.Add(-time.Second), End: end})
	if err != nil {
		t.Fatal(err)
	}
	if queries.n.Load() != 8 {
		t.Errorf("sent %d queries, want 8 (4 per mesh)", queries.n.Load())
	}
	if len(got) != 2 {
		t.Fatalf("got %d workloads, want 2: %+v", len(got), got)
	}
	for _, s := range got {
		t.Logf("%s %s/%s: %v requests, %.2f rps, success %v, mTLS %v, p50 %v p95 %v p99 %v ms", s.Mesh, s.Namespace, s.Workload,
			s.Requests, s.RPS, deref(s.SuccessRate), deref(s.MTLSShare), deref(s.LatencyMs.P50), deref(s.LatencyMs.P95), deref(s.LatencyMs.P99))
		checkSignals(t, s, n, 11*time.Second)
	}
	if got[0].Mesh != telemetry.Istio || got[0].Workload != "httpbin" || got[0].Namespace != "demo" ||
		got[1].Mesh != telemetry.Linkerd || got[1].Workload != "web" || got[1].Namespace != "emojivoto" {
		t.Errorf("rows: %+v", got)
	}

	// One workload by name, one mesh.
	one, err := telemetry.Query(context.Background(), promAPI, []telemetry.Mesh{telemetry.Linkerd},
		telemetry.Selector{Namespace: "emojivoto", Kind: "deployment", Names: []string{"web"}}, telemetry.Window{Start: start.Add(-time.Second), End: end})
	if err != nil || len(one) != 1 || one[0].Workload != "web" {
		t.Fatalf("web: %+v, %v", one, err)
	}

	// Absent metrics: a namespace without traffic, then a mesh whose
	// metrics this Prometheus does not have.
	_, err = telemetry.Query(context.Background(), promAPI, nil, telemetry.Selector{Namespace: "nothing"}, telemetry.Window{Start: start, End: end})
	var noData *telemetry.NoDataError
	if !errors.As(err, &noData) || !noData.Scraped || !strings.Contains(err.Error(), "no requests in the last 10s") {
		t.Errorf("empty namespace: %v", err)
	}
	empty := promserver.Start(t)
	_, err = telemetry.Query(context.Background(), newAPI(t, empty.URL), nil, telemetry.Selector{}, telemetry.Window{Start: start, End: end})
	if !errors.As(err, &noData) || noData.Scraped || !strings.Contains(err.Error(),
		"looked for istio_requests_total, istio_request_duration_milliseconds_bucket, response_total, response_latency_ms_bucket") {
		t.Errorf("no mesh metrics: %v", err)
	}
}

func checkSignals(t *testing.T, s telemetry.Signals, n int, window time.Duration) {
	t.Helper()
	// increase() extrapolates to the window's edges: up to a scrape
	// interval's share of the window more.
	if s.Requests < 0.95*float64(n) || s.Requests > 1.25*float64(n) {
		t.Errorf("%s: %v requests, want about %d", s.Workload, s.Requests, n)
	}
	wantRPS := float64(n) / window.Seconds()
	if s.RPS < 0.9*wantRPS || s.RPS > 1.3*wantRPS {
		t.Errorf("%s: %v rps, want about %v", s.Workload, s.RPS, wantRPS)
	}
	if s.SuccessRate == nil || *s.SuccessRate < 0.72 || *s.SuccessRate > 0.78 {
		t.Errorf("%s: success rate %v, want 0.75", s.Workload, deref(s.SuccessRate))
	}
	if s.MTLSShare == nil || *s.MTLSShare != 1 {
		t.Errorf("%s: mTLS share %v, want 1", s.Workload, deref(s.MTLSShare))
	}
	if s.LatencyMs == nil || s.LatencyMs.P50 == nil || s.LatencyMs.P99 == nil || s.LatencyMs.P95 == nil {
		t.Fatalf("%s: no latency: %+v", s.Workload, s.LatencyMs)
	}
	// The delay's bucket: Istio's is 25-50 ms, Linkerd's 30-40 ms; a busy
	// machine may add a bucket.
	p50, p95, p99 := *s.LatencyMs.P50, *s.LatencyMs.P95, *s.LatencyMs.P99
	if p50 < 25 || p50 > 100 || p95 < p50 || p99 < p95 || p99 > 250 {
		t.Errorf("%s: latency p50 %v p95 %v p99 %v ms, want about %v", s.Workload, p50, p95, p99, delay)
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func startExporter(t *testing.T, mesh meshmetrics.Mesh, w meshmetrics.Workload) *meshmetrics.Server {
	t.Helper()
	s, err := meshmetrics.Start(mesh, w, meshmetrics.Options{ErrorEvery: 4, Delay: delay})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// send sends n requests, 8 at a time.
func send(t testing.TB, s *meshmetrics.Server, n int) {
	t.Helper()
	var wg sync.WaitGroup
	next := make(chan struct{})
	for range 8 {
		wg.Go(func() {
			for range next {
				resp, err := http.Get("http://" + s.Addr + "/")
				if err != nil {
					t.Error(err)
					continue
				}
				_ = resp.Body.Close()
			}
		})
	}
	for range n {
		next <- struct{}{}
	}
	close(next)
	wg.Wait()
}

func newAPI(t testing.TB, url string) v1.API {
	t.Helper()
	client, err := api.NewClient(api.Config{Address: url})
	if err != nil {
		t.Fatal(err)
	}
	return v1.NewAPI(client)
}

// waitFor waits until query returns a sample.
func waitFor(t testing.TB, prom v1.API, query string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		v, _, err := prom.Query(context.Background(), query, time.Now())
		if err == nil {
			if vec, ok := v.(model.Vector); ok && len(vec) > 0 {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("no %s after 20s", query)
}

// countingAPI counts the queries sent.
type countingAPI struct {
	v1.API
	n atomic.Int64
}

func (c *countingAPI) Query(ctx context.Context, query string, ts time.Time, opts ...v1.Option) (model.Value, v1.Warnings, error) {
	c.n.Add(1)
	return c.API.Query(ctx, query, ts, opts...)
}

// TestQueryByRoute: Linkerd's per-route series, each route its own row
// with its own count; Istio names no route and says so.
func TestQueryByRoute(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for scrapes")
	}
	linkerd := startExporter(t, meshmetrics.Linkerd, meshmetrics.Workload{Name: "books", Namespace: "booksapp", MTLS: true, Routes: true})
	prom := promserver.Start(t, promserver.Target{Addr: linkerd.Addr})
	promAPI := newAPI(t, prom.URL)
	get := func(path string, n int) {
		for range n {
			resp, err := http.Get("http://" + linkerd.Addr + path)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
		}
	}
	// Warm up each series, then the load.
	get("/books", 4)
	get("/authors", 4)
	waitFor(t, promAPI, `count(route_response_total) >= 4`)
	start := time.Now()
	get("/books", 40)
	get("/authors", 20)
	// A 10 s window: increase() extrapolates to its edges by up to a
	// scrape interval's share.
	end := start.Add(10 * time.Second)
	time.Sleep(time.Until(end))
	w := telemetry.Window{Start: start.Add(-time.Second), End: end}

	got, err := telemetry.Query(context.Background(), promAPI, nil, telemetry.Selector{Namespace: "booksapp", ByRoute: true}, w)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Route != "GET /authors" || got[1].Route != "GET /books" {
		t.Fatalf("routes: %+v", got)
	}
	for _, r := range got {
		want := 40.0
		if r.Route == "GET /authors" {
			want = 20
		}
		if r.Workload != "books" || r.Requests < 0.9*want || r.Requests > 1.3*want || r.SuccessRate == nil || r.MTLSShare != nil || r.LatencyMs == nil || r.LatencyMs.P50 == nil {
			t.Errorf("%s: %+v (want about %v requests, a success rate, no mTLS share, a p50)", r.Route, r, want)
		}
	}
	_, err = telemetry.Query(context.Background(), promAPI, []telemetry.Mesh{telemetry.Istio}, telemetry.Selector{ByRoute: true}, w)
	if err == nil || !strings.Contains(err.Error(), "Istio's standard metrics name no route") {
		t.Errorf("istio by route: %v", err)
	}
	// A Prometheus without route series: the reason is the ServiceProfile.
	empty := promserver.Start(t)
	_, err = telemetry.Query(context.Background(), newAPI(t, empty.URL), nil, telemetry.Selector{ByRoute: true}, w)
	if err == nil || !strings.Contains(err.Error(), "no route metrics: looked for route_response_total, route_response_latency_ms_bucket") ||
		!strings.Contains(err.Error(), "ServiceProfile") {
		t.Errorf("no route series: %v", err)
	}
}
