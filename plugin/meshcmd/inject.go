package meshcmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
)

var (
	injectLong = templates.LongDesc(`
		Enable or disable automatic sidecar injection for the pods of a namespace.

		Istio: enable labels the namespace istio-injection=enabled, or
		istio.io/rev=REVISION with --revision (a revision or a tag, for canary
		upgrades), and removes the other label, since a namespace with both is
		ambiguous (IST0123). Linkerd: enable annotates it linkerd.io/inject=enabled.
		Disable removes them.

		Without --mesh, enable injects for the mesh installed in the cluster
		(istiod, or Linkerd's destination controller) and asks for --mesh when
		several or none are; disable removes the marks the namespace carries,
		whichever mesh set them, so that marks of a mesh already uninstalled
		go too.

		Injection happens when pods are created: restart the workloads for
		existing pods to get, or lose, their proxies.`)

	injectExample = templates.Examples(`
		# Inject the pods of the shop namespace with the installed mesh
		kubectl mesh inject enable -n shop

		# Move the shop namespace to the Istio canary revision
		kubectl mesh inject enable -n shop --revision canary
		kubectl rollout restart deployment -n shop

		# Stop injecting Linkerd proxies in the shop namespace
		kubectl mesh inject disable -n shop --mesh linkerd`)
)

// InjectOptions holds the flags of `kubectl mesh inject enable|disable`.
type InjectOptions struct {
	Enable   bool
	Mesh     string
	Revision string

	// candidates are the meshes --mesh and --revision allow; meshes are
	// those whose marks Run sets or removes, detected among them.
	candidates mesh.Registry
	meshes     []mesh.Mesh
	namespace  string
	factory    cmdutil.Factory
	genericiooptions.IOStreams
}

// NewCmdInject returns `kubectl mesh inject` with enable and disable.
func NewCmdInject(streams genericiooptions.IOStreams, factory cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "inject",
		Short:   "Enable or disable sidecar injection for a namespace",
		Long:    injectLong,
		Example: injectExample,
	}
	for _, enable := range []bool{true, false} {
		o := &InjectOptions{IOStreams: streams, Enable: enable}
		cmd.AddCommand(newCmdInjectAction(factory, o))
	}
	return cmd
}

func newCmdInjectAction(factory cmdutil.Factory, o *InjectOptions) *cobra.Command {
	enable := o.Enable
	use, short := "disable", "Stop injecting proxies into new pods of the namespace"
	if enable {
		use, short = "enable", "Inject proxies into new pods of the namespace"
	}
	cmd := &cobra.Command{
		Use:     use + " [-n NAMESPACE] [--mesh istio|linkerd]",
		Short:   short,
		Long:    injectLong,
		Example: injectExample,
		Args:    cobra.NoArgs,
		RunE:    cmdutil.RunOptions(factory, o),
	}
	usage := "Mesh whose marks to remove (default: every mesh that marks the namespace)"
	if enable {
		usage = "Mesh to inject (default: the installed one)"
		cmd.Flags().StringVar(&o.Revision, "revision", "", "Istio revision or revision tag to inject (labels istio.io/rev instead of istio-injection)")
	}
	cmdutil.AddMeshFlag(cmd, &o.Mesh, factory.Meshes().Names(), usage)
	return cmd
}

// Complete resolves the namespace as kubectl does (-n, else the context's).
func (o *InjectOptions) Complete(f cmdutil.Factory, _ *cobra.Command, _ []string) error {
	o.factory = f
	var err error
	o.namespace, _, err = f.Namespace()
	return err
}

// Validate checks the flags and narrows the meshes to the one --mesh
// names, and with --revision to those that have revisions.
func (o *InjectOptions) Validate() error {
	o.candidates = o.factory.Meshes()
	if o.Mesh != "" {
		m, err := cmdutil.MeshFlag(o.factory, o.Mesh)
		if err != nil {
			return err
		}
		o.candidates = mesh.Registry{m}
	}
	if o.Revision == "" {
		return nil
	}
	if errs := validation.IsDNS1123Label(o.Revision); len(errs) > 0 {
		return fmt.Errorf("--revision: %q is not a valid revision name: %s", o.Revision, strings.Join(errs, "; "))
	}
	var accepted mesh.Registry
	var errs []error
	for _, m := range o.candidates {
		if err := m.ValidateInjection(o.Revision); err != nil {
			errs = append(errs, err)
			continue
		}
		accepted = append(accepted, m)
	}
	if len(accepted) == 0 {
		return errors.Join(errs...)
	}
	o.candidates = accepted
	return nil
}

// Run sets or removes the marks and tells what the existing pods need.
func (o *InjectOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	cluster, _, err := o.factory.MeshCluster(io.Discard)
	if err != nil {
		return err
	}
	client := cluster.Clientset
	ns, err := client.CoreV1().Namespaces().Get(ctx, o.namespace, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("reading namespace %s: %w", o.namespace, err)
	}
	if err := o.detect(ctx, *cluster, ns); err != nil {
		return err
	}

	marks := mesh.Marks{Labels: map[string]*string{}, Annotations: map[string]*string{}}
	for _, m := range o.meshes {
		mm := m.InjectionMarks(o.Enable, o.Revision)
		maps.Copy(marks.Labels, mm.Labels)
		maps.Copy(marks.Annotations, mm.Annotations)
	}
	labelPatch, annotationPatch := marks.Patch(ns)
	if len(labelPatch)+len(annotationPatch) > 0 {
		meta := map[string]any{}
		if len(labelPatch) > 0 {
			meta["labels"] = labelPatch
		}
		if len(annotationPatch) > 0 {
			meta["annotations"] = annotationPatch
		}
		patch, err := json.Marshal(map[string]any{"metadata": meta})
		if err != nil {
			return fmt.Errorf("encoding the patch: %w", err)
		}
		if _, err := client.CoreV1().Namespaces().Patch(ctx, o.namespace, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			return fmt.Errorf("updating namespace %s: %w", o.namespace, err)
		}
	}
	o.printChange(marks, len(labelPatch) > 0, len(annotationPatch) > 0)

	if o.Enable {
		o.warnIfNoInjector(ctx, *cluster)
	}
	o.restartHint(ctx, client)
	return nil
}

// detect picks the meshes among the candidates: the only one, else for
// enable the one installed; for disable the ones whose marks the namespace
// carries, read from the namespace rather than the cluster because marks
// of a mesh already uninstalled must go too (all of them when it carries
// none: there is nothing to remove).
func (o *InjectOptions) detect(ctx context.Context, c mesh.Cluster, ns *corev1.Namespace) error {
	o.meshes = nil
	if len(o.candidates) == 1 {
		o.meshes = o.candidates
		return nil
	}
	if o.Enable {
		m, err := o.candidates.Detect(ctx, c)
		if err != nil {
			return fmt.Errorf("%w: name the mesh with --mesh", err)
		}
		o.meshes = []mesh.Mesh{m}
		return nil
	}
	for _, m := range o.candidates {
		if l, a := m.InjectionMarks(false, "").Patch(ns); len(l)+len(a) > 0 {
			o.meshes = append(o.meshes, m)
		}
	}
	if len(o.meshes) == 0 {
		o.meshes = o.candidates
	}
	return nil
}

// printChange reports as kubectl label and annotate do.
func (o *InjectOptions) printChange(marks mesh.Marks, labeled, annotated bool) {
	name := "namespace/" + o.namespace
	switch {
	case labeled && o.Enable:
		fmt.Fprintln(o.Out, name, "labeled")
	case labeled:
		fmt.Fprintln(o.Out, name, "unlabeled")
	}
	if annotated {
		fmt.Fprintln(o.Out, name, "annotated")
	}
	switch {
	case labeled || annotated:
	case len(o.meshes) > 1:
		fmt.Fprintln(o.Out, name, "unchanged")
	case len(marks.Labels) > 0:
		fmt.Fprintln(o.Out, name, "not labeled")
	default:
		fmt.Fprintln(o.Out, name, "not annotated")
	}
}

// warnIfNoInjector warns when no injector webhook would answer the
// namespace's pods: the marks are set, but nothing gets injected yet.
func (o *InjectOptions) warnIfNoInjector(ctx context.Context, c mesh.Cluster) {
	missing, err := o.meshes[0].MissingInjector(ctx, c, o.Revision)
	if err != nil || missing == "" {
		return // only a warning: users without cluster reads still get the marks
	}
	fmt.Fprintf(o.ErrOut, "Warning: no injector webhook of %s is installed: pods in %s are not injected until one is (kubectl mesh status)\n", missing, o.namespace)
}

// restartHint tells how many existing pods keep, or lack, proxies until
// their workloads restart.
func (o *InjectOptions) restartHint(ctx context.Context, client kubernetes.Interface) {
	action := "uninject"
	if o.Enable {
		action = "inject"
	}
	restart := fmt.Sprintf("restart workloads to %s: kubectl rollout restart deployment -n %s", action, o.namespace)
	pods, err := client.CoreV1().Pods(o.namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		fmt.Fprintln(o.ErrOut, "Existing pods keep their current proxies:", restart)
		return
	}
	stale := 0
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		meshed := slices.ContainsFunc(o.meshes, func(m mesh.Mesh) bool { return m.HasProxy(p) })
		if meshed != o.Enable {
			stale++
		}
	}
	if stale == 0 {
		return
	}
	state := "the proxy"
	if o.Enable {
		state = "without the proxy"
	}
	fmt.Fprintf(o.ErrOut, "%d %s in %s %s %s: %s\n", stale, cmdutil.Plural(stale, "pod", "pods"), o.namespace, cmdutil.Plural(stale, "runs", "run"), state, restart)
}
