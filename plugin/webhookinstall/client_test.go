package webhookinstall

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubernetesfake "k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
)

// fakeReleases records what the Client asks of the lifecycle engine.
type fakeReleases struct {
	applied   []lifecycle.Release
	opts      lifecycle.Options
	info      *lifecycle.ReleaseInfo
	uninstall time.Duration
	crds      []string
	crdWait   time.Duration
}

func (f *fakeReleases) Apply(_ context.Context, rels []lifecycle.Release, opts lifecycle.Options) ([]lifecycle.Result, error) {
	f.applied, f.opts = rels, opts
	return []lifecycle.Result{{Release: rels[0].Name, Namespace: rels[0].Namespace, Revision: 1, Action: "installed"}}, nil
}

func (f *fakeReleases) Get(context.Context, string, string) (*lifecycle.ReleaseInfo, error) {
	return f.info, nil
}

func (f *fakeReleases) Uninstall(_ context.Context, _, _ string, timeout time.Duration) (bool, error) {
	f.uninstall = timeout
	return f.info != nil, nil
}

func (f *fakeReleases) DeleteCRDs(_ context.Context, names []string, timeout time.Duration, _ func(string)) ([]string, error) {
	f.crds, f.crdWait = names, timeout
	return names, nil
}

func newTestClient(f *fakeReleases) (*Client, *kubernetesfake.Clientset) {
	kube := kubernetesfake.NewClientset()
	return &Client{namespace: testNamespace, helm: f, kube: kube}, kube
}

// The webhook is one release on the engine: its CRDs applied on every
// install and upgrade, the installed values kept when none are given, in a
// namespace labelled for the restricted Pod Security Standard.
func TestInstallIsAOneReleasePlan(t *testing.T) {
	f := &fakeReleases{}
	c, kube := newTestClient(f)
	ch := loadTestChart(t, testChart(true))
	vals := map[string]any{"replicas": 3}
	if _, err := c.Install(t.Context(), ch, InstallOptions{Values: vals, Wait: true, Timeout: time.Minute, CreateNamespace: true}); err != nil {
		t.Fatal(err)
	}
	want := lifecycle.Release{Name: ReleaseName, Namespace: testNamespace, Component: "webhook", Chart: ch, Values: vals, ApplyCRDs: true, KeepValues: true}
	if len(f.applied) != 1 || f.applied[0].Name != want.Name || f.applied[0].Namespace != want.Namespace || !f.applied[0].ApplyCRDs || !f.applied[0].KeepValues || f.applied[0].Values["replicas"] != 3 {
		t.Errorf("applied %+v, want %+v", f.applied, want)
	}
	if f.opts != (lifecycle.Options{Wait: true, Timeout: time.Minute}) {
		t.Errorf("options %+v, want a wait of a minute", f.opts)
	}
	ns, err := kube.CoreV1().Namespaces().Get(t.Context(), testNamespace, metav1.GetOptions{})
	if err != nil || ns.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
		t.Errorf("namespace %v, %v; want it created with the restricted Pod Security Standard enforced", ns, err)
	}

	// A server dry run creates nothing.
	f = &fakeReleases{}
	c, kube = newTestClient(f)
	if _, err := c.Install(t.Context(), ch, InstallOptions{ServerDryRun: true, CreateNamespace: true}); err != nil {
		t.Fatal(err)
	}
	if !f.opts.DryRunServer || len(kube.Actions()) != 0 {
		t.Errorf("server dry run: options %+v, %d cluster requests; want a dry run and none", f.opts, len(kube.Actions()))
	}
}

func TestUninstallPurge(t *testing.T) {
	ch := loadTestChart(t, testChart(true))
	rendered, err := Render(t.Context(), ch, RenderOptions{Namespace: testNamespace, KubeVersion: "v1.37.0"})
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeReleases{info: &lifecycle.ReleaseInfo{Name: ReleaseName, Namespace: testNamespace, Status: "deployed", Manifest: rendered.Manifest}}
	c, kube := newTestClient(f)
	if err := kube.Tracker().Add(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "mesh-webhook-certs", Namespace: testNamespace}}); err != nil {
		t.Fatal(err)
	}
	res, err := c.Uninstall(t.Context(), ch, UninstallOptions{Purge: true, Wait: true, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"secret/mesh-webhook-certs", "customresourcedefinition/reports.openreports.io", "customresourcedefinition/clusterreports.openreports.io"}
	slices.Sort(want)
	got := slices.Clone(res.Purged)
	slices.Sort(got)
	if !res.Installed || !slices.Equal(got, want) {
		t.Errorf("uninstall: %+v, want installed and %v purged", res, want)
	}
	if f.uninstall != time.Minute || f.crdWait != time.Minute {
		t.Errorf("waits: release %s, CRDs %s; want a minute each with --wait", f.uninstall, f.crdWait)
	}

	// Without --wait nothing is waited for; without --purge nothing else goes.
	f = &fakeReleases{}
	c, _ = newTestClient(f)
	res, err = c.Uninstall(t.Context(), ch, UninstallOptions{Timeout: time.Minute})
	if err != nil || res.Installed || len(res.Purged) != 0 || f.uninstall != 0 || f.crds != nil {
		t.Errorf("uninstall of nothing: %+v, %v, wait %s, CRDs %v; want nothing done", res, err, f.uninstall, f.crds)
	}
}

func TestStatus(t *testing.T) {
	ch := loadTestChart(t, testChart(true))
	rendered, err := Render(t.Context(), ch, RenderOptions{Namespace: testNamespace, KubeVersion: "v1.37.0"})
	if err != nil {
		t.Fatal(err)
	}
	for _, info := range []*lifecycle.ReleaseInfo{nil, {Name: ReleaseName, Status: "uninstalled"}} {
		c, _ := newTestClient(&fakeReleases{info: info})
		if _, err := c.Status(t.Context()); !errors.Is(err, ErrNotInstalled) || !strings.Contains(err.Error(), testNamespace) {
			t.Errorf("release %+v: %v, want not installed in %s", info, err, testNamespace)
		}
	}

	c, kube := newTestClient(&fakeReleases{info: &lifecycle.ReleaseInfo{Name: ReleaseName, Namespace: testNamespace, Status: "deployed", Revision: 2,
		Chart: "mesh-webhook", ChartVersion: "0.1.0", AppVersion: "v1.2.3", Manifest: rendered.Manifest}})
	st, err := c.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != "deployed" || st.Revision != 2 || st.Chart != "mesh-webhook" || st.AppVersion != "v1.2.3" || st.Deployment == nil || st.Deployment.Found || st.WebhookConfiguration == nil || st.WebhookConfiguration.Found || st.Ready() {
		t.Errorf("with no live objects: %+v, want both reported missing, not ready", st)
	}
	deploy := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "mesh-webhook", Namespace: testNamespace},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2)}, Status: appsv1.DeploymentStatus{ReadyReplicas: 2, UpdatedReplicas: 2, AvailableReplicas: 2}}
	fail := admissionregistrationv1.Fail
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "mesh-webhook"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{Name: "validate.kubectl-mesh.io", FailurePolicy: &fail, TimeoutSeconds: ptr.To[int32](5), ClientConfig: admissionregistrationv1.WebhookClientConfig{CABundle: []byte("ca")}}}}
	if err := kube.Tracker().Add(deploy); err != nil {
		t.Fatal(err)
	}
	if err := kube.Tracker().Add(vwc); err != nil {
		t.Fatal(err)
	}
	if st, err = c.Status(t.Context()); err != nil || !st.Ready() || st.WebhookConfiguration.Webhooks[0].FailurePolicy != "Fail" {
		t.Errorf("status %+v, %v: want ready with every replica ready and the caBundle set", st, err)
	}
}
