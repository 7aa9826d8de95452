package istio

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"istio.io/istio/manifests"
	admitv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
)

// Tag is a revision tag, a stable name namespaces use (istio.io/rev=<tag>)
// that points at one control plane revision: a MutatingWebhookConfiguration
// labelled istio.io/tag, as istioctl's.
type Tag = mesh.RevisionTag

const injectorSuffix = "sidecar-injector.istio.io"

// ListTags returns the revision tags and the namespaces using each.
func (*Istio) ListTags(ctx context.Context, c mesh.Cluster) ([]Tag, error) {
	return listTags(ctx, c)
}

// listTags returns the revision tags (MutatingWebhookConfigurations
// labelled istio.io/tag) and the namespaces using each, sorted by tag.
func listTags(ctx context.Context, c mesh.Cluster) ([]Tag, error) {
	whs, err := c.Clientset.AdmissionregistrationV1().MutatingWebhookConfigurations().List(ctx, metav1.ListOptions{LabelSelector: labelTag})
	if err != nil {
		return nil, fmt.Errorf("listing revision tags: %w", err)
	}
	byTag := map[string]*Tag{}
	for _, wh := range whs.Items {
		name := wh.Labels[labelTag]
		if _, ok := byTag[name]; ok {
			continue
		}
		nss, err := namespacesWithRev(ctx, c.Clientset, name)
		if err != nil {
			return nil, err
		}
		byTag[name] = &Tag{Tag: name, Revision: revisionOrDefault(wh.Labels[RevLabel]), Namespaces: nss}
	}
	out := make([]Tag, 0, len(byTag))
	for _, k := range sortedKeys(byTag) {
		out = append(out, *byTag[k])
	}
	return out, nil
}

// SetTag points tag at revision as `istioctl tag set` does: it copies the
// revision's injector webhook into istio-revision-tag-<tag> (rendered from
// istiod's chart, selecting namespaces labelled istio.io/rev=<tag>) and adds
// the tag's Service; the "default" tag also takes over unlabelled
// istio-injection=enabled namespaces and the default validator. An
// existing tag is moved only with overwrite.
func (*Istio) SetTag(ctx context.Context, c mesh.Cluster, tag, revision string, overwrite bool) error {
	kube := c.Clientset
	revision = revisionOrDefault(revision)
	if tag == "" {
		return errors.New("the tag name must not be empty")
	}
	if tag != DefaultRevision && !overwrite {
		whs, err := revisionWebhooks(ctx, kube, tag)
		if err != nil {
			return err
		}
		if len(whs) > 0 {
			return fmt.Errorf("cannot create revision tag %q: a control plane revision has that name; choose another tag", tag)
		}
	}
	canon, err := revisionWebhooks(ctx, kube, revision)
	if err != nil {
		return err
	}
	switch len(canon) {
	case 0:
		return fmt.Errorf("cannot set revision tag %q: revision %q is not installed (no injector MutatingWebhookConfiguration labelled istio.io/rev=%s)", tag, revision, revision)
	case 1:
	default:
		return fmt.Errorf("cannot set revision tag %q: found %d injector webhooks for revision %q", tag, len(canon), revision)
	}
	if !overwrite {
		existing, err := kube.AdmissionregistrationV1().MutatingWebhookConfigurations().List(ctx, metav1.ListOptions{LabelSelector: labelTag + "=" + tag})
		if err != nil {
			return fmt.Errorf("reading revision tag %q: %w", tag, err)
		}
		if len(existing.Items) > 0 {
			return fmt.Errorf("revision tag %q already exists (revision %s): use --overwrite to move it", tag, revisionOrDefault(existing.Items[0].Labels[RevLabel]))
		}
	}
	objs, err := tagObjects(ctx, kube, canon[0], tag, revision)
	if err != nil {
		return err
	}
	if tag == DefaultRevision {
		if err := deactivateDefaultInjector(ctx, kube); err != nil {
			return err
		}
	}
	for _, obj := range objs {
		if err := applyObject(ctx, kube, obj); err != nil {
			return err
		}
	}
	return nil
}

// RemoveTag deletes a tag's webhooks and Service. A tag still used by
// namespaces is kept unless force: their new pods would not be injected.
func (*Istio) RemoveTag(ctx context.Context, c mesh.Cluster, tag string, force bool) error {
	kube := c.Clientset
	admit := kube.AdmissionregistrationV1()
	sel := metav1.ListOptions{LabelSelector: labelTag + "=" + tag}
	whs, err := admit.MutatingWebhookConfigurations().List(ctx, sel)
	if err != nil {
		return fmt.Errorf("reading revision tag %q: %w", tag, err)
	}
	if len(whs.Items) == 0 {
		return fmt.Errorf("revision tag %q: %w (kubectl mesh revision tag list shows the tags)", tag, mesh.ErrTagNotFound)
	}
	if !force {
		nss, err := namespacesWithRev(ctx, kube, tag)
		if err != nil {
			return err
		}
		if len(nss) > 0 {
			return fmt.Errorf("revision tag %q is still used by namespaces %s: move them to another revision or tag first, or use --force", tag, strings.Join(nss, ", "))
		}
	}
	for _, wh := range whs.Items {
		if err := admit.MutatingWebhookConfigurations().Delete(ctx, wh.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting MutatingWebhookConfiguration %s: %w", wh.Name, err)
		}
	}
	vwhs, err := admit.ValidatingWebhookConfigurations().List(ctx, sel)
	if err != nil {
		return fmt.Errorf("reading revision tag %q: %w", tag, err)
	}
	for _, wh := range vwhs.Items {
		if err := admit.ValidatingWebhookConfigurations().Delete(ctx, wh.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting ValidatingWebhookConfiguration %s: %w", wh.Name, err)
		}
	}
	svcs, err := kube.CoreV1().Services("").List(ctx, sel)
	if err != nil {
		return fmt.Errorf("reading revision tag %q: %w", tag, err)
	}
	for _, s := range svcs.Items {
		if err := kube.CoreV1().Services(s.Namespace).Delete(ctx, s.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting Service %s/%s: %w", s.Namespace, s.Name, err)
		}
	}
	return nil
}

// revisionWebhooks are a revision's own injector webhooks (not tags').
func revisionWebhooks(ctx context.Context, kube kubernetes.Interface, rev string) ([]admitv1.MutatingWebhookConfiguration, error) {
	whs, err := kube.AdmissionregistrationV1().MutatingWebhookConfigurations().List(ctx, metav1.ListOptions{
		LabelSelector: fmt.Sprintf("%s=%s,!%s", RevLabel, rev, labelTag),
	})
	if err != nil {
		return nil, fmt.Errorf("reading the injector webhooks of revision %q: %w", rev, err)
	}
	return whs.Items, nil
}

// tagObjects renders the tag's webhook (and Service, and for "default" the
// validator) from the embedded istiod chart with the canonical webhook's
// endpoint, CA bundle and labels, as istioctl's tag generator does.
func tagObjects(ctx context.Context, kube kubernetes.Interface, canon admitv1.MutatingWebhookConfiguration, tag, revision string) ([]*unstructured.Unstructured, error) {
	var inj *admitv1.MutatingWebhook
	for i := range canon.Webhooks {
		if strings.HasSuffix(canon.Webhooks[i].Name, injectorSuffix) {
			inj = &canon.Webhooks[i]
			break
		}
	}
	if inj == nil {
		return nil, fmt.Errorf("cannot set revision tag %q: no sidecar injector in webhook %s", tag, canon.Name)
	}
	ns, url, path, svcName := DefaultNamespace, "", "", ""
	if inj.ClientConfig.URL != nil {
		url = *inj.ClientConfig.URL
	}
	if s := inj.ClientConfig.Service; s != nil {
		ns, svcName = s.Namespace, s.Name
		if s.Path != nil {
			path = *s.Path
		}
	}
	rev := revision
	if rev == DefaultRevision {
		rev = ""
	}
	vals := map[string]any{
		"revision":               rev,
		"revisionTags":           []any{tag},
		"sidecarInjectorWebhook": map[string]any{"enableNamespacesByDefault": false},
		"istiodRemote":           map[string]any{"injectionURL": url},
		"global":                 map[string]any{"istioNamespace": ns},
	}
	if inj.ReinvocationPolicy != nil {
		setPath(vals, string(*inj.ReinvocationPolicy), "sidecarInjectorWebhook", "reinvocationPolicy")
	}
	ch, err := lifecycle.LoadChartFS(manifests.FS, chartOf(compIstiod).dir)
	if err != nil {
		return nil, err
	}
	rendered, err := renderObjects(ctx, ch, istiodName(revision), ns, vals)
	if err != nil {
		return nil, err
	}
	labels := maps.Clone(canon.Labels)
	delete(labels, "app")
	var out []*unstructured.Unstructured
	for _, obj := range rendered {
		switch {
		case obj.GetKind() == "MutatingWebhookConfiguration" && strings.HasPrefix(obj.GetName(), "istio-revision-tag-"):
			wh := &admitv1.MutatingWebhookConfiguration{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, wh); err != nil {
				return nil, fmt.Errorf("decoding the rendered tag webhook: %w", err)
			}
			for i := range wh.Webhooks {
				wh.Webhooks[i].ClientConfig.CABundle = inj.ClientConfig.CABundle
				if s := wh.Webhooks[i].ClientConfig.Service; s != nil {
					s.Path = &path
					s.Name = svcName
				}
			}
			wh.Labels = mergeLabels(wh.Labels, labels)
			wh.Labels[labelTag], wh.Labels[RevLabel] = tag, revision
			wh.Annotations = mergeLabels(wh.Annotations, canon.Annotations)
			u, err := toUnstructured(wh, "admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration")
			if err != nil {
				return nil, err
			}
			out = append(out, u)
		case obj.GetKind() == "Service" && obj.GetLabels()[labelTag] == tag:
			obj.SetNamespace(ns)
			out = append(out, obj)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("cannot set revision tag %q: istiod's chart rendered no tag webhook", tag)
	}
	if tag == DefaultRevision {
		vwh, err := defaultValidator(ctx, kube, rev, ns, url, inj.ClientConfig.CABundle, labels)
		if err != nil {
			return nil, err
		}
		out = append(out, vwh)
	}
	return out, nil
}

// defaultValidator renders istiod-default-validator for the default tag's
// revision from the embedded "default" chart, keeping a Fail policy istiod
// already set.
func defaultValidator(ctx context.Context, kube kubernetes.Interface, rev, ns, url string, ca []byte, labels map[string]string) (*unstructured.Unstructured, error) {
	if url != "" {
		url = strings.TrimSuffix(url, "/inject") + "/validate"
	}
	ch, err := lifecycle.LoadChartFS(manifests.FS, "charts/default")
	if err != nil {
		return nil, err
	}
	rendered, err := renderObjects(ctx, ch, "istio", ns, map[string]any{
		"revision": rev,
		"base":     map[string]any{"validationURL": url},
		"global":   map[string]any{"istioNamespace": ns},
	})
	if err != nil {
		return nil, err
	}
	current, err := kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(ctx, "istiod-default-validator", metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("reading istiod-default-validator: %w", err)
	}
	for _, obj := range rendered {
		if obj.GetKind() != "ValidatingWebhookConfiguration" {
			continue
		}
		vwh := &admitv1.ValidatingWebhookConfiguration{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, vwh); err != nil {
			return nil, fmt.Errorf("decoding the rendered validator: %w", err)
		}
		for i := range vwh.Webhooks {
			vwh.Webhooks[i].ClientConfig.CABundle = ca
			if current != nil && err == nil {
				for _, w := range current.Webhooks {
					if w.Name == vwh.Webhooks[i].Name && w.FailurePolicy != nil && *w.FailurePolicy == admitv1.Fail {
						vwh.Webhooks[i].FailurePolicy = w.FailurePolicy
					}
				}
			}
		}
		vwh.Labels = mergeLabels(vwh.Labels, labels)
		vwh.Labels[labelTag] = DefaultRevision
		return toUnstructured(vwh, "admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration")
	}
	return nil, errors.New("cannot set the default revision tag: the default chart rendered no validator")
}

// deactivateDefaultInjector makes the unrevisioned injector match nothing
// instead of deleting it, as istioctl does, so moving back stays possible.
func deactivateDefaultInjector(ctx context.Context, kube kubernetes.Interface) error {
	whs, err := revisionWebhooks(ctx, kube, DefaultRevision)
	if err != nil || len(whs) != 1 {
		return err
	}
	wh := whs[0]
	never := &metav1.LabelSelector{MatchLabels: map[string]string{"istio.io/deactivated": "never-match"}}
	for i := range wh.Webhooks {
		wh.Webhooks[i].NamespaceSelector = never
		wh.Webhooks[i].ObjectSelector = never
	}
	if _, err := kube.AdmissionregistrationV1().MutatingWebhookConfigurations().Update(ctx, &wh, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("deactivating the default injector %s: %w", wh.Name, err)
	}
	return nil
}

// applyObject creates obj or replaces the existing one.
func applyObject(ctx context.Context, kube kubernetes.Interface, obj *unstructured.Unstructured) error {
	switch obj.GetKind() {
	case "MutatingWebhookConfiguration":
		return createOrReplace(ctx, obj, kube.AdmissionregistrationV1().MutatingWebhookConfigurations(), nil)
	case "ValidatingWebhookConfiguration":
		return createOrReplace(ctx, obj, kube.AdmissionregistrationV1().ValidatingWebhookConfigurations(), nil)
	case "Service":
		// Keep the allocated cluster IP: it is immutable.
		keepIP := func(want, cur *corev1.Service) {
			want.Spec.ClusterIP, want.Spec.ClusterIPs = cur.Spec.ClusterIP, cur.Spec.ClusterIPs
		}
		return createOrReplace(ctx, obj, kube.CoreV1().Services(obj.GetNamespace()), keepIP)
	default:
		return fmt.Errorf("applying %s %s: unexpected kind", obj.GetKind(), obj.GetName())
	}
}

// typedClient is the part of a client-go typed client createOrReplace uses.
type typedClient[T any] interface {
	Get(ctx context.Context, name string, opts metav1.GetOptions) (T, error)
	Create(ctx context.Context, obj T, opts metav1.CreateOptions) (T, error)
	Update(ctx context.Context, obj T, opts metav1.UpdateOptions) (T, error)
}

// createOrReplace decodes obj into its typed form and creates it, or
// replaces the existing object (keep, when set, carries over what must not
// change).
func createOrReplace[T any, PT interface {
	*T
	metav1.Object
}](ctx context.Context, obj *unstructured.Unstructured, api typedClient[PT], keep func(want, cur PT)) error {
	what := obj.GetKind() + " " + obj.GetName()
	want := PT(new(T))
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, want); err != nil {
		return fmt.Errorf("decoding %s: %w", what, err)
	}
	cur, err := api.Get(ctx, want.GetName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = api.Create(ctx, want, metav1.CreateOptions{})
	} else if err == nil {
		want.SetResourceVersion(cur.GetResourceVersion())
		if keep != nil {
			keep(want, cur)
		}
		_, err = api.Update(ctx, want, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("applying %s: %w", what, err)
	}
	return nil
}

func toUnstructured(obj runtime.Object, apiVersion, kind string) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", kind, err)
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	return u, nil
}

func mergeLabels(a, b map[string]string) map[string]string {
	out := maps.Clone(a)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, b)
	return out
}

// namespacesWithRev are the namespaces labelled istio.io/rev=<rev>, sorted.
func namespacesWithRev(ctx context.Context, kube kubernetes.Interface, rev string) ([]string, error) {
	list, err := kube.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: RevLabel + "=" + rev})
	if err != nil {
		return nil, fmt.Errorf("listing namespaces of revision %q: %w", rev, err)
	}
	var out []string
	for _, ns := range list.Items {
		out = append(out, ns.Name)
	}
	slices.Sort(out)
	return out, nil
}
