package linkerd

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	chart "helm.sh/helm/v4/pkg/chart/v2"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
	"github.com/kubectl-mesh/kubectl-mesh/test/helmrepo"
)

// testRepo serves the project's Linkerd test charts at two versions.
func testRepo(t *testing.T) string {
	t.Helper()
	crds := filepath.Join(helmrepo.ChartsDir(), CRDsChart)
	cp := filepath.Join(helmrepo.ChartsDir(), ControlPlaneChart)
	return helmrepo.ServeCharts(t,
		helmrepo.Chart{Dir: crds},
		helmrepo.Chart{Dir: cp},
		helmrepo.Chart{Dir: crds, Version: "2026.2.1"},
		helmrepo.Chart{Dir: cp, Version: "2026.2.1", AppVersion: "edge-26.2.1"},
	)
}

func identityOf(t *testing.T, values map[string]any) Identity {
	t.Helper()
	var id Identity
	id.TrustAnchorsPEM, _ = lookup(values, "identityTrustAnchorsPEM").(string)
	id.IssuerCertPEM, _ = lookup(values, "identity", "issuer", "tls", "crtPEM").(string)
	id.IssuerKeyPEM, _ = lookup(values, "identity", "issuer", "tls", "keyPEM").(string)
	return id
}

func TestPlanInstall(t *testing.T) {
	repo := testRepo(t)
	l := New()
	rels, err := l.Plan(context.Background(), mesh.InstallOptions{
		Repo:           repo,
		Version:        "edge-26.1.1",
		IssuerValidity: 72 * time.Hour,
		Values:         map[string]any{"controllerReplicas": 2, "identity": map[string]any{"issuer": map[string]any{"issuanceLifetime": "12h"}}},
	})
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	if len(rels) != 2 || rels[0].Name != CRDsChart || rels[1].Name != ControlPlaneChart {
		t.Fatalf("releases %v, want linkerd-crds then linkerd-control-plane", names(rels))
	}
	for _, r := range rels {
		if r.Namespace != DefaultNamespace {
			t.Errorf("%s namespace %q, want %q", r.Name, r.Namespace, DefaultNamespace)
		}
		if r.Chart.Metadata.Version != "2026.1.1" {
			t.Errorf("%s chart version %s, want 2026.1.1 for --version edge-26.1.1", r.Name, r.Chart.Metadata.Version)
		}
		if r.Labels[LabelMesh] != "linkerd" || r.Labels[LabelComponent] != r.Name || r.Labels[LabelRevision] != "default" {
			t.Errorf("%s labels %v", r.Name, r.Labels)
		}
	}
	if rels[0].Wait == nil || *rels[0].Wait {
		t.Error("linkerd-crds waits; it has nothing to become ready")
	}
	if rels[1].Wait != nil {
		t.Error("linkerd-control-plane does not inherit --wait")
	}

	v := rels[1].Values
	if v["controllerReplicas"] != 2 || lookup(v, "identity", "issuer", "issuanceLifetime") != "12h" {
		t.Errorf("user values not merged: %v", v)
	}
	id := identityOf(t, v)
	if err := ValidateIdentity(&id, time.Now()); err != nil {
		t.Fatalf("planned identity: %v", err)
	}
	issuer, _ := parseCerts(id.IssuerCertPEM)
	if got := time.Until(issuer[0].NotAfter); got > 72*time.Hour || got < 71*time.Hour {
		t.Errorf("issuer valid for %v more, want the requested 72h", got)
	}

	// The plan meets the chart's values contract: it renders.
	manifest, err := lifecycle.Render(rels, "v1.37.0")
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	if !strings.Contains(manifest, "name: linkerd-identity-trust-roots") || !strings.Contains(manifest, "cr.l5d.io/linkerd/controller:edge-26.1.1") {
		t.Errorf("rendered plan lacks the trust roots or the controller image:\n%s", manifest)
	}
}

func TestPlanKeepsInstalledIdentity(t *testing.T) {
	repo := testRepo(t)
	installed, err := GenerateIdentity(time.Now(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	rel := lifecycle.ReleaseInfo{
		Name: ControlPlaneChart, Namespace: "mesh", Chart: ControlPlaneChart, Status: "deployed",
		Values: (&installedIdentity{Identity: *installed}).values(),
	}
	for _, upgrade := range []bool{true, false} {
		l := withReleases(rel)
		rels, err := l.Plan(context.Background(), mesh.InstallOptions{Repo: repo, Namespace: "mesh", Upgrade: upgrade, Cluster: &mesh.Cluster{}})
		if err != nil {
			t.Fatalf("Plan (upgrade %v): %v", upgrade, err)
		}
		if rels[1].Chart.Metadata.Version != "2026.2.1" {
			t.Errorf("chart version %s, want the latest, 2026.2.1", rels[1].Chart.Metadata.Version)
		}
		if got := identityOf(t, rels[1].Values); got != *installed {
			t.Errorf("upgrade %v: the installed identity was not kept", upgrade)
		}
	}

	// Files given: the user rotates on purpose.
	rotated, err := GenerateIdentity(time.Now(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, c, k := writeIdentity(t, rotated)
	l := withReleases(rel)
	rels, err := l.Plan(context.Background(), mesh.InstallOptions{Repo: repo, Namespace: "mesh", Upgrade: true, Cluster: &mesh.Cluster{},
		TrustAnchorsFile: a, IssuerCertFile: c, IssuerKeyFile: k})
	if err != nil {
		t.Fatal(err)
	}
	if got := identityOf(t, rels[1].Values); got != *rotated {
		t.Error("the identity from the files was not used")
	}
}

func TestPlanErrors(t *testing.T) {
	installedNoAnchor := lifecycle.ReleaseInfo{Name: ControlPlaneChart, Namespace: DefaultNamespace, Chart: ControlPlaneChart, Status: "deployed", Values: map[string]any{}}
	tests := []struct {
		name string
		l    *Linkerd
		opts mesh.InstallOptions
		want string
	}{
		{"upgrade without an installed release", withReleases(), mesh.InstallOptions{Upgrade: true, Cluster: &mesh.Cluster{}}, "linkerd is not installed in namespace linkerd"},
		{"upgrade without a cluster", New(), mesh.InstallOptions{Upgrade: true}, FlagTrustAnchors},
		{"installed release without a trust anchor", withReleases(installedNoAnchor), mesh.InstallOptions{Upgrade: true, Cluster: &mesh.Cluster{}}, "cannot be kept"},
		{"identity in values", New(), mesh.InstallOptions{Values: map[string]any{"identityTrustAnchorsPEM": "x"}}, "values: identityTrustAnchorsPEM is set by kubectl mesh"},
		{"issuer key in values", New(), mesh.InstallOptions{Values: map[string]any{"identity": map[string]any{"issuer": map[string]any{"tls": map[string]any{"keyPEM": "x"}}}}}, "identity.issuer.tls.keyPEM"},
		{"malformed edge version", New(), mesh.InstallOptions{Version: "edge-2026"}, "--version edge-2026"},
		{"stable version", New(), mesh.InstallOptions{Version: "stable-2.14.10"}, "--version stable-2.14.10"},
		{"one identity file", New(), mesh.InstallOptions{TrustAnchorsFile: "ca.crt"}, FlagIssuerCert},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.l.pull = func(context.Context, string, string, string) (*chart.Chart, error) {
				t.Fatal("Plan reached the repository before refusing its input")
				return nil, nil
			}
			_, err := tt.l.Plan(context.Background(), tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestPlanUnknownVersion(t *testing.T) {
	_, err := New().Plan(context.Background(), mesh.InstallOptions{Repo: testRepo(t), Version: "2099.1.1"})
	t.Log(err)
	if err == nil || !strings.Contains(err.Error(), CRDsChart) {
		t.Fatalf("err = %v, want it to name the chart that was not found", err)
	}
}

func names(rels []lifecycle.Release) []string {
	var out []string
	for _, r := range rels {
		out = append(out, r.Name)
	}
	return out
}
