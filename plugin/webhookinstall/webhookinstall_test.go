package webhookinstall

import (
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	kubefake "helm.sh/helm/v4/pkg/kube/fake"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	"helm.sh/helm/v4/pkg/storage"
	"helm.sh/helm/v4/pkg/storage/driver"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	kubernetesfake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
)

const testNamespace = "mesh-test"

// testChart is a small chart with the two OpenReports CRD names, a
// Deployment and a webhook configuration, like the real one.
func testChart(withCRDs bool) fstest.MapFS {
	fsys := fstest.MapFS{
		"Chart.yaml":  {Data: []byte("apiVersion: v2\nname: mesh-webhook\nversion: 0.1.0\nappVersion: v0.0.0-dev\n")},
		"values.yaml": {Data: []byte("replicas: 2\n")},
		"templates/deployment.yaml": {Data: []byte(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: mesh-webhook
  namespace: {{ .Release.Namespace }}
spec:
  replicas: {{ .Values.replicas }}
  template:
    spec:
      containers:
        - name: webhook
          args: ["--port=9443", "--cert-secret-name=mesh-webhook-certs"]
`)},
		"templates/vwc.yaml": {Data: []byte(`apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: mesh-webhook
webhooks: []
`)},
		"templates/NOTES.txt":    {Data: []byte("installed in {{ .Release.Namespace }}\n")},
		".helmignore":            {Data: []byte("*.bak\n")},
		"templates/old.yaml.bak": {Data: []byte("not: a template\n")},
		"templates/.hidden.yaml": {Data: []byte("{{ fail \"dotfiles in templates/ are ignored by Helm\" }}\n")},
	}
	if withCRDs {
		for _, name := range []string{"reports", "clusterreports"} {
			fsys["crds/openreports.io_"+name+".yaml"] = &fstest.MapFile{Data: []byte(`---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: ` + name + `.openreports.io
spec:
  group: openreports.io
`)}
		}
	}
	return fsys
}

func loadTestChart(t *testing.T, fsys fs.FS) *chart.Chart {
	t.Helper()
	ch, err := LoadChart(fsys, "v1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

type fakeCluster struct {
	client  *Client
	kube    *kubernetesfake.Clientset
	dynamic *dynamicfake.FakeDynamicClient
	applied []string
}

func newFakeCluster(t *testing.T, kubeClient *kubefake.FailingKubeClient) *fakeCluster {
	t.Helper()
	cfg := action.NewConfiguration(action.ConfigurationSetLogger(slog.DiscardHandler))
	mem := driver.NewMemory()
	mem.SetNamespace(testNamespace)
	cfg.Releases = storage.Init(mem)
	if kubeClient == nil {
		kubeClient = &kubefake.FailingKubeClient{}
	}
	kubeClient.PrintingKubeClient.Out = io.Discard
	cfg.KubeClient = kubeClient
	kv, err := common.ParseKubeVersion("v1.37.0")
	if err != nil {
		t.Fatal(err)
	}
	caps := common.DefaultCapabilities.Copy()
	caps.KubeVersion = *kv
	cfg.Capabilities = caps

	fc := &fakeCluster{kube: kubernetesfake.NewClientset(), dynamic: dynamicfake.NewSimpleDynamicClient(runtime.NewScheme())}
	fc.dynamic.PrependReactor("patch", "customresourcedefinitions", func(a k8stesting.Action) (bool, runtime.Object, error) {
		fc.applied = append(fc.applied, a.(k8stesting.PatchAction).GetName())
		return true, nil, nil
	})
	fc.client = &Client{namespace: testNamespace, helm: cfg, kube: fc.kube, dynamic: fc.dynamic}
	return fc
}

func TestLoadChartFollowsHelmignore(t *testing.T) {
	ch := loadTestChart(t, testChart(true))
	if ch.Metadata.AppVersion != "v1.2.3" {
		t.Errorf("appVersion %q, want the stamped v1.2.3", ch.Metadata.AppVersion)
	}
	var names []string
	for _, tpl := range ch.Templates {
		names = append(names, tpl.Name)
	}
	slices.Sort(names)
	if want := []string{"templates/NOTES.txt", "templates/deployment.yaml", "templates/vwc.yaml"}; !slices.Equal(names, want) {
		t.Errorf("templates %v, want %v (.helmignore and dotfiles skipped)", names, want)
	}
}

func TestCheckCRDs(t *testing.T) {
	if err := CheckCRDs(loadTestChart(t, testChart(true))); err != nil {
		t.Errorf("with CRDs: %v", err)
	}
	err := CheckCRDs(loadTestChart(t, testChart(false)))
	if !errors.Is(err, ErrNoCRDs) || !strings.Contains(err.Error(), "make chart-crds") {
		t.Errorf("without CRDs: got %v, want ErrNoCRDs naming make chart-crds", err)
	}
}

func TestInstallThenUpgrade(t *testing.T) {
	fc := newFakeCluster(t, nil)
	ch := loadTestChart(t, testChart(true))
	ctx := t.Context()

	res, err := fc.client.Install(ctx, ch, InstallOptions{CreateNamespace: true, Wait: true, Timeout: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Upgraded || res.Release.Version != 1 || res.Release.Info.Status != rcommon.StatusDeployed || res.Release.Namespace != testNamespace {
		t.Errorf("first install: upgraded %t, revision %d, status %s, namespace %s; want an install, 1, deployed, %s",
			res.Upgraded, res.Release.Version, res.Release.Info.Status, res.Release.Namespace, testNamespace)
	}
	ns, err := fc.kube.CoreV1().Namespaces().Get(ctx, testNamespace, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the namespace was not created: %v", err)
	}
	if ns.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
		t.Errorf("namespace labels %v, want the restricted Pod Security Standard enforced", ns.Labels)
	}
	if want := []string{"clusterreports.openreports.io", "reports.openreports.io"}; !slices.Equal(sorted(fc.applied), want) {
		t.Errorf("applied CRDs %v, want %v", fc.applied, want)
	}

	res, err = fc.client.Install(ctx, ch, InstallOptions{Values: map[string]any{"replicas": 3}, CreateNamespace: true})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Upgraded || res.Release.Version != 2 || res.Release.Info.Status != rcommon.StatusDeployed {
		t.Errorf("second install: upgraded %t, revision %d, status %s; want an upgrade to revision 2, deployed", res.Upgraded, res.Release.Version, res.Release.Info.Status)
	}
	if !strings.Contains(res.Release.Manifest, "replicas: 3") {
		t.Errorf("the upgrade ignored the values:\n%s", res.Release.Manifest)
	}
	if len(fc.applied) != 4 {
		t.Errorf("CRDs applied %d times over two installs, want 4: upgrades must update them too", len(fc.applied))
	}
}

func TestInstallRefusesAChartWithoutCRDs(t *testing.T) {
	fc := newFakeCluster(t, nil)
	_, err := fc.client.Install(t.Context(), loadTestChart(t, testChart(false)), InstallOptions{CreateNamespace: true})
	if !errors.Is(err, ErrNoCRDs) {
		t.Fatalf("got %v, want ErrNoCRDs", err)
	}
	if _, err := fc.client.Status(t.Context()); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("status after the refusal: %v, want not installed", err)
	}
}

func TestInstallWithoutNamespaceCreation(t *testing.T) {
	fc := newFakeCluster(t, nil)
	_, err := fc.client.Install(t.Context(), loadTestChart(t, testChart(true)), InstallOptions{CreateNamespace: false})
	if err == nil || !strings.Contains(err.Error(), "namespace "+testNamespace+" not found") {
		t.Fatalf("got %v, want a namespace not found error", err)
	}
}

// A release that does not become ready is uninstalled when new, rolled back
// when upgraded: a broken webhook does not stay in the apiserver's path.
func TestFailedWaitRollsBack(t *testing.T) {
	ch := loadTestChart(t, testChart(true))

	t.Run("install", func(t *testing.T) {
		fc := newFakeCluster(t, &kubefake.FailingKubeClient{WaitError: errors.New("Deployment mesh-webhook: not available")})
		_, err := fc.client.Install(t.Context(), ch, InstallOptions{CreateNamespace: true, Wait: true, Timeout: 1})
		if err == nil || !strings.Contains(err.Error(), "not available") || !strings.Contains(err.Error(), "uninstalled") {
			t.Fatalf("got %v, want the wait error and the uninstall", err)
		}
		if _, err := fc.client.Status(t.Context()); !errors.Is(err, ErrNotInstalled) {
			t.Errorf("status after the failed install: %v, want not installed", err)
		}
	})

	t.Run("upgrade", func(t *testing.T) {
		kc := &kubefake.FailingKubeClient{}
		fc := newFakeCluster(t, kc)
		if _, err := fc.client.Install(t.Context(), ch, InstallOptions{CreateNamespace: true, Wait: true, Timeout: 1}); err != nil {
			t.Fatal(err)
		}
		kc.WaitError = errors.New("Deployment mesh-webhook: not available")
		_, err := fc.client.Install(t.Context(), ch, InstallOptions{Values: map[string]any{"replicas": 5}, Wait: true, Timeout: 1})
		if err == nil || !strings.Contains(err.Error(), "not available") || !strings.Contains(err.Error(), "roll") {
			t.Fatalf("got %v, want the wait error and the rollback", err)
		}
		// Revision 3 is the rollback to revision 1's manifest. (The fake's
		// waits all fail, so the rollback itself is recorded as failed.)
		last, err := fc.client.lastRelease()
		if err != nil {
			t.Fatal(err)
		}
		if last.Version != 3 || !strings.Contains(last.Manifest, "replicas: 2") {
			t.Errorf("after the failed upgrade: revision %d with manifest\n%s\nwant revision 3 rolling back to the first values", last.Version, last.Manifest)
		}
	})
}

func TestUninstall(t *testing.T) {
	fc := newFakeCluster(t, nil)
	ch := loadTestChart(t, testChart(true))
	ctx := t.Context()

	res, err := fc.client.Uninstall(ctx, ch, UninstallOptions{})
	if err != nil || res.Installed {
		t.Fatalf("uninstall without a release: %+v, %v; want nothing done and no error", res, err)
	}

	if _, err := fc.client.Install(ctx, ch, InstallOptions{CreateNamespace: true}); err != nil {
		t.Fatal(err)
	}
	res, err = fc.client.Uninstall(ctx, ch, UninstallOptions{})
	if err != nil || !res.Installed || len(res.Purged) != 0 {
		t.Fatalf("uninstall: %+v, %v; want the release uninstalled and nothing purged", res, err)
	}
	if _, err := fc.client.Status(ctx); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("status after uninstall: %v, want not installed", err)
	}
	res, err = fc.client.Uninstall(ctx, ch, UninstallOptions{})
	if err != nil || res.Installed {
		t.Errorf("second uninstall: %+v, %v; want nothing done and no error", res, err)
	}
}

func TestUninstallPurge(t *testing.T) {
	fc := newFakeCluster(t, nil)
	ch := loadTestChart(t, testChart(true))
	ctx := t.Context()
	if _, err := fc.client.Install(ctx, ch, InstallOptions{CreateNamespace: true}); err != nil {
		t.Fatal(err)
	}
	var deleted []string
	fc.dynamic.PrependReactor("delete", "customresourcedefinitions", func(a k8stesting.Action) (bool, runtime.Object, error) {
		deleted = append(deleted, a.(k8stesting.DeleteAction).GetName())
		return true, nil, nil
	})
	secret := &metav1.ObjectMeta{Name: "mesh-webhook-certs", Namespace: testNamespace}
	if err := fc.kube.Tracker().Add(secretObject(secret)); err != nil {
		t.Fatal(err)
	}
	res, err := fc.client.Uninstall(ctx, ch, UninstallOptions{Purge: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"customresourcedefinition/clusterreports.openreports.io", "customresourcedefinition/reports.openreports.io", "secret/mesh-webhook-certs"}
	if !slices.Equal(sorted(res.Purged), want) {
		t.Errorf("purged %v, want %v", res.Purged, want)
	}
	if want := []string{"clusterreports.openreports.io", "reports.openreports.io"}; !slices.Equal(sorted(deleted), want) {
		t.Errorf("deleted CRDs %v, want %v", deleted, want)
	}
	if _, err := fc.kube.CoreV1().Secrets(testNamespace).Get(ctx, "mesh-webhook-certs", metav1.GetOptions{}); err == nil {
		t.Errorf("the certificate Secret is still there")
	}
}

func TestStatus(t *testing.T) {
	fc := newFakeCluster(t, nil)
	ch := loadTestChart(t, testChart(true))
	ctx := t.Context()
	if _, err := fc.client.Status(ctx); !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("status before install: %v, want ErrNotInstalled", err)
	}
	if _, err := fc.client.Install(ctx, ch, InstallOptions{CreateNamespace: true}); err != nil {
		t.Fatal(err)
	}

	st, err := fc.client.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != "deployed" || st.Revision != 1 || st.Chart != "mesh-webhook" || st.ChartVersion != "0.1.0" || st.AppVersion != "v1.2.3" {
		t.Errorf("status %+v", st)
	}
	if st.Deployment == nil || st.Deployment.Found || st.WebhookConfiguration == nil || st.WebhookConfiguration.Found || st.Ready() {
		t.Errorf("with no live objects: deployment %+v, webhook %+v, ready %t; want both reported missing, not ready", st.Deployment, st.WebhookConfiguration, st.Ready())
	}

	// The live objects: 1 of 2 replicas ready, one webhook without caBundle.
	deploy := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "mesh-webhook", Namespace: testNamespace},
		Spec:   appsv1.DeploymentSpec{Replicas: ptr.To[int32](2)},
		Status: appsv1.DeploymentStatus{ReadyReplicas: 1, UpdatedReplicas: 2, AvailableReplicas: 1}}
	fail := admissionregistrationv1.Fail
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "mesh-webhook"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{
			{Name: "validate.kubectl-mesh.io", FailurePolicy: &fail, TimeoutSeconds: ptr.To[int32](5), ClientConfig: admissionregistrationv1.WebhookClientConfig{CABundle: []byte("ca")}},
			{Name: "policies.kubectl-mesh.io", FailurePolicy: &fail, TimeoutSeconds: ptr.To[int32](5)},
		}}
	if _, err := fc.kube.AppsV1().Deployments(testNamespace).Create(ctx, deploy, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := fc.kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, vwc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	st, err = fc.client.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d := st.Deployment
	if !d.Found || d.Replicas != 2 || d.ReadyReplicas != 1 || d.AvailableReplicas != 1 {
		t.Errorf("deployment %+v, want found with 1/2 ready", d)
	}
	w := st.WebhookConfiguration
	if !w.Found || len(w.Webhooks) != 2 || !w.Webhooks[0].CABundle || w.Webhooks[1].CABundle || w.Webhooks[0].FailurePolicy != "Fail" || w.Webhooks[0].TimeoutSeconds != 5 {
		t.Errorf("webhook configuration %+v", w)
	}
	if st.Ready() {
		t.Errorf("ready with 1/2 replicas and a missing caBundle")
	}

	deploy.Status.ReadyReplicas = 2
	vwc.Webhooks[1].ClientConfig.CABundle = []byte("ca")
	if _, err := fc.kube.AppsV1().Deployments(testNamespace).UpdateStatus(ctx, deploy, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := fc.kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Update(ctx, vwc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if st, err = fc.client.Status(ctx); err != nil || !st.Ready() {
		t.Errorf("status %+v, %v: want ready with every replica ready and every caBundle set", st, err)
	}
}

func TestRenderIsClientSide(t *testing.T) {
	rel, err := Render(t.Context(), loadTestChart(t, testChart(true)), RenderOptions{Namespace: "elsewhere", Values: map[string]any{"replicas": 4}, IncludeCRDs: true, KubeVersion: "v1.37.0"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"namespace: elsewhere", "replicas: 4", "name: reports.openreports.io", "kind: ValidatingWebhookConfiguration"} {
		if !strings.Contains(rel.Manifest, want) {
			t.Errorf("manifest lacks %q:\n%s", want, rel.Manifest)
		}
	}
	if !strings.Contains(rel.Info.Notes, "installed in elsewhere") {
		t.Errorf("notes %q", rel.Info.Notes)
	}
}

func TestCertSecretName(t *testing.T) {
	rel, err := Render(t.Context(), loadTestChart(t, testChart(true)), RenderOptions{Namespace: "x", KubeVersion: "v1.37.0"})
	if err != nil {
		t.Fatal(err)
	}
	if got := certSecretName(rel.Manifest); got != "mesh-webhook-certs" {
		t.Errorf("got %q, want mesh-webhook-certs", got)
	}
	if got := certSecretName("kind: Service\n"); got != "" {
		t.Errorf("got %q from a manifest without a Deployment", got)
	}
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

func secretObject(meta *metav1.ObjectMeta) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: *meta}
}

// With --wait, a purge returns only once the CRDs are gone, and says which
// are left when it gives up.
func TestUninstallPurgeWaitsForTheCRDs(t *testing.T) {
	fc := newFakeCluster(t, nil)
	ch := loadTestChart(t, testChart(true))
	ctx := t.Context()
	if _, err := fc.client.Install(ctx, ch, InstallOptions{CreateNamespace: true}); err != nil {
		t.Fatal(err)
	}
	fc.dynamic.PrependReactor("delete", "customresourcedefinitions", func(a k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, nil
	})
	terminating := map[string]bool{"reports.openreports.io": true}
	fc.dynamic.PrependReactor("get", "customresourcedefinitions", func(a k8stesting.Action) (bool, runtime.Object, error) {
		name := a.(k8stesting.GetAction).GetName()
		if !terminating[name] {
			return true, nil, apierrors.NewNotFound(crdResource.GroupResource(), name)
		}
		crd := &unstructured.Unstructured{}
		crd.SetAPIVersion("apiextensions.k8s.io/v1")
		crd.SetKind("CustomResourceDefinition")
		crd.SetName(name)
		return true, crd, nil
	})
	_, err := fc.client.Uninstall(ctx, ch, UninstallOptions{Purge: true, Wait: true, Timeout: 200 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "reports.openreports.io still being deleted") || strings.Contains(err.Error(), "clusterreports") {
		t.Errorf("uninstall while a CRD is still there: %v, want an error naming reports.openreports.io only", err)
	}

	terminating = map[string]bool{}
	if _, err := fc.client.Uninstall(ctx, ch, UninstallOptions{Purge: true, Wait: true, Timeout: time.Minute}); err != nil {
		t.Errorf("uninstall once the CRDs are gone: %v", err)
	}
}
