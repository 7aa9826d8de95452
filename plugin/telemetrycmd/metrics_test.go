package telemetrycmd

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil/cmdtesting"
	"github.com/kubectl-mesh/kubectl-mesh/test/meshmetrics"
	"github.com/kubectl-mesh/kubectl-mesh/test/promserver"
)

func TestMetricsFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"metrics", "-o", "xml"}, `--output: unknown format "xml" (allowed: table, wide, json, yaml)`},
		{[]string{"metrics", "--mesh", "consul"}, `--mesh: unknown mesh "consul" (allowed: istio, linkerd)`},
		{[]string{"metrics", "--since", "0s"}, "--since=0s: give a window of at least 1s"},
		{[]string{"metrics", "-A", "deploy/web"}, "a workload cannot be named across all namespaces (-A)"},
		{[]string{"metrics", "svc/web"}, `"svc/web": unsupported workload type "svc" (allowed: deploy, sts, ds)`},
		{[]string{"metrics", "deploy/"}, `"deploy/": the name is empty`},
		{[]string{"metrics", "a", "b"}, "accepts at most 1 arg(s), received 2"},
		{[]string{"metrics", "--routes", "--mesh", "istio"}, "--routes: Istio's standard metrics name no route"},
		{[]string{"metrics", "--prometheus", "deploy/prometheus"}, `--prometheus: invalid target "deploy/prometheus"`},
		{[]string{"metrics", "--prometheus", "http://x", "--prometheus-token", "a", "--prometheus-token-file", "b"}, "give one"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			f := cmdtesting.NewFactory(t)
			_, _, err := f.Run(t, "", tc.args, NewCmdMetrics)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestMetricsFindsNoPrometheus(t *testing.T) {
	f := cmdtesting.NewFactory(t)
	_, _, err := f.Run(t, "", []string{"metrics"}, NewCmdMetrics)
	if err == nil || !strings.Contains(err.Error(), "no Prometheus found: looked for the Services istio-system/prometheus") ||
		!strings.Contains(err.Error(), "linkerd-viz/prometheus (Linkerd viz's Prometheus)") {
		t.Errorf("err = %v", err)
	}
}

func TestMetricsPrometheusUnreachable(t *testing.T) {
	f := cmdtesting.NewFactory(t)
	_, _, err := f.Run(t, "", []string{"metrics", "--prometheus", "http://127.0.0.1:1"}, NewCmdMetrics)
	if err == nil || !strings.HasPrefix(err.Error(), "reading the mesh's metrics from the Prometheus at http://127.0.0.1:1: querying Prometheus") ||
		!strings.Contains(err.Error(), "connection refused") {
		t.Errorf("err = %v", err)
	}
	if f.Connects != 0 {
		t.Errorf("a URL reached the cluster %d times", f.Connects)
	}
}

// TestMetricsNoMeshMetrics runs against a real Prometheus that scrapes
// nothing of a mesh.
func TestMetricsNoMeshMetrics(t *testing.T) {
	prom := promserver.Start(t)
	f := cmdtesting.NewFactory(t)
	_, _, err := f.Run(t, "", []string{"metrics", "--prometheus", prom.URL}, NewCmdMetrics)
	want := "reading the mesh's metrics from the Prometheus at " + prom.URL + ": no mesh metrics: looked for istio_requests_total, " +
		"istio_request_duration_milliseconds_bucket, response_total, response_latency_ms_bucket and the Prometheus has none of them: " +
		"it does not scrape the mesh's proxies, or it is not the mesh's Prometheus"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant  %s", err, want)
	}
}

// TestMetricsPrints runs against a real Prometheus scraping the stand-in
// exporter: the printers' shapes, not the numbers (test/e2e/telemetry
// holds those).
func TestMetricsPrints(t *testing.T) {
	exporter, err := meshmetrics.Start(meshmetrics.Istio, meshmetrics.Workload{Name: "httpbin", Namespace: "demo", MTLS: true}, meshmetrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = exporter.Close() })
	prom := promserver.Start(t, promserver.Target{Addr: exporter.Addr})
	get := func(n int) {
		for range n {
			resp, err := http.Get("http://" + exporter.Addr + "/")
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
		}
	}
	// A counter's first scrape is its baseline: the load comes after it.
	get(1)
	waitForScrapes(t, prom.URL, `istio_requests_total`, 1)
	get(10)
	waitForScrapes(t, prom.URL, `istio_requests_total`, 4)

	f := cmdtesting.NewFactory(t)
	base := []string{"metrics", "--prometheus", prom.URL, "--since", "30s"}
	out, _, err := f.Run(t, "", append(base, "-n", "demo"), NewCmdMetrics)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || strings.Join(strings.Fields(lines[0]), " ") != "NAME SUCCESS RPS LATENCY_P50 LATENCY_P95 LATENCY_P99 MTLS" ||
		!strings.HasPrefix(lines[1], "httpbin") || !strings.Contains(lines[1], "100.00%") {
		t.Errorf("table:\n%s", out)
	}
	out, _, err = f.Run(t, "", append(base, "-A", "-o", "wide"), NewCmdMetrics)
	if err != nil {
		t.Fatal(err)
	}
	if fields := strings.Fields(strings.Split(out, "\n")[1]); fields[0] != "demo" || fields[1] != "httpbin" || fields[8] != "istio" {
		t.Errorf("wide:\n%s", out)
	}
	out, _, err = f.Run(t, "", append(base, "-n", "demo", "deploy/httpbin", "-o", "json"), NewCmdMetrics)
	if err != nil {
		t.Fatal(err)
	}
	var result MetricsResult
	if err := json.Unmarshal([]byte(out), &result); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if result.Prometheus != prom.URL || len(result.Workloads) != 1 || result.Workloads[0].Workload != "httpbin" ||
		result.End.Sub(result.Start) != 30*time.Second || result.Workloads[0].SuccessRate == nil || *result.Workloads[0].SuccessRate != 1 {
		t.Errorf("json:\n%s", out)
	}
	// Another name: no series in the window, but the metrics exist.
	_, _, err = f.Run(t, "", append(base, "-n", "demo", "deploy/other"), NewCmdMetrics)
	if err == nil || !strings.Contains(err.Error(), "no requests in the last 30s") {
		t.Errorf("other: %v", err)
	}
}

// waitForScrapes waits until query has n samples over the last minute.
func waitForScrapes(t *testing.T, url, query string, n int) {
	t.Helper()
	client, err := api.NewClient(api.Config{Address: url})
	if err != nil {
		t.Fatal(err)
	}
	prom := v1.NewAPI(client)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		v, _, err := prom.Query(context.Background(), "max(count_over_time("+query+"[1m]))", time.Now())
		if vec, ok := v.(model.Vector); err == nil && ok && len(vec) == 1 && int(vec[0].Value) >= n {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("fewer than %d scrapes of %s after 30s", n, query)
}

// TestMetricsTimeout: a Prometheus that accepts connections and never
// answers (a black hole, not a Prometheus) ends in one line naming the
// flag.
func TestMetricsTimeout(t *testing.T) {
	url := "http://" + promserver.Silent(t)
	f := cmdtesting.NewFactory(t)
	_, _, err := f.Run(t, "", []string{"metrics", "--prometheus", url, "--prometheus-timeout", "500ms"}, NewCmdMetrics)
	want := "reading the mesh's metrics from the Prometheus at " + url + ": no answer within 500ms (--prometheus-timeout)"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant  %s", err, want)
	}
}

// TestMetricsRoutes: --routes prints a ROUTE column, one row a route, from
// Linkerd's per-route series.
func TestMetricsRoutes(t *testing.T) {
	exporter, err := meshmetrics.Start(meshmetrics.Linkerd, meshmetrics.Workload{Name: "books", Namespace: "booksapp", MTLS: true, Routes: true}, meshmetrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = exporter.Close() })
	prom := promserver.Start(t, promserver.Target{Addr: exporter.Addr})
	get := func(path string, n int) {
		for range n {
			resp, err := http.Get("http://" + exporter.Addr + path)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
		}
	}
	get("/books", 1)
	get("/authors", 1)
	waitForScrapes(t, prom.URL, `route_response_total`, 1)
	get("/books", 10)
	get("/authors", 10)
	waitForScrapes(t, prom.URL, `route_response_total`, 4)

	f := cmdtesting.NewFactory(t)
	out, _, err := f.Run(t, "", []string{"metrics", "deploy/books", "-n", "booksapp", "--routes", "--prometheus", prom.URL, "--since", "30s"}, NewCmdMetrics)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || strings.Join(strings.Fields(lines[0]), " ") != "NAME ROUTE SUCCESS RPS LATENCY_P50 LATENCY_P95 LATENCY_P99 MTLS" ||
		!strings.HasPrefix(strings.Join(strings.Fields(lines[1]), " "), "books GET /authors 100.00%") ||
		!strings.HasPrefix(strings.Join(strings.Fields(lines[2]), " "), "books GET /books 100.00%") {
		t.Errorf("table:\n%s", out)
	}
}
