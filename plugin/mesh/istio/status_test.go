package istio

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	release "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
	admitv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
)

// statusFixture is a cluster with: our default revision (istiod ready,
// 1.30.0), a plain-helm gateway of the default revision whose Deployment
// is missing, istiod-canary installed by istioctl (no release, 1.31.0, not
// ready), a tag prod -> canary, and proxies of both revisions.
func statusFixture(t *testing.T) mesh.Cluster {
	t.Helper()
	kube := fake.NewClientset(
		istiodDeployment("istiod", "", "1.30.0", 1, 1),
		istiodDeployment("istiod-canary", "canary", "1.31.0", 2, 1),
		tagWebhook("prod", "canary"),
		sidecarPod("a", "app", "1.30.0", "default"),
		sidecarPod("b", "app", "1.29.0", ""),
		sidecarPod("c", "app2", "1.31.0", "prod"),
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "plain", Namespace: "app"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app:1"}}}},
	)
	storeRelease(t, kube, "istio-system", "istiod", "istiod", map[string]string{LabelMesh: "istio", LabelComponent: "istiod", LabelRevision: "default"}, nil)
	storeRelease(t, kube, "istio-system", "istio-base", "base", map[string]string{LabelMesh: "istio", LabelComponent: "base", LabelRevision: "default"}, nil)
	storeRelease(t, kube, "ingress", "my-gateway", "gateway", nil, map[string]any{"name": "ingress-gw"})
	storeRelease(t, kube, "other", "base", "base-not-istio", nil, nil)
	return mesh.Cluster{Clientset: kube}
}

func TestStatus(t *testing.T) {
	st, err := New(Config{}).Status(context.Background(), statusFixture(t))
	if err != nil {
		t.Fatal(err)
	}
	if !st.Installed || st.Namespace != "istio-system" || st.Version != "1.30.0" {
		t.Fatalf("status %+v, want installed 1.30.0 in istio-system", st)
	}
	if len(st.Revisions) != 2 || st.Revisions[0].Name != "default" || st.Revisions[1].Name != "canary" {
		t.Fatalf("revisions %+v, want default then canary", st.Revisions)
	}
	def, canary := st.Revisions[0], st.Revisions[1]
	comps := map[string]mesh.Component{}
	for _, c := range def.Components {
		comps[c.Release] = c
	}
	if c := comps["istiod"]; !c.Ready || c.Replicas != "1/1" {
		t.Errorf("istiod %+v, want ready 1/1", c)
	}
	if c := comps["istio-base"]; !c.Ready {
		t.Errorf("base %+v, want ready (deployed)", c)
	}
	if c := comps["my-gateway"]; c.Ready || !strings.Contains(c.Message, "ingress-gw not found") {
		t.Errorf("plain-helm gateway %+v, want not ready: Deployment ingress-gw not found", c)
	}
	if _, ok := comps["base"]; ok {
		t.Error("a chart named base without Istio's keywords was taken for Istio's")
	}
	if canary.Version != "1.31.0" || !slices.Equal(canary.Tags, []string{"prod"}) {
		t.Errorf("canary %+v, want version 1.31.0 and tag prod", canary)
	}
	if len(canary.Components) != 1 || canary.Components[0].Ready || canary.Components[0].Replicas != "1/2" {
		t.Errorf("canary components %+v, want istiod not ready 1/2", canary.Components)
	}
	want := []mesh.ProxyInfo{
		{Version: "1.31.0", Revision: "canary", Pods: 1},
		{Version: "1.29.0", Revision: "default", Pods: 1, Skew: true},
		{Version: "1.30.0", Revision: "default", Pods: 1},
	}
	if !slices.Equal(st.Proxies, want) {
		t.Errorf("proxies %+v\nwant    %+v", st.Proxies, want)
	}
	for _, w := range []string{"canary: istiod is not ready", "my-gateway", "1.29.0"} {
		if !slices.ContainsFunc(st.Warnings, func(s string) bool { return strings.Contains(s, w) }) {
			t.Errorf("warnings %q lack %q", st.Warnings, w)
		}
	}
}

func TestStatusNotInstalled(t *testing.T) {
	st, err := New(Config{}).Status(context.Background(), mesh.Cluster{Clientset: fake.NewClientset()})
	if err != nil {
		t.Fatal(err)
	}
	if st.Installed || st.Mesh != "istio" || len(st.Revisions) != 0 {
		t.Errorf("status %+v, want not installed", st)
	}
}

func TestUninstallPlan(t *testing.T) {
	c := statusFixture(t)
	storeRelease(t, c.Clientset.(*fake.Clientset), "istio-system", "istio-ingressgateway", "gateway",
		map[string]string{LabelMesh: "istio", LabelComponent: "gateway", LabelRevision: "default"}, nil)
	plan, err := UninstallPlan(context.Background(), c, "", false)
	if err != nil {
		t.Fatal(err)
	}
	// canary (istioctl's) remains: base stays.
	if got := refNames(plan); got != "ingress/my-gateway,istio-system/istio-ingressgateway,istio-system/istiod" {
		t.Errorf("plan %s", got)
	}
	plan, err = UninstallPlan(context.Background(), c, "", true)
	if err != nil {
		t.Fatal(err)
	}
	if got := refNames(plan); got != "ingress/my-gateway,istio-system/istio-ingressgateway,istio-system/istiod,istio-system/istio-base" {
		t.Errorf("purge plan %s", got)
	}
}

func TestInUse(t *testing.T) {
	c := statusFixture(t)
	kube := c.Clientset
	for name, labels := range map[string]map[string]string{
		"app":  {"istio-injection": "enabled"},
		"app2": {"istio.io/rev": "prod"},
		"app3": {"istio.io/rev": "canary"},
	} {
		if _, err := kube.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	u, err := InUse(context.Background(), c, "canary")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(u.Namespaces, []string{"app2", "app3"}) || !slices.Equal(u.Pods, []string{"app2/c"}) || !u.InUse() {
		t.Errorf("canary in use %+v", u)
	}
	u, err = InUse(context.Background(), c, "")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(u.Namespaces, []string{"app"}) || !slices.Equal(u.Pods, []string{"app/a", "app/b"}) {
		t.Errorf("default in use %+v", u)
	}
}

func refNames(refs []ReleaseRef) string {
	var s []string
	for _, r := range refs {
		s = append(s, r.Namespace+"/"+r.Name)
	}
	return strings.Join(s, ",")
}

func storeRelease(t *testing.T, kube *fake.Clientset, ns, name, chartName string, labels map[string]string, config map[string]any) {
	t.Helper()
	meta := &chart.Metadata{Name: chartName, Version: "1.30.0", AppVersion: "1.30.0", Keywords: []string{"istio"}}
	if chartName == "base-not-istio" {
		meta = &chart.Metadata{Name: "base", Version: "0.1.0"}
	}
	rel := &release.Release{Name: name, Namespace: ns, Version: 1, Labels: labels, Config: config,
		Chart: &chart.Chart{Metadata: meta}, Info: &release.Info{Status: rcommon.StatusDeployed}}
	if err := driver.NewSecrets(kube.CoreV1().Secrets(ns)).Create(fmt.Sprintf("sh.helm.release.v1.%s.v1", name), rel); err != nil {
		t.Fatal(err)
	}
}

func istiodDeployment(name, rev, tag string, want, ready int32) runtime.Object {
	labels := map[string]string{"app": "istiod"}
	if rev != "" {
		labels["istio.io/rev"] = rev
	}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "istio-system", Labels: labels, Generation: 1},
		Spec: appsv1.DeploymentSpec{Replicas: &want, Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "discovery", Image: "docker.io/istio/pilot:" + tag}}}}},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: want, UpdatedReplicas: want, ReadyReplicas: ready, AvailableReplicas: ready},
	}
}

func tagWebhook(tag, rev string) *admitv1.MutatingWebhookConfiguration {
	return &admitv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{
		Name: "istio-revision-tag-" + tag, Labels: map[string]string{"istio.io/tag": tag, "istio.io/rev": rev}}}
}

func sidecarPod(name, ns, version, rev string) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{},
			Annotations: map[string]string{"sidecar.istio.io/status": `{"revision":"default"}`}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app:1"}, {Name: "istio-proxy", Image: "docker.io/istio/proxyv2:" + version}}},
	}
	if rev != "" {
		p.Labels["istio.io/rev"] = rev
	}
	return p
}
