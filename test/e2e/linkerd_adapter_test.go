package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh/linkerd"
	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
	"github.com/kubectl-mesh/kubectl-mesh/test/helmrepo"
)

// linkerdE2ENamespace keeps this test's control plane apart from others'.
const linkerdE2ENamespace = "linkerd-e2e"

// TestLinkerdAdapter installs Linkerd from the project's test charts served
// by a Helm repository on loopback, checks the generated identity in the
// cluster and the status, upgrades to the next chart version keeping the
// trust anchor, and uninstalls.
func TestLinkerdAdapter(t *testing.T) {
	ctx := t.Context()
	crds := filepath.Join(helmrepo.ChartsDir(), linkerd.CRDsChart)
	cp := filepath.Join(helmrepo.ChartsDir(), linkerd.ControlPlaneChart)
	repo := helmrepo.ServeCharts(t,
		helmrepo.Chart{Dir: crds, Version: "2026.1.1"},
		helmrepo.Chart{Dir: cp, Version: "2026.1.1", AppVersion: "edge-26.1.1"},
		helmrepo.Chart{Dir: crds, Version: "2026.2.1"},
		helmrepo.Chart{Dir: cp, Version: "2026.2.1", AppVersion: "edge-26.2.1"},
	)

	helm, err := lifecycle.New(harness.Factory(), &linkerdTestLog{t: t})
	if err != nil {
		t.Fatal(err)
	}
	cfg := harness.RESTConfig(t)
	kube := harness.KubeClient(t)
	cl := &mesh.Cluster{Config: cfg, Clientset: kube, Helm: helm}
	t.Cleanup(func() { linkerdCleanup(t, helm) })
	l := linkerd.New()
	applyOpts := lifecycle.Options{Wait: true, Timeout: 2 * time.Minute, Progress: &linkerdTestLog{t: t}}

	// Install.
	const issuerValidity = 90 * 24 * time.Hour
	before := time.Now()
	rels, err := l.Plan(ctx, mesh.InstallOptions{Repo: repo, Version: "edge-26.1.1", Namespace: linkerdE2ENamespace, IssuerValidity: issuerValidity, Cluster: cl})
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	after := time.Now()
	results, err := helm.Apply(ctx, rels, applyOpts)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if len(results) != 2 || results[0].Action != "installed" || results[1].Action != "installed" {
		t.Fatalf("results %+v, want both releases installed", results)
	}
	for _, name := range []string{linkerd.CRDsChart, linkerd.ControlPlaneChart} {
		info, err := helm.Get(ctx, name, linkerdE2ENamespace)
		if err != nil || info == nil || info.Status != "deployed" || info.Labels["kubectl-mesh.io/mesh"] != "linkerd" {
			t.Fatalf("release %s: %+v, %v; want deployed and labelled", name, info, err)
		}
	}
	if _, err := harness.DynamicClient(t).Resource(linkerdServersCRD).Get(ctx, "servers.policy.linkerd.io", metav1.GetOptions{}); err != nil {
		t.Errorf("CRD servers.policy.linkerd.io: %v", err)
	}

	// The identity in the cluster chains and is what was asked for.
	anchor, issuer := linkerdClusterIdentity(t)
	roots := x509.NewCertPool()
	roots.AddCert(anchor)
	if _, err := issuer.Verify(x509.VerifyOptions{Roots: roots, DNSName: linkerd.IssuerName, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Errorf("the issuer in Secret %s is not signed by the trust anchor in ConfigMap %s: %v", linkerd.IssuerSecret, linkerd.TrustRootsConfigMap, err)
	}
	for what, c := range map[string]*x509.Certificate{"trust anchor": anchor, "issuer": issuer} {
		if k, ok := c.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
			t.Errorf("%s key %T, want ECDSA P-256", what, c.PublicKey)
		}
		if !c.IsCA {
			t.Errorf("%s is not a CA", what)
		}
	}
	// Certificates carry whole seconds.
	if lo, hi := before.Add(issuerValidity).Truncate(time.Second), after.Add(issuerValidity); issuer.NotAfter.Before(lo) || issuer.NotAfter.After(hi) {
		t.Errorf("issuer expires %v, want 90 days after the plan (%v..%v)", issuer.NotAfter, lo, hi)
	}
	if anchor.Subject.CommonName != linkerd.TrustAnchorName || issuer.Subject.CommonName != linkerd.IssuerName {
		t.Errorf("subjects %q, %q", anchor.Subject.CommonName, issuer.Subject.CommonName)
	}

	st := linkerdStatus(t, l, cl)
	if !st.Installed || st.Namespace != linkerdE2ENamespace || st.Version != "edge-26.1.1" {
		t.Fatalf("status installed %v namespace %q version %q, want true %s edge-26.1.1", st.Installed, st.Namespace, st.Version, linkerdE2ENamespace)
	}
	linkerdAllReady(t, st)
	if len(st.Certificates) != 2 || !st.Certificates[1].NotAfter.Equal(issuer.NotAfter) || st.Certificates[1].Expiring {
		t.Errorf("status certificates %+v, want the anchor and the issuer expiring on %v, not within 60 days", st.Certificates, issuer.NotAfter)
	}

	// Upgrade to the latest chart: the trust anchor and issuer are kept.
	rels, err = l.Plan(ctx, mesh.InstallOptions{Repo: repo, Namespace: linkerdE2ENamespace, Upgrade: true, Cluster: cl})
	if err != nil {
		t.Fatalf("Plan upgrade: %v", err)
	}
	results, err = helm.Apply(ctx, rels, applyOpts)
	if err != nil {
		t.Fatalf("Apply upgrade: %v", err)
	}
	if results[1].Action != "upgraded" || results[1].Revision != 2 {
		t.Errorf("control plane %+v, want upgraded to revision 2", results[1])
	}
	anchor2, issuer2 := linkerdClusterIdentity(t)
	if !anchor2.Equal(anchor) || !issuer2.Equal(issuer) {
		t.Error("the upgrade rotated the trust anchor or the issuer")
	}
	st = linkerdStatus(t, l, cl)
	if st.Version != "edge-26.2.1" {
		t.Errorf("version after upgrade %q, want edge-26.2.1", st.Version)
	}
	linkerdAllReady(t, st)
	d, err := kube.AppsV1().Deployments(linkerdE2ENamespace).Get(ctx, "linkerd-destination", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if img := d.Spec.Template.Spec.Containers[0].Image; img != "cr.l5d.io/linkerd/controller:edge-26.2.1" {
		t.Errorf("destination image %s after upgrade, want edge-26.2.1", img)
	}

	// Uninstall: refused while a namespace is injected, then the control
	// plane, then with purge the CRDs.
	injected := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "linkerd-e2e-app", Annotations: map[string]string{linkerd.InjectAnnotation: "enabled"}}}
	if _, err := kube.CoreV1().Namespaces().Create(ctx, injected, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = kube.CoreV1().Namespaces().Delete(context.Background(), injected.Name, metav1.DeleteOptions{})
	})
	inUse, err := l.InUse(ctx, *cl, mesh.UninstallOptions{Namespace: linkerdE2ENamespace})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(inUse, "\n"), "namespace linkerd-e2e-app") {
		t.Errorf("InUse %q, want the injected namespace", inUse)
	}

	for _, purge := range []bool{false, true} {
		plan, err := l.UninstallPlan(ctx, *cl, mesh.UninstallOptions{Namespace: linkerdE2ENamespace, Purge: purge})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range plan {
			if existed, err := helm.Uninstall(ctx, r.Name, r.Namespace, time.Minute); err != nil || !existed {
				t.Fatalf("uninstalling %s: existed %v, %v", r.Name, existed, err)
			}
		}
		st = linkerdStatus(t, l, cl)
		if st.Installed {
			t.Errorf("purge %v: status still installed: %+v", purge, st)
		}
	}
	if _, err := kube.CoreV1().ConfigMaps(linkerdE2ENamespace).Get(ctx, linkerd.TrustRootsConfigMap, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("trust roots ConfigMap after uninstall: %v, want not found", err)
	}
	// CRDs are deleted once their instances are gone: poll.
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := harness.DynamicClient(t).Resource(linkerdServersCRD).Get(ctx, "servers.policy.linkerd.io", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		t.Errorf("CRD servers.policy.linkerd.io still there after uninstall --purge: %v", err)
	}
}

var linkerdServersCRD = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// linkerdClusterIdentity reads the trust anchor and issuer certificates
// that the control plane chart wrote.
func linkerdClusterIdentity(t *testing.T) (anchor, issuer *x509.Certificate) {
	t.Helper()
	kube := harness.KubeClient(t)
	cm, err := kube.CoreV1().ConfigMaps(linkerdE2ENamespace).Get(t.Context(), linkerd.TrustRootsConfigMap, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sec, err := kube.CoreV1().Secrets(linkerdE2ENamespace).Get(t.Context(), linkerd.IssuerSecret, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(sec.Data["key.pem"]) == 0 {
		t.Errorf("Secret %s has no key.pem", linkerd.IssuerSecret)
	}
	return linkerdParseCert(t, cm.Data["ca-bundle.crt"]), linkerdParseCert(t, string(sec.Data["crt.pem"]))
}

func linkerdParseCert(t *testing.T, data string) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode([]byte(data))
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("no PEM certificate in %q", data)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func linkerdStatus(t *testing.T, l *linkerd.Linkerd, cl *mesh.Cluster) *mesh.Status {
	t.Helper()
	st, err := l.Status(t.Context(), *cl)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	return st
}

func linkerdAllReady(t *testing.T, st *mesh.Status) {
	t.Helper()
	if len(st.Revisions) != 1 {
		t.Fatalf("revisions %+v, want one", st.Revisions)
	}
	if len(st.Revisions[0].Components) != 5 {
		t.Errorf("components %+v, want the two releases and three Deployments", st.Revisions[0].Components)
	}
	for _, c := range st.Revisions[0].Components {
		if !c.Ready {
			t.Errorf("component %s not ready: %s", c.Name, c.Message)
		}
	}
	if len(st.Warnings) != 0 {
		t.Errorf("warnings %q, want none", st.Warnings)
	}
}

// linkerdCleanup removes what a failed run left behind.
func linkerdCleanup(t *testing.T, helm *lifecycle.Client) {
	ctx := context.Background()
	for _, name := range []string{linkerd.ControlPlaneChart, linkerd.CRDsChart} {
		if _, err := helm.Uninstall(ctx, name, linkerdE2ENamespace, time.Minute); err != nil {
			t.Logf("cleanup: uninstalling %s: %v", name, err)
		}
	}
	_ = harness.KubeClient(t).CoreV1().Namespaces().Delete(ctx, linkerdE2ENamespace, metav1.DeleteOptions{})
}

// linkerdTestLog sends Helm's warnings and progress to the test log.
type linkerdTestLog struct{ t *testing.T }

func (l *linkerdTestLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
