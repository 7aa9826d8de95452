package report

import (
	"encoding/json"
	"math"
	"time"

	"fortio.org/fortio/fhttp"
	"fortio.org/fortio/periodic"
	"fortio.org/fortio/stats"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"
)

var start = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// logNormal returns n latencies in seconds spread as a log-normal
// distribution with the given median (ms) and sigma, by its quantiles, so
// fixtures are the same on every run without a random generator.
func logNormal(n int, medianMs, sigma float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		u := (float64(i) + 0.5) / float64(n)
		z := math.Sqrt2 * math.Erfinv(2*u-1)
		v[i] = medianMs * math.Exp(sigma*z) / 1000
	}
	return v
}

type fixture struct {
	name, target string
	qps          float64
	conns        int
	duration     time.Duration
	latencies    []float64 // seconds
	codes        map[int]int64
	mesh         *smp.MeshConfig
}

// result records the latencies in a fortio histogram and converts the
// run as the runner does, through smp.FromFortio.
func (f fixture) result() *smp.Result {
	const resolution = 0.0001 // 0.1 ms, in seconds as fortio wants it
	h := stats.NewHistogram(0, resolution)
	for _, v := range f.latencies {
		h.Record(v)
	}
	data := h.Export().CalcPercentiles(smp.Percentiles)
	res := &fhttp.HTTPRunnerResults{
		RunnerResults: periodic.RunnerResults{
			StartTime:         start,
			ActualDuration:    f.duration,
			ActualQPS:         float64(len(f.latencies)) / f.duration.Seconds(),
			DurationHistogram: data,
		},
		RetCodes: f.codes,
	}
	cfg := smp.TestConfig{
		SMPVersion: smp.Version,
		ID:         "0123456789abcdef-" + f.name,
		Name:       f.name,
		Duration:   f.duration.String(),
		Clients: []smp.Client{{
			LoadGenerator: "fortio",
			Protocol:      "http",
			Connections:   f.conns,
			RPS:           f.qps,
			EndpointURL:   []string{f.target},
			Target:        f.target,
			HTTPVersion:   "1.1",
			Loop:          "open",
			ResolutionMs:  resolution * 1000,
		}},
	}
	r := smp.FromFortio(res, cfg)
	r.Mesh = f.mesh
	r.Env = &smp.Environment{KubernetesVersion: "v1.37.0", Nodes: []smp.Node{{Name: "kwok-node-0", Cores: 4, MemMB: 8192}}}
	return r
}

// istio: 3000 requests around 1.2 ms with a few slow ones and 503s.
func istioResult() *smp.Result {
	lat := logNormal(2990, 1.2, 0.45)
	for i := range 10 {
		lat = append(lat, (40+float64(i)*2)/1000)
	}
	return fixture{
		name: "istio-1.31", target: "svc/echo:8080", qps: 100, conns: 4, duration: 30 * time.Second,
		latencies: lat, codes: map[int]int64{200: 2990, 503: 10},
		mesh: &smp.MeshConfig{Type: "ISTIO", Build: "1.31.0", Namespace: "istio-system", Revision: "default"},
	}.result()
}

// linkerd: 5000 requests from 0.05 ms to 500 ms, the span the plots must
// keep readable, with socket errors.
func linkerdResult() *smp.Result {
	lat := logNormal(4998, 0.8, 0.7)
	lat = append(lat, 0.05/1000, 500.0/1000)
	return fixture{
		name: "linkerd-edge", target: "http://127.0.0.1:8080/echo?size=1024", qps: 0, conns: 8, duration: 10 * time.Second,
		latencies: lat, codes: map[int]int64{200: 4997, -1: 3},
		mesh: &smp.MeshConfig{Type: "LINKERD", Build: "edge-25.11.1", Namespace: "linkerd"},
	}.result()
}

// narrow: latencies between 2 and 3 ms, where both axes stay linear.
func narrowResult() *smp.Result {
	lat := make([]float64, 400)
	for i := range lat {
		lat[i] = (2 + float64(i%100)/100) / 1000
	}
	return fixture{
		name: "no-mesh", target: "http://127.0.0.1:9090/", qps: 40, conns: 1, duration: 10 * time.Second,
		latencies: lat, codes: map[int]int64{200: 400},
		mesh: &smp.MeshConfig{Type: "NONE"},
	}.result()
}

// emptyResult is a run that made no request (an interrupted one).
func emptyResult() *smp.Result {
	r := &smp.Result{
		SMPVersion: smp.Version, ID: "empty-run", Name: "empty", StartTime: start, EndTime: start.Add(2 * time.Second),
		Interrupted: true, StatusCodes: map[string]int64{},
		Config: smp.TestConfig{Requests: 1000, Clients: []smp.Client{{Connections: 2, RPS: 50, Target: "http://127.0.0.1:1/", Loop: "closed"}}},
	}
	return r
}

// hostileResult carries markup in every string a user controls.
func hostileResult() *smp.Result {
	r := narrowResult()
	r.Name = `<script>alert("name")</script>`
	r.Config.Clients[0].Target = `http://127.0.0.1:8080/?q=<script>alert('x')</script>&a="b"`
	r.Mesh = &smp.MeshConfig{Type: "ISTIO", Build: `1.31"><img src=x onerror=alert(1)>`}
	return r
}

// meshedResult is istioResult with what the mesh measured of it.
func meshedResult() *smp.Result {
	r := istioResult()
	r.Name = "meshed"
	p50, p95, p99 := 0.9, 2.4, 4.8
	r.Telemetry = &smp.Telemetry{Format: smp.TelemetryFormat, Prometheus: "svc/prometheus in istio-system", ScrapeInterval: "15s",
		Workloads: []string{"echo"}, Server: &smp.ServerSignals{Requests: 3000, RPS: 100, SuccessRate: 2990.0 / 3000, MTLSShare: 1,
			LatenciesMs: smp.ServerLatencies{P50: &p50, P95: &p95, P99: &p99}}}
	r.Mesh.Sidecar = &smp.Resources{Count: 1, CPUMCores: 38, MemMB: 52}
	r.Mesh.ControlPlane = &smp.Resources{Count: 1, CPUMCores: 6, MemMB: 97}
	return r
}

// unmeshedResult is the other side of --ab: no proxy, nothing the mesh
// counted.
func unmeshedResult() *smp.Result {
	r := istioResult()
	r.Name = "unmeshed"
	r.Telemetry = &smp.Telemetry{Format: smp.TelemetryFormat, Prometheus: "svc/prometheus in istio-system", ScrapeInterval: "15s",
		Workloads: []string{"echo"}, Missing: []string{"server side: the mesh counted no request of echo in plain (not meshed, or its proxies are not scraped)"}}
	r.Mesh.Sidecar = &smp.Resources{}
	r.Mesh.ControlPlane = &smp.Resources{Count: 1, CPUMCores: 5, MemMB: 97}
	return r
}

// foreignResult has telemetry another version of kubectl-mesh wrote.
func foreignResult() *smp.Result {
	r := narrowResult()
	r.Name = "from-v2"
	if err := json.Unmarshal([]byte(`{"format":"kubectl-mesh.io/telemetry/v2","server":{"rps":"many"}}`), &r.Telemetry); err != nil {
		panic(err)
	}
	return r
}
