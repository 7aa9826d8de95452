package policycmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/kubectl/pkg/util/templates"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-mesh/kubectl-mesh/internal/buildinfo"
	"github.com/kubectl-mesh/kubectl-mesh/internal/inputlimit"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/clusterobjects"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/findings"
	"github.com/kubectl-mesh/kubectl-mesh/policies"
	"github.com/kubectl-mesh/kubectl-mesh/policies/manifest"
	"github.com/kubectl-mesh/kubectl-mesh/policies/scan"
)

var (
	checkLong = templates.LongDesc(`
		Check Istio, Linkerd, SMI and Gateway API resources against the policy
		library, the same policies the admission webhook enforces.

		With -f, the objects come from files, directories (-R to recurse) or
		standard input (-f -), and the other objects in the same input are what
		policies look up: a VirtualService is checked against the Services next
		to it. Without -f, the objects come from the cluster: the current
		namespace, -n NAMESPACE, -A for all of them, or TYPE [NAME] to pick
		objects; lookups see the whole cluster.

		An object can silence policies with the annotation
		kubectl-mesh.io/suppress: MESH1101,IST0102 (IDs or aliases).

		Exit status: 0 when nothing at or above --severity was found, 3 when
		something was (for CI gates), 1 when the input or the cluster could not
		be read completely.`)

	checkExample = templates.Examples(`
		# Check manifests in a directory and its subdirectories
		kubectl mesh check -f manifests/ -R

		# Check what a Helm chart renders, failing the pipeline on errors only
		helm template ./chart | kubectl mesh check -f - --severity error

		# Check every mesh resource in the cluster, as SARIF for code scanning
		kubectl mesh check -A -o sarif > mesh.sarif

		# Check one VirtualService in the cluster with one policy
		kubectl mesh check virtualservice reviews -n bookinfo --policy MESH1101

		# Add your own policies to the library
		kubectl mesh check -f app.yaml --policy-dir ./policies

		# Check files against the mesh config Istio runs with, as istioctl analyze --meshConfigFile
		kubectl mesh check -f app.yaml --mesh-config mesh.yaml`)
)

// CheckOptions holds the flags of `kubectl mesh check`.
type CheckOptions struct {
	Filenames     []string
	Recursive     bool
	Output        string
	Severity      string
	Policies      []string
	PolicyDirs    []string
	MeshConfig    string
	AllNamespaces bool
	Args          []string

	threshold policies.Severity
	namespace string
	factory   cmdutil.Factory
	genericiooptions.IOStreams
}

// NewCmdCheck returns `kubectl mesh check`.
func NewCmdCheck(streams genericiooptions.IOStreams, factory cmdutil.Factory) *cobra.Command {
	o := &CheckOptions{IOStreams: streams, Output: "table", Severity: "warning"}
	cmd := &cobra.Command{
		Use:     "check [-f FILENAME | TYPE [NAME...]]",
		Short:   "Check mesh resources in files or in the cluster against the policy library",
		Long:    checkLong,
		Example: checkExample,
		RunE:    cmdutil.RunOptions(factory, o),
	}
	f := cmd.Flags()
	f.StringSliceVarP(&o.Filenames, "filename", "f", nil, "Files or directories to check; - reads standard input")
	f.BoolVarP(&o.Recursive, "recursive", "R", false, "Process the directories given with -f recursively")
	f.StringVarP(&o.Output, "output", "o", o.Output, "Output format: "+strings.Join(findings.Formats, ", "))
	f.StringVar(&o.Severity, "severity", o.Severity, "Report and fail on findings at or above this severity: info, warning, error")
	f.StringSliceVar(&o.Policies, "policy", nil, "Evaluate only these policies (IDs or istioctl/Kiali aliases, comma-separated)")
	f.StringSliceVar(&o.PolicyDirs, "policy-dir", nil, "Directories of custom Rego policies to evaluate with the library")
	f.BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "Check objects in all namespaces of the cluster")
	f.StringVar(&o.MeshConfig, "mesh-config", "", "Istio MeshConfig YAML that policies read in place of the istio-system/istio ConfigMap (istioctl analyze's --meshConfigFile)")
	return cmd
}

// Complete resolves the namespace and reads the severity.
func (o *CheckOptions) Complete(f cmdutil.Factory, _ *cobra.Command, args []string) error {
	o.Args, o.factory = args, f
	sev, err := policies.ParseSeverity(o.Severity)
	if err != nil {
		return fmt.Errorf("--severity: %w", err)
	}
	o.threshold = sev
	// Files: only -n narrows what is checked; the cluster: -n, else the
	// context's namespace.
	if len(o.Filenames) > 0 {
		o.namespace = cmdutil.NamespaceOverride(f)
		return nil
	}
	o.namespace, _, err = f.Namespace()
	return err
}

// Validate checks the flags against each other.
func (o *CheckOptions) Validate() error {
	if err := cmdutil.ValidateOutputFormat(o.Output, findings.Formats...); err != nil {
		return err
	}
	if len(o.Filenames) > 0 && len(o.Args) > 0 {
		return fmt.Errorf("TYPE [NAME] selects objects in the cluster and cannot be combined with -f (%s)", strings.Join(o.Filenames, ", "))
	}
	if len(o.Filenames) > 0 && o.AllNamespaces {
		return errors.New("--all-namespaces applies to the cluster and cannot be combined with -f")
	}
	if slices.Contains(o.Filenames, manifest.Stdin) && o.In == nil {
		return errors.New("-f -: no standard input")
	}
	return nil
}

// checkMemoryLimit is check's soft memory limit (see Run).
const checkMemoryLimit = 180 << 20

// Run loads the policies, reads the objects, evaluates and prints.
func (o *CheckOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	// A check holds every object twice (decoded, and as Rego values) until
	// it ends. A soft memory limit makes the collector work harder only as
	// the heap nears it, where a low GOGC made it work hard all along (5,000
	// Istio objects in files: GOGC=40 6.4 CPU-s and 263 MiB resident, this
	// 5.4-6.0 CPU-s and 262-282 MiB; GOGC=100 alone 380 MiB). GOGC or
	// GOMEMLIMIT decide when either is set.
	_, gogc := os.LookupEnv("GOGC")
	if _, limit := os.LookupEnv("GOMEMLIMIT"); !gogc && !limit {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(checkMemoryLimit))
	}
	// Parsing the policies and reading the files overlap; from files, only
	// the policies reviewing the kinds read are then compiled.
	type compiled struct {
		engine   *policies.Engine
		selected []policies.Metadata
		err      error
	}
	var objects []manifest.Object
	read := make(chan struct{})
	var kinds func() []policies.Kind
	if len(o.Filenames) > 0 {
		kinds = func() []policies.Kind {
			<-read
			return kindsOf(objects)
		}
	}
	done := make(chan compiled, 1)
	go func() {
		engine, selected, err := o.engine(ctx, kinds)
		done <- compiled{engine, selected, err}
	}()
	var inputErrs []error
	if len(o.Filenames) > 0 {
		objects, inputErrs = manifest.ReadPaths(o.Filenames, o.Recursive, o.In)
	}
	close(read)
	c := <-done
	if c.err != nil {
		return c.err
	}
	engine, selected := c.engine, c.selected
	meshConfig, err := readMeshConfig(o.MeshConfig)
	if err != nil {
		return err
	}
	var res scan.Result
	var present []policies.Kind // the kinds of the input, for unjudged
	if len(o.Filenames) > 0 {
		present = kindsOf(slices.Concat(objects, meshConfig))
		// scan.Run lets the decoded objects go once the inventory is set,
		// unless something here still holds them: a heap twice as large
		// for the collector to walk during the reviews.
		input := objects
		objects = nil
		// Objects of kinds no policy reviews or looks up are neither
		// converted nor indexed, as checkCluster does not list them.
		res = scan.Run(ctx, engine, input, scan.Options{DefaultNamespace: o.namespace, Kinds: scan.NeededKinds(selected), Inventory: meshConfig})
	} else {
		res, inputErrs, err = o.checkCluster(ctx, engine, meshConfig)
		if err != nil {
			return err
		}
	}

	report := &findings.Report{
		Checked:     res.Checked,
		Policies:    selected,
		Unjudged:    unjudged(o.Filenames, selected, res, present),
		Errors:      append(inputErrs, res.Errors...),
		Threshold:   o.threshold,
		ToolVersion: buildinfo.Get().Version,
	}
	for _, f := range res.Findings {
		if f.Severity >= o.threshold && slices.ContainsFunc(selected, func(m policies.Metadata) bool { return m.ID == f.PolicyID }) {
			report.Findings = append(report.Findings, f)
		}
	}
	// Input problems go to stderr in every format, so that piping stdout to a
	// file never hides them; structured formats carry them too.
	for _, e := range report.Errors {
		fmt.Fprintln(o.ErrOut, "error:", e)
	}
	if err := findings.Print(o.Out, o.Output, report); err != nil {
		return err
	}
	switch {
	case len(report.Errors) > 0:
		return &cmdutil.ExitCodeError{Code: cmdutil.ExitError, Err: fmt.Errorf("%d %s: the check is incomplete", len(report.Errors), cmdutil.Plural(len(report.Errors), "input error", "input errors"))}
	case len(report.Findings) > 0:
		return &cmdutil.ExitCodeError{Code: cmdutil.ExitViolation}
	}
	return nil
}

// engine compiles the library with the custom policies and returns the
// policies --policy selects; kinds, when not nil, are the kinds to review
// (policies.Options.Kinds).
func (o *CheckOptions) engine(ctx context.Context, kinds func() []policies.Kind) (*policies.Engine, []policies.Metadata, error) {
	var custom []policies.Source
	for _, dir := range o.PolicyDirs {
		sources, err := policies.LoadDir(dir)
		if err != nil {
			return nil, nil, fmt.Errorf("--policy-dir: %w", err)
		}
		custom = append(custom, sources...)
	}
	// --policy compiles and evaluates only the policies it names.
	engine, err := policies.New(ctx, policies.Options{Custom: custom, Only: o.Policies, Kinds: kinds})
	var unknown *policies.UnknownPolicyError
	if errors.As(err, &unknown) {
		return nil, nil, fmt.Errorf("--policy: no policy has the ID or alias %q (see kubectl mesh policies list)", unknown.ID)
	}
	if err != nil {
		return nil, nil, err
	}
	return engine, engine.Policies(), nil
}

// unjudged are the policies that reviewed objects of the files but lack
// the cluster state they need in them, and found nothing (a finding that
// needs no cluster state, such as MESH1107's empty node label, was
// judged); none for a check of the cluster, whose inventory is the
// cluster's state.
func unjudged(files []string, selected []policies.Metadata, res scan.Result, present []policies.Kind) []policies.Unjudged {
	if len(files) == 0 {
		return nil
	}
	selected = slices.DeleteFunc(slices.Clone(selected), func(m policies.Metadata) bool {
		return slices.ContainsFunc(res.Findings, func(f policies.Finding) bool { return f.PolicyID == m.ID })
	})
	var reviewed []policies.Kind
	for _, c := range res.Checked {
		if k := kindOf(c.Resource.APIVersion, c.Resource.Kind); !slices.Contains(reviewed, k) {
			reviewed = append(reviewed, k)
		}
	}
	return policies.UnjudgedPolicies(selected, reviewed, present)
}

// kindOf is the kind of an object of apiVersion and kind ("v1" is the core group).
func kindOf(apiVersion, kind string) policies.Kind {
	group, _ := policies.SplitAPIVersion(apiVersion)
	return policies.Kind{Group: group, Kind: kind}
}

// kindsOf lists the distinct kinds of objects.
func kindsOf(objects []manifest.Object) []policies.Kind {
	var kinds []policies.Kind
	for _, obj := range objects {
		if k := kindOf(obj.APIVersion(), obj.Kind()); !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	return kinds
}

// checkCluster reviews objects from the cluster, with the whole cluster as
// the inventory.
func (o *CheckOptions) checkCluster(ctx context.Context, engine *policies.Engine, extra []manifest.Object) (scan.Result, []error, error) {
	mapper, err := o.factory.ToRESTMapper()
	if err != nil {
		return scan.Result{}, nil, fmt.Errorf("discovering the cluster's resources: %w", err)
	}
	dyn, err := o.factory.DynamicClient()
	if err != nil {
		return scan.Result{}, nil, err
	}
	var reviewed []policies.Kind
	for _, m := range engine.Policies() {
		reviewed = append(reviewed, m.Kinds...)
	}
	scope := clusterobjects.Scope{Namespace: o.namespace, AllNamespaces: o.AllNamespaces}
	collector := &clusterobjects.Collector{Mapper: mapper, Dynamic: dyn, PageSize: 500}
	listed, err := collector.Collect(ctx, scan.NeededKinds(engine.Policies()), scope)
	if err != nil {
		return scan.Result{}, nil, err
	}
	for _, w := range listed.Warnings {
		fmt.Fprintln(o.ErrOut, "warning:", w)
	}

	var targets, inventory []manifest.Object
	if len(o.Args) > 0 {
		targets, err = o.selectedObjects()
		if err != nil {
			return scan.Result{}, nil, err
		}
		inventory = listed.Objects
	} else {
		for _, obj := range listed.Objects {
			if scope.In(obj) && routed(reviewed, obj) {
				targets = append(targets, obj)
			} else {
				inventory = append(inventory, obj)
			}
		}
	}
	// Objects added last replace the cluster's of the same name.
	inventory = append(inventory, extra...)
	return scan.Run(ctx, engine, targets, scan.Options{DefaultNamespace: o.namespace, Inventory: inventory}), nil, nil
}

// The ConfigMap istiod reads its MeshConfig from, where policies look it up.
const (
	meshConfigNamespace = "istio-system"
	meshConfigName      = "istio"
)

// maxMeshConfigBytes bounds --mesh-config.
const maxMeshConfigBytes = 64 << 10

// readMeshConfig reads --mesh-config: a MeshConfig in YAML, put in the
// inventory as the istio-system/istio ConfigMap's mesh key, as an Istio
// install stores it. Nil without the flag.
func readMeshConfig(path string) ([]manifest.Object, error) {
	if path == "" {
		return nil, nil
	}
	// Bounded as -f is, and to what a MeshConfig holds: the policies
	// unmarshal the text again in Rego, where OPA's yaml.unmarshal takes
	// 29 s for a map of 80,000 keys (1 MB).
	data, err := inputlimit.ReadFile(path)
	if err == nil {
		err = inputlimit.CheckYAML(path, data)
	}
	if err != nil {
		return nil, fmt.Errorf("--mesh-config: %w", err)
	}
	if len(data) > maxMeshConfigBytes {
		return nil, fmt.Errorf("--mesh-config %s: %d KiB, over the %d KiB a MeshConfig may hold here (istiod's are a few KiB)", path, len(data)>>10, maxMeshConfigBytes>>10)
	}
	var mesh map[string]any
	if err := yaml.Unmarshal(data, &mesh); err != nil {
		return nil, fmt.Errorf("--mesh-config %s: not a MeshConfig in YAML: %w", path, err)
	}
	return []manifest.Object{{
		Content: map[string]any{
			"apiVersion": "v1",
			"kind":       "ConfigMap",
			"metadata":   map[string]any{"name": meshConfigName, "namespace": meshConfigNamespace},
			"data":       map[string]any{"mesh": string(data)},
		},
		Source: policies.Location{File: path, Line: 1},
	}}, nil
}

// selectedObjects reads TYPE [NAME...] as kubectl get does.
func (o *CheckOptions) selectedObjects() ([]manifest.Object, error) {
	infos, err := resource.NewBuilder(o.factory).
		Unstructured().
		NamespaceParam(o.namespace).DefaultNamespace().AllNamespaces(o.AllNamespaces).
		ResourceTypeOrNameArgs(true, o.Args...).
		Latest().Flatten().
		Do().Infos()
	if err != nil {
		return nil, err
	}
	objects := make([]manifest.Object, 0, len(infos))
	for _, info := range infos {
		content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(info.Object)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", info.ObjectName(), err)
		}
		objects = append(objects, manifest.Object{Content: content})
	}
	return objects, nil
}

func routed(kinds []policies.Kind, obj manifest.Object) bool {
	kind := kindOf(obj.APIVersion(), obj.Kind())
	return slices.ContainsFunc(kinds, func(k policies.Kind) bool { return k.Matches(kind.Group, kind.Kind) })
}
