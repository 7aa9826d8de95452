package telemetrycmd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/table"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/telemetry"
)

// MetricsOptions holds the flags of `kubectl mesh metrics`.
type MetricsOptions struct {
	AllNamespaces bool
	Routes        bool
	Since         time.Duration
	Output        string
	Mesh          string
	Prometheus    cmdutil.PrometheusFlags

	sel     telemetry.Selector
	meshes  []telemetry.Mesh
	factory cmdutil.Factory
	// now is the window's end (a test may fix it).
	now func() time.Time
	genericiooptions.IOStreams
}

// workloadKinds are the TYPE names accepted, as kubectl spells them.
var workloadKinds = map[string]string{
	"deploy": "deployment", "deployment": "deployment", "deployments": "deployment",
	"sts": "statefulset", "statefulset": "statefulset", "statefulsets": "statefulset",
	"ds": "daemonset", "daemonset": "daemonset", "daemonsets": "daemonset",
}

// NewCmdMetrics returns `kubectl mesh metrics`.
func NewCmdMetrics(streams genericiooptions.IOStreams, f cmdutil.Factory) *cobra.Command {
	o := &MetricsOptions{IOStreams: streams, Since: time.Minute, now: time.Now}
	var meshes []string
	for _, m := range telemetry.Meshes {
		meshes = append(meshes, string(m))
	}
	cmd := &cobra.Command{
		Use:   "metrics [TYPE[/NAME]]",
		Short: "Show what the mesh measured per workload: requests/s, success rate, latency, mTLS",
		Long: templates.LongDesc(`
			Show, for each workload, what its server-side proxies measured over the
			last --since: requests per second, success rate (Istio: answers other
			than 5xx; Linkerd: its response classification), p50/p95/p99 latency,
			and the share of requests that came over mutual TLS. The numbers are
			the mesh's own, read from its Prometheus (Istio's istio_requests_total
			and istio_request_duration_milliseconds; Linkerd's response_total and
			response_latency_ms) with a fixed number of PromQL queries whatever the
			number of workloads.

			The Prometheus is --prometheus (a URL, or svc/NAME reached through a
			port-forward), else the first one found: where kubectl mesh addon
			installs it, then istio-system/prometheus, then linkerd-viz/prometheus.

			TYPE is deploy, sts or ds (Linkerd labels each kind apart; Istio
			names the workload only).

			--routes shows each route of a workload on its own row, as linkerd viz
			routes does: Linkerd counts the routes of the services a ServiceProfile
			describes (route_response_total, route_response_latency_ms; no mTLS
			label). Istio's standard metrics name no route.`),
		Example: templates.Examples(`
			# Every workload in the current namespace, over the last minute
			kubectl mesh metrics

			# One Deployment over the last 5 minutes, with the mesh and the request count
			kubectl mesh metrics deploy/reviews-v1 -n bookinfo --since 5m -o wide

			# Every namespace, from a Prometheus given by URL, as JSON
			kubectl mesh metrics -A --prometheus http://localhost:9090 -o json

			# The routes of a Linkerd workload
			kubectl mesh metrics deploy/books -n booksapp --routes`),
		Args: cobra.MaximumNArgs(1),
		RunE: cmdutil.RunOptions(f, o),
	}
	flags := cmd.Flags()
	flags.BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "Show the workloads of every namespace")
	flags.BoolVar(&o.Routes, "routes", false, "One row per route of each workload (Linkerd's ServiceProfile routes)")
	flags.DurationVar(&o.Since, "since", o.Since, "The window: the last DURATION (as 30s, 1m, 1h)")
	flags.StringVarP(&o.Output, "output", "o", "table", "Output format: table, wide, json or yaml")
	cmdutil.AddMeshFlag(cmd, &o.Mesh, meshes, "Read this mesh's metrics only (default: every mesh's)")
	cmdutil.AddPrometheusFlags(cmd, &o.Prometheus)
	return cmd
}

// Complete reads TYPE/NAME and the namespace.
func (o *MetricsOptions) Complete(f cmdutil.Factory, _ *cobra.Command, args []string) error {
	o.factory = f
	if len(args) == 1 {
		kind, name, _ := strings.Cut(args[0], "/")
		k, ok := workloadKinds[strings.ToLower(kind)]
		if !ok {
			return fmt.Errorf("%q: unsupported workload type %q (allowed: deploy, sts, ds)", args[0], kind)
		}
		if strings.Contains(args[0], "/") && name == "" {
			return fmt.Errorf("%q: the name is empty", args[0])
		}
		o.sel.Kind, o.sel.Names = k, []string{name}
	}
	ns, _, err := f.Namespace()
	if err != nil {
		return err
	}
	if !o.AllNamespaces {
		o.sel.Namespace = ns
	}
	if o.Mesh != "" {
		o.meshes = []telemetry.Mesh{telemetry.Mesh(o.Mesh)}
	}
	o.sel.ByRoute = o.Routes
	return nil
}

// Validate checks the flags.
func (o *MetricsOptions) Validate() error {
	if err := cmdutil.ValidateOutputFormat(o.Output, "table", "wide", "json", "yaml"); err != nil {
		return err
	}
	var meshes []string
	for _, m := range telemetry.Meshes {
		meshes = append(meshes, string(m))
	}
	if err := cmdutil.ValidateMeshFlag(o.Mesh, meshes...); err != nil {
		return err
	}
	if o.Since < time.Second {
		return fmt.Errorf("--since=%s: give a window of at least 1s", o.Since)
	}
	if o.Routes && telemetry.Mesh(o.Mesh) == telemetry.Istio {
		return errors.New("--routes: Istio's standard metrics name no route; per-route rows are Linkerd's (the routes of its ServiceProfiles)")
	}
	if o.AllNamespaces && len(o.sel.Names) > 0 {
		return errors.New("a workload cannot be named across all namespaces (-A): give -n NAMESPACE")
	}
	return nil
}

// MetricsResult is what -o json|yaml print.
type MetricsResult struct {
	Prometheus string              `json:"prometheus"`
	Start      time.Time           `json:"start"`
	End        time.Time           `json:"end"`
	Workloads  []telemetry.Signals `json:"workloads"`
}

// Run connects, queries and prints.
func (o *MetricsOptions) Run(ctx context.Context) error {
	ctx, cancel := o.Prometheus.WithTimeout(ctx)
	defer cancel()
	conn, err := o.Prometheus.Connect(ctx, o.factory, o.sel.Namespace)
	if err != nil {
		if o.Prometheus.TimedOut(ctx) {
			return fmt.Errorf("reaching the Prometheus: %w", o.Prometheus.TimeoutError(ctx, err))
		}
		return err
	}
	defer conn.Close()
	end := o.now()
	w := telemetry.Window{Start: end.Add(-o.Since), End: end}
	signals, err := telemetry.Query(ctx, conn.API, o.meshes, o.sel, w)
	if err := o.Prometheus.TimeoutError(ctx, err); err != nil {
		return fmt.Errorf("reading the mesh's metrics from the Prometheus at %s: %w", conn.Address, err)
	}
	if o.Output == "json" || o.Output == "yaml" {
		return cmdutil.PrintStructured(o.Out, o.Output, MetricsResult{Prometheus: conn.Address, Start: w.Start.UTC(), End: w.End.UTC(), Workloads: signals})
	}
	var header []string
	if o.AllNamespaces {
		header = append(header, "NAMESPACE")
	}
	header = append(header, "NAME")
	if o.Routes {
		header = append(header, "ROUTE")
	}
	header = append(header, "SUCCESS", "RPS", "LATENCY_P50", "LATENCY_P95", "LATENCY_P99", "MTLS")
	wide := o.Output == "wide"
	if wide {
		header = append(header, "MESH", "REQUESTS")
	}
	rows := make([][]string, 0, len(signals))
	for _, s := range signals {
		var row []string
		if o.AllNamespaces {
			row = append(row, s.Namespace)
		}
		var p50, p95, p99 *float64
		if s.LatencyMs != nil {
			p50, p95, p99 = s.LatencyMs.P50, s.LatencyMs.P95, s.LatencyMs.P99
		}
		row = append(row, s.Workload)
		if o.Routes {
			row = append(row, s.Route)
		}
		row = append(row, percent(s.SuccessRate), fmt.Sprintf("%.1frps", s.RPS), ms(p50), ms(p95), ms(p99), percent(s.MTLSShare))
		if wide {
			row = append(row, string(s.Mesh), fmt.Sprintf("%.0f", s.Requests))
		}
		rows = append(rows, row)
	}
	return table.Print(o.Out, header, rows, table.Width)
}

func percent(p *float64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f%%", *p*100)
}

func ms(p *float64) string {
	if p == nil {
		return "-"
	}
	if *p < 10 {
		return fmt.Sprintf("%.1fms", *p)
	}
	return fmt.Sprintf("%.0fms", *p)
}
