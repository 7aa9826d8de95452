package appcmd

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/app"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil/cmdtesting"
)

var (
	namespaces      = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	deployments     = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	virtualServices = schema.GroupVersionResource{Group: "networking.istio.io", Version: "v1", Resource: "virtualservices"}
	istiod          = &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "istiod", Namespace: "istio-system", Labels: map[string]string{"app": "istiod"}}}
)

// newCluster is the fake factory with an apply client over a fake
// apiserver; objects go into the fake clientset (istiod for detection,
// what a namespace holds, workloads for status).
func newCluster(t *testing.T, objects ...runtime.Object) (*cmdtesting.Factory, *dynamicfake.FakeDynamicClient) {
	t.Helper()
	f := cmdtesting.NewFactory(t, objects...)
	f.Apply, f.Dynamic = cmdtesting.NewApplyClient(t)
	return f, f.Dynamic.(*dynamicfake.FakeDynamicClient)
}

func run(t *testing.T, f *cmdtesting.Factory, args ...string) (string, string, error) {
	t.Helper()
	return f.Run(t, "", append([]string{"app"}, args...), NewCmdApp)
}

// names lists the objects of a resource in namespace.
func names(t *testing.T, dyn *dynamicfake.FakeDynamicClient, gvr schema.GroupVersionResource, namespace string) []string {
	t.Helper()
	list, err := dyn.Resource(gvr).Namespace(namespace).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, u := range list.Items {
		out = append(out, u.GetName())
	}
	return out
}

func TestAppList(t *testing.T) {
	f, _ := newCluster(t)
	out, _, err := run(t, f, "list")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"NAME", "bookinfo    istio,linkerd,none", "booksapp    linkerd,none"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
	out, _, err = run(t, f, "list", "-o", "json")
	var items []appItem
	if err != nil || json.Unmarshal([]byte(out), &items) != nil || len(items) != len(app.Names()) {
		t.Errorf("list -o json: %v\n%s", err, out)
	}
	if f.Connects != 0 {
		t.Errorf("list made %d clients; the catalog is in the binary", f.Connects)
	}
}

func TestAppDeployErrors(t *testing.T) {
	tests := []struct {
		name    string
		objects []runtime.Object
		args    []string
		want    string
	}{
		{"unknown app", nil, []string{"deploy", "nope"}, `unknown app "nope" (allowed: bookinfo, httpbin, curl, emojivoto, booksapp)`},
		{"unknown mesh", nil, []string{"deploy", "bookinfo", "--mesh", "consul"}, `--mesh: unknown mesh "consul" (allowed: istio, linkerd, none)`},
		{"a mesh the app lacks", nil, []string{"deploy", "booksapp", "--mesh", "istio"}, "--mesh: booksapp does not run on istio (it supports linkerd, none)"},
		{"client dry run needs --mesh", nil, []string{"deploy", "bookinfo", "--dry-run=client"}, "--mesh is required with --dry-run=client"},
		{"output without a client dry run", nil, []string{"deploy", "bookinfo", "-o", "yaml"}, "-o/--output applies to --dry-run=client only"},
		{"wait in a dry run", nil, []string{"deploy", "bookinfo", "--dry-run=server", "--wait"}, "--wait has nothing to wait for in a dry run"},
		{"unknown ingress", nil, []string{"deploy", "bookinfo", "--ingress", "nginx"}, `--ingress: unknown ingress "nginx" (allowed: gateway-api, istio)`},
		{"no mesh installed", nil, []string{"deploy", "bookinfo"}, "install one with kubectl mesh install, or deploy without a mesh with --mesh none"},
		{"the installed mesh is not the app's", []runtime.Object{istiod}, []string{"deploy", "booksapp"}, "booksapp does not run on istio, the mesh in the cluster"},
		{"foreign objects", []runtime.Object{
			&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "bookinfo"}},
			&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "kube-root-ca.crt", Namespace: "bookinfo"}},
			&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: "bookinfo"}},
			&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "legacy", Namespace: "bookinfo"}},
		}, []string{"deploy", "bookinfo", "--mesh", "none"}, "namespace bookinfo holds other objects (service/legacy): deploy into a new namespace with -n, or into this one with --force"},
		{"delete needs a deployed app", nil, []string{"delete", "bookinfo"}, "bookinfo is not deployed in namespace bookinfo: kubectl mesh app status -A shows where it is"},
		{"delete has no client dry run", nil, []string{"delete", "bookinfo", "--dry-run=client"}, "--dry-run=client: kubectl mesh app delete has no client dry run (allowed: none, server)"},
		{"status -A and -n", nil, []string{"status", "-A", "-n", "x"}, "-A and -n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := newCluster(t, tt.objects...)
			_, _, err := run(t, f, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// A client dry run prints the objects, for the mesh named, without a
// cluster.
func TestAppDeployClientDryRun(t *testing.T) {
	f, _ := newCluster(t)
	out, _, err := run(t, f, "deploy", "bookinfo", "--mesh", "istio", "--dry-run=client", "-n", "shop")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"kind: Namespace", "istio-injection: enabled", "kind: DestinationRule", "kind: VirtualService", "namespace: shop", "kind: Gateway\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if f.Connects != 0 {
		t.Errorf("a client dry run made %d clients", f.Connects)
	}
}

// Deploy detects the mesh, creates and enrols the namespace, applies the
// app as an apply set; deploying again changes nothing; delete removes
// every object, namespace included.
func TestAppDeployAndDelete(t *testing.T) {
	f, dyn := newCluster(t, istiod)
	out, _, err := run(t, f, "deploy", "bookinfo", "--ingress", "istio")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"namespace/bookinfo created", "deployment.apps/reviews-v3 created", "virtualservice.networking.istio.io/reviews created", "gateway.networking.istio.io/bookinfo-gateway created"} {
		if !strings.Contains(out, want) {
			t.Errorf("deploy output lacks %q:\n%s", want, out)
		}
	}
	ns, err := dyn.Resource(namespaces).Get(context.Background(), "bookinfo", metav1.GetOptions{})
	if err != nil || ns.GetLabels()["istio-injection"] != "enabled" {
		t.Fatalf("namespace %v (%v), want it labelled istio-injection=enabled", ns, err)
	}
	if got := names(t, dyn, deployments, "bookinfo"); len(got) != 6 {
		t.Errorf("deployments %v, want bookinfo's six", got)
	}
	out, _, err = run(t, f, "deploy", "bookinfo", "--ingress", "istio")
	if err != nil || strings.Contains(out, "created") || strings.Contains(out, "configured") {
		t.Errorf("deploying again: %v\n%s", err, out)
	}
	out, _, err = run(t, f, "delete", "bookinfo")
	if err != nil || !strings.Contains(out, "namespace/bookinfo deleted") {
		t.Fatalf("delete: %v\n%s", err, out)
	}
	for _, gvr := range []schema.GroupVersionResource{deployments, virtualServices} {
		if left := names(t, dyn, gvr, "bookinfo"); len(left) != 0 {
			t.Errorf("%s left after delete: %v", gvr.Resource, left)
		}
	}
}

// An existing namespace holding only what Kubernetes puts there is
// enrolled, not taken: delete gives its marks back and keeps it.
func TestAppDeployIntoAnExistingNamespace(t *testing.T) {
	f, dyn := newCluster(t, istiod,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "test"}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: "test"}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "legacy", Namespace: "test"}})
	if _, err := dyn.Resource(namespaces).Create(context.Background(), unstructuredNamespace("test"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := run(t, f, "deploy", "httpbin", "-n", "test"); err == nil {
		t.Fatal("deploy into a namespace with a Service of someone else's succeeded")
	}
	out, _, err := run(t, f, "deploy", "httpbin", "-n", "test", "--force")
	if err != nil || !strings.Contains(out, "namespace/test configured (shared)") {
		t.Fatalf("--force: %v\n%s", err, out)
	}
	if _, _, err := run(t, f, "delete", "httpbin", "-n", "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := dyn.Resource(namespaces).Get(context.Background(), "test", metav1.GetOptions{}); err != nil {
		t.Errorf("delete removed the namespace it did not create: %v", err)
	}
}

// Status shows each workload's readiness and how many of its pods run the
// mesh's proxy.
func TestAppStatus(t *testing.T) {
	labels := map[string]string{app.LabelApp: "httpbin", "app": "httpbin"}
	replicas := int32(2)
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "httpbin", Namespace: "httpbin", Labels: labels, Generation: 1},
		Spec:       appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "httpbin"}}},
		Status:     appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 2, UpdatedReplicas: 2, ReadyReplicas: 1, AvailableReplicas: 1},
	}
	pod := func(name string, containers ...string) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "httpbin", Labels: labels}}
		for _, c := range containers {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: c})
		}
		return p
	}
	f, _ := newCluster(t, istiod, dep, pod("httpbin-1", "httpbin", "istio-proxy"), pod("httpbin-2", "httpbin"))
	if _, _, err := run(t, f, "deploy", "httpbin", "--ingress", "istio"); err != nil {
		t.Fatal(err)
	}
	out, _, err := run(t, f, "status")
	if err != nil {
		t.Fatal(err)
	}
	want := "NAMESPACE   APP       MESH    WORKLOAD   READY   REPLICAS   PROXIES   MESSAGE\n" +
		"httpbin     httpbin   istio   httpbin    no      1/2        1/2       1 of 2 replicas available\n"
	if out != want {
		t.Errorf("status:\n%s\nwant:\n%s", out, want)
	}
	out, _, err = run(t, f, "status", "httpbin", "-o", "json")
	var st []appStatus
	if err != nil || json.Unmarshal([]byte(out), &st) != nil || len(st) != 1 || st[0].Workloads[0].Proxies != "1/2" {
		t.Errorf("status -o json: %v\n%s", err, out)
	}
	_, errOut, err := run(t, f, "status", "-n", "elsewhere")
	if err != nil || errOut != "No apps deployed in namespace elsewhere.\n" {
		t.Errorf("status -n elsewhere: %v, stderr %q", err, errOut)
	}
}

// --wait gives up after --timeout, naming what is not available.
func TestAppDeployWaitTimesOut(t *testing.T) {
	replicas := int32(1)
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "curl", Namespace: "curl", Labels: map[string]string{app.LabelApp: "curl"}, Generation: 1},
		Spec:       appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{}},
		Status:     appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 1, UpdatedReplicas: 1},
	}
	f, _ := newCluster(t, dep)
	_, _, err := run(t, f, "deploy", "curl", "--mesh", "none", "--wait", "--timeout", "1s")
	if err == nil || !strings.Contains(err.Error(), "waiting for curl") || !strings.Contains(err.Error(), "curl: 0 of 1 replicas available") {
		t.Errorf("error %v, want the wait to time out naming curl", err)
	}
}

func unstructuredNamespace(name string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": name}}}
}
