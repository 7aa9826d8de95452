package meshcmd

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
	"github.com/kubectl-mesh/kubectl-mesh/test/helmrepo"
)

// Linkerd through kubectl mesh, from a Helm repository on loopback serving
// the project's stand-in charts (Linkerd's chart names and values): install
// with a generated identity, status with certificate expiry, an upgrade that
// keeps the trust anchor, an unreachable repository, uninstall --purge.
func TestLinkerdLifecycle(t *testing.T) {
	crds := filepath.Join(helmrepo.ChartsDir(), "linkerd-crds")
	cp := filepath.Join(helmrepo.ChartsDir(), "linkerd-control-plane")
	repo := helmrepo.ServeCharts(t,
		helmrepo.Chart{Dir: crds, Version: "2026.1.1"},
		helmrepo.Chart{Dir: cp, Version: "2026.1.1", AppVersion: "edge-26.1.1"},
		helmrepo.Chart{Dir: crds, Version: "2026.2.1"},
		helmrepo.Chart{Dir: cp, Version: "2026.2.1", AppVersion: "edge-26.2.1"},
	)

	r := harness.Mesh(t, "install", "linkerd", "--repo", "http://127.0.0.1:1/charts")
	if r.Code == 0 || !strings.Contains(r.Stderr, "--repo") {
		t.Errorf("install from an unreachable repository: want one line naming --repo: %v", r)
	}

	harness.Must(t, harness.Mesh(t, "install", "linkerd", "--repo", repo, "--version", "2026.1.1", "--identity-issuer-validity", "2160h"))
	anchor := trustAnchor(t)
	st := linkerdStatus(t)
	if !st.Installed || st.Version != "edge-26.1.1" || len(st.Certificates) != 2 {
		t.Fatalf("status after install: %+v", st)
	}
	for _, c := range st.Certificates {
		if c.Expiring {
			t.Errorf("a fresh certificate is reported expiring: %+v", c)
		}
	}

	out := harness.Must(t, harness.Mesh(t, "upgrade", "linkerd", "--repo", repo, "--version", "2026.2.1"))
	if !strings.Contains(out.Stdout, "upgraded") {
		t.Errorf("upgrade output:\n%v", out)
	}
	if got := trustAnchor(t); !got.Equal(anchor) {
		t.Error("the upgrade rotated the trust anchor")
	}
	if st := linkerdStatus(t); st.Version != "edge-26.2.1" {
		t.Errorf("version after upgrade %q, want edge-26.2.1", st.Version)
	}

	// Right after the upgrade rewrote them, Linkerd's CRDs are deleted
	// while their storage is rebuilt, which can stall the apiserver's
	// cleanup for 5 minutes unless the uninstall requeues it: 2m fails
	// such a stall.
	if r := harness.Must(t, harness.Mesh(t, "uninstall", "linkerd", "--purge", "--timeout", "2m")); r.Stderr != "" {
		t.Logf("uninstall's stderr:\n%s", r.Stderr)
	}
	if st := linkerdStatus(t); st.Installed {
		t.Errorf("status after uninstall: %+v", st)
	}
	if r := harness.Kubectl(t, "get", "crd", "servers.policy.linkerd.io"); r.Code == 0 {
		t.Error("--purge left Linkerd's CRDs")
	}
}

func linkerdStatus(t *testing.T) mesh.Status {
	t.Helper()
	out := harness.Must(t, harness.Mesh(t, "status", "linkerd", "-o", "json")).Stdout
	var sts []mesh.Status
	if err := json.Unmarshal([]byte(out), &sts); err != nil || len(sts) != 1 {
		t.Fatalf("status -o json: %v\n%s", err, out)
	}
	return sts[0]
}

// trustAnchor reads the trust anchor from the trust-roots ConfigMap (the
// adapter's own e2e test checks how the issuer chains to it).
func trustAnchor(t *testing.T) *x509.Certificate {
	t.Helper()
	roots := harness.Must(t, harness.Kubectl(t, "get", "configmap", "linkerd-identity-trust-roots", "-n", "linkerd", "-o", "jsonpath={.data.ca-bundle\\.crt}")).Stdout
	block, _ := pem.Decode([]byte(roots))
	if block == nil {
		t.Fatalf("no PEM trust anchor in linkerd-identity-trust-roots: %q", roots)
	}
	anchor, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return anchor
}
