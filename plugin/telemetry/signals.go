package telemetry

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// Mesh names a family of metrics.
type Mesh string

const (
	Istio   Mesh = "istio"
	Linkerd Mesh = "linkerd"
)

// Title is the mesh's name as its project writes it.
func (m Mesh) Title() string {
	switch m {
	case Istio:
		return "Istio"
	case Linkerd:
		return "Linkerd"
	}
	return string(m)
}

// Meshes are the families Query knows, in the order it tries them.
var Meshes = []Mesh{Istio, Linkerd}

// family is how one mesh's proxies report the server side of a request.
type family struct {
	mesh Mesh
	// requests counts responses; latency is its histogram's buckets.
	requests, latency string
	// the labels of the destination workload and its namespace, and the
	// fixed matchers that keep the server side only.
	workload, namespace, serverSide string
	// group is the extra labels the request query is summed by, and
	// classify reads success and mTLS from them.
	group    []string
	classify func(model.Metric) (success, mtls bool)
	// route is the label that names the route, for a family counted per
	// route ("" for per-workload families).
	route string
}

var families = map[Mesh]family{
	Istio: {
		mesh: Istio, requests: "istio_requests_total", latency: "istio_request_duration_milliseconds_bucket",
		workload: "destination_workload", namespace: "destination_workload_namespace", serverSide: `reporter="destination"`,
		group: []string{"response_code", "connection_security_policy"},
		classify: func(m model.Metric) (bool, bool) {
			// Istio's dashboards count a 5xx as a failure.
			return !strings.HasPrefix(string(m["response_code"]), "5"), m["connection_security_policy"] == "mutual_tls"
		},
	},
	Linkerd: {
		mesh: Linkerd, requests: "response_total", latency: "response_latency_ms_bucket",
		workload: "deployment", namespace: "namespace", serverSide: `direction="inbound"`,
		group: []string{"classification", "tls"},
		classify: func(m model.Metric) (bool, bool) {
			return m["classification"] == "success", m["tls"] == "true"
		},
	},
}

// linkerdRoutes is Linkerd's per-route family: the inbound requests of the
// routes a ServiceProfile defines (what linkerd viz routes shows). Route
// series carry no TLS label. Istio's standard metrics name no route.
var linkerdRoutes = family{
	mesh: Linkerd, requests: "route_response_total", latency: "route_response_latency_ms_bucket",
	workload: "deployment", namespace: "namespace", serverSide: `direction="inbound"`,
	group: []string{"classification", "rt_route"}, route: "rt_route",
	classify: func(m model.Metric) (bool, bool) {
		return m["classification"] == "success", false
	},
}

// LinkerdWorkloadLabels are the labels Linkerd viz's Prometheus puts the
// owning workload's name in, by kind.
var LinkerdWorkloadLabels = map[string]string{
	"deployment": "deployment", "statefulset": "statefulset", "daemonset": "daemonset",
}

// Quantiles are the latency percentiles reported.
var Quantiles = []float64{0.5, 0.95, 0.99}

// Selector picks the workloads to report on.
type Selector struct {
	// Namespace is empty for all namespaces.
	Namespace string
	// Names are the workloads (empty: every workload); Kind chooses
	// Linkerd's label (LinkerdWorkloadLabels; empty is deployment).
	Kind  string
	Names []string
	// ByRoute reports each route of a workload on its own row, from the
	// meshes that name routes (Linkerd's ServiceProfile routes).
	ByRoute bool
}

// Window is the time range the signals are read over.
type Window struct {
	Start, End time.Time
}

// Duration is the window's length.
func (w Window) Duration() time.Duration { return w.End.Sub(w.Start) }

// Signals are one workload's golden signals over a window, as its server-
// side proxies measured them.
type Signals struct {
	Mesh      Mesh   `json:"mesh"`
	Namespace string `json:"namespace"`
	Workload  string `json:"workload"`
	// Route is set with Selector.ByRoute.
	Route string `json:"route,omitempty"`
	// Requests is how many responses the proxies counted in the window.
	Requests float64 `json:"requests"`
	// RPS is Requests over the window's length.
	RPS float64 `json:"rps"`
	// SuccessRate and MTLSShare are fractions of Requests (0 to 1); nil
	// without requests.
	SuccessRate *float64 `json:"successRate,omitempty"`
	MTLSShare   *float64 `json:"mtlsShare,omitempty"`
	// LatencyMs are the server-side p50, p95 and p99 in milliseconds,
	// interpolated in the histogram's buckets as Prometheus does; nil
	// where the window had none.
	LatencyMs *Latency `json:"latencyMs,omitempty"`
}

// Latency is a set of percentiles in milliseconds.
type Latency struct {
	P50 *float64 `json:"p50,omitempty"`
	P95 *float64 `json:"p95,omitempty"`
	P99 *float64 `json:"p99,omitempty"`
}

// Query reads the signals of the workloads sel picks, over w, from the
// families of meshes (all of Meshes when empty), with a fixed number of
// PromQL queries whatever the number of workloads: per family, one for
// the responses (by workload, namespace and the labels that tell success
// and mTLS) and one per quantile, all sent at once. When no family has
// data it returns a *NoDataError.
func Query(ctx context.Context, prom v1.API, meshes []Mesh, sel Selector, w Window) ([]Signals, error) {
	switch {
	case len(meshes) == 0 && sel.ByRoute:
		meshes = []Mesh{Linkerd} // the one that names routes
	case len(meshes) == 0:
		meshes = Meshes
	}
	if w.Duration() <= 0 {
		return nil, fmt.Errorf("empty window %s to %s", w.Start.Format(time.RFC3339), w.End.Format(time.RFC3339))
	}
	type job struct {
		f        family
		quantile float64 // 0: the request query
		query    string
		result   model.Vector
		err      error
	}
	var jobs []*job
	var used []family
	for _, m := range meshes {
		f, err := familyOf(m, sel.ByRoute)
		if err != nil {
			return nil, err
		}
		used = append(used, f)
		jobs = append(jobs, &job{f: f, query: f.requestQuery(sel, w)})
		for _, q := range Quantiles {
			jobs = append(jobs, &job{f: f, quantile: q, query: f.latencyQuery(sel, w, q)})
		}
	}
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Go(func() { j.result, j.err = instant(ctx, prom, j.query, w.End) })
	}
	wg.Wait()
	rows := map[[4]string]*Signals{}
	row := func(f family, m model.Metric) *Signals {
		key := [4]string{string(f.mesh), string(m[model.LabelName(f.namespace)]), string(m[model.LabelName(f.workloadLabel(sel))])}
		if f.route != "" {
			key[3] = string(m[model.LabelName(f.route)])
		}
		if rows[key] == nil {
			rows[key] = &Signals{Mesh: f.mesh, Namespace: key[1], Workload: key[2], Route: key[3]}
		}
		return rows[key]
	}
	type counts struct{ ok, mtls float64 }
	tally := map[*Signals]*counts{}
	for _, j := range jobs {
		if j.err != nil {
			return nil, j.err
		}
		for _, s := range j.result {
			v := float64(s.Value)
			if math.IsNaN(v) {
				continue
			}
			r := row(j.f, s.Metric)
			if j.quantile == 0 {
				if tally[r] == nil {
					tally[r] = &counts{}
				}
				ok, mtls := j.f.classify(s.Metric)
				r.Requests += v
				if ok {
					tally[r].ok += v
				}
				if mtls {
					tally[r].mtls += v
				}
				continue
			}
			if r.LatencyMs == nil {
				r.LatencyMs = &Latency{}
			}
			switch j.quantile {
			case 0.5:
				r.LatencyMs.P50 = &v
			case 0.95:
				r.LatencyMs.P95 = &v
			case 0.99:
				r.LatencyMs.P99 = &v
			}
		}
	}
	out := make([]Signals, 0, len(rows))
	for _, r := range rows {
		r.RPS = r.Requests / w.Duration().Seconds()
		if c := tally[r]; c != nil && r.Requests > 0 {
			success := c.ok / r.Requests
			r.SuccessRate = &success
			if r.Route == "" {
				mtls := c.mtls / r.Requests
				r.MTLSShare = &mtls
			}
		}
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b Signals) int {
		return strings.Compare(string(a.Mesh)+"\x00"+a.Namespace+"\x00"+a.Workload+"\x00"+a.Route, string(b.Mesh)+"\x00"+b.Namespace+"\x00"+b.Workload+"\x00"+b.Route)
	})
	if len(out) == 0 {
		return nil, noData(ctx, prom, used, w)
	}
	return out, nil
}

func instant(ctx context.Context, prom v1.API, query string, at time.Time) (model.Vector, error) {
	value, _, err := prom.Query(ctx, query, at)
	if err != nil {
		return nil, fmt.Errorf("querying Prometheus (%s): %w", query, err)
	}
	vector, ok := value.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("querying Prometheus (%s): got a %s, want a vector", query, value.Type())
	}
	return vector, nil
}

func (f family) workloadLabel(sel Selector) string {
	if f.mesh == Linkerd && sel.Kind != "" {
		if label, ok := LinkerdWorkloadLabels[sel.Kind]; ok {
			return label
		}
		// Linkerd viz's scrape names the label after the owner's kind
		// (replicaset, job), or pod for a pod of its own.
		return sel.Kind
	}
	return f.workload
}

// matchers are the series selector's matchers for sel.
func (f family) matchers(sel Selector) string {
	m := []string{f.serverSide}
	if sel.Namespace != "" {
		m = append(m, f.namespace+"="+strconv.Quote(sel.Namespace))
	}
	workload := f.workloadLabel(sel)
	switch len(sel.Names) {
	case 0:
		// Series of other kinds of workload lack the label.
		m = append(m, workload+`!=""`)
	case 1:
		m = append(m, workload+"="+strconv.Quote(sel.Names[0]))
	default:
		m = append(m, workload+"=~"+strconv.Quote(anyOf(sel.Names)))
	}
	return strings.Join(m, ",")
}

// anyOf is a regular expression matching exactly one of names (PromQL
// anchors it).
func anyOf(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = regexp.QuoteMeta(n)
	}
	return strings.Join(quoted, "|")
}

func (f family) by(sel Selector, extra ...string) string {
	return strings.Join(append([]string{f.namespace, f.workloadLabel(sel)}, extra...), ", ")
}

func (f family) requestQuery(sel Selector, w Window) string {
	return fmt.Sprintf("sum by (%s) (increase(%s{%s}[%s]))", f.by(sel, f.group...), f.requests, f.matchers(sel), promDuration(w.Duration()))
}

func (f family) latencyQuery(sel Selector, w Window, q float64) string {
	by := []string{"le"}
	if f.route != "" {
		by = append(by, f.route)
	}
	return fmt.Sprintf("histogram_quantile(%s, sum by (%s) (rate(%s{%s}[%s])))",
		strconv.FormatFloat(q, 'f', -1, 64), f.by(sel, by...), f.latency, f.matchers(sel), promDuration(w.Duration()))
}

// familyOf is the family Query reads for mesh: per workload, or per route.
func familyOf(mesh Mesh, byRoute bool) (family, error) {
	f, ok := families[mesh]
	switch {
	case !ok:
		return family{}, fmt.Errorf("unknown mesh %q", mesh)
	case !byRoute:
		return f, nil
	case mesh == Linkerd:
		return linkerdRoutes, nil
	}
	return family{}, fmt.Errorf("%s's standard metrics name no route: per-route rows are Linkerd's (the routes of its ServiceProfiles)", mesh.Title())
}

// promDuration is d in PromQL, to the millisecond.
func promDuration(d time.Duration) string {
	return model.Duration(d.Round(time.Millisecond)).String()
}

// NoDataError says that no family had series for the selection, which
// metric names were looked for, and the likely reason.
type NoDataError struct {
	Metrics []string
	// Scraped: whether the Prometheus has those metrics at all.
	Scraped bool
	Window  time.Duration
	// Routes: the per-route metrics were looked for.
	Routes bool
}

func (e *NoDataError) Error() string {
	names := strings.Join(e.Metrics, ", ")
	if e.Scraped {
		return fmt.Sprintf("no requests in the last %s: the Prometheus has %s, but no series for these workloads in the window (no traffic, or another namespace or name)", promDuration(e.Window), names)
	}
	if e.Routes {
		return fmt.Sprintf("no route metrics: looked for %s and the Prometheus has none of them: Linkerd counts routes only for the services a ServiceProfile describes (linkerd viz profile)", names)
	}
	return fmt.Sprintf("no mesh metrics: looked for %s and the Prometheus has none of them: it does not scrape the mesh's proxies, or it is not the mesh's Prometheus", names)
}

// noData tells the two reasons apart with one more query.
func noData(ctx context.Context, prom v1.API, used []family, w Window) error {
	var names []string
	for _, f := range used {
		names = append(names, f.requests, f.latency)
	}
	e := &NoDataError{Metrics: names, Window: w.Duration(), Routes: len(used) > 0 && used[0].route != ""}
	vector, err := instant(ctx, prom, fmt.Sprintf(`count({__name__=~%q})`, strings.Join(names, "|")), w.End)
	if err != nil {
		return err
	}
	e.Scraped = len(vector) > 0
	return e
}
