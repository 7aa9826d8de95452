package meshcmd

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh/istio"
	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
	"github.com/kubectl-mesh/kubectl-mesh/test/helmrepo"
)

// previousRelease is the Istio release the upgrade test starts from: one
// minor older than the default, inside the tested range.
const previousRelease = "1.30.8"

// Istio through kubectl mesh, from a loopback stand-in for Istio's Helm
// repository: install of a release, status showing it, in-place upgrade to
// the default release, a canary revision and a tag moved to it, a failed
// upgrade rolled back with the old revision still Ready, uninstall refused
// while a namespace is enrolled, then forced, then again, then --purge of
// the CRDs.
func TestIstioLifecycle(t *testing.T) {
	repo := istioRepo(t)
	out := harness.Must(t, harness.Mesh(t, "install", "istio", "--repo", repo, "--version", previousRelease, "--profile", "minimal", "--timeout", "2m"))
	if !strings.Contains(out.Stdout, "istiod") || !strings.Contains(out.Stdout, "installed") {
		t.Errorf("install did not report istiod installed:\n%v", out)
	}
	if !strings.Contains(out.Stderr, "istiod:") || strings.Contains(out.Stderr, "warning:") {
		t.Errorf("want per-component progress on stderr and no warning for a tested release:\n%v", out)
	}
	if r := harness.Kubectl(t, "get", "secrets", "-n", "istio-system", "-l", "owner=helm,name=istiod", "-o", "name"); r.Code != 0 || r.Stdout == "" {
		t.Errorf("no Helm release Secret for istiod (helm list would not show it): %v", r)
	}
	st := istioStatus(t)
	if !st.Installed || !revisionReady(st, "default") {
		t.Fatalf("status after install: %+v", st)
	}
	assertIstioVersion(t, st, previousRelease)

	t.Run("in-place upgrade to the default release", func(t *testing.T) {
		out := harness.Must(t, harness.Mesh(t, "upgrade", "istio", "--repo", repo, "--profile", "minimal", "--set", "pilot.env.MESH_E2E=upgraded", "--timeout", "2m"))
		if !strings.Contains(out.Stdout, "upgraded") {
			t.Errorf("upgrade did not report an upgrade:\n%v", out)
		}
		env := harness.Must(t, harness.Kubectl(t, "get", "deployment", "istiod", "-n", "istio-system", "-o", "jsonpath={.spec.template.spec.containers[0].env[*].name}")).Stdout
		if !strings.Contains(env, "MESH_E2E") {
			t.Errorf("the upgraded value did not reach istiod: env %s", env)
		}
		assertIstioVersion(t, istioStatus(t), istio.DefaultVersion)
	})

	t.Run("canary revision and tag", func(t *testing.T) {
		harness.Must(t, harness.Mesh(t, "upgrade", "istio", "--repo", repo, "--profile", "minimal", "--revision", "canary", "--timeout", "2m"))
		st := istioStatus(t)
		if !revisionReady(st, "default") || !revisionReady(st, "canary") {
			t.Fatalf("want both revisions ready: %+v", st.Revisions)
		}
		harness.Must(t, harness.Mesh(t, "revision", "tag", "set", "prod", "--revision", "canary"))
		if r := harness.Mesh(t, "revision", "tag", "set", "prod", "--revision", "default"); r.Code == 0 {
			t.Errorf("moving a tag without --overwrite succeeded: %v", r)
		}
		harness.Must(t, harness.Mesh(t, "revision", "tag", "set", "prod", "--revision", "default", "--overwrite"))
		list := harness.Must(t, harness.Mesh(t, "revision", "tag", "list", "-o", "json")).Stdout
		if !strings.Contains(list, `"tag": "prod"`) || !strings.Contains(list, `"revision": "default"`) {
			t.Errorf("tag list after the move:\n%s", list)
		}
		harness.Must(t, harness.Mesh(t, "revision", "tag", "remove", "prod"))
	})

	t.Run("failed upgrade rolls back", func(t *testing.T) {
		r := harness.Mesh(t, "upgrade", "istio", "--repo", repo, "--profile", "minimal", "--revision", "canary", "--set", "pilot.resources.requests.cpu=lots", "--timeout", "1m")
		if r.Code == 0 {
			t.Fatalf("an upgrade the apiserver must refuse succeeded: %v", r)
		}
		if !strings.Contains(r.Stderr, "rolled back") {
			t.Errorf("the error does not say the release was rolled back:\n%v", r)
		}
		if st := istioStatus(t); !revisionReady(st, "canary") {
			t.Errorf("the canary revision is not Ready after the rollback: %+v", st.Revisions)
		}
		cpu := harness.Must(t, harness.Kubectl(t, "get", "deployment", "istiod-canary", "-n", "istio-system", "-o", "jsonpath={.spec.template.spec.containers[0].resources.requests.cpu}")).Stdout
		if cpu == "lots" || cpu == "" {
			t.Errorf("istiod-canary cpu request %q after the rollback, want the previous one", cpu)
		}
	})

	t.Run("uninstall", func(t *testing.T) {
		harness.Must(t, harness.Mesh(t, "uninstall", "istio", "--revision", "canary"))
		// apply, not create: the namespace outlives a run (-count=2).
		harness.Must(t, harness.KubectlStdin(t, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: enrolled\n", "apply", "-f", "-"))
		harness.Must(t, harness.Kubectl(t, "label", "namespace", "enrolled", "istio-injection=enabled"))
		r := harness.Mesh(t, "uninstall", "istio")
		if r.Code == 0 || !strings.Contains(r.Stderr, "enrolled") || !strings.Contains(r.Stderr, "--force") {
			t.Fatalf("uninstall with an enrolled namespace: want a refusal naming it and --force: %v", r)
		}
		harness.Must(t, harness.Mesh(t, "uninstall", "istio", "--force"))
		if st := istioStatus(t); st.Installed {
			t.Errorf("status after uninstall: %+v", st)
		}
		if r := harness.Must(t, harness.Mesh(t, "uninstall", "istio")); !strings.Contains(r.Stdout, "Nothing to uninstall") {
			t.Errorf("a second uninstall: %v", r)
		}
		// --purge still removes the CRDs the releases left, and returns
		// only once they are gone: a reinstall would fail on terminating
		// ones. 2m is well under the 5 minutes a stalled cleanup takes.
		r = harness.Must(t, harness.Mesh(t, "uninstall", "istio", "--purge", "--force", "--timeout", "2m"))
		if !strings.Contains(r.Stdout, "Istio CRDs") {
			t.Errorf("uninstall --purge: want the CRDs it deleted counted: %v", r)
		} else if r.Stderr != "" {
			t.Logf("uninstall --purge's stderr:\n%s", r.Stderr)
		}
		if r := harness.Kubectl(t, "get", "crd", "virtualservices.networking.istio.io"); r.Code == 0 {
			t.Errorf("uninstall --purge returned while Istio's CRDs still exist:\n%s", r.Stdout)
		}
	})
}

// istioRepo serves the stand-in for Istio's Helm repository: the previous
// and the default release.
func istioRepo(t *testing.T) string {
	t.Helper()
	charts, err := helmrepo.IstioReleases(previousRelease, istio.DefaultVersion)
	if err != nil {
		t.Fatal(err)
	}
	return helmrepo.ServeCharts(t, charts...)
}

// assertIstioVersion checks that status reports the release installed,
// and that istiod runs its image.
func assertIstioVersion(t *testing.T, st mesh.Status, version string) {
	t.Helper()
	if st.Version != version {
		t.Errorf("status shows Istio %q, want %s", st.Version, version)
	}
	image := harness.Must(t, harness.Kubectl(t, "get", "deployment", "istiod", "-n", "istio-system", "-o", "jsonpath={.spec.template.spec.containers[0].image}")).Stdout
	if want := "docker.io/istio/pilot:" + version; image != want {
		t.Errorf("istiod runs %s, want %s", image, want)
	}
}

func istioStatus(t *testing.T) mesh.Status {
	t.Helper()
	out := harness.Must(t, harness.Mesh(t, "status", "istio", "-o", "json")).Stdout
	var sts []mesh.Status
	if err := json.Unmarshal([]byte(out), &sts); err != nil || len(sts) != 1 {
		t.Fatalf("status -o json: %v\n%s", err, out)
	}
	return sts[0]
}

func revisionReady(st mesh.Status, name string) bool {
	i := slices.IndexFunc(st.Revisions, func(r mesh.Revision) bool { return r.Name == name })
	if i < 0 || len(st.Revisions[i].Components) == 0 {
		return false
	}
	for _, c := range st.Revisions[i].Components {
		if !c.Ready {
			return false
		}
	}
	return true
}
