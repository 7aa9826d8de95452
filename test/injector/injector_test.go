package injector

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	gomodpatch "gomodules.xyz/jsonpatch/v2"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh/istio"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh/linkerd"
	"github.com/kubectl-mesh/kubectl-mesh/test/golden"
)

// deploymentPod is a pod as a ReplicaSet of Deployment "reviews" creates
// it: no name yet, the pod-template-hash label and its owner.
func deploymentPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: "reviews-v2-5d8f7c6b9-",
			Labels:       map[string]string{"app": "reviews", "version": "v2", "pod-template-hash": "5d8f7c6b9"},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "reviews-v2-5d8f7c6b9", UID: "1", Controller: ptr.To(true),
			}},
		},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "reviews", Image: "docker.io/istio/examples-bookinfo-reviews-v2:1.20.3"}}},
	}
}

var istioConfig = IstioConfig{Revision: "default", Image: "docker.io/istio/proxyv2:1.31.0"}

var linkerdConfig = LinkerdConfig{
	Namespace: "linkerd", Version: "edge-26.1.1", ProxyUID: 2102, TrustRootSHA256: "0123abcd",
	ProxyImage: "cr.l5d.io/linkerd/proxy:edge-26.1.1", InitImage: "cr.l5d.io/linkerd/proxy-init:v2.4.3",
}

// assertPatch checks the patch from pod to out against a golden file
// (operations sorted by path, so that the file does not depend on map
// order) and that applying it as the apiserver does yields out.
func assertPatch(t *testing.T, pod, out *corev1.Pod) {
	t.Helper()
	resp := Patch(pod, out)
	if !resp.Allowed || len(resp.Patches) == 0 {
		t.Fatalf("want an allowing answer with a patch: %+v", resp)
	}
	ops := slices.Clone(resp.Patches)
	slices.SortStableFunc(ops, func(a, b gomodpatch.Operation) int { return strings.Compare(a.Path, b.Path) })
	data, err := json.MarshalIndent(ops, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, filepath.Join("testdata", strings.ReplaceAll(t.Name(), "/", "_")+".golden.json"), append(data, '\n'))

	raw, _ := json.Marshal(resp.Patches)
	p, err := jsonpatch.DecodePatch(raw)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := json.Marshal(pod)
	after, err := p.Apply(before)
	if err != nil {
		t.Fatalf("applying the patch: %v", err)
	}
	want, _ := json.Marshal(out)
	if !jsonpatch.Equal(after, want) {
		t.Errorf("the patch applied gives\n%s\nwant\n%s", after, want)
	}
}

func TestInjectIstio(t *testing.T) {
	adapter := istio.New(istio.Config{})
	t.Run("deployment pod", func(t *testing.T) {
		pod := deploymentPod()
		out, ok := InjectIstio(pod, istioConfig)
		if !ok {
			t.Fatal("not injected")
		}
		if !adapter.HasProxy(out) || adapter.HasProxy(pod) {
			t.Error("the Istio adapter's HasProxy does not tell the injected pod from the original")
		}
		if got := out.Labels["service.istio.io/canonical-name"] + "/" + out.Labels["service.istio.io/canonical-revision"]; got != "reviews/v2" {
			t.Errorf("canonical name/revision %s, want reviews/v2", got)
		}
		assertPatch(t, pod, out)
	})
	t.Run("revision canary with CNI", func(t *testing.T) {
		pod := deploymentPod()
		delete(pod.Labels, "app")
		delete(pod.Labels, "version")
		cfg := istioConfig
		cfg.Revision, cfg.CNI = "canary", true
		out, ok := InjectIstio(pod, cfg)
		if !ok {
			t.Fatal("not injected")
		}
		if got := out.Labels["service.istio.io/canonical-name"] + "/" + out.Labels["service.istio.io/canonical-revision"]; got != "reviews-v2/latest" {
			t.Errorf("canonical name/revision %s, want the Deployment's name and latest", got)
		}
		if out.Annotations["istio.io/rev"] != "canary" || !strings.Contains(out.Annotations[IstioStatus], `"revision":"canary"`) {
			t.Errorf("annotations %v, want revision canary", out.Annotations)
		}
		assertPatch(t, pod, out)
	})
	t.Run("native sidecar", func(t *testing.T) {
		pod := deploymentPod()
		pod.Annotations = map[string]string{istioNativeKey: "true"}
		out, ok := InjectIstio(pod, istioConfig)
		if !ok {
			t.Fatal("not injected")
		}
		if len(out.Spec.Containers) != 1 || out.Spec.InitContainers[1].Name != IstioProxy || *out.Spec.InitContainers[1].RestartPolicy != corev1.ContainerRestartPolicyAlways {
			t.Errorf("want istio-proxy as a native sidecar: %+v", out.Spec)
		}
		if !adapter.HasProxy(out) {
			t.Error("HasProxy misses a native sidecar")
		}
	})
	for name, change := range map[string]func(*corev1.Pod){
		"opt-out label":      func(p *corev1.Pod) { p.Labels["sidecar.istio.io/inject"] = "false" },
		"opt-out annotation": func(p *corev1.Pod) { p.Annotations = map[string]string{"sidecar.istio.io/inject": "false"} },
		"host network":       func(p *corev1.Pod) { p.Spec.HostNetwork = true },
		"already injected": func(p *corev1.Pod) {
			out, _ := InjectIstio(p, istioConfig)
			*p = *out
		},
	} {
		t.Run(name, func(t *testing.T) {
			pod := deploymentPod()
			change(pod)
			if out, ok := InjectIstio(pod, istioConfig); ok {
				t.Errorf("injected: %+v", out.Spec)
			}
		})
	}
}

func TestInjectLinkerd(t *testing.T) {
	adapter := linkerd.New()
	enabled := map[string]string{"linkerd.io/inject": "enabled"}
	t.Run("enrolled namespace", func(t *testing.T) {
		pod := deploymentPod()
		out, ok := InjectLinkerd(pod, "bookinfo", enabled, linkerdConfig)
		if !ok {
			t.Fatal("not injected")
		}
		if !adapter.HasProxy(out) || adapter.HasProxy(pod) {
			t.Error("the Linkerd adapter's HasProxy does not tell the injected pod from the original")
		}
		if out.Spec.Containers[0].Name != LinkerdProxy || out.Labels["linkerd.io/proxy-deployment"] != "reviews-v2" {
			t.Errorf("want the proxy first and the Deployment labelled: %+v %v", out.Spec.Containers, out.Labels)
		}
		assertPatch(t, pod, out)
	})
	t.Run("native sidecar by pod annotation", func(t *testing.T) {
		pod := deploymentPod()
		pod.Annotations = map[string]string{"linkerd.io/inject": "enabled", linkerdNativeKeys[0]: "true"}
		out, ok := InjectLinkerd(pod, "bookinfo", nil, linkerdConfig)
		if !ok {
			t.Fatal("not injected")
		}
		if !adapter.HasProxy(out) || len(out.Spec.Containers) != 1 {
			t.Errorf("want linkerd-proxy as a native sidecar: %+v", out.Spec)
		}
		assertPatch(t, pod, out)
	})
	for name, tt := range map[string]struct {
		ns     map[string]string
		change func(*corev1.Pod)
	}{
		"plain namespace":       {nil, func(*corev1.Pod) {}},
		"pod opts out":          {enabled, func(p *corev1.Pod) { p.Annotations = map[string]string{"linkerd.io/inject": "disabled"} }},
		"host network":          {enabled, func(p *corev1.Pod) { p.Spec.HostNetwork = true }},
		"already has the proxy": {enabled, func(p *corev1.Pod) { out, _ := InjectLinkerd(p, "bookinfo", enabled, linkerdConfig); *p = *out }},
	} {
		t.Run(name, func(t *testing.T) {
			pod := deploymentPod()
			tt.change(pod)
			if out, ok := InjectLinkerd(pod, "bookinfo", tt.ns, linkerdConfig); ok {
				t.Errorf("injected: %+v", out.Spec)
			}
		})
	}
}

func TestParseIstioValues(t *testing.T) {
	// The shape istiod's chart writes into istio-sidecar-injector.
	cfg, err := ParseIstioValues(`{"global":{"hub":"docker.io/istio","tag":"1.31.0","proxy":{"image":"proxyv2"}},"revision":"canary","pilot":{"cni":{"enabled":false},"env":{"ENABLE_NATIVE_SIDECARS":"true"}}}`)
	if err != nil {
		t.Fatal(err)
	}
	if want := (IstioConfig{Revision: "canary", Image: "docker.io/istio/proxyv2:1.31.0", NativeSidecars: true}); cfg != want {
		t.Errorf("got %+v, want %+v", cfg, want)
	}
	if _, err := ParseIstioValues(`{"global":{"proxy":{}}}`); err == nil {
		t.Error("values without hub and tag accepted")
	}
}

func TestParseLinkerdConfig(t *testing.T) {
	cfg, err := ParseLinkerdConfig("linkerd", "linkerdVersion: edge-26.2.1\nproxy:\n  image:\n    name: cr.l5d.io/linkerd/proxy\n    version: \"\"\nproxyInit:\n  image:\n    name: cr.l5d.io/linkerd/proxy-init\n    version: v2.4.3\n", "anchor\n")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ProxyImage != "cr.l5d.io/linkerd/proxy:edge-26.2.1" || cfg.Version != "edge-26.2.1" || cfg.ProxyUID != 2102 || len(cfg.TrustRootSHA256) != 64 {
		t.Errorf("got %+v", cfg)
	}
}

// The server over HTTPS as the apiserver calls it: a pod of an enrolled
// namespace gets the version its control plane's (its revision's)
// configuration names, a
// Service (Linkerd's webhook sees them too) and an opted-out pod pass
// unchanged.
func TestServer(t *testing.T) {
	client := fake.NewClientset(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "bookinfo", Annotations: map[string]string{"linkerd.io/inject": "enabled"}}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "istio-sidecar-injector", Namespace: "istio-system"},
			Data: map[string]string{"values": `{"global":{"hub":"docker.io/istio","tag":"1.31.0","proxy":{"image":"proxyv2"}},"revision":""}`}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "istio-sidecar-injector-canary", Namespace: "istio-system"},
			Data: map[string]string{"values": `{"global":{"hub":"docker.io/istio","tag":"1.32.0","proxy":{"image":"proxyv2"}},"revision":"canary"}`}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "linkerd-config", Namespace: "linkerd"},
			Data: map[string]string{"values": "linkerdVersion: edge-26.1.1\nproxy:\n  image:\n    name: cr.l5d.io/linkerd/proxy\nproxyInit:\n  image:\n    name: cr.l5d.io/linkerd/proxy-init\n    version: v2.4.3\n"}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "linkerd-identity-trust-roots", Namespace: "linkerd"}, Data: map[string]string{"ca-bundle.crt": "anchor"}},
	)
	s := Serve(t, client)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CABundle())
	httpClient := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}

	review := func(t *testing.T, url string, obj runtime.Object, kind string) admissionv1.AdmissionResponse {
		t.Helper()
		raw, _ := json.Marshal(obj)
		body, _ := json.Marshal(admissionv1.AdmissionReview{
			TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
			Request: &admissionv1.AdmissionRequest{
				UID: types.UID("1"), Kind: metav1.GroupVersionKind{Version: "v1", Kind: kind}, Namespace: "bookinfo",
				Operation: admissionv1.Create, Object: runtime.RawExtension{Raw: raw},
			},
		})
		resp, err := httpClient.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out admissionv1.AdmissionReview
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Response == nil {
			t.Fatalf("decoding the answer: %v", err)
		}
		if !out.Response.Allowed {
			t.Fatalf("refused: %+v", out.Response.Result)
		}
		return *out.Response
	}
	applied := func(t *testing.T, pod *corev1.Pod, r admissionv1.AdmissionResponse) *corev1.Pod {
		t.Helper()
		p, err := jsonpatch.DecodePatch(r.Patch)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(pod)
		if raw, err = p.Apply(raw); err != nil {
			t.Fatal(err)
		}
		out := &corev1.Pod{}
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatal(err)
		}
		return out
	}

	got := applied(t, deploymentPod(), review(t, s.IstioURL("istio-system", "default"), deploymentPod(), "Pod"))
	if i := slices.IndexFunc(got.Spec.Containers, func(c corev1.Container) bool { return c.Name == IstioProxy }); i < 0 || got.Spec.Containers[i].Image != "docker.io/istio/proxyv2:1.31.0" {
		t.Errorf("Istio: containers %+v, want istio-proxy of 1.31.0", got.Spec.Containers)
	}
	got = applied(t, deploymentPod(), review(t, s.IstioURL("istio-system", "canary"), deploymentPod(), "Pod"))
	if got.Spec.Containers[1].Image != "docker.io/istio/proxyv2:1.32.0" || got.Annotations["istio.io/rev"] != "canary" {
		t.Errorf("Istio canary: containers %+v annotations %v, want istio-proxy of the canary's 1.32.0", got.Spec.Containers, got.Annotations)
	}
	got = applied(t, deploymentPod(), review(t, s.LinkerdURL("linkerd"), deploymentPod(), "Pod"))
	if got.Spec.Containers[0].Image != "cr.l5d.io/linkerd/proxy:edge-26.1.1" || got.Annotations[LinkerdProxyVersion] != "edge-26.1.1" {
		t.Errorf("Linkerd: containers %+v annotations %v, want linkerd-proxy of edge-26.1.1", got.Spec.Containers, got.Annotations)
	}

	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "reviews"}}
	if r := review(t, s.LinkerdURL("linkerd"), svc, "Service"); len(r.Patch) != 0 {
		t.Errorf("a Service was patched: %s", r.Patch)
	}
	optOut := deploymentPod()
	optOut.Annotations = map[string]string{"linkerd.io/inject": "disabled"}
	if r := review(t, s.LinkerdURL("linkerd"), optOut, "Pod"); len(r.Patch) != 0 {
		t.Errorf("an opted-out pod was patched: %s", r.Patch)
	}
	// A validator for Istio's default tag is answered, and allows.
	review(t, strings.TrimSuffix(s.IstioURL("istio-system", "default"), "/inject")+"/validate", svc, "Service")
}
