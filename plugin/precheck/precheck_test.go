package precheck

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"
	fakediscovery "k8s.io/client-go/discovery/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// fakeCluster is a fake clientset with a server version, served API
// resources and an authorizer for SelfSubjectAccessReviews.
type fakeCluster struct {
	gitVersion string
	resources  []*metav1.APIResourceList
	// allow decides each review; nil allows everything.
	allow   func(a *authorizationv1.ResourceAttributes) bool
	objects []runtime.Object
	// forbid lists resources whose list and get are forbidden.
	forbid []string
}

func (f fakeCluster) run(t *testing.T, mesh string) []Result {
	t.Helper()
	cs := fake.NewClientset(f.objects...)
	disc := cs.Discovery().(*fakediscovery.FakeDiscovery)
	disc.FakedServerVersion = &version.Info{GitVersion: f.gitVersion}
	if f.gitVersion == "" {
		disc.FakedServerVersion.GitVersion = "v1.34.2"
	}
	disc.Resources = f.resources
	cs.PrependReactor("create", "selfsubjectaccessreviews", func(action k8stesting.Action) (bool, runtime.Object, error) {
		sar := action.(k8stesting.CreateAction).GetObject().(*authorizationv1.SelfSubjectAccessReview).DeepCopy()
		sar.Status.Allowed = f.allow == nil || f.allow(sar.Spec.ResourceAttributes)
		return true, sar, nil
	})
	for _, resource := range f.forbid {
		cs.PrependReactor("*", resource, func(action k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: resource}, "", errors.New("RBAC: denied"))
		})
	}
	return Run(context.Background(), cs, disc, mesh, "")
}

func find(t *testing.T, results []Result, category, nameContains string) Result {
	t.Helper()
	for _, r := range results {
		if r.Category == category && strings.Contains(r.Name, nameContains) {
			return r
		}
	}
	t.Fatalf("no %s check %q in %+v", category, nameContains, results)
	return Result{}
}

func assertResult(t *testing.T, r Result, status Status, messageParts ...string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("%s: status %s, want %s (message %q)", r.Name, r.Status, status, r.Message)
	}
	for _, p := range messageParts {
		if !strings.Contains(r.Message+" | "+r.Hint, p) {
			t.Errorf("%s: message %q, hint %q: want %q", r.Name, r.Message, r.Hint, p)
		}
	}
}

func TestKubernetesVersion(t *testing.T) {
	tests := []struct {
		name, mesh, version string
		want                Status
		wantText            string
	}{
		{"istio too old", Istio, "v1.31.4", StatusFailed, "upgrade the cluster to Kubernetes 1.32"},
		{"istio oldest supported", Istio, "v1.32.0", StatusOK, "1.32 to 1.36"},
		{"istio newest tested, provider suffix", Istio, "v1.36.1-gke.1200", StatusOK, ""},
		{"istio newer than tested", Istio, "v1.37.0", StatusWarning, "newer than Istio 1.31 is tested on (Kubernetes 1.32 to 1.36)"},
		{"linkerd too old", Linkerd, "v1.28.9", StatusFailed, "older than Linkerd edge supports (Kubernetes 1.29 to 1.34)"},
		{"linkerd supported", Linkerd, "v1.30.0", StatusOK, ""},
		{"linkerd newer than tested", Linkerd, "v1.35.0", StatusWarning, "linkerd.io"},
		{"unparsable", Istio, "devel", StatusWarning, "cannot parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			results := fakeCluster{gitVersion: tt.version}.run(t, tt.mesh)
			assertResult(t, find(t, results, CategoryAPI, "Kubernetes API"), StatusOK, tt.version)
			assertResult(t, find(t, results, CategoryVersion, "supported"), tt.want, tt.wantText)
		})
	}
}

func TestUnreachable(t *testing.T) {
	cs := fake.NewClientset()
	cs.PrependReactor("get", "version", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("dial tcp 127.0.0.1:6443: connect: connection refused")
	})
	results := Run(context.Background(), cs, cs.Discovery(), Istio, "")
	if len(results) != 1 || results[0].Status != StatusFailed {
		t.Fatalf("results %+v, want one failed result", results)
	}
	if err := Unreachable(results); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("Unreachable = %v", err)
	}
	if err := Unreachable(fakeCluster{}.run(t, Istio)); err != nil {
		t.Errorf("Unreachable of a reachable cluster = %v", err)
	}
}

func TestUnknownMesh(t *testing.T) {
	results := fakeCluster{}.run(t, "consul")
	if len(results) != 1 || results[0].Status != StatusFailed || !strings.Contains(results[0].Message, `"consul"`) {
		t.Fatalf("results %+v", results)
	}
}

func TestPermissions(t *testing.T) {
	t.Run("cluster-admin", func(t *testing.T) {
		results := fakeCluster{}.run(t, Istio)
		assertResult(t, find(t, results, CategoryPermissions, ""), StatusOK, "get,list,watch,create,patch,delete")
	})
	t.Run("view only", func(t *testing.T) {
		var mu sync.Mutex
		var seen []authorizationv1.ResourceAttributes
		view := func(a *authorizationv1.ResourceAttributes) bool {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, *a)
			return a.Verb == "get" || a.Verb == "list" || a.Verb == "watch"
		}
		r := find(t, fakeCluster{allow: view}.run(t, Istio), CategoryPermissions, "")
		assertResult(t, r, StatusFailed,
			"48 of 96 permissions missing: cannot create,patch,delete: namespaces, customresourcedefinitions.apiextensions.k8s.io, clusterroles.rbac.authorization.k8s.io, clusterrolebindings.rbac.authorization.k8s.io, mutatingwebhookconfigurations.admissionregistration.k8s.io, validatingwebhookconfigurations.admissionregistration.k8s.io; ",
			"create,patch,delete in istio-system: configmaps, secrets, serviceaccounts, services, deployments.apps,",
			"daemonsets.apps, horizontalpodautoscalers.autoscaling",
			"ask your cluster admin for cluster-admin or these rules")
		if regexp.MustCompile(`\b(get|list|watch)\b`).MatchString(r.Message) {
			t.Errorf("allowed verbs reported as missing: %s", r.Message)
		}
		for _, a := range seen {
			if a.Resource == "customresourcedefinitions" && a.Namespace != "" {
				t.Errorf("cluster-scoped resource reviewed in namespace %q", a.Namespace)
			}
			if a.Resource == "secrets" && a.Namespace != "istio-system" {
				t.Errorf("secrets reviewed in namespace %q, want istio-system", a.Namespace)
			}
		}
	})
	t.Run("only CRDs missing, linkerd", func(t *testing.T) {
		noCRDs := func(a *authorizationv1.ResourceAttributes) bool { return a.Resource != "customresourcedefinitions" }
		r := find(t, fakeCluster{allow: noCRDs}.run(t, Linkerd), CategoryPermissions, "")
		assertResult(t, r, StatusFailed, "6 of 90 permissions missing: cannot get,list,watch,create,patch,delete: customresourcedefinitions.apiextensions.k8s.io")
		if strings.Contains(r.Message, ";") || strings.Contains(r.Message, ", ") {
			t.Errorf("more than CRDs reported: %s", r.Message)
		}
	})
}

func deployment(name, namespace string, labels, annotations map[string]string) *appsv1.Deployment {
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: labels, Annotations: annotations}}
}

func helmAnnotations(release, namespace string) map[string]string {
	return map[string]string{helmReleaseAnnotation: release, helmNamespaceAnnotation: namespace}
}

func releaseSecret(release, namespace string, labels map[string]string) *corev1.Secret {
	l := map[string]string{"owner": "helm", "name": release, "version": "1"}
	for k, v := range labels {
		l[k] = v
	}
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "sh.helm.release.v1." + release + ".v1", Namespace: namespace, Labels: l}}
}

func groupVersion(gv string, resources ...string) *metav1.APIResourceList {
	list := &metav1.APIResourceList{GroupVersion: gv}
	for _, r := range resources {
		list.APIResources = append(list.APIResources, metav1.APIResource{Name: r})
	}
	return list
}

func TestOwnControlPlane(t *testing.T) {
	istiod := map[string]string{"app": "istiod"}
	destination := map[string]string{"linkerd.io/control-plane-component": "destination"}
	tests := []struct {
		name    string
		mesh    string
		objects []runtime.Object
		forbid  []string
		want    Status
		text    []string
	}{
		{"none", Istio, nil, nil, StatusOK, []string{"none found"}},
		{"istioctl install", Istio,
			[]runtime.Object{deployment("istiod", "istio-system", istiod, nil)}, nil,
			StatusFailed, []string{"istiod in istio-system was not installed with Helm", "istioctl uninstall --purge"}},
		{"kubectl mesh install", Istio,
			[]runtime.Object{
				deployment("istiod", "istio-system", istiod, helmAnnotations("istiod", "istio-system")),
				releaseSecret("istiod", "istio-system", map[string]string{"kubectl-mesh.io/mesh": "istio"}),
			}, nil,
			StatusOK, []string{"managed by kubectl mesh", "install upgrades it"}},
		{"plain helm install", Istio,
			[]runtime.Object{
				deployment("istiod", "istio-system", istiod, helmAnnotations("my-istiod", "istio-system")),
				releaseSecret("my-istiod", "istio-system", nil),
			}, nil,
			StatusWarning, []string{"Helm release istio-system/my-istiod, which kubectl mesh did not install", "helm uninstall my-istiod -n istio-system"}},
		{"helm install, secrets unreadable", Istio,
			[]runtime.Object{deployment("istiod", "istio-system", istiod, helmAnnotations("istiod", "istio-system"))},
			[]string{"secrets"},
			StatusWarning, []string{"cannot tell whether kubectl mesh installed it"}},
		{"one revision managed, one not: the worst wins", Istio,
			[]runtime.Object{
				deployment("istiod", "istio-system", istiod, helmAnnotations("istiod", "istio-system")),
				releaseSecret("istiod", "istio-system", map[string]string{"kubectl-mesh.io/mesh": "istio"}),
				deployment("istiod-canary", "istio-system", map[string]string{"app": "istiod", "istio.io/rev": "canary"}, nil),
			}, nil,
			StatusFailed, []string{"istiod in istio-system is managed", "istiod-canary in istio-system was not installed with Helm"}},
		{"linkerd install | kubectl apply", Linkerd,
			[]runtime.Object{deployment("linkerd-destination", "linkerd", destination, nil)}, nil,
			StatusFailed, []string{"linkerd-destination in linkerd was not installed with Helm", "linkerd uninstall | kubectl delete -f -"}},
		{"deployments unreadable", Linkerd, nil, []string{"deployments"},
			StatusWarning, []string{"cannot list Deployments"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			results := fakeCluster{objects: tt.objects, forbid: tt.forbid}.run(t, tt.mesh)
			r := find(t, results, CategoryConflicts, "installed by another tool")
			assertResult(t, r, tt.want, tt.text...)
			if r.Err != nil {
				t.Errorf("forbidden reads are not incomplete checks: %v", r.Err)
			}
		})
	}
}

func TestOtherMesh(t *testing.T) {
	tests := []struct {
		name      string
		mesh      string
		objects   []runtime.Object
		resources []*metav1.APIResourceList
		want      Status
		text      string
	}{
		{"nothing", Istio, nil, nil, StatusOK, "none found"},
		{"linkerd running", Istio,
			[]runtime.Object{deployment("linkerd-destination", "linkerd", map[string]string{"linkerd.io/control-plane-component": "destination"}, nil)},
			nil, StatusWarning, "Linkerd runs in this cluster (linkerd-destination in linkerd)"},
		{"linkerd CRDs left over", Istio, nil,
			[]*metav1.APIResourceList{groupVersion("policy.linkerd.io/v1beta3", "servers")},
			StatusWarning, "Linkerd CRDs are installed without a control plane (policy.linkerd.io)"},
		{"istio running", Linkerd,
			[]runtime.Object{deployment("istiod-canary", "istio-system", map[string]string{"app": "istiod"}, nil)},
			nil, StatusWarning, "kubectl mesh uninstall istio"},
		{"istio CRDs left over", Linkerd, nil,
			[]*metav1.APIResourceList{groupVersion("networking.istio.io/v1", "virtualservices")},
			StatusWarning, "networking.istio.io"},
		{"gateway API is nobody's", Linkerd, nil,
			[]*metav1.APIResourceList{groupVersion("gateway.networking.k8s.io/v1", "httproutes")},
			StatusOK, "none found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			results := fakeCluster{objects: tt.objects, resources: tt.resources}.run(t, tt.mesh)
			other := "Linkerd"
			if tt.mesh == Linkerd {
				other = "Istio"
			}
			assertResult(t, find(t, results, CategoryConflicts, "no "+other+" control plane or CRDs"), tt.want, tt.text)
		})
	}
}

func TestIstioOperatorCRD(t *testing.T) {
	r := find(t, fakeCluster{}.run(t, Istio), CategoryConflicts, "IstioOperator")
	assertResult(t, r, StatusOK, "not installed")
	results := fakeCluster{resources: []*metav1.APIResourceList{groupVersion("install.istio.io/v1alpha1", "istiooperators")}}.run(t, Istio)
	assertResult(t, find(t, results, CategoryConflicts, "IstioOperator"), StatusWarning, "kubectl delete crd istiooperators.install.istio.io")
	for _, r := range (fakeCluster{}).run(t, Linkerd) {
		if strings.Contains(r.Name, "IstioOperator") {
			t.Errorf("linkerd precheck runs %q", r.Name)
		}
	}
}

func TestCRDVersions(t *testing.T) {
	tests := []struct {
		name      string
		mesh      string
		resources []*metav1.APIResourceList
		check     string
		want      Status
		text      string
	}{
		{"no istio CRDs", Istio, nil, "Istio CRDs", StatusOK, "none installed yet"},
		{"istio CRDs serve v1", Istio, []*metav1.APIResourceList{
			groupVersion("networking.istio.io/v1beta1", "virtualservices"),
			groupVersion("networking.istio.io/v1", "virtualservices"),
			groupVersion("security.istio.io/v1", "authorizationpolicies"),
		}, "Istio CRDs", StatusOK, "networking.istio.io, security.istio.io serve v1"},
		{"istio 1.21 CRDs", Istio, []*metav1.APIResourceList{
			groupVersion("networking.istio.io/v1alpha3", "virtualservices"),
			groupVersion("networking.istio.io/v1beta1", "virtualservices"),
			groupVersion("security.istio.io/v1", "authorizationpolicies"),
		}, "Istio CRDs", StatusWarning, "networking.istio.io serves v1alpha3, v1beta1, not v1"},
		{"no gateway API", Linkerd, nil, "Gateway API", StatusOK, "not installed"},
		{"gateway API v1.2", Istio, []*metav1.APIResourceList{
			groupVersion("gateway.networking.k8s.io/v1", "gatewayclasses", "gateways", "httproutes", "grpcroutes"),
			groupVersion("gateway.networking.k8s.io/v1beta1", "gatewayclasses", "gateways", "httproutes"),
		}, "Gateway API", StatusOK, "serve v1"},
		{"gateway API v1.0: grpcroutes only alpha", Linkerd, []*metav1.APIResourceList{
			groupVersion("gateway.networking.k8s.io/v1", "gatewayclasses", "gateways", "httproutes"),
			groupVersion("gateway.networking.k8s.io/v1alpha2", "grpcroutes"),
		}, "Gateway API", StatusWarning, "grpcroutes not served as gateway.networking.k8s.io/v1: the Gateway API CRDs are older than v1.1"},
		{"gateway API v0.8: no v1 at all", Istio, []*metav1.APIResourceList{
			groupVersion("gateway.networking.k8s.io/v1beta1", "gatewayclasses", "gateways", "httproutes"),
		}, "Gateway API", StatusWarning, "gatewayclasses, gateways, httproutes, grpcroutes not served"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			results := fakeCluster{resources: tt.resources}.run(t, tt.mesh)
			assertResult(t, find(t, results, CategoryCRDs, tt.check), tt.want, tt.text)
		})
	}
}

func namespace(name string, labels map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
}

func TestNamespaces(t *testing.T) {
	tests := []struct {
		name    string
		mesh    string
		objects []runtime.Object
		check   string
		want    Status
		text    string
	}{
		{"istio-system absent", Istio, nil, "not labelled", StatusOK, "does not exist yet"},
		{"istio-system plain", Istio, []runtime.Object{namespace("istio-system", nil)}, "not labelled", StatusOK, "istio-system exists"},
		{"istio-system injected", Istio, []runtime.Object{namespace("istio-system", map[string]string{"istio-injection": "enabled"})},
			"not labelled", StatusWarning, "kubectl label namespace istio-system istio-injection- istio.io/rev-"},
		{"istio-system injection disabled", Istio, []runtime.Object{namespace("istio-system", map[string]string{"istio-injection": "disabled"})},
			"not labelled", StatusOK, ""},
		{"no namespace with both labels", Istio, []runtime.Object{
			namespace("a", map[string]string{"istio-injection": "enabled"}), namespace("b", map[string]string{"istio.io/rev": "canary"}),
		}, "both", StatusOK, "none found"},
		{"IST0123", Istio, []runtime.Object{
			namespace("a", map[string]string{"istio-injection": "enabled", "istio.io/rev": "canary"}), namespace("b", map[string]string{"istio.io/rev": "canary"}),
		}, "both", StatusWarning, "labelled with both (IST0123): a"},
		{"linkerd absent", Linkerd, nil, "control plane namespace", StatusOK, "does not exist yet"},
		{"linkerd left over", Linkerd, []runtime.Object{namespace("linkerd", nil)}, "control plane namespace", StatusWarning, "kubectl delete namespace linkerd"},
		{"linkerd with control plane", Linkerd, []runtime.Object{
			namespace("linkerd", nil),
			deployment("linkerd-destination", "linkerd", map[string]string{"linkerd.io/control-plane-component": "destination"}, helmAnnotations("linkerd-control-plane", "linkerd")),
		}, "control plane namespace", StatusOK, "holds the control plane"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			results := fakeCluster{objects: tt.objects}.run(t, tt.mesh)
			assertResult(t, find(t, results, CategoryNamespaces, tt.check), tt.want, tt.text)
		})
	}
}

func TestCleanClusterPasses(t *testing.T) {
	for _, mesh := range []string{Istio, Linkerd} {
		for _, r := range (fakeCluster{}).run(t, mesh) {
			if r.Status != StatusOK || r.Err != nil {
				t.Errorf("%s: %s %s: %s (%v)", mesh, r.Name, r.Status, r.Message, r.Err)
			}
		}
	}
}

func TestAPIErrorsMakeChecksIncomplete(t *testing.T) {
	cs := fake.NewClientset()
	cs.PrependReactor("list", "deployments", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewInternalError(errors.New("etcd timeout"))
	})
	cs.PrependReactor("create", "selfsubjectaccessreviews", func(action k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewServiceUnavailable("authorizer down")
	})
	results := Run(context.Background(), cs, cs.Discovery(), Istio, "")
	for _, name := range []string{"installed by another tool", "no Linkerd control plane"} {
		if r := find(t, results, CategoryConflicts, name); r.Err == nil || !strings.Contains(r.Message, "etcd timeout") {
			t.Errorf("%s: %+v, want an incomplete check", name, r)
		}
	}
	if r := find(t, results, CategoryPermissions, ""); r.Err == nil || !strings.Contains(r.Message, "authorizer down") {
		t.Errorf("permissions: %+v, want an incomplete check", r)
	}
	if Unreachable(results) != nil {
		t.Error("a reachable cluster reported unreachable")
	}
}
