package telemetry

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh/istio"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/compare"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"
	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
	"github.com/kubectl-mesh/kubectl-mesh/test/helmrepo"
	"github.com/kubectl-mesh/kubectl-mesh/test/injector"
	"github.com/kubectl-mesh/kubectl-mesh/test/meshmetrics"
	"github.com/kubectl-mesh/kubectl-mesh/test/promserver"
)

// The proxy's and istiod's use, as the stand-in kubelet reports it.
const (
	proxyCPUPerRequest = time.Millisecond
	proxyMemory        = 48 << 20
	istiodMCores       = 20
	istiodMemory       = 80 << 20
	// connections is below errorEvery (align).
	connections = errorEvery - 1
)

// deployment is a one-replica Deployment and its Service; the pod gets
// Istio's proxy where the namespace asks for injection.
func deployment(ns, name string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: %[2]s, namespace: %[1]s}
spec:
  replicas: 1
  selector: {matchLabels: {app: %[2]s}}
  template:
    metadata: {labels: {app: %[2]s}}
    spec:
      containers:
      - name: %[2]s
        image: docker.io/mccutchen/go-httpbin:v2.15.0
        ports: [{containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: %[2]s, namespace: %[1]s}
spec:
  selector: {app: %[2]s}
  ports: [{name: http, port: 80, targetPort: 8080}]
`, ns, name)
}

// forward sends port 8080 of the deployment's pod to a loopback port and
// returns the pod's name.
func forward(t *testing.T, ns, name string, port int) string {
	t.Helper()
	harness.Must(t, harness.Kubectl(t, "wait", "-n", ns, "--for=condition=Available", "deployment/"+name, "--timeout=90s"))
	pods, err := harness.KubeClient(t).CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=" + name})
	if err != nil || len(pods.Items) != 1 {
		t.Fatalf("pods of %s/%s: %v (%d)", ns, name, err, len(pods.Items))
	}
	pod := pods.Items[0].Name
	harness.Must(t, harness.KubectlStdin(t, fmt.Sprintf(`apiVersion: kwok.x-k8s.io/v1alpha1
kind: PortForward
metadata: {name: %s, namespace: %s}
spec:
  forwards: [{ports: [8080], target: {address: 127.0.0.1, port: %d}}]
`, pod, ns, port), "apply", "-f", "-"))
	return pod
}

// TestPerfRunJoinsTheMesh runs perf run against a workload meshed by an
// Istio installed from its charts (the stand-in injector gives the pod its
// istio-proxy), with a real Prometheus scraping the stand-in proxy's
// metrics and a stand-in kubelet's cAdvisor series, and compares what the
// result says the mesh measured with what the load was: the requests
// counted exactly, the errors injected, the server's delay, the CPU the
// proxy was made to spend per request and istiod's steady use. Then --ab
// against an unmeshed copy, a gate on the proxy's CPU, and a Prometheus
// that cannot be reached.
func TestPerfRunJoinsTheMesh(t *testing.T) {
	// TestMetricsReportsTheLoad's istio-system may still be going.
	harness.Must(t, harness.Kubectl(t, "wait", "--for=delete", "namespace/istio-system", "--timeout=2m"))
	standIn := injector.Serve(t, harness.KubeClient(t))
	charts, err := helmrepo.IstioReleases(istio.DefaultVersion)
	if err != nil {
		t.Fatal(err)
	}
	repo := helmrepo.ServeCharts(t, charts...)
	harness.Must(t, harness.Mesh(t, append([]string{"install", "istio", "--repo", repo, "--profile", "minimal", "--timeout", "2m"}, standIn.IstioValues("")...)...))
	t.Cleanup(func() {
		harness.Mesh(t, "uninstall", "istio", "--purge", "--force", "--timeout", "2m")
		harness.Kubectl(t, "delete", "namespace", "istio-system", "--wait=false")
	})

	// The meshed workload: its answers and metrics from the stand-in proxy.
	ns := harness.Namespace(t, "shop")
	harness.Must(t, harness.Kubectl(t, "label", "namespace", ns, "istio-injection=enabled"))
	exporter, err := meshmetrics.Start(meshmetrics.Istio, meshmetrics.Workload{Name: "httpbin", Namespace: ns, MTLS: true},
		meshmetrics.Options{ErrorEvery: errorEvery, Delay: delay})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = exporter.Close() })
	harness.Must(t, harness.KubectlStdin(t, deployment(ns, "httpbin"), "apply", "-f", "-"))
	pod := forward(t, ns, "httpbin", port(t, exporter.Addr))
	containers := harness.Must(t, harness.Kubectl(t, "get", "pod", "-n", ns, pod, "-o", "jsonpath={.spec.containers[*].name}")).Stdout
	if !strings.Contains(containers, "istio-proxy") {
		t.Fatalf("pod %s was not injected: containers %q", pod, containers)
	}

	// The unmeshed copy for --ab: a plain server, no proxy, no metrics.
	plainNS := harness.Namespace(t, "plain")
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { time.Sleep(delay) }))
	t.Cleanup(plain.Close)
	harness.Must(t, harness.KubectlStdin(t, deployment(plainNS, "httpbin"), "apply", "-f", "-"))
	forward(t, plainNS, "httpbin", port(t, strings.TrimPrefix(plain.URL, "http://")))

	kubelet, err := meshmetrics.StartKubelet()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kubelet.Close() })
	kubelet.Add(meshmetrics.Container{Namespace: ns, Pod: pod, Name: "istio-proxy"}, exporter.ProxyUsage(proxyCPUPerRequest, proxyMemory))
	istiods, err := harness.KubeClient(t).CoreV1().Pods("istio-system").List(context.Background(), metav1.ListOptions{LabelSelector: "app=istiod"})
	if err != nil || len(istiods.Items) == 0 {
		t.Fatalf("istiod's pods: %v, %d", err, len(istiods.Items))
	}
	for _, p := range istiods.Items {
		kubelet.Add(meshmetrics.Container{Namespace: "istio-system", Pod: p.Name, Name: "discovery"}, meshmetrics.Steady(istiodMCores, istiodMemory))
	}

	prom := promserver.Start(t, promserver.Target{Addr: exporter.Addr}, promserver.Target{Addr: kubelet.Addr})
	monitoring := harness.Namespace(t, "monitoring")
	harness.Must(t, harness.KubectlStdin(t, workload(monitoring, "prometheus", port(t, strings.TrimPrefix(prom.URL, "http://"))), "apply", "-f", "-"))
	harness.Must(t, harness.Kubectl(t, "wait", "-n", monitoring, "--for=condition=Ready", "pod/prometheus-0", "--timeout=90s"))
	waitForSeries(t, prom.URL, `count(container_memory_working_set_bytes)`, float64(1+len(istiods.Items)))

	dir := t.TempDir()
	perf := func(args ...string) []string {
		// A resolution given: no probe before the run, so that the run's
		// requests and fortio's first request on each connection are all
		// the exporter serves; fewer connections than errorEvery, so that
		// those first requests all succeed (align).
		return append([]string{"perf", "run", "svc/httpbin", "-n", ns, "--qps", "100", "-c", strconv.Itoa(connections), "-t", "4s", "--resolution", "1ms",
			"--prometheus", "svc/prometheus", "--prometheus-namespace", monitoring, "--results-dir", dir}, args...)
	}

	align(t, exporter)
	servedBefore, failedBefore := exporter.Served(), exporter.Failed()
	r := harness.Must(t, harness.Mesh(t, perf("--name", "meshed", "-o", "json")...))
	t.Logf("perf run:\n%s", r.Stderr)
	var result smp.Result
	if err := json.Unmarshal([]byte(r.Stdout), &result); err != nil {
		t.Fatalf("%v\n%s", err, r.Stdout)
	}
	served, failed := exporter.Served()-servedBefore, exporter.Failed()-failedBefore
	checkJoined(t, &result, served, failed)
	if !strings.Contains(r.Stderr, "for the Prometheus to scrape the end of the run (scrape interval 1s)") {
		t.Errorf("perf run did not say it waits for the scrape:\n%s", r.Stderr)
	}

	// perf show, for a person.
	show := harness.Must(t, harness.Mesh(t, "perf", "show", "meshed", "--results-dir", dir)).Stdout
	for _, want := range []string{"Telemetry:", "svc/prometheus in monitoring, scraped every 1s", "Server side:", "Proxies:", "1 container,", "Control plane:"} {
		if !strings.Contains(show, want) {
			t.Errorf("perf show lacks %q:\n%s", want, show)
		}
	}

	// --ab: the proxy's CPU and memory beside the latency overhead.
	align(t, exporter)
	r = harness.Must(t, harness.Mesh(t, perf("--ab", "svc/httpbin", "--ab-namespace", plainNS, "--name", "ab")...))
	for _, want := range []string{"proxy_cpu", "proxy_mem"} {
		row := line(r.Stdout, want+" ")
		if f := strings.Fields(row); len(f) < 6 || f[1] != "0" || f[2] != "mCores" && f[2] != "MB" {
			t.Errorf("--ab: %s row %q, want the unmeshed side at 0:\n%s", want, row, r.Stdout)
		}
	}

	// A proxy three times as costly per request fails a 50% gate.
	kubelet.Add(meshmetrics.Container{Namespace: ns, Pod: pod, Name: "istio-proxy"}, exporter.ProxyUsage(3*proxyCPUPerRequest, proxyMemory))
	align(t, exporter)
	r = harness.Mesh(t, perf("--name", "costly", "--compare-to", "meshed", "--max-regression", "proxy_cpu=50%,p99=1000%")...)
	if r.Code != 3 || !strings.Contains(line(r.Stdout, "proxy_cpu "), "REGRESSION") || !strings.Contains(r.Stderr, "performance regression: proxy_cpu") {
		t.Errorf("proxy_cpu gate: %s", r)
	}
	var rows compare.Comparison
	cmp := harness.Must(t, harness.Mesh(t, "perf", "compare", "meshed", "costly", "--results-dir", dir, "-o", "json")).Stdout
	if err := json.Unmarshal([]byte(cmp), &rows); err != nil {
		t.Fatalf("%v\n%s", err, cmp)
	}
	for _, row := range rows.Rows {
		if row.Metric == "proxy_cpu" && (row.B < 2*row.A || row.A == 0) {
			t.Errorf("proxy_cpu %v -> %v, want about three times", row.A, row.B)
		}
	}

	// A Prometheus that does not answer: the result is saved, marked, and
	// one line says why.
	align(t, exporter)
	r = harness.Must(t, harness.Mesh(t, "perf", "run", "svc/httpbin", "-n", ns, "--qps", "50", "-t", "1s", "--resolution", "1ms", "--name", "unreachable",
		"--prometheus", "http://127.0.0.1:1", "--results-dir", dir))
	if n := strings.Count(r.Stderr, "no mesh telemetry"); n != 1 || !strings.Contains(r.Stderr, "Result unreachable saved") {
		t.Errorf("unreachable Prometheus (%d lines):\n%s", n, r.Stderr)
	}
	show = harness.Must(t, harness.Mesh(t, "perf", "show", "unreachable", "--results-dir", dir)).Stdout
	if !strings.Contains(show, "Telemetry:            unavailable") || !strings.Contains(show, "Missing:") || !strings.Contains(show, "127.0.0.1:1") {
		t.Errorf("perf show of a run without telemetry:\n%s", show)
	}

	// One that accepts and never answers: cut off by --prometheus-timeout.
	hole := promserver.Silent(t)
	align(t, exporter)
	r = harness.Must(t, harness.Mesh(t, "perf", "run", "svc/httpbin", "-n", ns, "--qps", "50", "-t", "1s", "--resolution", "1ms", "--name", "silent",
		"--prometheus", "http://"+hole, "--prometheus-timeout", "2s", "--results-dir", dir))
	if !strings.Contains(r.Stderr, "Warning: no mesh telemetry: no answer within 2s (--prometheus-timeout)") || !strings.Contains(r.Stderr, "Result silent saved") {
		t.Errorf("silent Prometheus:\n%s", r.Stderr)
	}
}

// checkJoined compares what the result says the mesh measured with the
// load the exporter served and the use the kubelet reported.
func checkJoined(t *testing.T, r *smp.Result, served, failed int64) {
	const connections = int64(connections)
	t.Helper()
	tel := r.ReadableTelemetry()
	if tel == nil || tel.Server == nil {
		t.Fatalf("no telemetry: %+v", r.Telemetry)
	}
	s := tel.Server
	t.Logf("client: %d requests, %d errors; exporter: %d served, %d failed; mesh: %+v %v/%v/%v ms; proxies %+v; control plane %+v",
		r.Requests, r.Errors, served, failed, *s, deref(s.LatenciesMs.P50), deref(s.LatenciesMs.P95), deref(s.LatenciesMs.P99), r.Mesh.Sidecar, r.Mesh.ControlPlane)
	// The server counted every request of the run and fortio's first
	// request on each connection just before it (unless a scrape fell
	// between the two), which were all the exporter served.
	if s.Requests < r.Requests || s.Requests < served-connections || s.Requests > served {
		t.Errorf("the mesh counted %d requests; the run made %d and the exporter served %d", s.Requests, r.Requests, served)
	}
	if want := 1 - float64(failed)/float64(served); s.SuccessRate < want-0.02 || s.SuccessRate > want+0.02 {
		t.Errorf("success rate %v, want %.3f", s.SuccessRate, want)
	}
	if s.MTLSShare != 1 {
		t.Errorf("mTLS share %v, want 1", s.MTLSShare)
	}
	// The delay's bucket is Istio's 10-25 ms; a busy machine may add one.
	if p := s.LatenciesMs.P50; p == nil || *p < 10 || *p > 100 {
		t.Errorf("server p50 %v, want in the bucket of the %s delay", deref(p), delay)
	}
	if tel.ScrapeInterval != "1s" || tel.Prometheus != "svc/prometheus in monitoring" || len(tel.Workloads) != 1 || tel.Workloads[0] != "httpbin" {
		t.Errorf("telemetry: %+v", tel)
	}
	// 1 ms of CPU a request at about 100 requests/s is about 100 mCores.
	wantCPU := float64(r.Requests) * proxyCPUPerRequest.Seconds() * 1000 / r.EndTime.Sub(r.StartTime).Seconds()
	if p := r.Mesh.Sidecar; p == nil || p.Count != 1 || p.MemMB != proxyMemory>>20 || float64(p.CPUMCores) < 0.65*wantCPU || float64(p.CPUMCores) > 1.35*wantCPU {
		t.Errorf("proxies %+v, want 1 container, %d MB, about %.0f mCores", p, proxyMemory>>20, wantCPU)
	}
	if c := r.Mesh.ControlPlane; c == nil || c.Count < 1 || c.MemMB != c.Count*istiodMemory>>20 || c.CPUMCores < 14*c.Count || c.CPUMCores > 26*c.Count {
		t.Errorf("control plane %+v, want %d mCores and %d MB a container", c, istiodMCores, istiodMemory>>20)
	}
	if len(tel.Missing) != 0 {
		t.Errorf("missing: %q", tel.Missing)
	}
}

// align brings the exporter to just before its next run of answers
// without an error, so that fortio's first request on each connection
// gets a 200 (it stops the run on an error), and
// waits for a scrape, so that what it sent is before the run's window.
func align(t *testing.T, exporter *meshmetrics.Server) {
	t.Helper()
	for exporter.Served()%errorEvery != 0 {
		resp, err := http.Get("http://" + exporter.Addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
	}
	time.Sleep(promserver.ScrapeInterval + 200*time.Millisecond)
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// line is the first line of out that starts with prefix.
func line(out, prefix string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}
