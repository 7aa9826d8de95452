package addoncmd

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/addon"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil/cmdtesting"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
	"github.com/kubectl-mesh/kubectl-mesh/test/golden"
	"github.com/kubectl-mesh/kubectl-mesh/test/helmrepo"
)

var (
	istiod      = &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "istiod", Namespace: "istio-system", Labels: map[string]string{"app": "istiod"}}}
	destination = &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "linkerd-destination", Namespace: "linkerd",
		Labels: map[string]string{"linkerd.io/control-plane-component": "destination"}}}
)

// serve serves every add-on's stand-in chart on loopback, with Helm's
// cache in the test's directory.
func serve(t *testing.T) string {
	t.Helper()
	var dirs []string
	for _, a := range addon.All() {
		dirs = append(dirs, filepath.Join(helmrepo.ChartsDir(), a.Chart))
	}
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	return helmrepo.Serve(t, dirs...)
}

func run(t *testing.T, f *cmdtesting.Factory, args ...string) (string, string, error) {
	t.Helper()
	return f.Run(t, "", append([]string{"addon"}, args...), NewCmdAddon)
}

func TestAddonList(t *testing.T) {
	f := cmdtesting.NewFactory(t)
	out, _, err := run(t, f, "list")
	if err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, filepath.Join("testdata", "list.golden"), out)
	out, _, err = run(t, f, "list", "-o", "json")
	var items []addonItem
	if err != nil || json.Unmarshal([]byte(out), &items) != nil || len(items) != len(addon.Names()) || items[3].Repository != "https://kiali.org/helm-charts" {
		t.Errorf("list -o json: %v\n%s", err, out)
	}
	if f.Connects != 0 {
		t.Errorf("list made %d clients; the catalog is in the binary", f.Connects)
	}
}

func TestAddonErrors(t *testing.T) {
	twice := []lifecycle.ReleaseInfo{
		{Name: "grafana", Namespace: "a", Status: "deployed", Labels: map[string]string{addon.LabelAddon: "grafana"}},
		{Name: "grafana", Namespace: "b", Status: "deployed", Labels: map[string]string{addon.LabelAddon: "grafana"}},
	}
	tests := []struct {
		name      string
		objects   []runtime.Object
		installed []lifecycle.ReleaseInfo
		args      []string
		want      string
	}{
		{"unknown add-on", nil, nil, []string{"install", "zipkin"}, `unknown add-on "zipkin" (allowed: prometheus, grafana, jaeger, kiali, linkerd-viz, linkerd-jaeger)`},
		{"unknown mesh", nil, nil, []string{"install", "grafana", "--mesh", "consul"}, `--mesh: unknown mesh "consul" (allowed: istio, linkerd)`},
		{"another mesh's add-on", nil, nil, []string{"install", "kiali", "--mesh", "linkerd"}, "--mesh: kiali is not an add-on of linkerd (it is of istio)"},
		{"client dry run needs --mesh", nil, nil, []string{"install", "grafana", "--dry-run=client"}, "--mesh is required with --dry-run=client"},
		{"no server dry run", nil, nil, []string{"install", "grafana", "--dry-run=server"}, "--dry-run=server: kubectl mesh addon install has no server dry run (allowed: none, client)"},
		{"output without a client dry run", nil, nil, []string{"install", "grafana", "-o", "yaml"}, "-o/--output applies to --dry-run=client only"},
		{"no mesh installed", nil, nil, []string{"install", "grafana"}, "no mesh is installed in the cluster (looked for istio, linkerd): install one with kubectl mesh install, or name the mesh to set grafana up for with --mesh"},
		{"the installed mesh is not the add-on's", []runtime.Object{istiod}, nil, []string{"install", "linkerd-viz"}, "linkerd-viz is not an add-on of istio, the mesh in the cluster (it is of linkerd)"},
		{"unreachable repository", nil, nil, []string{"install", "grafana", "--mesh", "istio", "--repo", "http://127.0.0.1:1/charts"},
			"pulling chart grafana: fetching the chart index from http://127.0.0.1:1/charts/index.yaml: connection refused; check --repo or the network"},
		{"uninstall in two namespaces", nil, twice, []string{"uninstall", "grafana"}, "grafana is installed in namespaces a, b: choose one with -n"},
		{"someone else's release", nil, []lifecycle.ReleaseInfo{{Name: "grafana", Namespace: "istio-system", Status: "deployed"}},
			[]string{"install", "grafana", "--mesh", "istio", "--repo", "REPO"},
			"namespace istio-system holds a Helm release grafana that kubectl mesh addon install did not make: install into another namespace with -n"},
		{"bad timeout", nil, nil, []string{"uninstall", "grafana", "--timeout", "0s"}, "--timeout: 0s is not a positive duration"},
	}
	repo := serve(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := cmdtesting.NewFactory(t, tt.objects...)
			f.Releases.Installed = tt.installed
			args := slices.Clone(tt.args)
			if i := slices.Index(args, "REPO"); i >= 0 {
				args[i] = repo
			}
			_, _, err := run(t, f, args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("error of several lines: %q", err)
			}
			if len(f.Releases.Applied) > 0 || len(f.Releases.Uninstalled) > 0 {
				t.Errorf("a refused command applied %d and uninstalled %v", len(f.Releases.Applied), f.Releases.Uninstalled)
			}
		})
	}
}

// The values each add-on gets for each of its meshes, as install hands
// them to the Helm client with the release's name, namespace and labels.
func TestAddonInstallValues(t *testing.T) {
	repo := serve(t)
	for _, a := range addon.All() {
		for _, m := range a.Meshes {
			t.Run(a.Name+"/"+m, func(t *testing.T) {
				f := cmdtesting.NewFactory(t)
				out, _, err := run(t, f, "install", a.Name, "--mesh", m, "--repo", repo)
				if err != nil {
					t.Fatal(err)
				}
				if len(f.Releases.Applied) != 1 {
					t.Fatalf("applied %d releases", len(f.Releases.Applied))
				}
				r := f.Releases.Applied[0]
				want := fmt.Sprintf("%s upgraded in namespace %s (revision 2) for %s: %s\n", a.Name, r.Namespace, m, a.URL(r.Namespace))
				if out != want {
					t.Errorf("output %q, want %q", out, want)
				}
				data, err := yaml.Marshal(map[string]any{"release": r.Name, "namespace": r.Namespace, "chart": r.Chart.Name() + " " + r.Chart.Metadata.Version,
					"labels": r.Labels, "values": r.Values})
				if err != nil {
					t.Fatal(err)
				}
				golden.Assert(t, filepath.Join("testdata", "values", a.Name+"-"+m+".yaml"), string(data))
			})
		}
	}
}

// Without --mesh the mesh is the cluster's; Grafana reads the prometheus
// add-on where it is installed; -f and --set go over the project's values.
func TestAddonInstallDetects(t *testing.T) {
	repo := serve(t)
	f := cmdtesting.NewFactory(t, destination)
	f.Releases.Installed = []lifecycle.ReleaseInfo{{Name: "prometheus", Namespace: "monitoring", Status: "deployed",
		Labels: map[string]string{addon.LabelAddon: "prometheus", addon.LabelMesh: "linkerd"}}}
	values := filepath.Join(t.TempDir(), "values.yaml")
	writeFile(t, values, "service:\n  port: 80\n")
	if _, _, err := run(t, f, "install", "grafana", "--repo", repo, "-f", values, "--set", "podLabels.team=obs", "-n", "observability"); err != nil {
		t.Fatal(err)
	}
	r := f.Releases.Applied[0]
	ds := r.Values["datasources"].(map[string]any)["datasources.yaml"].(map[string]any)["datasources"].([]any)[0].(map[string]any)
	if r.Namespace != "observability" || r.Labels[addon.LabelMesh] != "linkerd" || ds["url"] != "http://prometheus.monitoring:9090" {
		t.Errorf("release in %s for %s, datasource %v", r.Namespace, r.Labels[addon.LabelMesh], ds["url"])
	}
	if r.Values["service"].(map[string]any)["port"] != float64(80) || r.Values["podLabels"].(map[string]any)["team"] != "obs" {
		t.Errorf("the user's values did not win: service %v, podLabels %v", r.Values["service"], r.Values["podLabels"])
	}
}

// Kiali goes beside Istio's control plane, names its namespace and reads
// the Prometheus beside it, as the mesh's status finds it.
func TestAddonInstallMeshNamespace(t *testing.T) {
	repo := serve(t)
	cp := istiod.DeepCopy()
	cp.Namespace = "mesh-cp"
	f := cmdtesting.NewFactory(t, cp)
	if _, _, err := run(t, f, "install", "kiali", "--repo", repo); err != nil {
		t.Fatal(err)
	}
	r := f.Releases.Applied[0]
	prometheus := r.Values["external_services"].(map[string]any)["prometheus"].(map[string]any)["url"]
	if r.Values["istio_namespace"] != "mesh-cp" || r.Namespace != "mesh-cp" || prometheus != "http://prometheus.mesh-cp:9090" {
		t.Errorf("kiali in %s with istio_namespace %v and Prometheus %v, want mesh-cp", r.Namespace, r.Values["istio_namespace"], prometheus)
	}
}

// A client dry run renders the release without a cluster.
func TestAddonInstallClientDryRun(t *testing.T) {
	repo := serve(t)
	f := cmdtesting.NewFactory(t)
	out, _, err := run(t, f, "install", "kiali", "--mesh", "istio", "--repo", repo, "--dry-run=client", "-o", "yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# Release: kiali in istio-system, chart kiali-server 2.27.0", "kind: Deployment", "url: http://prometheus.istio-system:9090", "istio_namespace: istio-system"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if f.Connects != 0 || len(f.Releases.Applied) != 0 {
		t.Errorf("a client dry run made %d clients and applied %d releases", f.Connects, len(f.Releases.Applied))
	}
}

// Uninstall removes the release where install put it, and only that.
func TestAddonUninstall(t *testing.T) {
	f := cmdtesting.NewFactory(t)
	f.Releases.Installed = []lifecycle.ReleaseInfo{
		{Name: "grafana", Namespace: "grafana", Status: "deployed", Labels: map[string]string{addon.LabelAddon: "grafana"}},
		{Name: "prometheus", Namespace: "grafana", Status: "deployed", Labels: map[string]string{addon.LabelAddon: "prometheus"}},
	}
	out, _, err := run(t, f, "uninstall", "grafana")
	if err != nil || out != "grafana uninstalled from namespace grafana\n" || strings.Join(f.Releases.Uninstalled, ",") != "grafana" {
		t.Errorf("uninstall: %v %q, uninstalled %v", err, out, f.Releases.Uninstalled)
	}
	out, _, err = run(t, f, "uninstall", "jaeger")
	if err != nil || out != "jaeger is not installed\n" || len(f.Releases.Uninstalled) != 1 {
		t.Errorf("uninstall of what is not installed: %v %q, uninstalled %v", err, out, f.Releases.Uninstalled)
	}
	// Last: -n stays set on the factory's flags.
	f.Releases.Installed = append(f.Releases.Installed, lifecycle.ReleaseInfo{Name: "kiali", Namespace: "theirs", Status: "deployed"})
	out, _, err = run(t, f, "uninstall", "kiali", "-n", "theirs")
	if err != nil || out != "kiali is not installed in namespace theirs\n" || len(f.Releases.Uninstalled) != 1 {
		t.Errorf("uninstall of a release addon install did not make: %v %q, uninstalled %v", err, out, f.Releases.Uninstalled)
	}
}

func TestAddonStatus(t *testing.T) {
	one := int32(1)
	ready := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "prometheus", Namespace: "istio-system", Generation: 1}, Spec: appsv1.DeploymentSpec{Replicas: &one},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1}}
	pending := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "grafana", Namespace: "istio-system", Generation: 1}, Spec: appsv1.DeploymentSpec{Replicas: &one},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 1, UpdatedReplicas: 1}}
	deployment := func(name string) string {
		return "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: " + name + "\n"
	}
	f := cmdtesting.NewFactory(t, ready, pending)
	f.Releases.Installed = []lifecycle.ReleaseInfo{
		{Name: "grafana", Namespace: "istio-system", Chart: "grafana", ChartVersion: "9.2.2", Status: "deployed", Manifest: deployment("grafana"),
			Labels: map[string]string{addon.LabelAddon: "grafana", addon.LabelMesh: "istio"}},
		{Name: "istiod", Namespace: "istio-system", Chart: "istiod", Status: "deployed", Labels: map[string]string{"kubectl-mesh.io/mesh": "istio"}},
		{Name: "prometheus", Namespace: "istio-system", Chart: "prometheus", ChartVersion: "28.13.0", Status: "deployed", Manifest: deployment("prometheus"),
			Labels: map[string]string{addon.LabelAddon: "prometheus", addon.LabelMesh: "istio"}},
	}
	out, _, err := run(t, f, "status")
	if err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, filepath.Join("testdata", "status.golden"), out)

	out, _, err = run(t, f, "status", "prometheus", "-o", "json")
	var sts []addon.Status
	if err != nil || json.Unmarshal([]byte(out), &sts) != nil || len(sts) != 1 || !sts[0].Ready || sts[0].Version != "28.13.0" {
		t.Errorf("status prometheus -o json: %v\n%s", err, out)
	}
	_, errOut, err := run(t, f, "status", "kiali")
	if err != nil || errOut != "kiali is not installed.\n" {
		t.Errorf("status kiali: %v %q", err, errOut)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
