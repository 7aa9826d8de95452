package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/kubectl/pkg/util/templates"
)

// What asks each mesh to inject a namespace's pods.
const (
	injectIstioLabel        = "istio-injection"
	injectIstioRevLabel     = "istio.io/rev"
	injectIstioTagLabel     = "istio.io/tag"
	injectLinkerdAnnotation = "linkerd.io/inject"
	injectIstioProxy        = "istio-proxy"
	injectLinkerdProxy      = "linkerd-proxy"
	injectIstioNamespace    = "istio-system"
	injectLinkerdNamespace  = "linkerd"
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
		(istiod in istio-system, linkerd-destination in linkerd) and asks for
		--mesh when both or neither are; disable removes the marks of both meshes.

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

	namespace   string
	configFlags *genericclioptions.ConfigFlags
	// newClient is replaced in tests.
	newClient func() (kubernetes.Interface, error)
	genericiooptions.IOStreams
}

// NewCmdInject returns `kubectl mesh inject` with enable and disable.
func NewCmdInject(streams genericiooptions.IOStreams, configFlags *genericclioptions.ConfigFlags) *cobra.Command {
	return newCmdInject(streams, configFlags, nil)
}

// newCmdInject takes the client to use in tests (nil: from configFlags).
func newCmdInject(streams genericiooptions.IOStreams, configFlags *genericclioptions.ConfigFlags, newClient func() (kubernetes.Interface, error)) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "inject",
		Short:   "Enable or disable sidecar injection for a namespace",
		Long:    injectLong,
		Example: injectExample,
	}
	for _, enable := range []bool{true, false} {
		o := &InjectOptions{IOStreams: streams, configFlags: configFlags, Enable: enable, newClient: newClient}
		cmd.AddCommand(newCmdInjectAction(o))
	}
	return cmd
}

func newCmdInjectAction(o *InjectOptions) *cobra.Command {
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
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&o.Mesh, "mesh", "", "Mesh to inject: istio or linkerd (default: the installed one)")
	if enable {
		cmd.Flags().StringVar(&o.Revision, "revision", "", "Istio revision or revision tag to inject (labels istio.io/rev instead of istio-injection)")
	}
	return cmd
}

// Complete resolves the namespace as kubectl does (-n, else the context's).
func (o *InjectOptions) Complete() error {
	if o.configFlags.Namespace != nil && *o.configFlags.Namespace != "" {
		o.namespace = *o.configFlags.Namespace
	} else {
		ns, _, err := o.configFlags.ToRawKubeConfigLoader().Namespace()
		if err != nil {
			return fmt.Errorf("reading the namespace from the kubeconfig: %w", err)
		}
		o.namespace = ns
	}
	if o.newClient == nil {
		o.newClient = func() (kubernetes.Interface, error) {
			cfg, err := o.configFlags.ToRESTConfig()
			if err != nil {
				return nil, fmt.Errorf("reading the kubeconfig: %w", err)
			}
			return kubernetes.NewForConfig(cfg)
		}
	}
	return nil
}

// Validate checks the flags.
func (o *InjectOptions) Validate() error {
	switch o.Mesh {
	case "", "istio", "linkerd":
	default:
		return fmt.Errorf("--mesh: unknown mesh %q: use istio or linkerd", o.Mesh)
	}
	if o.Revision == "" {
		return nil
	}
	if o.Mesh == "linkerd" {
		return errors.New("--revision applies to Istio only: drop it, or use --mesh istio")
	}
	if errs := validation.IsDNS1123Label(o.Revision); len(errs) > 0 {
		return fmt.Errorf("--revision: %q is not a valid revision name: %s", o.Revision, strings.Join(errs, "; "))
	}
	return nil
}

// Run sets or removes the marks and tells what the existing pods need.
func (o *InjectOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	client, err := o.newClient()
	if err != nil {
		return err
	}
	ns, err := client.CoreV1().Namespaces().Get(ctx, o.namespace, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("reading namespace %s: %w", o.namespace, err)
	}
	meshes, err := o.meshes(ctx, client)
	if err != nil {
		return err
	}

	labels, annotations := o.desired(meshes)
	labelPatch, annotationPatch := injectMapPatch(ns.Labels, labels), injectMapPatch(ns.Annotations, annotations)
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
	o.printChange(meshes, len(labelPatch) > 0, len(annotationPatch) > 0)

	if o.Enable {
		o.warnIfNoInjector(ctx, client, meshes[0])
	}
	o.restartHint(ctx, client, meshes)
	return nil
}

// meshes returns the meshes whose marks to set or remove.
func (o *InjectOptions) meshes(ctx context.Context, client kubernetes.Interface) ([]string, error) {
	switch {
	case o.Mesh != "":
		return []string{o.Mesh}, nil
	case o.Revision != "":
		return []string{"istio"}, nil // revisions are Istio's
	case !o.Enable:
		return []string{"istio", "linkerd"}, nil // no mark of either must stay
	}
	return injectDetectMesh(ctx, client)
}

// injectDetectMesh finds the one installed mesh.
func injectDetectMesh(ctx context.Context, client kubernetes.Interface) ([]string, error) {
	istiods, err := client.AppsV1().Deployments(injectIstioNamespace).List(ctx, metav1.ListOptions{LabelSelector: "app=istiod"})
	if err != nil {
		return nil, fmt.Errorf("looking for istiod in %s: %w (or name the mesh with --mesh istio|linkerd)", injectIstioNamespace, err)
	}
	_, err = client.AppsV1().Deployments(injectLinkerdNamespace).Get(ctx, "linkerd-destination", metav1.GetOptions{})
	linkerd := err == nil
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("looking for linkerd-destination in %s: %w (or name the mesh with --mesh istio|linkerd)", injectLinkerdNamespace, err)
	}
	istio := len(istiods.Items) > 0
	switch {
	case istio && linkerd:
		return nil, errors.New("both Istio and Linkerd are installed: choose one with --mesh istio|linkerd")
	case istio:
		return []string{"istio"}, nil
	case linkerd:
		return []string{"linkerd"}, nil
	}
	return nil, fmt.Errorf("no mesh found (istiod in %s, linkerd-destination in %s): install one, or name it with --mesh istio|linkerd",
		injectIstioNamespace, injectLinkerdNamespace)
}

// desired returns the labels and annotations to set (a value) or remove (nil).
func (o *InjectOptions) desired(meshes []string) (labels, annotations map[string]*string) {
	labels, annotations = map[string]*string{}, map[string]*string{}
	for _, m := range meshes {
		switch {
		case m == "istio" && o.Enable && o.Revision != "":
			labels[injectIstioRevLabel], labels[injectIstioLabel] = &o.Revision, nil
		case m == "istio" && o.Enable:
			enabled := "enabled"
			labels[injectIstioLabel], labels[injectIstioRevLabel] = &enabled, nil
		case m == "istio":
			labels[injectIstioLabel], labels[injectIstioRevLabel] = nil, nil
		case o.Enable:
			enabled := "enabled"
			annotations[injectLinkerdAnnotation] = &enabled
		default:
			annotations[injectLinkerdAnnotation] = nil
		}
	}
	return labels, annotations
}

// injectMapPatch is the merge patch that takes current to want: only the keys
// that change, nil for removals.
func injectMapPatch(current map[string]string, want map[string]*string) map[string]any {
	patch := map[string]any{}
	for k, v := range want {
		cur, ok := current[k]
		switch {
		case v == nil && ok:
			patch[k] = nil
		case v != nil && (!ok || cur != *v):
			patch[k] = *v
		}
	}
	return patch
}

// printChange reports as kubectl label and annotate do.
func (o *InjectOptions) printChange(meshes []string, labeled, annotated bool) {
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
	case len(meshes) > 1:
		fmt.Fprintln(o.Out, name, "unchanged")
	case meshes[0] == "istio":
		fmt.Fprintln(o.Out, name, "not labeled")
	default:
		fmt.Fprintln(o.Out, name, "not annotated")
	}
}

// warnIfNoInjector warns when no injector webhook would answer the
// namespace's pods: the marks are set, but nothing gets injected yet.
func (o *InjectOptions) warnIfNoInjector(ctx context.Context, client kubernetes.Interface, mesh string) {
	hooks, err := client.AdmissionregistrationV1().MutatingWebhookConfigurations().List(ctx, metav1.ListOptions{})
	if err != nil {
		return // only a warning: users without cluster reads still get the labels
	}
	revision := o.Revision
	if revision == "" {
		revision = "default"
	}
	for _, h := range hooks.Items {
		switch {
		case mesh == "linkerd" && strings.HasPrefix(h.Name, "linkerd-proxy-injector"):
			return
		case mesh == "istio" && (h.Labels[injectIstioRevLabel] == revision || h.Labels[injectIstioTagLabel] == revision):
			return
		case mesh == "istio" && o.Revision == "" && h.Name == "istio-sidecar-injector":
			return
		}
	}
	what := "the Linkerd proxy injector"
	if mesh == "istio" {
		what = fmt.Sprintf("Istio revision or tag %q", revision)
	}
	fmt.Fprintf(o.ErrOut, "Warning: no injector webhook of %s is installed: pods in %s are not injected until one is (kubectl mesh status)\n", what, o.namespace)
}

// restartHint tells how many existing pods keep, or lack, proxies until
// their workloads restart.
func (o *InjectOptions) restartHint(ctx context.Context, client kubernetes.Interface, meshes []string) {
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
		if injectHasProxy(p, meshes) != o.Enable {
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
	fmt.Fprintf(o.ErrOut, "%d %s in %s %s %s: %s\n", stale, pluralWord(stale, "pod", "pods"), o.namespace, pluralWord(stale, "runs", "run"), state, restart)
}

// injectHasProxy reports whether a pod runs the proxy of one of meshes, as a
// container or a native sidecar (init container).
func injectHasProxy(p *corev1.Pod, meshes []string) bool {
	names := map[string]bool{}
	for _, m := range meshes {
		if m == "istio" {
			names[injectIstioProxy] = true
		} else {
			names[injectLinkerdProxy] = true
		}
	}
	for _, cs := range [][]corev1.Container{p.Spec.Containers, p.Spec.InitContainers} {
		for _, c := range cs {
			if names[c.Name] {
				return true
			}
		}
	}
	return false
}
