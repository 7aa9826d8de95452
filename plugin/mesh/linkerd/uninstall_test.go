package linkerd

import (
	"context"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
)

func TestUninstallPlan(t *testing.T) {
	l := withReleases(
		lifecycle.ReleaseInfo{Name: CRDsChart, Namespace: "linkerd", Chart: CRDsChart, Status: "deployed"},
		lifecycle.ReleaseInfo{Name: "l5d", Namespace: "linkerd", Chart: ControlPlaneChart, Status: "deployed"},
		lifecycle.ReleaseInfo{Name: ControlPlaneChart, Namespace: "other", Chart: ControlPlaneChart, Status: "deployed"},
	)
	tests := []struct {
		purge bool
		want  []string
	}{
		{false, []string{"l5d"}},
		{true, []string{"l5d", CRDsChart}},
	}
	for _, tt := range tests {
		rels, err := l.UninstallPlan(context.Background(), mesh.Cluster{}, mesh.UninstallOptions{Purge: tt.purge})
		if err != nil {
			t.Fatal(err)
		}
		if got := names(rels); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("purge %v: %v, want %v", tt.purge, got, tt.want)
		}
	}
	// Without a cluster: Linkerd's release names, reversed.
	rels, err := New().UninstallPlan(context.Background(), mesh.Cluster{}, mesh.UninstallOptions{Namespace: "mesh", Purge: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(rels); !reflect.DeepEqual(got, []string{ControlPlaneChart, CRDsChart}) || rels[0].Namespace != "mesh" {
		t.Errorf("offline plan %v in %s", got, rels[0].Namespace)
	}
}

func TestInUse(t *testing.T) {
	cs := fake.NewClientset(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop", Annotations: map[string]string{InjectAnnotation: "enabled"}}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "quiet", Annotations: map[string]string{InjectAnnotation: "disabled"}}},
		meshedPod("shop", "web-1", "cr.l5d.io/linkerd/proxy:edge-26.1.1", false),
		// The control plane's own proxies do not count.
		meshedPod("linkerd", "linkerd-destination-1", "cr.l5d.io/linkerd/proxy:edge-26.1.1", false),
	)
	got, err := New().InUse(context.Background(), mesh.Cluster{Clientset: cs}, mesh.UninstallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"namespace shop is annotated linkerd.io/inject=enabled", "pod shop/web-1 runs linkerd-proxy"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("InUse = %q, want %q", got, want)
	}
	got, err = New().InUse(context.Background(), mesh.Cluster{Clientset: fake.NewClientset()}, mesh.UninstallOptions{})
	if err != nil || len(got) != 0 {
		t.Errorf("InUse on an empty cluster = %q, %v", got, err)
	}
}
