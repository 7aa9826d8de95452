package meshcmd

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/addon"
	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
	"github.com/kubectl-mesh/kubectl-mesh/test/helmrepo"
)

// Add-ons through kubectl mesh, from a Helm repository on loopback serving
// the project's stand-in charts (the official names, versions and values
// contract): an unreachable repository is one line naming --repo;
// Prometheus and Grafana set up for Istio (only the mesh's name matters to
// their values, so no mesh is installed), ready on kwok's nodes, Grafana
// reading that Prometheus; uninstalling Grafana removes its release's
// objects and nothing else; kubectl mesh status lists the add-ons; Linkerd's
// viz extension in a namespace of its own.
func TestAddons(t *testing.T) {
	var charts []string
	for _, a := range addon.All() {
		charts = append(charts, filepath.Join(helmrepo.ChartsDir(), a.Chart))
	}
	repo := helmrepo.Serve(t, charts...)
	ns := harness.Namespace(t, "addons")
	harness.Must(t, harness.Kubectl(t, "create", "configmap", "not-an-addon", "-n", ns))

	r := harness.Mesh(t, "addon", "install", "prometheus", "--mesh", "istio", "-n", ns, "--repo", "http://127.0.0.1:1/charts")
	if lines := strings.Split(strings.TrimSpace(r.Stderr), "\n"); r.Code == 0 || len(lines) != 1 || !strings.Contains(lines[0], "--repo") {
		t.Errorf("install from an unreachable repository: want one line naming --repo: %v", r)
	}

	harness.Must(t, harness.Mesh(t, "addon", "install", "prometheus", "--mesh", "istio", "-n", ns, "--repo", repo, "--timeout", "2m"))
	out := harness.Must(t, harness.Mesh(t, "addon", "install", "grafana", "--mesh", "istio", "-n", ns, "--repo", repo, "--timeout", "2m")).Stdout
	if want := "grafana installed in namespace " + ns + " (revision 1) for istio: http://grafana." + ns + ":3000"; !strings.Contains(out, want) {
		t.Errorf("install grafana printed %q, want %q", out, want)
	}
	datasources := harness.Must(t, harness.Kubectl(t, "get", "configmap", "grafana", "-n", ns, "-o", `jsonpath={.data.datasources\.yaml}`)).Stdout
	if want := "url: http://prometheus." + ns + ":9090"; !strings.Contains(datasources, want) {
		t.Errorf("Grafana's datasources lack %q:\n%s", want, datasources)
	}

	sts := addonStatus(t)
	if len(sts) != 2 {
		t.Fatalf("status after two installs: %+v", sts)
	}
	for _, st := range sts {
		a, _ := addon.Get(st.Name)
		if !st.Ready || st.Namespace != ns || st.Mesh != "istio" || st.Version != a.Version || st.URL != a.URL(ns) || len(st.Workloads) != 1 {
			t.Errorf("status of %s: %+v", st.Name, st)
		}
	}
	table := harness.Must(t, harness.Mesh(t, "addon", "status")).Stdout
	if !strings.Contains(table, "http://prometheus."+ns+":9090") || strings.Contains(table, " no ") {
		t.Errorf("status table:\n%s", table)
	}

	if meshStatus := harness.Must(t, harness.Mesh(t, "status")).Stdout; !strings.Contains(meshStatus, "http://grafana."+ns+":3000") {
		t.Errorf("kubectl mesh status does not list the add-ons:\n%s", meshStatus)
	}

	before := objects(t, ns)
	out = harness.Must(t, harness.Mesh(t, "addon", "uninstall", "grafana", "--timeout", "2m")).Stdout
	if out != "grafana uninstalled from namespace "+ns+"\n" {
		t.Errorf("uninstall printed %q", out)
	}
	after := objects(t, ns)
	var removed []string
	for _, o := range before {
		if !slices.Contains(after, o) {
			removed = append(removed, o)
		}
	}
	want := []string{"configmap/grafana", "configmap/grafana-config-dashboards", "configmap/grafana-dashboards-istio", "deployment.apps/grafana", "service/grafana"}
	if !slices.Equal(removed, want) || len(after) != len(before)-len(want) {
		t.Errorf("uninstall removed %v, want exactly %v (before %v, after %v)", removed, want, before, after)
	}
	if sts := addonStatus(t); len(sts) != 1 || sts[0].Name != "prometheus" {
		t.Errorf("status after uninstalling grafana: %+v", sts)
	}
	harness.Must(t, harness.Mesh(t, "addon", "uninstall", "prometheus", "-n", ns, "--timeout", "2m"))
	harness.Must(t, harness.Kubectl(t, "get", "namespace", ns))

	// Linkerd's viz extension in its own namespace, which Helm creates and
	// the uninstall leaves.
	t.Cleanup(func() { harness.Kubectl(t, "delete", "namespace", "linkerd-viz", "--wait=false") })
	harness.Must(t, harness.Mesh(t, "addon", "install", "linkerd-viz", "--mesh", "linkerd", "--repo", repo, "--timeout", "2m"))
	if sts := addonStatus(t); len(sts) != 1 || !sts[0].Ready || sts[0].Namespace != "linkerd-viz" || len(sts[0].Workloads) != 2 || sts[0].URL != "http://web.linkerd-viz:8084" {
		t.Errorf("status of linkerd-viz: %+v", sts)
	}
	harness.Must(t, harness.Mesh(t, "addon", "uninstall", "linkerd-viz", "--timeout", "2m"))
	if sts := addonStatus(t); len(sts) != 0 {
		t.Errorf("status after the last uninstall: %+v", sts)
	}
	harness.Must(t, harness.Kubectl(t, "get", "namespace", "linkerd-viz"))
}

func addonStatus(t *testing.T) []addon.Status {
	t.Helper()
	out := harness.Must(t, harness.Mesh(t, "addon", "status", "-o", "json")).Stdout
	var sts []addon.Status
	if err := json.Unmarshal([]byte(out), &sts); err != nil {
		t.Fatalf("addon status -o json: %v\n%s", err, out)
	}
	return sts
}

// objects are the namespace's ConfigMaps, Deployments and Services (the
// kinds the stand-in charts render), sorted, by kind/name.
func objects(t *testing.T, ns string) []string {
	t.Helper()
	out := harness.Must(t, harness.Kubectl(t, "get", "configmaps,deployments,services", "-n", ns, "-o", "name")).Stdout
	names := strings.Fields(out)
	slices.Sort(names)
	return names
}
