package meshcmd

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh/istio"
	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
	"github.com/kubectl-mesh/kubectl-mesh/test/helmrepo"
	"github.com/kubectl-mesh/kubectl-mesh/test/injector"
)

// The sample applications on a meshed cluster, the stand-in injector giving
// their pods the proxy: bookinfo on Istio (with its ingress gateway, so
// that the app's Gateway selects a workload) and emojivoto on Linkerd. For
// each: deploy with the mesh detected and --wait, every workload ready with
// its proxies, the namespace clean under the policy library, delete leaves
// nothing.
func TestAppsOnTheirMesh(t *testing.T) {
	standIn := injector.Serve(t, harness.KubeClient(t))

	t.Run("bookinfo on istio", func(t *testing.T) {
		charts, err := helmrepo.IstioReleases(istio.DefaultVersion)
		if err != nil {
			t.Fatal(err)
		}
		repo := helmrepo.ServeCharts(t, charts...)
		install := append([]string{"install", "istio", "--repo", repo, "--profile", "default", "--timeout", "2m"}, standIn.IstioValues("")...)
		harness.Must(t, harness.Mesh(t, install...))
		t.Cleanup(func() {
			harness.Must(t, harness.Mesh(t, "uninstall", "istio", "--purge", "--force", "--timeout", "2m"))
		})
		// No Gateway API CRDs in this sandbox: the way in is Istio's Gateway.
		deployCheckDelete(t, "bookinfo", 6)
	})

	t.Run("emojivoto on linkerd", func(t *testing.T) {
		repo := helmrepo.ServeCharts(t,
			helmrepo.Chart{Dir: filepath.Join(helmrepo.ChartsDir(), "linkerd-crds"), Version: "2026.1.1"},
			helmrepo.Chart{Dir: filepath.Join(helmrepo.ChartsDir(), "linkerd-control-plane"), Version: "2026.1.1", AppVersion: "edge-26.1.1"},
		)
		install := append([]string{"install", "linkerd", "--repo", repo, "--version", "2026.1.1"}, standIn.LinkerdValues()...)
		harness.Must(t, harness.Mesh(t, install...))
		t.Cleanup(func() {
			harness.Must(t, harness.Mesh(t, "uninstall", "linkerd", "--purge", "--force", "--timeout", "2m"))
		})
		deployCheckDelete(t, "emojivoto", 4)
	})
}

// deployCheckDelete deploys name into its own namespace for the mesh in the
// cluster and checks it as the test above says.
func deployCheckDelete(t *testing.T, name string, workloads int) {
	t.Helper()
	ns := name
	t.Cleanup(func() { harness.Kubectl(t, "delete", "namespace", ns, "--ignore-not-found", "--wait=false") })
	out := harness.Must(t, harness.Mesh(t, "app", "deploy", name, "--wait", "--timeout", "3m")).Stdout
	if !strings.Contains(out, name+" is available in namespace "+ns) {
		t.Errorf("deploy output:\n%s", out)
	}
	status := harness.Must(t, harness.Mesh(t, "app", "status", name)).Stdout
	var rows int
	for _, line := range strings.Split(strings.TrimSpace(status), "\n")[1:] {
		f := strings.Fields(line)
		// NAMESPACE APP MESH WORKLOAD READY REPLICAS PROXIES
		if len(f) < 7 || f[4] != "yes" || f[6] != f[5] || strings.HasPrefix(f[6], "0/") {
			t.Errorf("workload not ready with every pod meshed: %q", line)
		}
		rows++
	}
	if rows != workloads {
		t.Errorf("status shows %d workloads, want %d:\n%s", rows, workloads, status)
	}
	if r := harness.Mesh(t, "check", "-n", ns); r.Code != 0 {
		t.Errorf("check -n %s: %s", ns, r)
	}
	harness.Must(t, harness.Mesh(t, "app", "delete", name))
	deadline := time.Now().Add(2 * time.Minute)
	for harness.Kubectl(t, "get", "namespace", ns).Code == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("namespace %s still there 2 minutes after delete", ns)
		}
		time.Sleep(time.Second)
	}
}
