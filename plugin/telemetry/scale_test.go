package telemetry_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/telemetry"
	"github.com/kubectl-mesh/kubectl-mesh/test/meshmetrics"
	"github.com/kubectl-mesh/kubectl-mesh/test/promserver"
)

// manyWorkloads is a real Prometheus that has scraped, twice after their
// series appeared, requests of n workloads of each mesh across 10
// namespaces; it returns the window that covers them.
func manyWorkloads(tb testing.TB, n int) (v1.API, telemetry.Window) {
	tb.Helper()
	var targets []promserver.Target
	var exporters []*meshmetrics.Exporter
	for _, mesh := range []meshmetrics.Mesh{meshmetrics.Istio, meshmetrics.Linkerd} {
		e := meshmetrics.NewExporter(mesh)
		srv := httptest.NewServer(e.Metrics())
		tb.Cleanup(srv.Close)
		exporters = append(exporters, e)
		targets = append(targets, promserver.Target{Addr: strings.TrimPrefix(srv.URL, "http://")})
	}
	record := func() {
		for _, e := range exporters {
			for i := range n {
				w := meshmetrics.Workload{Name: fmt.Sprintf("app-%d", i), Namespace: fmt.Sprintf("ns-%d", i%10), MTLS: true}
				e.Record(w, "", 200, 5*time.Millisecond)
			}
		}
	}
	// Every 2s: a scrape of this many series must fit the interval on a
	// busy machine.
	prom := promserver.StartInterval(tb, 2*time.Second, targets...)
	api := newAPI(tb, prom.URL)
	start := time.Now()
	record()
	query := `count(istio_requests_total) + count(response_total)`
	waitFor(tb, api, query+fmt.Sprintf(" >= %d", 2*n))
	record()
	time.Sleep(5 * time.Second) // the next scrape
	return api, telemetry.Window{Start: start, End: time.Now()}
}

// TestQueryCountIsFixed: 1,000 workloads of each mesh, one query per family
// and quantile, and every workload in the answer.
func TestQueryCountIsFixed(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for scrapes")
	}
	const n = 1000
	prom, w := manyWorkloads(t, n)
	queries := &countingAPI{API: prom}
	got, err := telemetry.Query(context.Background(), queries, nil, telemetry.Selector{}, w)
	if err != nil {
		t.Fatal(err)
	}
	if queries.n.Load() != 8 {
		t.Errorf("sent %d queries for %d workloads, want 8", queries.n.Load(), 2*n)
	}
	if len(got) != 2*n {
		t.Fatalf("got %d workloads, want %d", len(got), 2*n)
	}
	for _, s := range got {
		if s.Requests < 0.9 || s.LatencyMs == nil || s.LatencyMs.P99 == nil {
			t.Fatalf("%s %s/%s: %+v", s.Mesh, s.Namespace, s.Workload, s)
		}
	}
}

// BenchmarkQuery1000Workloads: telemetry.Query over 1,000 workloads of each
// mesh against the same PromQL sent alone with the client library, in
// parallel as Query sends it (issue 18: at most 1.5x).
func BenchmarkQuery1000Workloads(b *testing.B) {
	prom, w := manyWorkloads(b, 1000)
	var raw []string
	recorder := &recordingAPI{API: prom}
	if _, err := telemetry.Query(context.Background(), recorder, nil, telemetry.Selector{}, w); err != nil {
		b.Fatal(err)
	}
	raw = recorder.queries
	b.Run("query", func(b *testing.B) {
		for b.Loop() {
			if _, err := telemetry.Query(context.Background(), prom, nil, telemetry.Selector{}, w); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("client-alone", func(b *testing.B) {
		for b.Loop() {
			var wg sync.WaitGroup
			for _, q := range raw {
				wg.Go(func() {
					if _, _, err := prom.Query(context.Background(), q, w.End); err != nil {
						b.Error(err)
					}
				})
			}
			wg.Wait()
		}
	})
}

// recordingAPI keeps the queries sent.
type recordingAPI struct {
	v1.API
	mu      sync.Mutex
	queries []string
}

func (r *recordingAPI) Query(ctx context.Context, query string, ts time.Time, opts ...v1.Option) (model.Value, v1.Warnings, error) {
	r.mu.Lock()
	r.queries = append(r.queries, query)
	r.mu.Unlock()
	return r.API.Query(ctx, query, ts, opts...)
}
