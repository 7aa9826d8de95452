package addon

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
	"github.com/kubectl-mesh/kubectl-mesh/test/helmrepo"
)

// Every add-on has a stand-in chart in test/charts with the official
// chart's name at the pinned version, so that the end-to-end tests install
// the defaults from a loopback repository.
func TestStandInCharts(t *testing.T) {
	for _, a := range All() {
		ch, err := loader.LoadDir(filepath.Join(helmrepo.ChartsDir(), a.Chart))
		if err != nil {
			t.Errorf("%s: no stand-in chart: %v", a.Name, err)
			continue
		}
		if ch.Name() != a.Chart || ch.Metadata.Version != a.Version {
			t.Errorf("%s: stand-in chart %s %s, want %s %s", a.Name, ch.Name(), ch.Metadata.Version, a.Chart, a.Version)
		}
		for _, m := range a.Meshes {
			if a.Namespace(m) == "" {
				t.Errorf("%s: no namespace for %s", a.Name, m)
			}
		}
	}
}

func standIn(t *testing.T) func(context.Context, string, string, string) (*chart.Chart, error) {
	return func(_ context.Context, repo, name, version string) (*chart.Chart, error) {
		if repo != "https://mirror.example" {
			t.Errorf("pulled from %s, want --repo", repo)
		}
		return loader.LoadDir(filepath.Join(helmrepo.ChartsDir(), name))
	}
}

// The plan is one labelled release in the add-on's namespace for the
// mesh, whose values carry the user's over the project's; it renders.
func TestPlan(t *testing.T) {
	a, err := Get("kiali")
	if err != nil {
		t.Fatal(err)
	}
	rels, err := a.Plan(context.Background(), PlanOptions{Mesh: MeshIstio, Repo: "https://mirror.example", PullChart: standIn(t),
		Values: map[string]any{"external_services": map[string]any{"tracing": map[string]any{"enabled": true}}}})
	if err != nil {
		t.Fatal(err)
	}
	r := rels[0]
	if len(rels) != 1 || r.Name != "kiali" || r.Namespace != "istio-system" || r.Labels[LabelAddon] != "kiali" || r.Labels[LabelMesh] != "istio" {
		t.Fatalf("plan %+v", rels)
	}
	ext := r.Values["external_services"].(map[string]any)
	if ext["tracing"].(map[string]any)["enabled"] != true || ext["prometheus"].(map[string]any)["url"] != "http://prometheus.istio-system:9090" {
		t.Errorf("external_services %v: want the user's tracing and the project's prometheus", ext)
	}
	out, err := lifecycle.Render(rels, "")
	if err != nil || !strings.Contains(out, "url: http://prometheus.istio-system:9090") {
		t.Errorf("render: %v\n%s", err, out)
	}

	if _, err := a.Plan(context.Background(), PlanOptions{Mesh: MeshLinkerd, PullChart: standIn(t)}); err == nil || !strings.Contains(err.Error(), "kiali is not an add-on of linkerd (it is of istio)") {
		t.Errorf("kiali for linkerd: %v", err)
	}
	if _, err := Get("zipkin"); err == nil || !strings.Contains(err.Error(), `unknown add-on "zipkin" (allowed: prometheus, grafana, jaeger, kiali, linkerd-viz, linkerd-jaeger)`) {
		t.Errorf("Get(zipkin): %v", err)
	}
}

// Status reads the release's Deployments and StatefulSets where the
// manifest puts them, or in the release's namespace.
func TestReadStatus(t *testing.T) {
	one := int32(1)
	ready := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "linkerd-viz", Generation: 1}, Spec: appsv1.DeploymentSpec{Replicas: &one},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1}}
	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "prometheus", Namespace: "linkerd-viz", Generation: 1}, Spec: appsv1.StatefulSetSpec{Replicas: &one},
		Status: appsv1.StatefulSetStatus{ObservedGeneration: 1, Replicas: 1}}
	manifest := "---\n# Source: x\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: prometheus\n  namespace: linkerd-viz\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: gone\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n"
	rel := lifecycle.ReleaseInfo{Name: "linkerd-viz", Namespace: "linkerd-viz", Chart: "linkerd-viz", ChartVersion: "2026.1.1", Status: "deployed",
		Labels: map[string]string{LabelAddon: "linkerd-viz", LabelMesh: "linkerd"}, Manifest: manifest}
	st, err := ReadStatus(context.Background(), fake.NewClientset(ready, sts), rel)
	if err != nil {
		t.Fatal(err)
	}
	if st.Ready || st.URL != "http://web.linkerd-viz:8084" || len(st.Workloads) != 3 {
		t.Fatalf("status %+v", st)
	}
	want := []Workload{{"Deployment", "web", true, "1/1", ""}, {"StatefulSet", "prometheus", false, "0/1", "0 of 1 replicas ready"}, {"Deployment", "gone", false, "", "not found"}}
	for i, w := range want {
		if st.Workloads[i] != w {
			t.Errorf("workload %d = %+v, want %+v", i, st.Workloads[i], w)
		}
	}
}

// Linkerd's extensions follow the control plane's release unless
// --version says otherwise; the others keep their pins.
func TestVersion(t *testing.T) {
	viz, _ := Get("linkerd-viz")
	grafana, _ := Get("grafana")
	for _, tt := range []struct {
		a    Addon
		o    PlanOptions
		want string
	}{
		{viz, PlanOptions{}, linkerdExtVersion},
		{viz, PlanOptions{MeshVersion: "edge-26.2.1"}, "2026.2.1"},
		{viz, PlanOptions{MeshVersion: "edge-26.2.1", Version: "2026.1.1"}, "2026.1.1"},
		{viz, PlanOptions{MeshVersion: "stable-2.14.10"}, linkerdExtVersion},
		{grafana, PlanOptions{MeshVersion: "edge-26.2.1"}, grafanaVersion},
	} {
		if got := tt.a.version(tt.o); got != tt.want {
			t.Errorf("%s with %+v: version %s, want %s", tt.a.Name, tt.o, got, tt.want)
		}
	}
}
