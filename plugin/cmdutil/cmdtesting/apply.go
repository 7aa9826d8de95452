package cmdtesting

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/apimachinery/pkg/watch"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/metadata"
	clienttesting "k8s.io/client-go/testing"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/apply"
)

// applyKinds are the kinds the fake apiserver of NewApplyClient serves:
// the core kinds patterns and apply sets use, every kind the mesh
// translators render (TestApplyEveryMesh in plugin/patterncmd checks) and
// the sample applications render (plugin/appcmd's tests).
var applyKinds = map[schema.GroupVersionKind]meta.RESTScope{
	{Version: "v1", Kind: "Namespace"}:                                               meta.RESTScopeRoot,
	{Version: "v1", Kind: "ConfigMap"}:                                               meta.RESTScopeNamespace,
	{Version: "v1", Kind: "Service"}:                                                 meta.RESTScopeNamespace,
	{Version: "v1", Kind: "ServiceAccount"}:                                          meta.RESTScopeNamespace,
	{Group: "apps", Version: "v1", Kind: "Deployment"}:                               meta.RESTScopeNamespace,
	{Group: "networking.istio.io", Version: "v1", Kind: "Gateway"}:                   meta.RESTScopeNamespace,
	{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "Gateway"}:             meta.RESTScopeNamespace,
	{Group: "networking.istio.io", Version: "v1", Kind: "VirtualService"}:            meta.RESTScopeNamespace,
	{Group: "networking.istio.io", Version: "v1", Kind: "DestinationRule"}:           meta.RESTScopeNamespace,
	{Group: "networking.istio.io", Version: "v1", Kind: "ServiceEntry"}:              meta.RESTScopeNamespace,
	{Group: "networking.istio.io", Version: "v1alpha3", Kind: "EnvoyFilter"}:         meta.RESTScopeNamespace,
	{Group: "security.istio.io", Version: "v1", Kind: "AuthorizationPolicy"}:         meta.RESTScopeNamespace,
	{Group: "security.istio.io", Version: "v1", Kind: "PeerAuthentication"}:          meta.RESTScopeNamespace,
	{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "HTTPRoute"}:           meta.RESTScopeNamespace,
	{Group: "policy.linkerd.io", Version: "v1beta3", Kind: "Server"}:                 meta.RESTScopeNamespace,
	{Group: "policy.linkerd.io", Version: "v1alpha1", Kind: "MeshTLSAuthentication"}: meta.RESTScopeNamespace,
	{Group: "policy.linkerd.io", Version: "v1alpha1", Kind: "AuthorizationPolicy"}:   meta.RESTScopeNamespace,
	{Group: "linkerd.io", Version: "v1alpha2", Kind: "ServiceProfile"}:               meta.RESTScopeNamespace,
	{Group: "policy.linkerd.io", Version: "v1beta3", Kind: "HTTPRoute"}:              meta.RESTScopeNamespace,
	{Group: "specs.smi-spec.io", Version: "v1alpha4", Kind: "HTTPRouteGroup"}:        meta.RESTScopeNamespace,
	{Group: "split.smi-spec.io", Version: "v1alpha4", Kind: "TrafficSplit"}:          meta.RESTScopeNamespace,
	{Group: "access.smi-spec.io", Version: "v1alpha3", Kind: "TrafficTarget"}:        meta.RESTScopeNamespace,
	{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"}: meta.RESTScopeRoot,
}

// NewApplyClient returns an apply client over a fake apiserver holding
// objects, and the fake's dynamic client (to seed, inspect, or make fail
// with PrependReactor). The fake serves applyKinds and does what the apply
// client relies on, as an apiserver does: server-side apply with field
// ownership and conflicts (deduced schemas, as for CRDs without one),
// dry runs of apply and delete that persist nothing, a resourceVersion
// stamped on every write (an apply that changes nothing writes nothing).
// The metadata client reads and writes the same objects.
func NewApplyClient(t testing.TB, objects ...*unstructured.Unstructured) (*apply.Client, *dynamicfake.FakeDynamicClient) {
	t.Helper()
	var versions []schema.GroupVersion
	for gvk := range applyKinds {
		versions = append(versions, gvk.GroupVersion())
	}
	// The default versions resolve a kind without one (list and delete
	// find the members by group and kind).
	mapper := meta.NewDefaultRESTMapper(versions)
	listKinds := map[schema.GroupVersionResource]string{}
	for gvk, scope := range applyKinds {
		mapper.Add(gvk, scope)
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			t.Fatal(err)
		}
		listKinds[m.Resource] = gvk.Kind + "List"
	}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds)
	srv := &applyServer{tracker: &versionedTracker{ObjectTracker: dyn.Tracker()}, mapper: mapper}
	// The fake's own reaction, over the tracker that stamps versions.
	dyn.ReactionChain = nil
	dyn.AddReactor("*", "*", srv.react)
	dyn.AddReactor("*", "*", clienttesting.ObjectReaction(srv.tracker))
	for _, o := range objects {
		m, err := mapper.RESTMapping(o.GroupVersionKind().GroupKind(), o.GroupVersionKind().Version)
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.tracker.Create(m.Resource, o, o.GetNamespace()); err != nil {
			t.Fatal(err)
		}
	}
	c := apply.NewForClients(dyn, metadataOf{dyn}, staticMapper{mapper})
	c.Tooling = "v0.0.0-test"
	return c, dyn
}

// staticMapper is a RESTMapper over fixed kinds: Reset finds nothing new.
type staticMapper struct{ meta.RESTMapper }

func (staticMapper) Reset() {}

// versionedTracker stamps a new resourceVersion (and a creation time) on
// every object it stores, as the apiserver does; client-go's tracker keeps
// its versions to itself.
type versionedTracker struct {
	clienttesting.ObjectTracker
	mu      sync.Mutex
	version int
}

func (t *versionedTracker) stamp(obj runtime.Object, created bool) (runtime.Object, error) {
	obj = obj.DeepCopyObject()
	acc, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.version++
	acc.SetResourceVersion(strconv.Itoa(t.version))
	t.mu.Unlock()
	if ts := acc.GetCreationTimestamp(); created && ts.IsZero() {
		acc.SetCreationTimestamp(metav1.Now())
	}
	return obj, nil
}

func (t *versionedTracker) Create(gvr schema.GroupVersionResource, obj runtime.Object, ns string, opts ...metav1.CreateOptions) error {
	obj, err := t.stamp(obj, true)
	if err != nil {
		return err
	}
	return t.ObjectTracker.Create(gvr, obj, ns, opts...)
}

func (t *versionedTracker) Update(gvr schema.GroupVersionResource, obj runtime.Object, ns string, opts ...metav1.UpdateOptions) error {
	obj, err := t.stamp(obj, false)
	if err != nil {
		return err
	}
	return t.ObjectTracker.Update(gvr, obj, ns, opts...)
}

func (t *versionedTracker) Patch(gvr schema.GroupVersionResource, obj runtime.Object, ns string, opts ...metav1.PatchOptions) error {
	obj, err := t.stamp(obj, false)
	if err != nil {
		return err
	}
	return t.ObjectTracker.Patch(gvr, obj, ns, opts...)
}

// applyServer handles what client-go's object tracker does not as an
// apiserver would: server-side apply and dry runs.
type applyServer struct {
	tracker clienttesting.ObjectTracker
	mapper  meta.RESTMapper
}

func (s *applyServer) react(action clienttesting.Action) (bool, runtime.Object, error) {
	switch a := action.(type) {
	case clienttesting.PatchActionImpl:
		if a.GetPatchType() != types.ApplyPatchType {
			return false, nil, nil
		}
		obj, err := s.apply(a)
		return true, obj, err
	case clienttesting.DeleteActionImpl:
		if len(a.DeleteOptions.DryRun) == 0 {
			return false, nil, nil
		}
		_, err := s.tracker.Get(a.GetResource(), a.GetNamespace(), a.GetName())
		return true, nil, err
	}
	return false, nil, nil
}

// apply is server-side apply: the field manager merges the applied
// configuration into the live object (or a new one) and records who owns
// what; a dry run returns the result without storing it.
func (s *applyServer) apply(a clienttesting.PatchActionImpl) (runtime.Object, error) {
	gvr, ns, name := a.GetResource(), a.GetNamespace(), a.GetName()
	decoded, err := runtime.Decode(unstructured.UnstructuredJSONScheme, a.GetPatch())
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	patch, ok := decoded.(*unstructured.Unstructured)
	if !ok {
		return nil, apierrors.NewBadRequest("apply of a list")
	}
	patch.SetName(name)
	gvk := patch.GroupVersionKind()
	if kind, err := s.mapper.KindFor(gvr); err != nil || kind != gvk {
		return nil, apierrors.NewBadRequest("applying " + gvk.String() + " to " + gvr.String())
	}
	var live runtime.Object
	exists := true
	if live, err = s.tracker.Get(gvr, ns, name); apierrors.IsNotFound(err) {
		exists = false
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(gvk)
		live = u
	} else if err != nil {
		return nil, err
	}
	mgr, err := managedfields.NewDefaultFieldManager(managedfields.NewDeducedTypeConverter(),
		unstructuredConvertor{}, noDefaults{}, unstructuredCreater{}, gvk, gvk.GroupVersion(), "", nil)
	if err != nil {
		return nil, err
	}
	force := a.PatchOptions.Force != nil && *a.PatchOptions.Force
	out, err := mgr.Apply(live, patch, a.PatchOptions.FieldManager, force)
	if err != nil {
		return nil, err
	}
	switch {
	case len(a.PatchOptions.DryRun) > 0:
		return out, nil
	case exists && equality.Semantic.DeepEqual(live, out):
		// No change, no write: the resourceVersion stays.
		return live, nil
	}
	if exists {
		err = s.tracker.Update(gvr, out, ns)
	} else {
		err = s.tracker.Create(gvr, out, ns)
	}
	if err != nil {
		return nil, err
	}
	return s.tracker.Get(gvr, ns, name)
}

// unstructuredConvertor converts an object to the one version it has.
type unstructuredConvertor struct{}

func (unstructuredConvertor) Convert(in, out, _ any) error {
	return runtime.DefaultUnstructuredConverter.FromUnstructured(in.(runtime.Unstructured).UnstructuredContent(), out)
}

func (unstructuredConvertor) ConvertToVersion(in runtime.Object, gv runtime.GroupVersioner) (runtime.Object, error) {
	out := in.DeepCopyObject()
	gvk := out.GetObjectKind().GroupVersionKind()
	if target, ok := gv.KindForGroupVersionKinds([]schema.GroupVersionKind{gvk}); ok {
		out.GetObjectKind().SetGroupVersionKind(target)
	}
	return out, nil
}

func (unstructuredConvertor) ConvertFieldLabel(_ schema.GroupVersionKind, label, value string) (string, string, error) {
	return label, value, nil
}

type unstructuredCreater struct{}

func (unstructuredCreater) New(gvk schema.GroupVersionKind) (runtime.Object, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	return u, nil
}

type noDefaults struct{}

func (noDefaults) Default(runtime.Object) {}

// metadataOf is the metadata client's view of the dynamic fake's objects:
// one store, as the apiserver has.
type metadataOf struct {
	dyn *dynamicfake.FakeDynamicClient
}

func (m metadataOf) Resource(gvr schema.GroupVersionResource) metadata.Getter {
	return metadataResource{m: m, gvr: gvr}
}

type metadataResource struct {
	m         metadataOf
	gvr       schema.GroupVersionResource
	namespace string
}

func (r metadataResource) Namespace(ns string) metadata.ResourceInterface {
	r.namespace = ns
	return r
}

func (r metadataResource) dynamic() interface {
	Get(context.Context, string, metav1.GetOptions, ...string) (*unstructured.Unstructured, error)
	List(context.Context, metav1.ListOptions) (*unstructured.UnstructuredList, error)
	Patch(context.Context, string, types.PatchType, []byte, metav1.PatchOptions, ...string) (*unstructured.Unstructured, error)
	Delete(context.Context, string, metav1.DeleteOptions, ...string) error
	DeleteCollection(context.Context, metav1.DeleteOptions, metav1.ListOptions) error
} {
	if r.namespace == "" {
		return r.m.dyn.Resource(r.gvr)
	}
	return r.m.dyn.Resource(r.gvr).Namespace(r.namespace)
}

func partial(u *unstructured.Unstructured) *metav1.PartialObjectMetadata {
	p := &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: u.GetAPIVersion(), Kind: u.GetKind()}}
	p.Name, p.Namespace, p.ResourceVersion = u.GetName(), u.GetNamespace(), u.GetResourceVersion()
	p.Labels, p.Annotations, p.ManagedFields = u.GetLabels(), u.GetAnnotations(), u.GetManagedFields()
	p.UID, p.Generation, p.CreationTimestamp = u.GetUID(), u.GetGeneration(), u.GetCreationTimestamp()
	return p
}

func (r metadataResource) Get(ctx context.Context, name string, opts metav1.GetOptions, sub ...string) (*metav1.PartialObjectMetadata, error) {
	u, err := r.dynamic().Get(ctx, name, opts, sub...)
	if err != nil {
		return nil, err
	}
	return partial(u), nil
}

func (r metadataResource) List(ctx context.Context, opts metav1.ListOptions) (*metav1.PartialObjectMetadataList, error) {
	l, err := r.dynamic().List(ctx, opts)
	if err != nil {
		return nil, err
	}
	out := &metav1.PartialObjectMetadataList{}
	out.ResourceVersion, out.Continue = l.GetResourceVersion(), l.GetContinue()
	for i := range l.Items {
		out.Items = append(out.Items, *partial(&l.Items[i]))
	}
	return out, nil
}

func (r metadataResource) Patch(ctx context.Context, name string, pt types.PatchType, data []byte, opts metav1.PatchOptions, sub ...string) (*metav1.PartialObjectMetadata, error) {
	u, err := r.dynamic().Patch(ctx, name, pt, data, opts, sub...)
	if err != nil {
		return nil, err
	}
	return partial(u), nil
}

func (r metadataResource) Delete(ctx context.Context, name string, opts metav1.DeleteOptions, sub ...string) error {
	return r.dynamic().Delete(ctx, name, opts, sub...)
}

func (r metadataResource) DeleteCollection(ctx context.Context, opts metav1.DeleteOptions, listOpts metav1.ListOptions) error {
	return r.dynamic().DeleteCollection(ctx, opts, listOpts)
}

// Watch is not faked: the apply client does not watch.
func (r metadataResource) Watch(context.Context, metav1.ListOptions) (watch.Interface, error) {
	return nil, apierrors.NewMethodNotSupported(r.gvr.GroupResource(), "watch")
}
