package telemetry

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/telemetry"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/telemetrycmd"
	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
	"github.com/kubectl-mesh/kubectl-mesh/test/meshmetrics"
	"github.com/kubectl-mesh/kubectl-mesh/test/promserver"
)

// The load: a closed loop of a known number of requests, every 5th
// answered 503, every answer delayed.
const (
	requests   = 300
	errorEvery = 5
	delay      = 20 * time.Millisecond
	since      = 20 * time.Second
)

// workload is a Service, its pod and the kwok PortForward that sends the
// pod's port 8080 to a loopback port.
func workload(ns, name string, port int) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: %[2]s, namespace: %[1]s}
spec:
  selector: {app: %[2]s}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: %[2]s-0, namespace: %[1]s, labels: {app: %[2]s}}
spec:
  containers:
  - name: app
    image: registry.k8s.io/pause:3.10
    ports: [{containerPort: 8080}]
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: PortForward
metadata: {name: %[2]s-0, namespace: %[1]s}
spec:
  forwards:
  - ports: [8080]
    target: {address: 127.0.0.1, port: %[3]d}
`, ns, name, port)
}

func port(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestMetricsReportsTheLoad(t *testing.T) {
	ns := harness.Namespace(t, "telemetry")
	exporters := map[string]*meshmetrics.Server{}
	for name, mesh := range map[string]meshmetrics.Mesh{"httpbin": meshmetrics.Istio, "web": meshmetrics.Linkerd} {
		s, err := meshmetrics.Start(mesh, meshmetrics.Workload{Name: name, Namespace: ns, MTLS: true}, meshmetrics.Options{ErrorEvery: errorEvery, Delay: delay})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		exporters[name] = s
		harness.Must(t, harness.KubectlStdin(t, workload(ns, name, port(t, s.Addr)), "apply", "-f", "-"))
	}
	prom := promserver.Start(t, promserver.Target{Addr: exporters["httpbin"].Addr}, promserver.Target{Addr: exporters["web"].Addr})
	// Where kubectl mesh looks first: istio-system/prometheus.
	harness.Namespace(t, "istio-system")
	harness.Must(t, harness.KubectlStdin(t, workload("istio-system", "prometheus", port(t, strings.TrimPrefix(prom.URL, "http://"))), "apply", "-f", "-"))
	for _, pod := range []string{ns + "/httpbin-0", ns + "/web-0", "istio-system/prometheus-0"} {
		podNS, name, _ := strings.Cut(pod, "/")
		harness.Must(t, harness.Kubectl(t, "wait", "-n", podNS, "--for=condition=Ready", "pod/"+name, "--timeout=90s"))
	}

	// Before the window: a few requests, so that every series (the 503s'
	// too) has been scraped once when the load starts: a counter's first
	// scrape is its baseline.
	for _, s := range exporters {
		for range errorEvery {
			resp, err := http.Get("http://" + s.Addr + "/")
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
		}
	}
	waitForSeries(t, prom.URL, `sum(istio_requests_total{response_code="503"}) + sum(response_total{classification="failure"})`, 2)

	start := time.Now()
	before := map[string][2]int64{}
	for name, s := range exporters {
		before[name] = [2]int64{s.Served(), s.Failed()}
	}
	dir := t.TempDir()
	for name := range exporters {
		// perf run's exit code on errors is not this test's business.
		r := harness.Mesh(t, "perf", "run", "svc/"+name, "-n", ns, "--qps", "200", "--loop", "closed", "-c", "4",
			"--requests", strconv.Itoa(requests), "--name", name, "--results-dir", dir)
		t.Logf("perf run svc/%s: exit %d\n%s", name, r.Code, r.Stderr)
	}
	// The window is the last 20 s: wait until it covers the load and the
	// scrape after it.
	time.Sleep(time.Until(start.Add(since - time.Second)))

	r := harness.Must(t, harness.Mesh(t, "metrics", "-n", ns, "--since", since.String(), "-o", "json"))
	var result telemetrycmd.MetricsResult
	if err := json.Unmarshal([]byte(r.Stdout), &result); err != nil {
		t.Fatalf("%v\n%s", err, r.Stdout)
	}
	if result.Prometheus != "svc/prometheus in istio-system" {
		t.Errorf("prometheus %q, want the one found in istio-system", result.Prometheus)
	}
	if len(result.Workloads) != 2 {
		t.Fatalf("workloads: %+v", result.Workloads)
	}
	for _, w := range result.Workloads {
		s := exporters[w.Workload]
		if s == nil {
			t.Fatalf("unknown workload %q", w.Workload)
		}
		served, failed := float64(s.Served()-before[w.Workload][0]), float64(s.Failed()-before[w.Workload][1])
		t.Logf("%s (%s): served %v, failed %v; reported %+v", w.Workload, w.Mesh, served, failed, describe(w))
		if served < requests {
			t.Errorf("%s: the exporter served %v requests, want at least %d", w.Workload, served, requests)
		}
		checkSignals(t, w, served, failed)
	}

	// The table, for a person: the two rows.
	r = harness.Must(t, harness.Mesh(t, "metrics", "-n", ns, "--since", since.String()))
	if !strings.Contains(r.Stdout, "httpbin") || !strings.Contains(r.Stdout, "web") || !strings.Contains(r.Stdout, "LATENCY_P99") {
		t.Errorf("table:\n%s", r.Stdout)
	}

	// The Prometheus named, one mesh, one workload.
	r = harness.Must(t, harness.Mesh(t, "metrics", "deploy/httpbin", "-n", ns, "--mesh", "istio", "--since", since.String(),
		"--prometheus", "svc/prometheus", "--prometheus-namespace", "istio-system", "-o", "json"))
	var one telemetrycmd.MetricsResult
	if err := json.Unmarshal([]byte(r.Stdout), &one); err != nil {
		t.Fatalf("%v\n%s", err, r.Stdout)
	}
	if one.Prometheus != "svc/prometheus in istio-system" || len(one.Workloads) != 1 || one.Workloads[0].Workload != "httpbin" {
		t.Errorf("deploy/httpbin: %s", r.Stdout)
	}
	// A namespace without traffic: one line that says why.
	r = harness.Mesh(t, "metrics", "-n", "istio-system", "--since", since.String())
	if r.Code != 1 || !strings.Contains(r.Stderr, "no requests in the last 20s: the Prometheus has istio_requests_total") {
		t.Errorf("istio-system: %s", r)
	}
}

// checkSignals compares what the mesh reported with the load the exporter
// served, within what a busy 2-core machine holds: increase() extrapolates
// to the window's edges (at most a scrape interval each side of a 20 s
// window), and latency is interpolated in the histogram's buckets.
func checkSignals(t *testing.T, w telemetry.Signals, served, failed float64) {
	t.Helper()
	if w.Requests < 0.97*served || w.Requests > 1.15*served {
		t.Errorf("%s: %v requests, the exporter served %v", w.Workload, w.Requests, served)
	}
	if want := served / since.Seconds(); w.RPS < 0.97*want || w.RPS > 1.15*want {
		t.Errorf("%s: %.2f rps, want %.2f", w.Workload, w.RPS, want)
	}
	if want := 1 - failed/served; w.SuccessRate == nil || *w.SuccessRate < want-0.02 || *w.SuccessRate > want+0.02 {
		t.Errorf("%s: success rate %v, want %.3f", w.Workload, describe(w)["success"], want)
	}
	if w.MTLSShare == nil || *w.MTLSShare != 1 {
		t.Errorf("%s: mTLS share %v, want 1", w.Workload, describe(w)["mtls"])
	}
	if w.LatencyMs == nil || w.LatencyMs.P50 == nil || w.LatencyMs.P95 == nil || w.LatencyMs.P99 == nil {
		t.Fatalf("%s: latency %+v", w.Workload, w.LatencyMs)
	}
	// The delay's bucket starts at 10 ms (Istio: 10-25) or 20 ms
	// (Linkerd: 20-30); a busy machine may push answers a bucket or two up.
	low := 10.0
	if w.Mesh == telemetry.Linkerd {
		low = 20
	}
	p50, p95, p99 := *w.LatencyMs.P50, *w.LatencyMs.P95, *w.LatencyMs.P99
	if p50 < low || p50 > 100 || p95 < p50 || p99 < p95 || p99 > 500 {
		t.Errorf("%s: p50 %.1f p95 %.1f p99 %.1f ms for a %s delay", w.Workload, p50, p95, p99, delay)
	}
}

func describe(w telemetry.Signals) map[string]any {
	out := map[string]any{"requests": w.Requests, "rps": w.RPS}
	if w.SuccessRate != nil {
		out["success"] = *w.SuccessRate
	}
	if w.MTLSShare != nil {
		out["mtls"] = *w.MTLSShare
	}
	if l := w.LatencyMs; l != nil && l.P50 != nil && l.P95 != nil && l.P99 != nil {
		out["p50"], out["p95"], out["p99"] = *l.P50, *l.P95, *l.P99
	}
	return out
}

// waitForSeries waits until query's one sample reaches n.
func waitForSeries(t *testing.T, url, query string, n float64) {
	t.Helper()
	client, err := api.NewClient(api.Config{Address: url})
	if err != nil {
		t.Fatal(err)
	}
	prom := v1.NewAPI(client)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		v, _, err := prom.Query(context.Background(), query, time.Now())
		if vec, ok := v.(model.Vector); err == nil && ok && len(vec) == 1 && float64(vec[0].Value) >= n {
			return
		}
	}
	t.Fatalf("%s did not reach %v in 30s", query, n)
}
