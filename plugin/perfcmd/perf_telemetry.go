package perfcmd

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/clusterinfo"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/portforward"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/telemetry"
)

// telemetryJoin reads what the mesh measured of each run from its
// Prometheus. It is opened once before the load (so that a Prometheus
// that cannot be reached is said before the load, not after) and joins
// every run of the command (both sides of --ab).
type telemetryJoin struct {
	flags *cmdutil.PrometheusFlags
	facts *clusterFacts
	// adapter is the installed mesh (nil: none, with --prometheus given).
	adapter mesh.Mesh
	conn    *telemetry.Conn
	// err is why there is no telemetry; every result says it.
	err error
	log io.Writer
}

// openTelemetry connects to the mesh's Prometheus for a run against target,
// or returns nil when the run gets no telemetry: --no-telemetry, a URL
// target (no workload to read), no cluster, or no mesh and no
// --prometheus.
func (o *PerfRunOptions) openTelemetry(ctx context.Context, facts *clusterFacts, namespace string) *telemetryJoin {
	if o.NoTelemetry || !isClusterTarget(o.Target) || facts.err != nil || facts.mesh == nil {
		return nil
	}
	j := &telemetryJoin{flags: &o.Prometheus, facts: facts, log: o.ErrOut}
	if facts.mesh.Type != clusterinfo.MeshNone {
		var err error
		if j.adapter, err = o.factory.Meshes().Get(strings.ToLower(facts.mesh.Type)); err != nil {
			j.fail(err)
			return j
		}
	} else if o.Prometheus.Prometheus == "" {
		return nil
	}
	conn, err := o.Prometheus.Connect(ctx, o.factory, namespace)
	if err != nil {
		j.fail(err)
		return j
	}
	j.conn = conn
	return j
}

// fail records that no Prometheus can be had: every run of the command gets err.
func (j *telemetryJoin) fail(err error) {
	j.err = err
	j.warn(err)
}

// warn says why a result has no mesh telemetry.
func (j *telemetryJoin) warn(err error) {
	fmt.Fprintf(j.log, "Warning: no mesh telemetry: %v (--no-telemetry skips it)\n", err)
}

// Close ends the Prometheus's port-forward.
func (j *telemetryJoin) Close() {
	if j != nil && j.conn != nil {
		j.conn.Close()
	}
}

// join waits for the scrape that covers the end of r's run, then records
// in r what the mesh measured over the run of the pods the load reached
// (targetPods). A failure is one line and a result marked without
// telemetry.
func (j *telemetryJoin) join(ctx context.Context, r *smp.Result, namespace, target, forwarded string) {
	if j == nil || !isClusterTarget(target) {
		return
	}
	r.Telemetry = &smp.Telemetry{Format: smp.TelemetryFormat}
	if j.err != nil {
		r.Telemetry.Error = j.err.Error()
		return
	}
	r.Telemetry.Prometheus = j.conn.Address
	// One run's failure (--ab's other target may still be found) is its own.
	if err := j.query(ctx, r, namespace, target, forwarded); err != nil {
		j.warn(err)
		r.Telemetry.Error = err.Error()
	}
}

func (j *telemetryJoin) query(ctx context.Context, r *smp.Result, namespace, targetArg, forwarded string) error {
	pods, err := targetPods(ctx, j.facts, namespace, targetArg, forwarded)
	if err != nil {
		return fmt.Errorf("finding the pods of %s: %w", targetArg, err)
	}
	target, err := j.target(ctx, namespace, pods)
	if err != nil {
		return err
	}
	r.Telemetry.Workloads = target.Workloads
	qctx, cancel := j.flags.WithTimeout(ctx)
	defer cancel()
	interval, err := telemetry.ScrapeInterval(qctx, j.conn.API, target)
	if err != nil {
		return j.flags.TimeoutError(qctx, err)
	}
	r.Telemetry.ScrapeInterval = interval.String()
	// The scrape after the end: at most one interval later, and a little
	// more for the scrape itself.
	covered := r.EndTime.Add(interval + min(interval/10, time.Second))
	if wait := time.Until(covered); wait > 0 {
		fmt.Fprintf(j.log, "Waiting %s for the Prometheus to scrape the end of the run (scrape interval %s)\n", wait.Round(100*time.Millisecond), interval)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return fmt.Errorf("interrupted while waiting for the Prometheus's scrape")
		}
	}
	qctx, cancel = j.flags.WithTimeout(ctx)
	defer cancel()
	signals, err := telemetry.QueryRun(qctx, j.conn.API, target, telemetry.Window{Start: r.StartTime, End: r.EndTime}, interval, time.Now())
	if err != nil {
		return j.flags.TimeoutError(qctx, err)
	}
	record(r, target, signals)
	return nil
}

// target names the run's target as the mesh's metrics do.
func (j *telemetryJoin) target(ctx context.Context, namespace string, pods []*corev1.Pod) (telemetry.RunTarget, error) {
	t := telemetry.RunTarget{Namespace: namespace}
	family := telemetry.Istio // with --prometheus and no mesh: Istio's names
	if j.adapter != nil {
		family = telemetry.Mesh(j.adapter.Name())
	}
	t.Mesh = family
	for _, p := range pods {
		kind, name := telemetry.WorkloadOf(p)
		t.Kind = kind
		if !slices.Contains(t.Workloads, name) {
			t.Workloads = append(t.Workloads, name)
		}
		t.Pods = append(t.Pods, p.Name)
		if j.adapter != nil && j.adapter.HasProxy(p) {
			t.ProxyContainer = j.adapter.ProxyContainer()
		}
	}
	if j.adapter == nil {
		return t, nil
	}
	t.ControlPlaneNamespace = j.facts.mesh.Namespace
	list, err := j.facts.client.CoreV1().Pods(t.ControlPlaneNamespace).List(ctx, metav1.ListOptions{LabelSelector: j.adapter.ControlPlaneSelector()})
	if err != nil {
		return t, fmt.Errorf("listing the control plane's pods: %w", err)
	}
	for _, p := range list.Items {
		t.ControlPlanePods = append(t.ControlPlanePods, p.Name)
	}
	return t, nil
}

// record writes signals into r: CPU and memory in SMP's fields, the server
// side in the extension, and what is missing and why.
func record(r *smp.Result, t telemetry.RunTarget, s *telemetry.RunSignals) {
	tel := r.Telemetry
	workloads := strings.Join(t.Workloads, ", ")
	if v := s.Server; v != nil {
		tel.Server = &smp.ServerSignals{Requests: int64(math.Round(v.Requests)), RPS: v.RPS}
		if v.SuccessRate != nil {
			tel.Server.SuccessRate = *v.SuccessRate
		}
		if v.MTLSShare != nil {
			tel.Server.MTLSShare = *v.MTLSShare
		}
		if l := v.LatencyMs; l != nil {
			tel.Server.LatenciesMs = smp.ServerLatencies{P50: l.P50, P95: l.P95, P99: l.P99}
		}
	} else {
		tel.Missing = append(tel.Missing, fmt.Sprintf("server side: the mesh counted no request of %s in %s (not meshed, or its proxies are not scraped)", workloads, t.Namespace))
	}
	if s.TooShort != "" {
		tel.Missing = append(tel.Missing, s.TooShort)
		return
	}
	if r.Mesh == nil {
		r.Mesh = &smp.MeshConfig{Type: clusterinfo.MeshNone}
	}
	if r.Mesh.Sidecar = resources(s.Proxies); r.Mesh.Sidecar == nil {
		tel.Missing = append(tel.Missing, fmt.Sprintf("proxies: no container_cpu_usage_seconds_total of %s in %s (the Prometheus does not scrape the kubelets' cAdvisor)", t.ProxyContainer, workloads))
	}
	if len(t.ControlPlanePods) > 0 {
		if r.Mesh.ControlPlane = resources(s.ControlPlane); r.Mesh.ControlPlane == nil {
			tel.Missing = append(tel.Missing, fmt.Sprintf("control plane: no container_cpu_usage_seconds_total of %s in %s", strings.Join(t.ControlPlanePods, ", "), t.ControlPlaneNamespace))
		}
	}
}

// resources is u in SMP's integer units.
func resources(u *telemetry.Usage) *smp.Resources {
	if u == nil {
		return nil
	}
	return &smp.Resources{Count: int32(u.Containers), CPUMCores: int32(math.Round(u.CPUMCores)), MemMB: int32(math.Round(u.MemMB))}
}

// targetPods are the pods a run's load reached: the one a port-forward
// chose, or every ready pod of the Service an in-cluster Job loads.
func targetPods(ctx context.Context, facts *clusterFacts, namespace, target string, forwarded string) ([]*corev1.Pod, error) {
	if forwarded != "" {
		pod, err := facts.client.CoreV1().Pods(namespace).Get(ctx, forwarded, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		return []*corev1.Pod{pod}, nil
	}
	t, err := portforward.ParseTarget(target)
	if err != nil {
		return nil, err
	}
	svc, err := facts.client.CoreV1().Services(namespace).Get(ctx, t.Name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return portforward.ReadyPods(ctx, facts.client, svc)
}
