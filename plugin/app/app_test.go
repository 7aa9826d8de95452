package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh/all"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
	"github.com/kubectl-mesh/kubectl-mesh/policies"
	"github.com/kubectl-mesh/kubectl-mesh/policies/manifest"
	"github.com/kubectl-mesh/kubectl-mesh/policies/scan"
	"github.com/kubectl-mesh/kubectl-mesh/test/golden"
)

// marks are the shipped adapter's injection marks for meshName, as the
// command passes them (none for MeshNone).
func marks(t *testing.T, meshName string) mesh.Marks {
	t.Helper()
	if meshName == MeshNone {
		return mesh.Marks{}
	}
	m, err := all.Registry().Get(meshName)
	if err != nil {
		t.Fatal(err)
	}
	return m.InjectionMarks(true, "")
}

// variant is one way an app is rendered, named as its golden file.
type variant struct {
	name string
	opts RenderOptions
}

// variants are every mesh the app supports, and for Istio's ingress its
// Gateway API form.
func variants(t *testing.T, a App) []variant {
	var out []variant
	for _, meshName := range a.Meshes() {
		out = append(out, variant{meshName, RenderOptions{Mesh: meshName, InjectionMarks: marks(t, meshName)}})
		if _, err := fs.Stat(embedded(), a.Name()+"/"+meshName+"-ingress.yaml"); err == nil {
			out = append(out, variant{meshName + "-gateway-api", RenderOptions{Mesh: meshName, InjectionMarks: marks(t, meshName), GatewayAPI: true}})
		}
	}
	return out
}

// each runs fn for every app and every variant of it, rendered into the
// app's default namespace.
func each(t *testing.T, fn func(t *testing.T, a App, v variant, objs []translate.Object)) {
	for _, name := range Names() {
		a, err := Get(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range variants(t, a) {
			t.Run(name+"/"+v.name, func(t *testing.T) {
				objs, err := a.Render(v.opts)
				if err != nil {
					t.Fatal(err)
				}
				fn(t, a, v, objs)
			})
		}
	}
}

// toYAML prints objects as kubectl mesh app deploy --dry-run=client -o yaml
// would: one document each.
func toYAML(t *testing.T, objs []translate.Object) string {
	t.Helper()
	var b strings.Builder
	for i, o := range objs {
		if i > 0 {
			b.WriteString("---\n")
		}
		data, err := yaml.Marshal(o.Object)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
	}
	return b.String()
}

func TestRenderGolden(t *testing.T) {
	each(t, func(t *testing.T, a App, v variant, objs []translate.Object) {
		golden.Assert(t, filepath.Join("testdata", a.Name()+"-"+v.name+".yaml"), toYAML(t, objs))
	})
}

// The samples are the project's showcase: every app, for every mesh it
// supports, draws no finding at warning or above from the policy library,
// reviewed as kubectl mesh check -f reviews the rendered file (the objects
// are both what is reviewed and what policies look up).
func TestRenderPassesPolicies(t *testing.T) {
	ctx := context.Background()
	engine, err := policies.New(ctx, policies.Options{})
	if err != nil {
		t.Fatal(err)
	}
	each(t, func(t *testing.T, a App, v variant, objs []translate.Object) {
		for _, f := range check(t, engine, a.Name()+"-"+v.name+".yaml", objs) {
			if f.Severity >= policies.SeverityWarning {
				t.Error(f)
			} else {
				t.Log(f)
			}
		}
	})

	// The check sees what it should: without the project's timeouts,
	// bookinfo draws MESH1113.
	t.Run("control", func(t *testing.T) {
		bookinfo, _ := Get("bookinfo")
		objs, err := bookinfo.Render(RenderOptions{Mesh: "istio", InjectionMarks: marks(t, "istio")})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			if o.GetKind() == "VirtualService" && o.GetName() == "reviews" {
				routes, _, _ := unstructured.NestedSlice(o.Object, "spec", "http")
				delete(routes[0].(map[string]any), "timeout")
				if err := unstructured.SetNestedSlice(o.Object, routes, "spec", "http"); err != nil {
					t.Fatal(err)
				}
			}
		}
		var got []string
		for _, f := range check(t, engine, "control.yaml", objs) {
			got = append(got, f.PolicyID+" "+f.Resource.Kind+"/"+f.Resource.Name)
		}
		if want := "MESH1113 VirtualService/reviews"; !slices.Equal(got, []string{want}) {
			t.Errorf("findings %v, want %s", got, want)
		}
	})
}

// check reviews objs as kubectl mesh check -f reviews a file holding them,
// and returns the findings, each printed as file:line: ID severity kind/name: message.
func check(t *testing.T, engine *policies.Engine, file string, objs []translate.Object) []finding {
	t.Helper()
	objects, errs := manifest.Read(file, strings.NewReader(toYAML(t, objs)))
	if len(errs) > 0 {
		t.Fatal(errors.Join(errs...))
	}
	res := scan.Run(context.Background(), engine, objects, scan.Options{})
	for _, err := range res.Errors {
		t.Errorf("check error: %v", err)
	}
	if len(res.Checked) != len(objs) {
		t.Errorf("checked %d objects, rendered %d", len(res.Checked), len(objs))
	}
	out := make([]finding, len(res.Findings))
	for i, f := range res.Findings {
		out[i] = finding(f)
	}
	return out
}

type finding policies.Finding

func (f finding) String() string {
	where := ""
	if f.Source != nil {
		where = fmt.Sprintf("%s:%d: ", f.Source.File, f.Source.Line)
	}
	return fmt.Sprintf("%s%s %s %s/%s: %s", where, f.PolicyID, f.Severity, f.Resource.Kind, f.Resource.Name, f.Message)
}

// serviceProfile is Linkerd's linkerd.io/v1alpha2 ServiceProfile
// (linkerd2's controller/gen/apis/serviceprofile/v1alpha2), whose Go types
// no module in go.mod serves: the fields the apps use and their siblings.
type serviceProfile struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Routes []struct {
			Name      string `json:"name"`
			Condition struct {
				Method    string            `json:"method,omitempty"`
				PathRegex string            `json:"pathRegex,omitempty"`
				All       []json.RawMessage `json:"all,omitempty"`
				Any       []json.RawMessage `json:"any,omitempty"`
				Not       json.RawMessage   `json:"not,omitempty"`
			} `json:"condition"`
			ResponseClasses []json.RawMessage `json:"responseClasses,omitempty"`
			IsRetryable     bool              `json:"isRetryable,omitempty"`
			Timeout         string            `json:"timeout,omitempty"`
		} `json:"routes"`
		RetryBudget *struct {
			RetryRatio          float32 `json:"retryRatio"`
			MinRetriesPerSecond uint32  `json:"minRetriesPerSecond"`
			TTL                 string  `json:"ttl"`
		} `json:"retryBudget,omitempty"`
		DstOverrides []json.RawMessage `json:"dstOverrides,omitempty"`
		OpaquePorts  []string          `json:"opaquePorts,omitempty"`
	} `json:"spec"`
}

// istioObject is the envelope of an Istio resource, whose spec protojson
// decodes into the istio.io/api type (istio.io/client-go's types decode
// their spec leniently).
type istioObject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              json.RawMessage `json:"spec"`
}

// Every object decodes into its Go type with unknown fields refused.
func TestRenderDecodesStrictly(t *testing.T) {
	each(t, func(t *testing.T, _ App, _ variant, objs []translate.Object) {
		for _, o := range objs {
			if err := decodeStrict(o); err != nil {
				t.Errorf("%s %s: %v", o.GetKind(), o.GetName(), err)
			}
		}
	})

	// The check refuses what it should: a misspelt field, at the top and
	// in an Istio spec.
	t.Run("control", func(t *testing.T) {
		bookinfo, _ := Get("bookinfo")
		objs, err := bookinfo.Render(RenderOptions{Mesh: "istio"})
		if err != nil {
			t.Fatal(err)
		}
		var refused []string
		for _, o := range objs {
			switch o.GetKind() {
			case "VirtualService":
				routes, _, _ := unstructured.NestedSlice(o.Object, "spec", "http")
				routes[0].(map[string]any)["timout"] = "1s"
				if err := unstructured.SetNestedSlice(o.Object, routes, "spec", "http"); err != nil {
					t.Fatal(err)
				}
			case "Deployment":
				o.Object["spec"].(map[string]any)["replica"] = int64(2)
			default:
				continue
			}
			if decodeStrict(o) != nil {
				refused = append(refused, o.GetKind()+"/"+o.GetName())
			}
		}
		if len(refused) != 11 {
			t.Errorf("refused %v, want the 6 Deployments and 5 VirtualServices", refused)
		}
	})
}

// decodeStrict decodes an object into its Go type, refusing unknown
// fields, as kubeconform --strict and the apiserver's strict field
// validation do.
func decodeStrict(o translate.Object) error {
	strict := func(data []byte, into any) error {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		return dec.Decode(into)
	}
	data, err := json.Marshal(o.Object)
	if err != nil {
		return err
	}
	gvk := o.GroupVersionKind()
	var spec proto.Message
	switch gvk {
	case schema.GroupVersionKind{Group: "networking.istio.io", Version: "v1", Kind: "Gateway"}:
		spec = &networkingv1alpha3.Gateway{}
	case schema.GroupVersionKind{Group: "networking.istio.io", Version: "v1", Kind: "VirtualService"}:
		spec = &networkingv1alpha3.VirtualService{}
	case schema.GroupVersionKind{Group: "networking.istio.io", Version: "v1", Kind: "DestinationRule"}:
		spec = &networkingv1alpha3.DestinationRule{}
	case schema.GroupVersionKind{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "Gateway"}:
		return strict(data, &gatewayv1.Gateway{})
	case schema.GroupVersionKind{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "HTTPRoute"}:
		return strict(data, &gatewayv1.HTTPRoute{})
	case schema.GroupVersionKind{Group: "linkerd.io", Version: "v1alpha2", Kind: "ServiceProfile"}:
		return strict(data, &serviceProfile{})
	default:
		typed, err := scheme.Scheme.New(gvk)
		if err != nil {
			return fmt.Errorf("no Go type to check it against: %w", err)
		}
		return strict(data, typed)
	}
	var envelope istioObject
	if err := strict(data, &envelope); err != nil {
		return err
	}
	if err := (protojson.UnmarshalOptions{}).Unmarshal(envelope.Spec, spec); err != nil {
		return fmt.Errorf("spec: %w", err)
	}
	return nil
}

// What the issue asks of every app, beyond what a policy checks.
func TestRenderConventions(t *testing.T) {
	istioProtocols := []string{"http", "http2", "https", "grpc", "grpc-web", "tcp", "tls", "udp", "mongo", "mysql", "redis"}
	each(t, func(t *testing.T, a App, v variant, objs []translate.Object) {
		meshName := v.opts.Mesh
		kinds := map[string]int{}
		seen := map[string]bool{}
		for i, o := range objs {
			kinds[o.GroupVersionKind().GroupKind().String()]++
			// plugin/pattern/apply refuses an object that appears twice.
			key := o.GroupVersionKind().GroupKind().String() + " " + o.GetNamespace() + "/" + o.GetName()
			if seen[key] {
				t.Errorf("%s appears twice", key)
			}
			seen[key] = true
			if i > 0 && rank(objs[i-1]) > rank(o) {
				t.Errorf("%s %s comes after %s %s: not in dependency order", o.GetKind(), o.GetName(), objs[i-1].GetKind(), objs[i-1].GetName())
			}
			if o.GetLabels()[LabelApp] != a.Name() || o.GetLabels()[LabelPartOf] != a.Name() {
				t.Errorf("%s %s: labels %v lack %s and %s: %s", o.GetKind(), o.GetName(), o.GetLabels(), LabelApp, LabelPartOf, a.Name())
			}
			if o.GetKind() != "Namespace" && o.GetNamespace() != a.Name() {
				t.Errorf("%s %s in namespace %q, want %q", o.GetKind(), o.GetName(), o.GetNamespace(), a.Name())
			}
			if o.Shared {
				t.Errorf("%s %s is shared in a namespace of the app's own", o.GetKind(), o.GetName())
			}
		}
		if objs[0].GetKind() != "Namespace" || objs[0].GetName() != a.Name() {
			t.Errorf("the first object is %s %s, want the Namespace", objs[0].GetKind(), objs[0].GetName())
		}
		if kinds["ServiceAccount"] == 0 || kinds["Deployment.apps"] == 0 || kinds["Service"] == 0 {
			t.Errorf("kinds %v: want ServiceAccounts, Services and Deployments", kinds)
		}
		istioKinds := kinds["Gateway.networking.istio.io"] + kinds["VirtualService.networking.istio.io"] + kinds["DestinationRule.networking.istio.io"]
		gatewayAPIKinds := kinds["Gateway.gateway.networking.k8s.io"] + kinds["HTTPRoute.gateway.networking.k8s.io"]
		ingress := a.Name() != "curl" && a.Name() != "booksapp"
		switch {
		case meshName != "istio" && istioKinds+gatewayAPIKinds > 0, meshName != "linkerd" && kinds["ServiceProfile.linkerd.io"] > 0:
			t.Errorf("kinds %v: another mesh's objects for %s", kinds, meshName)
		case meshName == "istio" && ingress && (kinds["VirtualService.networking.istio.io"] == 0 || kinds["DestinationRule.networking.istio.io"] == 0):
			t.Errorf("kinds %v: want VirtualServices and DestinationRules", kinds)
		case meshName == "istio" && ingress && !v.opts.GatewayAPI && (kinds["Gateway.networking.istio.io"] != 1 || gatewayAPIKinds > 0):
			t.Errorf("kinds %v: want an Istio Gateway and no Gateway API object", kinds)
		case meshName == "istio" && ingress && v.opts.GatewayAPI && (kinds["Gateway.gateway.networking.k8s.io"] != 1 || kinds["HTTPRoute.gateway.networking.k8s.io"] != 1 || kinds["Gateway.networking.istio.io"] > 0):
			t.Errorf("kinds %v: want a Gateway API Gateway and HTTPRoute, and no Istio Gateway", kinds)
		case meshName == "linkerd" && a.Name() == "booksapp" && kinds["ServiceProfile.linkerd.io"] != 3:
			t.Errorf("kinds %v: want booksapp's three ServiceProfiles", kinds)
		}
		ns := objs[0]
		want := map[string]string{}
		for k, v := range marks(t, meshName).Labels {
			if v != nil {
				want[k] = *v
			}
		}
		for k, v := range want {
			if ns.GetLabels()[k] != v {
				t.Errorf("namespace labels %v lack the injection mark %s=%s", ns.GetLabels(), k, v)
			}
		}
		wantAnnotations := map[string]string{}
		for k, v := range marks(t, meshName).Annotations {
			if v != nil {
				wantAnnotations[k] = *v
			}
		}
		if got := ns.GetAnnotations(); len(got)+len(wantAnnotations) > 0 && !mapsEqual(got, wantAnnotations) {
			t.Errorf("namespace annotations %v, want the injection marks %v", got, wantAnnotations)
		}

		for _, o := range objs {
			data, err := json.Marshal(o.Object)
			if err != nil {
				t.Fatal(err)
			}
			if o.GroupVersionKind().Group == "gateway.networking.k8s.io" && o.GetKind() == "Gateway" {
				// Istio copies a Gateway's labels onto what it generates
				// unless spec.infrastructure.labels says otherwise.
				labels, ok, _ := unstructured.NestedStringMap(o.Object, "spec", "infrastructure", "labels")
				if !ok || labels[LabelApp] != "" {
					t.Errorf("Gateway %s: spec.infrastructure.labels %v: want labels of its own for the generated objects, without %s", o.GetName(), labels, LabelApp)
				}
			}
			switch o.GetKind() {
			case "Service":
				var svc struct {
					Spec struct{ Ports []struct{ Name string } }
				}
				if err := json.Unmarshal(data, &svc); err != nil {
					t.Fatal(err)
				}
				for _, p := range svc.Spec.Ports {
					protocol, _, _ := strings.Cut(p.Name, "-")
					if !slices.Contains(istioProtocols, protocol) {
						t.Errorf("Service %s: port %q is not named for its protocol (http-..., grpc-...)", o.GetName(), p.Name)
					}
				}
			case "Deployment":
				var d struct {
					Spec struct {
						Template struct {
							Metadata struct{ Labels map[string]string }
							Spec     struct {
								ServiceAccountName string
								Containers         []struct {
									Name, Image string
									Resources   struct{ Requests map[string]string }
								}
							}
						}
					}
				}
				if err := json.Unmarshal(data, &d); err != nil {
					t.Fatal(err)
				}
				tmpl := d.Spec.Template
				if tmpl.Metadata.Labels["app"] == "" || tmpl.Metadata.Labels["version"] == "" || tmpl.Metadata.Labels[LabelApp] != a.Name() {
					t.Errorf("Deployment %s: pod labels %v lack app, version or %s", o.GetName(), tmpl.Metadata.Labels, LabelApp)
				}
				if o.GetLabels()["app"] == "" || o.GetLabels()["version"] == "" {
					t.Errorf("Deployment %s: labels %v lack app or version", o.GetName(), o.GetLabels())
				}
				if tmpl.Spec.ServiceAccountName == "" {
					t.Errorf("Deployment %s runs as the default ServiceAccount", o.GetName())
				}
				for _, c := range tmpl.Spec.Containers {
					if c.Resources.Requests["cpu"] == "" || c.Resources.Requests["memory"] == "" {
						t.Errorf("Deployment %s: container %s requests %v, want cpu and memory", o.GetName(), c.Name, c.Resources.Requests)
					}
					if _, tag, ok := strings.Cut(c.Image[strings.LastIndex(c.Image, "/")+1:], ":"); !ok || tag == "latest" {
						t.Errorf("Deployment %s: image %s has no pinned tag", o.GetName(), c.Image)
					}
				}
			}
		}
	})
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestCatalog(t *testing.T) {
	if got, want := strings.Join(Names(), ","), "bookinfo,httpbin,curl,emojivoto,booksapp"; got != want {
		t.Errorf("Names() = %s, want %s", got, want)
	}
	_, err := Get("imagehub")
	if want := `unknown app "imagehub" (allowed: bookinfo, httpbin, curl, emojivoto, booksapp)`; err == nil || err.Error() != want {
		t.Errorf("Get(imagehub) = %v, want %s", err, want)
	}
	meshes := append(all.Registry().Names(), MeshNone)
	for _, name := range Names() {
		a, _ := Get(name)
		if a.Description() == "" {
			t.Errorf("%s has no description", name)
		}
		for _, m := range a.Meshes() {
			if !slices.Contains(meshes, m) {
				t.Errorf("%s supports %q, which kubectl mesh does not ship (%v)", name, m, meshes)
			}
		}
	}
}

func TestRenderOptions(t *testing.T) {
	booksapp, _ := Get("booksapp")
	if _, err := booksapp.Render(RenderOptions{Mesh: "istio"}); err == nil || err.Error() != `booksapp: unknown mesh "istio" (allowed: linkerd, none)` {
		t.Errorf("booksapp for istio: %v", err)
	}
	if _, err := booksapp.Render(RenderOptions{Namespace: "Books_App"}); err == nil || !strings.Contains(err.Error(), `namespace "Books_App"`) {
		t.Errorf("an invalid namespace: %v", err)
	}

	t.Run("another namespace and host", func(t *testing.T) {
		bookinfo, _ := Get("bookinfo")
		objs, err := bookinfo.Render(RenderOptions{Namespace: "shop", Mesh: "istio", InjectionMarks: marks(t, "istio"), Host: "books.shop.test"})
		if err != nil {
			t.Fatal(err)
		}
		out := toYAML(t, objs)
		if strings.Contains(out, "example.com") || !strings.Contains(out, `- books.shop.test`) {
			t.Errorf("the host is not books.shop.test everywhere:\n%s", out)
		}
		for _, o := range objs {
			if o.GetKind() != "Namespace" && o.GetNamespace() != "shop" {
				t.Errorf("%s %s in namespace %q, want shop", o.GetKind(), o.GetName(), o.GetNamespace())
			}
		}
		objs, err = booksapp.Render(RenderOptions{Namespace: "shop", Mesh: "linkerd", InjectionMarks: marks(t, "linkerd")})
		if err != nil {
			t.Fatal(err)
		}
		if out := toYAML(t, objs); !strings.Contains(out, "name: authors.shop.svc.cluster.local") {
			t.Errorf("the ServiceProfiles are not named for namespace shop:\n%s", out)
		}
	})

	t.Run("every host", func(t *testing.T) {
		httpbin, _ := Get("httpbin")
		for _, gatewayAPI := range []bool{false, true} {
			objs, err := httpbin.Render(RenderOptions{Mesh: "istio", Host: "*", GatewayAPI: gatewayAPI})
			if err != nil {
				t.Fatal(err)
			}
			// The Gateway API says "every host" by leaving hostnames out.
			out := toYAML(t, objs)
			if gatewayAPI && strings.Contains(out, "hostname") || !gatewayAPI && !strings.Contains(out, `- '*'`) {
				t.Errorf("Gateway API %v, host *:\n%s", gatewayAPI, out)
			}
		}
		if _, err := httpbin.Render(RenderOptions{Mesh: "istio", Host: "-bad-"}); err == nil || !strings.Contains(err.Error(), `host "-bad-"`) {
			t.Errorf("an invalid host: %v", err)
		}
	})

	t.Run("an existing namespace", func(t *testing.T) {
		objs, err := booksapp.Render(RenderOptions{Mesh: "linkerd", InjectionMarks: marks(t, "linkerd"), NamespaceExists: true})
		if err != nil {
			t.Fatal(err)
		}
		ns := objs[0]
		if ns.GetKind() != "Namespace" || !ns.Shared || len(ns.GetLabels()) != 0 || len(ns.GetAnnotations()) != 1 {
			t.Errorf("Namespace %v (shared %v), want a shared object with only the injection annotation", ns.Object, ns.Shared)
		}
		objs, err = booksapp.Render(RenderOptions{NamespaceExists: true})
		if err != nil {
			t.Fatal(err)
		}
		if objs[0].GetKind() == "Namespace" {
			t.Errorf("an existing namespace without a mesh is rendered: %v", objs[0].Object)
		}
	})
}

// withoutUpstream is the embedded manifests as a binary built without
// make app-manifests holds them, with extra files.
func withoutUpstream(t *testing.T, extra fstest.MapFS) fs.FS {
	t.Helper()
	fsys := fstest.MapFS{}
	err := fs.WalkDir(embedded(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(path, "upstream/") {
			return err
		}
		data, err := fs.ReadFile(embedded(), path)
		fsys[path] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range extra {
		fsys[k] = v
	}
	return fsys
}

func TestRenderWithoutUpstream(t *testing.T) {
	if _, err := fs.Stat(embedded(), "upstream/bookinfo.yaml"); err != nil {
		t.Fatalf("the package was built without Istio's samples (make app-manifests): %v", err)
	}
	fsys := withoutUpstream(t, nil)
	for _, name := range []string{"bookinfo", "httpbin", "curl"} {
		a, _ := Get(name)
		if _, err := a.render(fsys, RenderOptions{}); !errors.Is(err, ErrNoUpstream) || !strings.Contains(err.Error(), "make app-manifests") {
			t.Errorf("%s without Istio's samples: %v, want ErrNoUpstream", name, err)
		}
	}
	emojivoto, _ := Get("emojivoto")
	if _, err := emojivoto.render(fsys, RenderOptions{}); err != nil {
		t.Errorf("emojivoto needs no upstream file: %v", err)
	}
}

// An overlay that no longer matches upstream fails instead of vanishing.
func TestOverlayNamesNoObject(t *testing.T) {
	fsys := withoutUpstream(t, fstest.MapFS{
		"upstream/curl.yaml": {Data: []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: sleep\nspec: {}\n")},
	})
	curl, _ := Get("curl")
	_, err := curl.render(fsys, RenderOptions{})
	if err == nil || !strings.Contains(err.Error(), "curl/overlay.yaml:3: the patch of Deployment curl names no object") {
		t.Errorf("an overlay naming no object: %v", err)
	}
}

// Rendering is read-only: two renders in parallel give the same objects.
func TestRenderIsRepeatable(t *testing.T) {
	bookinfo, _ := Get("bookinfo")
	var wg sync.WaitGroup
	out := make([]string, 2)
	for i := range out {
		wg.Go(func() {
			objs, err := bookinfo.Render(RenderOptions{Mesh: "istio"})
			if err != nil {
				t.Error(err)
				return
			}
			out[i] = toYAML(t, objs)
		})
	}
	wg.Wait()
	if out[0] != out[1] {
		t.Error("two renders differ")
	}
}
