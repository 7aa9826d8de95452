package linkerd

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
)

func deployment(ns, name string, ready int32) *appsv1.Deployment {
	two := int32(2)
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Generation: 1},
		Spec:       appsv1.DeploymentSpec{Replicas: &two},
		Status:     appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 2, UpdatedReplicas: 2, ReadyReplicas: ready, AvailableReplicas: ready},
	}
}

func meshedPod(ns, name, image string, native bool) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	c := corev1.Container{Name: ProxyContainer, Image: image}
	if native {
		p.Spec.InitContainers = []corev1.Container{c}
	} else {
		p.Spec.Containers = []corev1.Container{{Name: "app", Image: "app:1"}, c}
	}
	return p
}

func identityObjects(t *testing.T, ns string, id *Identity) []runtime.Object {
	t.Helper()
	return []runtime.Object{
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: TrustRootsConfigMap}, Data: map[string]string{"ca-bundle.crt": id.TrustAnchorsPEM}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: IssuerSecret}, Data: map[string][]byte{"crt.pem": []byte(id.IssuerCertPEM), "key.pem": []byte(id.IssuerKeyPEM)}},
	}
}

func TestStatus(t *testing.T) {
	now := time.Now()
	// An issuer that expires in 30 days: within linkerd check's 60.
	id, err := GenerateIdentity(now, 0, 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	objs := []runtime.Object{
		deployment("linkerd", "linkerd-destination", 2),
		deployment("linkerd", "linkerd-identity", 2),
		deployment("linkerd", "linkerd-proxy-injector", 1),
		meshedPod("shop", "web-1", "cr.l5d.io/linkerd/proxy:edge-26.2.1", false),
		meshedPod("shop", "web-2", "cr.l5d.io/linkerd/proxy:edge-26.2.1", true),
		meshedPod("shop", "db-1", "registry.local:5000/linkerd/proxy:edge-26.1.1", false),
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "plain"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app:1"}}}},
	}
	objs = append(objs, identityObjects(t, "linkerd", id)...)
	l := withReleases(
		lifecycle.ReleaseInfo{Name: ControlPlaneChart, Namespace: "linkerd", Chart: ControlPlaneChart, ChartVersion: "2026.2.1", AppVersion: "edge-26.2.1", Status: "deployed"},
		lifecycle.ReleaseInfo{Name: CRDsChart, Namespace: "linkerd", Chart: CRDsChart, ChartVersion: "2026.2.1", Status: "deployed"},
		lifecycle.ReleaseInfo{Name: "unrelated", Namespace: "apps", Chart: "nginx", Status: "deployed"},
	)
	st, err := l.Status(context.Background(), mesh.Cluster{Clientset: fake.NewClientset(objs...)})
	if err != nil {
		t.Fatal(err)
	}
	if !st.Installed || st.Namespace != "linkerd" || st.Version != "edge-26.2.1" {
		t.Fatalf("installed %v namespace %q version %q, want true linkerd edge-26.2.1", st.Installed, st.Namespace, st.Version)
	}
	if len(st.Revisions) != 1 {
		t.Fatalf("%d revisions, want 1", len(st.Revisions))
	}
	ready := map[string]bool{}
	for _, c := range st.Revisions[0].Components {
		ready[c.Name] = c.Ready
	}
	want := map[string]bool{CRDsChart: true, ControlPlaneChart: true, "linkerd-destination": true, "linkerd-identity": true, "linkerd-proxy-injector": false}
	for name, w := range want {
		if got, ok := ready[name]; !ok || got != w {
			t.Errorf("component %s ready %v (listed %v), want %v", name, got, ok, w)
		}
	}
	if len(ready) != len(want) {
		t.Errorf("components %v, want exactly %v", ready, want)
	}

	if len(st.Proxies) != 2 {
		t.Fatalf("proxies %+v, want two versions", st.Proxies)
	}
	if p := st.Proxies[0]; p.Version != "edge-26.1.1" || p.Pods != 1 || !p.Skew {
		t.Errorf("old proxies %+v, want 1 pod of edge-26.1.1 with skew", p)
	}
	if p := st.Proxies[1]; p.Version != "edge-26.2.1" || p.Pods != 2 || p.Skew {
		t.Errorf("current proxies %+v, want 2 pods of edge-26.2.1 without skew", p)
	}

	if len(st.Certificates) != 2 {
		t.Fatalf("certificates %+v, want the trust anchor and the issuer", st.Certificates)
	}
	anchor, issuer := st.Certificates[0], st.Certificates[1]
	if anchor.Name != "trust anchor" || anchor.Subject != TrustAnchorName || anchor.Expiring {
		t.Errorf("trust anchor %+v", anchor)
	}
	if issuer.Name != "issuer" || issuer.Subject != IssuerName || !issuer.Expiring {
		t.Errorf("issuer %+v, want expiring", issuer)
	}

	warnings := strings.Join(st.Warnings, "\n")
	for _, w := range []string{"linkerd-proxy-injector in namespace linkerd is not ready", "1 pod(s) run proxy edge-26.1.1", "the issuer " + IssuerName + " expires"} {
		if !strings.Contains(warnings, w) {
			t.Errorf("warnings lack %q:\n%s", w, warnings)
		}
	}
	if strings.Contains(warnings, "PRIVATE KEY") {
		t.Error("warnings show key material")
	}
}

func TestStatusNotInstalled(t *testing.T) {
	st, err := withReleases().Status(context.Background(), mesh.Cluster{Clientset: fake.NewClientset()})
	if err != nil {
		t.Fatal(err)
	}
	if st.Installed || len(st.Revisions) != 0 || len(st.Warnings) != 0 {
		t.Errorf("status %+v, want not installed and nothing else", st)
	}
	// Only the CRDs left (uninstall without --purge): not a mesh, but said.
	st, err = withReleases(lifecycle.ReleaseInfo{Name: CRDsChart, Namespace: "linkerd", Chart: CRDsChart, Status: "deployed"}).
		Status(context.Background(), mesh.Cluster{Clientset: fake.NewClientset()})
	if err != nil {
		t.Fatal(err)
	}
	if st.Installed || len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0], "--purge") {
		t.Errorf("status %+v, want not installed with a warning about the remaining CRDs", st)
	}
}

func TestStatusWithoutRelease(t *testing.T) {
	// `linkerd install` leaves no Helm release: the Deployments tell.
	d := deployment("linkerd", "linkerd-destination", 2)
	d.Spec.Template.Spec.Containers = []corev1.Container{{Name: "destination", Image: "cr.l5d.io/linkerd/controller:edge-26.1.1"}}
	st, err := withReleases().Status(context.Background(), mesh.Cluster{Clientset: fake.NewClientset(d)})
	if err != nil {
		t.Fatal(err)
	}
	if !st.Installed || st.Version != "edge-26.1.1" {
		t.Errorf("installed %v version %q, want true edge-26.1.1", st.Installed, st.Version)
	}
}

func TestImageTag(t *testing.T) {
	for in, want := range map[string]string{
		"cr.l5d.io/linkerd/proxy:edge-26.1.1":           "edge-26.1.1",
		"registry.local:5000/linkerd/proxy:v2":          "v2",
		"registry.local:5000/linkerd/proxy":             "",
		"cr.l5d.io/linkerd/proxy:edge-26.1.1@sha256:ab": "edge-26.1.1",
	} {
		if got := imageTag(in); got != want {
			t.Errorf("imageTag(%q) = %q, want %q", in, got, want)
		}
	}
}
