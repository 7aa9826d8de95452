package meshcmd

import (
	"context"
	"maps"
	"strings"
	"testing"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil/cmdtesting"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
)

func injectNamespace(name string, labels, annotations map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, Annotations: annotations}}
}

func injectPod(name, namespace string, containers ...string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}}
	for _, c := range containers {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: c})
	}
	return p
}

func injectDeployment(name, namespace string, labels map[string]string) *appsv1.Deployment {
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: labels}}
}

func injectWebhook(name string, labels map[string]string) *admissionregistrationv1.MutatingWebhookConfiguration {
	return &admissionregistrationv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
}

// runInject runs `kubectl mesh inject ARGS -n namespace` against a fake
// clientset and returns the clientset to inspect.
func runInject(t *testing.T, namespace string, objects []runtime.Object, args ...string) (cs *fake.Clientset, stdout, stderr string, err error) {
	t.Helper()
	f := cmdtesting.NewFactory(t, objects...)
	stdout, stderr, err = f.Run(t, "", append([]string{"inject", "-n", namespace}, args...), NewCmdInject)
	return f.Clientset, stdout, stderr, err
}

func injectGetNamespace(t *testing.T, cs kubernetes.Interface, name string) *corev1.Namespace {
	t.Helper()
	ns, err := cs.CoreV1().Namespaces().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

func TestInject(t *testing.T) {
	istiod := injectDeployment("istiod", "istio-system", map[string]string{"app": "istiod"})
	destination := injectDeployment("linkerd-destination", "linkerd", map[string]string{"linkerd.io/control-plane-component": "destination"})
	defaultInjector := injectWebhook("istio-sidecar-injector", map[string]string{"istio.io/rev": "default"})
	tests := []struct {
		name            string
		ns              *corev1.Namespace
		objects         []runtime.Object
		args            []string
		wantLabels      map[string]string
		wantAnnotations map[string]string
		wantOut         string
		wantErrOut      string // "" means stderr must be empty
		wantNoPatch     bool
	}{
		{
			name: "istio, detected", ns: injectNamespace("shop", nil, nil),
			objects: []runtime.Object{istiod, defaultInjector}, args: []string{"enable"},
			wantLabels: map[string]string{"istio-injection": "enabled"}, wantOut: "namespace/shop labeled\n",
		},
		{
			name: "istio default revision replaces a revision label (IST0123)", ns: injectNamespace("shop", map[string]string{"istio.io/rev": "canary", "team": "a"}, nil),
			objects: []runtime.Object{defaultInjector}, args: []string{"enable", "--mesh", "istio"},
			wantLabels: map[string]string{"istio-injection": "enabled", "team": "a"}, wantOut: "namespace/shop labeled\n",
		},
		{
			name: "istio revision replaces istio-injection", ns: injectNamespace("shop", map[string]string{"istio-injection": "enabled"}, nil),
			objects:    []runtime.Object{injectWebhook("istio-sidecar-injector-canary", map[string]string{"istio.io/rev": "canary"})},
			args:       []string{"enable", "--revision", "canary"},
			wantLabels: map[string]string{"istio.io/rev": "canary"}, wantOut: "namespace/shop labeled\n",
		},
		{
			name: "istio revision tag", ns: injectNamespace("shop", nil, nil),
			objects:    []runtime.Object{injectWebhook("istio-revision-tag-prod", map[string]string{"istio.io/tag": "prod", "istio.io/rev": "canary"})},
			args:       []string{"enable", "--revision", "prod"},
			wantLabels: map[string]string{"istio.io/rev": "prod"}, wantOut: "namespace/shop labeled\n",
		},
		{
			name: "istio revision without a control plane warns", ns: injectNamespace("shop", nil, nil),
			objects: []runtime.Object{defaultInjector}, args: []string{"enable", "--revision", "canary"},
			wantLabels: map[string]string{"istio.io/rev": "canary"}, wantOut: "namespace/shop labeled\n",
			wantErrOut: `Warning: no injector webhook of Istio revision or tag "canary" is installed: pods in shop are not injected until one is`,
		},
		{
			name: "istio already enabled", ns: injectNamespace("shop", map[string]string{"istio-injection": "enabled"}, nil),
			objects: []runtime.Object{istiod, defaultInjector}, args: []string{"enable"},
			wantLabels: map[string]string{"istio-injection": "enabled"}, wantOut: "namespace/shop not labeled\n", wantNoPatch: true,
		},
		{
			name: "istio enable, existing pods need a restart", ns: injectNamespace("shop", nil, nil),
			objects:    []runtime.Object{istiod, defaultInjector, injectPod("a", "shop", "app"), injectPod("b", "shop", "app"), injectPod("c", "shop", "app", "istio-proxy"), injectPod("x", "other", "app")},
			args:       []string{"enable"},
			wantLabels: map[string]string{"istio-injection": "enabled"}, wantOut: "namespace/shop labeled\n",
			wantErrOut: "2 pods in shop run without the proxy: restart workloads to inject: kubectl rollout restart deployment -n shop\n",
		},
		{
			name: "istio disable removes both labels", ns: injectNamespace("shop", map[string]string{"istio-injection": "enabled", "istio.io/rev": "canary"}, nil),
			objects: []runtime.Object{injectPod("a", "shop", "app", "istio-proxy")}, args: []string{"disable", "--mesh", "istio"},
			wantLabels: map[string]string{}, wantOut: "namespace/shop unlabeled\n",
			wantErrOut: "1 pod in shop runs the proxy: restart workloads to uninject: kubectl rollout restart deployment -n shop\n",
		},
		{
			name: "linkerd, detected", ns: injectNamespace("shop", nil, map[string]string{"owner": "a"}),
			objects: []runtime.Object{destination, injectWebhook("linkerd-proxy-injector-webhook-config", nil)}, args: []string{"enable"},
			wantAnnotations: map[string]string{"linkerd.io/inject": "enabled", "owner": "a"}, wantOut: "namespace/shop annotated\n",
		},
		{
			name: "linkerd without its injector warns", ns: injectNamespace("shop", nil, nil),
			args:            []string{"enable", "--mesh", "linkerd"},
			wantAnnotations: map[string]string{"linkerd.io/inject": "enabled"}, wantOut: "namespace/shop annotated\n",
			wantErrOut: "Warning: no injector webhook of the Linkerd proxy injector is installed",
		},
		{
			name: "linkerd disable", ns: injectNamespace("shop", map[string]string{"istio-injection": "enabled"}, map[string]string{"linkerd.io/inject": "enabled"}),
			args:            []string{"disable", "--mesh", "linkerd"},
			wantLabels:      map[string]string{"istio-injection": "enabled"},
			wantAnnotations: map[string]string{}, wantOut: "namespace/shop annotated\n",
		},
		{
			name: "linkerd native sidecar counts as a proxy", ns: injectNamespace("shop", nil, map[string]string{"linkerd.io/inject": "enabled"}),
			objects: []runtime.Object{&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "shop"},
				Spec: corev1.PodSpec{InitContainers: []corev1.Container{{Name: "linkerd-proxy"}}, Containers: []corev1.Container{{Name: "app"}}}}},
			args:            []string{"disable", "--mesh", "linkerd"},
			wantAnnotations: map[string]string{}, wantOut: "namespace/shop annotated\n",
			wantErrOut: "1 pod in shop runs the proxy",
		},
		{
			name: "disable without --mesh removes every mark", ns: injectNamespace("shop", map[string]string{"istio.io/rev": "canary"}, map[string]string{"linkerd.io/inject": "enabled"}),
			args:       []string{"disable"},
			wantLabels: map[string]string{}, wantAnnotations: map[string]string{},
			wantOut: "namespace/shop unlabeled\nnamespace/shop annotated\n",
		},
		{
			name: "disable without --mesh removes the marks the namespace has", ns: injectNamespace("shop", nil, map[string]string{"linkerd.io/inject": "enabled"}),
			objects:         []runtime.Object{injectPod("a", "shop", "app", "linkerd-proxy"), injectPod("b", "shop", "app", "istio-proxy")},
			args:            []string{"disable"},
			wantAnnotations: map[string]string{}, wantOut: "namespace/shop annotated\n",
			wantErrOut: "1 pod in shop runs the proxy: restart workloads to uninject",
		},
		{
			name: "disable of a namespace without marks", ns: injectNamespace("shop", nil, nil),
			args: []string{"disable"}, wantOut: "namespace/shop unchanged\n", wantNoPatch: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, out, errOut, err := runInject(t, tt.ns.Name, append([]runtime.Object{tt.ns}, tt.objects...), tt.args...)
			if err != nil {
				t.Fatalf("inject %v: %v", tt.args, err)
			}
			if out != tt.wantOut {
				t.Errorf("stdout %q, want %q", out, tt.wantOut)
			}
			if tt.wantErrOut == "" && errOut != "" || !strings.Contains(errOut, tt.wantErrOut) {
				t.Errorf("stderr %q, want %q", errOut, tt.wantErrOut)
			}
			ns := injectGetNamespace(t, cs, tt.ns.Name)
			if tt.wantLabels != nil && !maps.Equal(ns.Labels, tt.wantLabels) && !(len(ns.Labels) == 0 && len(tt.wantLabels) == 0) {
				t.Errorf("labels %v, want %v", ns.Labels, tt.wantLabels)
			}
			if tt.wantAnnotations != nil && !maps.Equal(ns.Annotations, tt.wantAnnotations) && !(len(ns.Annotations) == 0 && len(tt.wantAnnotations) == 0) {
				t.Errorf("annotations %v, want %v", ns.Annotations, tt.wantAnnotations)
			}
			patched := false
			for _, a := range cs.Actions() {
				if a.GetVerb() == "patch" {
					patched = true
				}
			}
			if patched == tt.wantNoPatch {
				t.Errorf("patched %v, want %v", patched, !tt.wantNoPatch)
			}
		})
	}
}

func TestInjectErrors(t *testing.T) {
	istiod := injectDeployment("istiod-canary", "istio-system", map[string]string{"app": "istiod"})
	destination := injectDeployment("linkerd-destination", "linkerd", map[string]string{"linkerd.io/control-plane-component": "destination"})
	shop := injectNamespace("shop", nil, nil)
	tests := []struct {
		name    string
		objects []runtime.Object
		args    []string
		want    string
	}{
		{"both meshes installed", []runtime.Object{shop, istiod, destination}, []string{"enable"},
			"several meshes are installed (istio, linkerd): name the mesh with --mesh"},
		{"no mesh installed", []runtime.Object{shop}, []string{"enable"},
			"no mesh is installed in the cluster (looked for istio, linkerd): name the mesh with --mesh"},
		{"unknown mesh", []runtime.Object{shop}, []string{"enable", "--mesh", "consul"}, `--mesh: unknown mesh "consul" (allowed: istio, linkerd)`},
		{"revision for linkerd", []runtime.Object{shop}, []string{"enable", "--mesh", "linkerd", "--revision", "canary"},
			"--revision applies to Istio only"},
		{"bad revision", []runtime.Object{shop}, []string{"enable", "--revision", "Canary_1"}, `--revision: "Canary_1" is not a valid revision name`},
		{"revision on disable", []runtime.Object{shop}, []string{"disable", "--revision", "canary"}, "unknown flag: --revision"},
		{"missing namespace", nil, []string{"enable", "--mesh", "istio"}, `reading namespace shop: namespaces "shop" not found`},
		{"arguments", []runtime.Object{shop}, []string{"enable", "shop"}, `unknown command "shop"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, _, _, err := runInject(t, "shop", tt.objects, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			for _, a := range cs.Actions() {
				if a.GetVerb() == "patch" {
					t.Errorf("namespace patched despite the error")
				}
			}
		})
	}
}
