package telemetry

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"sigs.k8s.io/yaml"
)

// cAdvisor's series of a container's CPU and memory, as the kubelet
// exposes them and every Kubernetes Prometheus scrapes them.
const (
	cpuMetric    = "container_cpu_usage_seconds_total"
	memoryMetric = "container_memory_working_set_bytes"
)

// RunTarget is what a load test was sent to, named as the mesh's metrics
// and cAdvisor's series name it.
type RunTarget struct {
	Mesh      Mesh
	Namespace string
	// Kind and Workloads are the pods' owners (Kind picks Linkerd's label).
	Kind      string
	Workloads []string
	// Pods run the target; ProxyContainer is the mesh's proxy in them.
	Pods           []string
	ProxyContainer string
	// ControlPlaneNamespace and ControlPlanePods are the mesh's control
	// plane, every container of which counts.
	ControlPlaneNamespace string
	ControlPlanePods      []string
}

// Usage is what a set of containers used over a run: SMP's cpu_mCores and
// mem_mb (the peak of the summed per-container working sets).
type Usage struct {
	Containers int
	CPUMCores  float64
	MemMB      float64
}

// RunSignals are what the mesh measured of one load test.
type RunSignals struct {
	// Server is the target's server side, summed over its workloads; nil
	// when the Prometheus has no series of it.
	Server *Signals
	// Proxies and ControlPlane are nil when the run was too short for
	// rates (TooShort) or the Prometheus has no cAdvisor series of them.
	Proxies, ControlPlane *Usage
	// TooShort says why there are no CPU and memory figures, when the run
	// was shorter than two scrape intervals.
	TooShort string
}

// MinRunFor is the shortest run whose CPU rates mean something: two
// scrapes inside it.
func MinRunFor(interval time.Duration) time.Duration { return 2 * interval }

// ScrapeInterval reads from the Prometheus's configuration how often it
// scrapes the jobs that hold t's series (the longest of them), or its
// global interval when it has none of them yet.
func ScrapeInterval(ctx context.Context, prom v1.API, t RunTarget) (time.Duration, error) {
	cfg, err := prom.Config(ctx)
	if err != nil {
		return 0, fmt.Errorf("reading the Prometheus's configuration: %w", err)
	}
	intervals, global, err := parseScrapeIntervals(cfg.YAML)
	if err != nil {
		return 0, err
	}
	f := families[t.Mesh]
	query := fmt.Sprintf("count by (job) (%s{%s}) or count by (job) (%s{%s})",
		f.requests, f.matchers(t.selector()), cpuMetric, t.proxyMatchers())
	jobs, err := instant(ctx, prom, query, time.Now())
	if err != nil {
		return 0, err
	}
	longest := time.Duration(0)
	for _, s := range jobs {
		if d, ok := intervals[string(s.Metric["job"])]; ok && d > longest {
			longest = d
		}
	}
	if longest == 0 {
		return global, nil
	}
	return longest, nil
}

// parseScrapeIntervals reads each job's scrape_interval and the global
// one (Prometheus's default, 1m, when unset).
func parseScrapeIntervals(configYAML string) (map[string]time.Duration, time.Duration, error) {
	var cfg struct {
		Global struct {
			ScrapeInterval string `json:"scrape_interval"`
		} `json:"global"`
		ScrapeConfigs []struct {
			JobName        string `json:"job_name"`
			ScrapeInterval string `json:"scrape_interval"`
		} `json:"scrape_configs"`
	}
	if err := yaml.Unmarshal([]byte(configYAML), &cfg); err != nil {
		return nil, 0, fmt.Errorf("reading the Prometheus's configuration: %w", err)
	}
	parse := func(s string, fallback time.Duration) (time.Duration, error) {
		if s == "" {
			return fallback, nil
		}
		d, err := model.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("the Prometheus's configuration: scrape_interval %q: %w", s, err)
		}
		return time.Duration(d), nil
	}
	global, err := parse(cfg.Global.ScrapeInterval, time.Minute)
	if err != nil {
		return nil, 0, err
	}
	jobs := map[string]time.Duration{}
	for _, j := range cfg.ScrapeConfigs {
		if jobs[j.JobName], err = parse(j.ScrapeInterval, global); err != nil {
			return nil, 0, err
		}
	}
	return jobs, global, nil
}

// QueryRun reads what the mesh measured of a load test over w, all queries
// sent at once and evaluated at time at: after the scrape that covers
// w.End. The server side's counts are exact: the counters at that scrape
// less those before w.Start (a series that did not exist yet counts 0),
// not increase()'s extrapolation to the window's edges. CPU is the rate
// inside w and memory the peak inside w, both only when w holds two
// scrapes of interval.
func QueryRun(ctx context.Context, prom v1.API, t RunTarget, w Window, interval time.Duration, at time.Time) (*RunSignals, error) {
	f, ok := families[t.Mesh]
	if !ok {
		return nil, fmt.Errorf("unknown mesh %q", t.Mesh)
	}
	if w.Duration() <= 0 {
		return nil, fmt.Errorf("empty window %s to %s", w.Start.Format(time.RFC3339), w.End.Format(time.RFC3339))
	}
	out := &RunSignals{}
	type job struct {
		query  string
		result model.Vector
		err    error
		use    func(model.Vector)
	}
	var jobs []*job
	add := func(query string, use func(model.Vector)) { jobs = append(jobs, &job{query: query, use: use}) }
	// finish runs once every job's result is used.
	var finish []func()

	server := &Signals{Mesh: t.Mesh, Namespace: t.Namespace, Workload: strings.Join(t.Workloads, ",")}
	var succeeded, mtls float64
	sel := t.selector()
	add(countedSince(f.requests+"{"+f.matchers(sel)+"}", strings.Join(f.group, ", "), w.Start, at), func(v model.Vector) {
		for _, s := range v {
			n := float64(s.Value)
			success, secure := f.classify(s.Metric)
			server.Requests += n
			if success {
				succeeded += n
			}
			if secure {
				mtls += n
			}
		}
	})
	for _, q := range Quantiles {
		add(fmt.Sprintf("histogram_quantile(%s, %s)", strconv.FormatFloat(q, 'f', -1, 64),
			countedSince(f.latency+"{"+f.matchers(sel)+"}", "le", w.Start, at)), func(v model.Vector) {
			if len(v) == 0 || math.IsNaN(float64(v[0].Value)) {
				return
			}
			ms := float64(v[0].Value)
			if server.LatencyMs == nil {
				server.LatencyMs = &Latency{}
			}
			switch q {
			case 0.5:
				server.LatencyMs.P50 = &ms
			case 0.95:
				server.LatencyMs.P95 = &ms
			case 0.99:
				server.LatencyMs.P99 = &ms
			}
		})
	}

	if w.Duration() < MinRunFor(interval) {
		out.TooShort = fmt.Sprintf("the run (%s) is shorter than two scrape intervals (2 x %s): no CPU or memory rates",
			w.Duration().Round(time.Millisecond), interval)
	} else {
		usage := func(matchers string, into **Usage) {
			u := &Usage{}
			found := false
			rng := "[" + promDuration(w.Duration()) + "] @ " + promTime(w.End)
			add(fmt.Sprintf("sum(rate(%s{%s}%s)) * 1000", cpuMetric, matchers, rng), func(v model.Vector) {
				if len(v) > 0 {
					u.CPUMCores, found = float64(v[0].Value), true
				}
			})
			add(fmt.Sprintf("sum(max_over_time(%s{%s}%s)) / 1048576", memoryMetric, matchers, rng), func(v model.Vector) {
				if len(v) > 0 {
					u.MemMB, found = float64(v[0].Value), true
				}
			})
			add(fmt.Sprintf("count(max_over_time(%s{%s}%s))", memoryMetric, matchers, rng), func(v model.Vector) {
				if len(v) > 0 {
					u.Containers = int(v[0].Value)
				}
			})
			finish = append(finish, func() {
				if found {
					*into = u
				}
			})
		}
		switch {
		case len(t.Pods) > 0 && t.ProxyContainer == "":
			out.Proxies = &Usage{} // known to run no proxy: the unmeshed side of --ab
		case len(t.Pods) > 0:
			usage(t.proxyMatchers(), &out.Proxies)
		}
		if len(t.ControlPlanePods) > 0 {
			usage(fmt.Sprintf(`namespace=%q,pod=~%q,container!="",container!="POD"`, t.ControlPlaneNamespace, anyOf(t.ControlPlanePods)), &out.ControlPlane)
		}
	}

	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Go(func() { j.result, j.err = instant(ctx, prom, j.query, at) })
	}
	wg.Wait()
	for _, j := range jobs {
		if j.err != nil {
			return nil, j.err
		}
	}
	for _, j := range jobs {
		j.use(j.result)
	}
	for _, f := range finish {
		f()
	}
	if server.Requests > 0 {
		success, share := succeeded/server.Requests, mtls/server.Requests
		server.SuccessRate, server.MTLSShare = &success, &share
		server.RPS = server.Requests / w.Duration().Seconds()
		out.Server = server
	}
	return out, nil
}

// countedSince is how much the counters series picks grew, summed by the
// labels by, from the last sample before start to the last at at.
func countedSince(series, by string, start, at time.Time) string {
	sum := func(t time.Time) string { return fmt.Sprintf("sum by (%s) (%s @ %s)", by, series, promTime(t)) }
	return fmt.Sprintf("(%s - (%s or %s * 0))", sum(at), sum(start), sum(at))
}

// promTime is t as PromQL's @ modifier takes it, to the millisecond.
func promTime(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)
}

func (t RunTarget) selector() Selector {
	return Selector{Namespace: t.Namespace, Kind: t.Kind, Names: t.Workloads}
}

func (t RunTarget) proxyMatchers() string {
	return fmt.Sprintf("namespace=%q,pod=~%q,container=%q", t.Namespace, anyOf(t.Pods), t.ProxyContainer)
}
