package app

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"text/template"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
	"github.com/kubectl-mesh/kubectl-mesh/policies/manifest"
)

// manifests/upstream is copied in by `make app-manifests`; without it the
// package still builds, and Istio's samples refuse to render (ErrNoUpstream).
//
//go:embed manifests
var manifests embed.FS

// ErrNoUpstream is returned for Istio's samples by a binary built without
// them.
var ErrNoUpstream = errors.New("kubectl-mesh was built without Istio's sample applications: run make app-manifests and rebuild")

// embedded is the manifests directory the binary holds.
func embedded() fs.FS {
	sub, err := fs.Sub(manifests, "manifests")
	if err != nil {
		// fs.Sub fails only on an invalid path, and the path is a constant.
		return manifests
	}
	return sub
}

// templateData is what the mesh files may use: {{ .Namespace }}, {{ .Host }}.
type templateData struct {
	Namespace, Host string
}

func (a App) render(fsys fs.FS, opts RenderOptions) ([]translate.Object, error) {
	meshName := opts.Mesh
	if meshName == "" {
		meshName = MeshNone
	}
	if !slices.Contains(a.meshes, meshName) {
		return nil, fmt.Errorf("%s: unknown mesh %q (allowed: %s)", a.name, meshName, strings.Join(a.meshes, ", "))
	}
	data := templateData{Namespace: opts.Namespace, Host: opts.Host}
	if data.Namespace == "" {
		data.Namespace = a.name
	}
	if errs := validation.IsDNS1123Label(data.Namespace); len(errs) > 0 {
		return nil, fmt.Errorf("namespace %q: %s", data.Namespace, strings.Join(errs, "; "))
	}
	if data.Host == "" {
		data.Host = a.name + ".example.com"
	}
	if errs := validation.IsDNS1123Subdomain(strings.TrimPrefix(data.Host, "*.")); data.Host != "*" && len(errs) > 0 {
		return nil, fmt.Errorf("host %q: %s", data.Host, strings.Join(errs, "; "))
	}

	objects, err := a.base(fsys)
	if err != nil {
		return nil, err
	}
	if objects, err = overlay(fsys, a.name+"/overlay.yaml", objects); err != nil {
		return nil, err
	}
	if meshName != MeshNone {
		traffic, err := readTemplate(fsys, a.name+"/"+meshName+".yaml", data)
		if err != nil {
			return nil, err
		}
		ingressFile := a.name + "/" + meshName + "-ingress.yaml"
		if opts.GatewayAPI {
			gatewayAPIFile := a.name + "/" + meshName + "-ingress-gateway-api.yaml"
			if _, err := fs.Stat(fsys, ingressFile); err == nil {
				if _, err := fs.Stat(fsys, gatewayAPIFile); err != nil {
					return nil, fmt.Errorf("%s has no Gateway API ingress for %s", a.name, meshName)
				}
			}
			ingressFile = gatewayAPIFile
		}
		ingress, err := readTemplate(fsys, ingressFile, data)
		if err != nil {
			return nil, err
		}
		objects = append(append(objects, traffic...), ingress...)
	}

	out := make([]translate.Object, 0, len(objects)+1)
	if ns, ok := a.namespace(data.Namespace, meshName, opts); ok {
		out = append(out, ns)
	}
	for _, obj := range objects {
		u := &unstructured.Unstructured{Object: obj.Content}
		group := u.GroupVersionKind().Group
		if !manifest.ClusterScoped(group, u.GetKind()) {
			u.SetNamespace(data.Namespace)
		}
		a.label(u)
		out = append(out, translate.Object{Unstructured: u})
	}
	slices.SortStableFunc(out, func(x, y translate.Object) int { return rank(x) - rank(y) })
	return out, nil
}

// base reads the app's own objects: Istio's sample or the project's file.
func (a App) base(fsys fs.FS) ([]manifest.Object, error) {
	if a.upstream == "" {
		return read(fsys, a.name+"/app.yaml", true)
	}
	objects, err := read(fsys, "upstream/"+a.upstream, true)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoUpstream
	}
	return objects, err
}

// read decodes a manifest file through policies/manifest (bounded by
// internal/inputlimit, errors with file:line); a missing file is an
// fs.ErrNotExist error when required, and no objects otherwise.
func read(fsys fs.FS, path string, required bool) ([]manifest.Object, error) {
	data, err := fs.ReadFile(fsys, path)
	if errors.Is(err, fs.ErrNotExist) && !required {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the app's manifests: %w", err)
	}
	return decode(path, data)
}

func decode(path string, data []byte) ([]manifest.Object, error) {
	objects, errs := manifest.Read(path, bytes.NewReader(data))
	if len(errs) > 0 {
		return nil, fmt.Errorf("reading the app's manifests: %w", errors.Join(errs...))
	}
	return objects, nil
}

// readTemplate reads a mesh's traffic objects, which may name the
// namespace and the host; an app without such objects has no file.
func readTemplate(fsys fs.FS, path string, data templateData) ([]manifest.Object, error) {
	text, err := fs.ReadFile(fsys, path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the app's manifests: %w", err)
	}
	tmpl, err := template.New(path).Option("missingkey=error").Parse(string(text))
	if err != nil {
		return nil, fmt.Errorf("reading the app's manifests: %w", err)
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("reading the app's manifests: %w", err)
	}
	return decode(path, b.Bytes())
}

// overlay applies the strategic merge patches in path (kustomize's
// patchesStrategicMerge: containers merge by name) to the objects they
// name by kind and name. A patch that names no object fails, so that a
// change upstream cannot silently drop the project's overlay.
func overlay(fsys fs.FS, path string, objects []manifest.Object) ([]manifest.Object, error) {
	patches, err := read(fsys, path, false)
	if err != nil {
		return nil, err
	}
	for _, p := range patches {
		gvk := schema.FromAPIVersionAndKind(p.APIVersion(), p.Kind())
		i := slices.IndexFunc(objects, func(o manifest.Object) bool {
			return o.APIVersion() == p.APIVersion() && o.Kind() == p.Kind() && o.Name() == p.Name()
		})
		if i < 0 {
			return nil, fmt.Errorf("%s:%d: the patch of %s %s names no object of the app", path, p.Source.Line, p.Kind(), p.Name())
		}
		// Strategic merge needs the kind's Go type for its merge keys.
		typed, err := scheme.Scheme.New(gvk)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %s has no strategic merge: %w", path, p.Source.Line, gvk, err)
		}
		merged, err := strategicpatch.StrategicMergeMapPatch(objects[i].Content, p.Content, typed)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: patching %s %s: %w", path, p.Source.Line, p.Kind(), p.Name(), err)
		}
		// A JSON round trip gives the merged values the types unstructured
		// objects hold (int64 and float64 numbers).
		raw, err := json.Marshal(merged)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, p.Source.Line, err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(raw); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, p.Source.Line, err)
		}
		objects[i].Content = u.Object
	}
	return objects, nil
}

// namespace is the Namespace to apply, enrolled for injection: the app's
// own, or, in a namespace that exists, a shared object holding only the
// marks (none without marks).
func (a App) namespace(name, meshName string, opts RenderOptions) (translate.Object, bool) {
	labels, annotations := map[string]string{}, map[string]string{}
	if meshName != MeshNone {
		for k, v := range opts.InjectionMarks.Labels {
			if v != nil {
				labels[k] = *v
			}
		}
		for k, v := range opts.InjectionMarks.Annotations {
			if v != nil {
				annotations[k] = *v
			}
		}
	}
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("v1")
	u.SetKind("Namespace")
	u.SetName(name)
	if opts.NamespaceExists {
		if len(labels)+len(annotations) == 0 {
			return translate.Object{}, false
		}
	} else {
		a.label(u)
	}
	if len(labels) > 0 {
		merged := u.GetLabels()
		if merged == nil {
			merged = map[string]string{}
		}
		for k, v := range labels {
			merged[k] = v
		}
		u.SetLabels(merged)
	}
	if len(annotations) > 0 {
		u.SetAnnotations(annotations)
	}
	return translate.Object{Unstructured: u, Shared: opts.NamespaceExists}, true
}

// label ties an object, and the pods of a workload, to the app.
func (a App) label(u *unstructured.Unstructured) {
	labels := u.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[LabelApp] = a.name
	labels[LabelPartOf] = a.name
	labels[LabelManagedBy] = ManagedBy
	u.SetLabels(labels)
	if _, ok, _ := unstructured.NestedMap(u.Object, "spec", "template", "metadata"); ok {
		// Errors are impossible: the path holds a map, as NestedMap found.
		_ = unstructured.SetNestedField(u.Object, a.name, "spec", "template", "metadata", "labels", LabelApp)
	}
}

// rank orders kinds as they must be applied: what others name first
// (plugin/pattern/apply's tiers agree), the entry points last.
func rank(o translate.Object) int {
	gk := o.GroupVersionKind().GroupKind().String()
	switch gk {
	case "Namespace":
		return 0
	case "ServiceAccount", "ConfigMap", "Secret":
		return 1
	case "Service":
		return 2
	case "DestinationRule.networking.istio.io", "ServiceProfile.linkerd.io":
		return 3
	case "Deployment.apps", "StatefulSet.apps", "DaemonSet.apps":
		return 4
	case "Gateway.networking.istio.io", "Gateway.gateway.networking.k8s.io":
		return 5
	}
	return 6
}
