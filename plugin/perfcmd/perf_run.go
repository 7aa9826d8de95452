package perfcmd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	fortiolog "fortio.org/log"
	"github.com/spf13/cobra"
	"golang.org/x/term"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/compare"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/incluster"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/load"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/portforward"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/report"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/runner"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/store"
)

var (
	perfRunLong = templates.LongDesc(`
		Run a load test with fortio against a URL or a Service and store the result
		in the Service Mesh Performance (SMP) shape.

		TARGET is an http(s) URL, or svc/NAME[:PORT] (pod/NAME:PORT) in the namespace
		of -n: from this machine it is reached through a port-forward, as kubectl
		port-forward does; with --in-cluster a Job runs fortio in that namespace and
		its result is collected from the Job's output.

		With a rate (--qps) the load is an open loop: requests go out on schedule
		whatever the answers, and a request whose time has passed is skipped rather
		than sent late, so a slow target cannot hide its latency (no coordinated
		omission). --qps 0 runs a closed loop as fast as the target answers. The
		histogram's resolution is fitted to the latency measured before the run.

		Ctrl-C stops the run and keeps the partial result. --compare-to gates the
		run against a baseline: exit code 3 on a regression beyond --max-regression.

		With a mesh installed (or --prometheus given), a svc/ or pod/ target's run
		is joined with what the mesh itself measured, read from its Prometheus
		after the scrape that covers the end of the run: the target's server-side
		requests, success rate and p50/p95/p99 latency, and the CPU and memory of
		its proxies and of the control plane (server_*, proxy_* and
		control_plane_* for --max-regression). If the Prometheus cannot be read,
		one line says why and the result is saved without it; --no-telemetry
		skips it.`)

	perfRunExample = templates.Examples(`
		# 1,000 requests/s for 30s through a port-forward to the reviews Service
		kubectl mesh perf run svc/reviews:9080 -n bookinfo --qps 1000

		# As fast as possible with 16 connections, 10,000 requests
		kubectl mesh perf run http://localhost:8080/ --qps 0 -c 16 --requests 10000

		# From inside the cluster, the load generator meshed with Istio
		kubectl mesh perf run svc/reviews:9080 -n bookinfo --in-cluster --inject istio

		# Gate CI on a baseline
		kubectl mesh perf run svc/reviews -n bookinfo --compare-to main --max-regression p99=10%,qps=5%

		# The mesh's overhead: the same load against a meshed and an unmeshed copy
		kubectl mesh perf run svc/reviews -n bookinfo --ab svc/reviews --ab-namespace bookinfo-plain

		# Gate on the proxy's CPU and the server-side p99 the mesh measured
		kubectl mesh perf run svc/reviews -n bookinfo --compare-to main --max-regression proxy_cpu=10%,server_p99=2ms`)
)

// PerfRunOptions holds the flags of kubectl mesh perf run.
type PerfRunOptions struct {
	Target        string
	ABTarget      string
	ABNamespace   string
	Path          string
	QPS           float64
	Connections   int
	Duration      time.Duration
	Requests      int64
	Loop          string
	Payload       string
	PayloadFile   string
	ContentType   string
	Method        string
	Headers       []string
	HTTP2         bool
	Timeout       time.Duration
	Resolution    time.Duration
	CACert        string
	Cert          string
	Key           string
	Insecure      bool
	Name          string
	Labels        []string
	InCluster     bool
	Image         string
	Inject        string
	KeepJob       bool
	CompareTo     string
	MaxRegression string
	NoSave        bool
	Output        string
	NoTelemetry   bool
	Prometheus    cmdutil.PrometheusFlags

	spec       *load.Spec
	thresholds []compare.Threshold
	// meshes are those --inject accepts; injectMesh is the one it names.
	meshes     mesh.Registry
	injectMesh mesh.Mesh

	durationSet bool
	results     *resultsDir
	namespace   string
	factory     cmdutil.Factory
	genericiooptions.IOStreams
}

// NewCmdPerfRun creates `kubectl mesh perf run`.
func NewCmdPerfRun(streams genericiooptions.IOStreams, factory cmdutil.Factory, results *resultsDir) *cobra.Command {
	o := &PerfRunOptions{IOStreams: streams, results: results, meshes: factory.Meshes()}
	cmd := &cobra.Command{
		Use:     "run TARGET",
		Short:   "Run a load test against a URL or a Service and store its result",
		Long:    perfRunLong,
		Example: perfRunExample,
		Args:    cobra.ExactArgs(1),
		RunE:    cmdutil.RunOptions(factory, o),
	}
	f := cmd.Flags()
	f.Float64Var(&o.QPS, "qps", 100, "Requests per second over all connections; 0 means as fast as possible (closed loop)")
	f.IntVarP(&o.Connections, "connections", "c", 4, "Concurrent connections")
	f.DurationVarP(&o.Duration, "duration", "t", 30*time.Second, "How long to send load")
	f.Int64VarP(&o.Requests, "requests", "N", 0, "Send exactly this many requests instead of for --duration")
	f.StringVar(&o.Loop, "loop", "", "open (on schedule, late requests skipped, no catch-up) or closed (next request when answered); default open with --qps, closed without")
	f.StringVar(&o.Path, "path", "/", "Request path for svc/ and pod/ targets")
	f.StringVar(&o.Payload, "payload", "", "Request body (makes the requests POSTs)")
	f.StringVar(&o.PayloadFile, "payload-file", "", "File whose content is the request body")
	f.StringVar(&o.ContentType, "content-type", "", "Content-Type of the body")
	f.StringVarP(&o.Method, "method", "X", "", "HTTP method (default GET, POST with a body)")
	f.StringArrayVarP(&o.Headers, "header", "H", nil, `Extra header "Name: value" (repeatable)`)
	f.BoolVar(&o.HTTP2, "http2", false, "Use HTTP/2 (h2 over TLS, h2c over http)")
	f.DurationVar(&o.Timeout, "timeout", 3*time.Second, "Timeout of each request")
	f.DurationVar(&o.Resolution, "resolution", 0, "Latency histogram resolution (default: fitted to the latency measured before the run)")
	f.StringVar(&o.CACert, "cacert", "", "CA certificates file to verify an https target")
	f.StringVar(&o.Cert, "cert", "", "Client certificate file (with --key)")
	f.StringVar(&o.Key, "key", "", "Client key file (with --cert)")
	f.BoolVarP(&o.Insecure, "insecure", "k", false, "Do not verify the target's certificate")
	f.StringVar(&o.Name, "name", "", "Name of the stored result (default: the target and the start time)")
	f.StringArrayVarP(&o.Labels, "label", "l", nil, "Label key=value of the result (repeatable)")
	f.BoolVar(&o.InCluster, "in-cluster", false, "Run the load from a Job in the target's namespace")
	f.StringVar(&o.Image, "image", incluster.DefaultImage, "fortio image of the in-cluster Job")
	f.StringVar(&o.Inject, "inject", "", "Mesh the in-cluster load generator: "+strings.Join(o.meshes.Names(), " or "))
	_ = cmd.RegisterFlagCompletionFunc("inject", cobra.FixedCompletions(o.meshes.Names(), cobra.ShellCompDirectiveNoFileComp))
	f.BoolVar(&o.KeepJob, "keep-job", false, "Leave the in-cluster Job and its pod in place")
	f.StringVar(&o.ABTarget, "ab", "", "Also run the same load against this unmeshed TARGET and report the mesh's overhead")
	f.StringVar(&o.ABNamespace, "ab-namespace", "", "Namespace of a svc/ --ab target (default -n)")
	f.StringVar(&o.CompareTo, "compare-to", "", "Compare the result with this baseline (kubectl mesh perf baseline set), result or result file")
	f.StringVar(&o.MaxRegression, "max-regression", "", "Regression limits for --compare-to and --ab, e.g. p99=10%,qps=5%,errors=0.1%")
	f.BoolVar(&o.NoSave, "no-save", false, "Do not store the result")
	f.BoolVar(&o.NoTelemetry, "no-telemetry", false, "Do not read what the mesh measured of the run from its Prometheus")
	cmdutil.AddPrometheusFlags(cmd, &o.Prometheus)
	f.StringVarP(&o.Output, "output", "o", "", "Print the result as json or yaml instead of the summary")
	return cmd
}

// Validate has nothing left to check: Complete checks each flag as it turns
// it into the load spec.
func (o *PerfRunOptions) Validate() error { return nil }

// Complete turns the flags into a load spec; nothing is sent yet.
func (o *PerfRunOptions) Complete(f cmdutil.Factory, cmd *cobra.Command, args []string) error {
	o.durationSet = cmd.Flags().Changed("duration")
	o.Target, o.factory = args[0], f
	if isClusterTarget(o.Target) {
		if _, err := portforward.ParseTarget(o.Target); err != nil {
			return err
		}
		// A URL target needs no kubeconfig.
		var err error
		if o.namespace, _, err = f.Namespace(); err != nil {
			return err
		}
	}
	// fortio logs every connection's end at info level; its warnings and
	// errors are worth seeing, the summary says the rest.
	fortiolog.SetLogLevelQuiet(fortiolog.Warning)
	if o.Output != "" {
		if err := cmdutil.ValidateOutputFormat(o.Output, "json", "yaml"); err != nil {
			return err
		}
	}
	if o.Requests > 0 && !o.durationSet {
		o.Duration = 0
	}
	if o.Loop == "" {
		o.Loop = string(load.Open)
		if o.QPS == 0 {
			o.Loop = string(load.Closed)
		}
	}
	payload := []byte(o.Payload)
	if o.PayloadFile != "" {
		if o.Payload != "" {
			return errors.New("--payload and --payload-file cannot be used together")
		}
		data, err := os.ReadFile(o.PayloadFile)
		if err != nil {
			return fmt.Errorf("--payload-file: %w", err)
		}
		payload = data
	}
	labels, err := parseLabels(o.Labels)
	if err != nil {
		return err
	}
	if o.Name != "" {
		if err := store.ValidateName(o.Name); err != nil {
			return fmt.Errorf("--name: %w", err)
		}
	}
	if o.Inject != "" {
		if !o.InCluster {
			return errors.New("--inject applies to the in-cluster load generator: add --in-cluster")
		}
		if o.injectMesh, err = o.meshes.Get(o.Inject); err != nil {
			return fmt.Errorf("--inject: %w", err)
		}
	}
	if o.MaxRegression != "" {
		if o.thresholds, err = compare.ParseThresholds(o.MaxRegression); err != nil {
			return err
		}
		if o.CompareTo == "" && o.ABTarget == "" {
			return errors.New("--max-regression needs --compare-to or --ab")
		}
	}
	if o.CompareTo != "" && o.ABTarget != "" {
		return errors.New("--compare-to and --ab cannot be used together: --ab compares its two runs")
	}
	o.spec = &load.Spec{
		Name:        o.Name,
		Labels:      labels,
		Target:      o.Target,
		QPS:         o.QPS,
		Connections: o.Connections,
		Duration:    o.Duration,
		Requests:    o.Requests,
		Loop:        load.Loop(o.Loop),
		Payload:     payload,
		ContentType: o.ContentType,
		Method:      o.Method,
		Headers:     o.Headers,
		HTTP2:       o.HTTP2,
		Timeout:     o.Timeout,
		Resolution:  o.Resolution,
		TLS:         load.TLS{CACert: o.CACert, Cert: o.Cert, Key: o.Key, Insecure: o.Insecure},
	}
	// Everything but the URL, which a port-forward may still have to give.
	check := *o.spec
	check.URL = "http://target.invalid/"
	return check.Validate()
}

// Run runs the load (twice with --ab), stores, prints and gates the result.
func (o *PerfRunOptions) Run(ctx context.Context) error {
	store, err := o.results.open()
	if err != nil {
		return err
	}
	namespace := cmp.Or(o.namespace, "default")
	// A baseline that is not there is an error before the load, not after.
	var baseline *smp.Result
	if o.CompareTo != "" && o.ABTarget == "" {
		if baseline, err = store.Find(o.CompareTo); err != nil {
			return err
		}
	}

	facts := o.clusterFacts(ctx)
	tele := o.openTelemetry(ctx, facts, namespace)
	defer tele.Close()

	var unmeshed *smp.Result
	if o.ABTarget != "" {
		abNamespace := o.ABNamespace
		if abNamespace == "" {
			abNamespace = namespace
		}
		fmt.Fprintf(o.ErrOut, "Unmeshed: %s\n", o.ABTarget)
		if unmeshed, err = o.runOne(ctx, facts, tele, o.ABTarget, abNamespace, "unmeshed"); err != nil {
			return err
		}
		if unmeshed.Interrupted {
			return o.finish(store, []*smp.Result{unmeshed}, nil)
		}
		fmt.Fprintf(o.ErrOut, "Meshed: %s\n", o.Target)
	}
	result, err := o.runOne(ctx, facts, tele, o.Target, namespace, "meshed")
	if err != nil {
		return err
	}
	results := []*smp.Result{result}
	if unmeshed != nil {
		results = []*smp.Result{unmeshed, result}
	}
	var gate *compare.Comparison
	switch {
	case unmeshed != nil && !result.Interrupted:
		gate = compare.Compare(unmeshed, result, o.thresholds)
	case baseline != nil && !result.Interrupted:
		gate = compare.Compare(baseline, result, o.thresholds)
	}
	return o.finish(store, results, gate)
}

// runOne runs the load against one target and joins what the mesh measured
// of it; role names the result of an --ab pair.
func (o *PerfRunOptions) runOne(ctx context.Context, facts *clusterFacts, tele *telemetryJoin, target, namespace, role string) (*smp.Result, error) {
	spec := *o.spec
	spec.Target = target
	if o.ABTarget != "" {
		spec.Labels = withLabel(spec.Labels, "kubectl-mesh.io/ab", role)
		if spec.Name != "" {
			spec.Name += "-" + role
		}
	}
	id := newResultID()

	run := o.runLocal
	if o.InCluster {
		run = o.runInCluster
	}
	result, forwarded, err := run(ctx, &spec, target, namespace, facts, id)
	if err != nil {
		return nil, err
	}
	result.Env = facts.env
	if facts.mesh != nil {
		m := *facts.mesh // each run its own: telemetry adds its figures
		result.Mesh = &m
	}
	if !result.Interrupted {
		tele.join(ctx, result, namespace, target, forwarded)
	}
	return result, nil
}

// runLocal runs the load from this machine; forwarded is the pod a svc/
// target was port-forwarded to.
func (o *PerfRunOptions) runLocal(ctx context.Context, spec *load.Spec, target, namespace string, facts *clusterFacts, id string) (result *smp.Result, forwarded string, err error) {
	spec.URL = target
	var fwd *portforward.Forward
	if isClusterTarget(target) {
		if facts.err != nil {
			return nil, "", fmt.Errorf("target %s needs the cluster: %w", target, facts.err)
		}
		t, err := portforward.ParseTarget(target)
		if err != nil {
			return nil, "", err
		}
		if fwd, err = portforward.Open(ctx, facts.config, facts.client, namespace, t); err != nil {
			return nil, "", err
		}
		defer fwd.Close()
		// A lost port-forward ends the run; what was measured is kept.
		runCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() {
			select {
			case <-fwd.Done():
				cancel()
			case <-runCtx.Done():
			}
		}()
		ctx = runCtx
		scheme := "http"
		if o.CACert != "" || o.Insecure || o.Cert != "" {
			scheme = "https"
		}
		spec.URL = fwd.URL(scheme, o.Path)
		fmt.Fprintf(o.ErrOut, "Forwarding %s to %s/%s port %d\n", fwd.LocalAddr(), namespace, fwd.Pod(), fwd.RemotePort())
	}
	// Live progress on a terminal only; CI logs get the summary.
	opts := runner.Options{Warnings: o.ErrOut}
	if f, ok := o.ErrOut.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		opts.Progress, opts.InPlace = o.ErrOut, true
	}
	out, err := runner.Run(ctx, spec, opts)
	if err != nil {
		return nil, "", err
	}
	result = out.Result(spec, id)
	if fwd != nil {
		forwarded = fwd.Pod()
		if ferr := fwd.Err(); ferr != nil {
			// Every later request would be a socket error: say why instead.
			fmt.Fprintf(o.ErrOut, "Warning: %v\n", ferr)
			result.Interrupted = true
		}
	}
	return result, forwarded, nil
}

func (o *PerfRunOptions) runInCluster(ctx context.Context, spec *load.Spec, target, namespace string, facts *clusterFacts, id string) (*smp.Result, string, error) {
	if facts.err != nil {
		return nil, "", fmt.Errorf("--in-cluster needs the cluster: %w", facts.err)
	}
	spec.URL = target
	if isClusterTarget(target) {
		u, err := serviceURL(ctx, facts.client, namespace, target, o.Path)
		if err != nil {
			return nil, "", err
		}
		spec.URL = u
	}
	if spec.Resolution == 0 {
		// Nothing measures the latency from inside the cluster before the
		// Job runs: 100µs resolves the millisecond latencies of a mesh.
		spec.Resolution = inClusterResolution
	}
	if err := spec.Validate(); err != nil {
		return nil, "", err
	}
	opts := incluster.Options{Namespace: namespace, Image: o.Image, KeepJob: o.KeepJob, Log: o.ErrOut}
	if o.injectMesh != nil {
		opts.PodLabels, opts.PodAnnotations = o.injectMesh.JobPodMarks()
	}
	res, _, err := incluster.Run(ctx, facts.client, spec, opts)
	if err != nil {
		return nil, "", err
	}
	return smp.FromFortio(res, spec.TestConfig(id, true)), "", nil
}

// finish stores and prints the results and applies the gate.
func (o *PerfRunOptions) finish(st *store.Store, results []*smp.Result, gate *compare.Comparison) error {
	for _, r := range results {
		if r.Interrupted {
			fmt.Fprintln(o.ErrOut, "Interrupted: the result holds the requests made until then.")
		}
		if o.NoSave {
			continue
		}
		path, err := st.Save(r)
		if err != nil {
			return err
		}
		fmt.Fprintf(o.ErrOut, "Result %s saved to %s\n", r.Name, path)
	}
	if o.Output != "" {
		var v any = results[len(results)-1]
		if len(results) > 1 {
			v = results
		}
		if err := cmdutil.PrintStructured(o.Out, o.Output, v); err != nil {
			return err
		}
	} else if err := report.Text(o.Out, results); err != nil {
		return err
	}
	if gate == nil {
		return nil
	}
	out := o.Out
	if o.Output != "" {
		out = o.ErrOut // keep stdout parseable
	}
	fmt.Fprintln(out)
	if err := gate.PrintTable(out); err != nil {
		return err
	}
	if err := gate.PrintNotes(o.ErrOut); err != nil {
		return err
	}
	if gate.Regressed() {
		return &cmdutil.ExitCodeError{Code: cmdutil.ExitViolation, Err: fmt.Errorf("performance regression: %s", strings.Join(regressedMetrics(gate), ", "))}
	}
	return nil
}

func regressedMetrics(c *compare.Comparison) []string {
	var names []string
	for _, r := range c.Rows {
		if r.Regressed {
			names = append(names, r.Metric)
		}
	}
	return names
}

func isClusterTarget(target string) bool {
	u, err := url.Parse(target)
	return err != nil || (u.Scheme != "http" && u.Scheme != "https")
}

func withLabel(labels map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(labels)+1)
	for key, val := range labels {
		out[key] = val
	}
	out[k] = v
	return out
}
