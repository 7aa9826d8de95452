package e2e

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/action"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	release "helm.sh/helm/v4/pkg/release/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
	"github.com/kubectl-mesh/kubectl-mesh/test/cmdrun"
	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
)

const (
	// lifecycleMeshLabel marks every release these tests make, for List.
	lifecycleMeshLabel = "kubectl-mesh.io/mesh"
	lifecycleMesh      = "lifecycle-e2e"
	// lifecycleCRD comes with the demo chart; Helm never deletes it.
	lifecycleCRD = "widgets.lifecycle-e2e.kubectl-mesh.io"
)

// Install with wait reaches deployed with helm's own Secrets; an upgrade
// makes revision 2 with exactly the given values; an upgrade the apiserver
// rejects and one that never gets ready both roll back to revision 2,
// which keeps running; Rollback, List by labels; uninstall twice.
func TestLifecycleInstallUpgradeRollback(t *testing.T) {
	ctx := t.Context()
	kube := harness.KubeClient(t)
	c := lifecycleClient(t)
	ns := lifecycleNamespace(t, "lifecycle-e2e-upgrade")
	ch := lifecycleChart(t)
	rel := func(values map[string]any) []lifecycle.Release {
		return []lifecycle.Release{{
			Name: "demo", Namespace: ns, Component: "demo-component", Chart: ch, Values: values,
			Labels: map[string]string{lifecycleMeshLabel: lifecycleMesh, "kubectl-mesh.io/component": "demo"},
		}}
	}

	var progress cmdrun.SyncBuffer
	res, err := c.Apply(ctx, rel(map[string]any{"message": "v1"}), lifecycle.Options{Wait: true, Timeout: 2 * time.Minute, Progress: &progress})
	if err != nil {
		t.Fatalf("install: %v\n%s", err, progress.String())
	}
	if len(res) != 1 || !strings.Contains(res[0].Manifest, "kind: Deployment") {
		t.Fatalf("install results %+v, want one, with its manifest", res)
	}
	want := lifecycle.Result{Release: "demo", Namespace: ns, Component: "demo-component", Revision: 1, Action: "installed", Chart: "demo", ChartVersion: "0.1.0", AppVersion: "1.0.0"}
	got := res[0]
	got.Manifest, got.Notes = "", ""
	if got != want {
		t.Errorf("install result %+v, want %+v", got, want)
	}
	for _, line := range []string{"demo-component: installing demo 0.1.0\n", "demo-component: installed revision 1, ready in "} {
		if !strings.Contains(progress.String(), line) {
			t.Errorf("progress lacks %q:\n%s", line, progress.String())
		}
	}
	lifecycleDeploymentReady(t, ns, "demo")
	secrets, err := kube.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{LabelSelector: "owner=helm,name=demo,status=deployed"})
	if err != nil {
		t.Fatal(err)
	}
	if len(secrets.Items) != 1 || secrets.Items[0].Type != "helm.sh/release.v1" || secrets.Items[0].Labels[lifecycleMeshLabel] != lifecycleMesh {
		t.Errorf("deployed release Secrets %v, want one helm.sh/release.v1 with the release labels", lifecycleSecretSummary(secrets.Items))
	}
	info := lifecycleGet(t, c, "demo", ns)
	if info.Status != "deployed" || info.Revision != 1 || info.Chart != "demo" || info.ChartVersion != "0.1.0" || info.AppVersion != "1.0.0" ||
		info.Labels[lifecycleMeshLabel] != lifecycleMesh || info.Labels["owner"] != "" || info.Values["message"] != "v1" || info.Updated.IsZero() {
		t.Errorf("Get after install: %+v", info)
	}

	progress = cmdrun.SyncBuffer{}
	res, err = c.Apply(ctx, rel(map[string]any{"message": "v2", "replicas": 2}), lifecycle.Options{Wait: true, Timeout: 2 * time.Minute, Progress: &progress})
	if err != nil {
		t.Fatalf("upgrade: %v\n%s", err, progress.String())
	}
	if len(res) != 1 || res[0].Action != "upgraded" || res[0].Revision != 2 {
		t.Errorf("upgrade results %+v, want upgraded to revision 2", res)
	}
	if !strings.Contains(progress.String(), "demo-component: upgraded to revision 2, ready in ") {
		t.Errorf("progress:\n%s", progress.String())
	}
	lifecycleWantMessage(t, ns, "demo", "v2")
	if d := lifecycleDeploymentReady(t, ns, "demo"); d.Status.ReadyReplicas != 2 {
		t.Errorf("%d ready replicas after the upgrade, want 2", d.Status.ReadyReplicas)
	}

	// The apiserver rejects replicas: -1 after the ConfigMap was updated.
	_, err = c.Apply(ctx, rel(map[string]any{"message": "v3", "replicas": -1}), lifecycle.Options{Wait: true, Timeout: 2 * time.Minute})
	lifecycleWantError(t, err, "upgrading demo in "+ns+": ", "replicas", "rolled back to revision 2, which is deployed again as revision 4")
	lifecycleWantDeployed(t, c, ns, "demo", "v2")
	lifecycleWantMessage(t, ns, "demo", "v2")

	// Pods that can never be scheduled: the wait times out.
	_, err = c.Apply(ctx, rel(map[string]any{"message": "v4", "replicas": 2, "unschedulable": true}), lifecycle.Options{Wait: true, Timeout: 10 * time.Second})
	lifecycleWantError(t, err, "upgrading demo in "+ns+": not ready within 10s: ", "Deployment/"+ns+"/demo", "rolled back to revision 4, which is deployed again as revision 6")
	lifecycleWantDeployed(t, c, ns, "demo", "v2")
	if d := lifecycleDeploymentReady(t, ns, "demo"); d.Spec.Template.Spec.NodeSelector != nil {
		t.Errorf("the Deployment still has the failed upgrade's nodeSelector %v", d.Spec.Template.Spec.NodeSelector)
	}

	// Explicit rollback to revision 1.
	if err := c.Rollback(ctx, "demo", ns, 1, lifecycle.Options{Wait: true, Timeout: 2 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	lifecycleWantDeployed(t, c, ns, "demo", "v1")
	lifecycleWantMessage(t, ns, "demo", "v1")
	if err := c.Rollback(ctx, "demo", ns, 99, lifecycle.Options{}); err == nil || !strings.Contains(err.Error(), "revision 99 not found; revisions: 1 (superseded)") {
		t.Errorf("rollback to a missing revision: %v", err)
	}

	// List by release labels, across namespaces.
	list, err := c.List(ctx, map[string]string{lifecycleMeshLabel: lifecycleMesh, "kubectl-mesh.io/component": "demo"})
	if err != nil {
		t.Fatal(err)
	}
	if !lifecycleListed(list, ns, "demo") {
		t.Errorf("List by labels: %+v, want demo in %s", list, ns)
	}
	list, err = c.List(ctx, map[string]string{lifecycleMeshLabel: "no-such-mesh"})
	if err != nil {
		t.Fatal(err)
	}
	if lifecycleListed(list, ns, "demo") {
		t.Errorf("List by other labels found demo: %+v", list)
	}

	existed, err := c.Uninstall(ctx, "demo", ns, time.Minute)
	if err != nil || !existed {
		t.Fatalf("uninstall: existed=%v, %v", existed, err)
	}
	if _, err := kube.AppsV1().Deployments(ns).Get(ctx, "demo", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("Deployment after uninstall: %v", err)
	}
	if info := lifecycleGet(t, c, "demo", ns); info != nil {
		t.Errorf("Get after uninstall: %+v", info)
	}
	if !lifecycleCRDExists(t) {
		t.Errorf("uninstall deleted CRD %s; Helm keeps crds/", lifecycleCRD)
	}
	existed, err = c.Uninstall(ctx, "demo", ns, time.Minute)
	if err != nil || existed {
		t.Errorf("second uninstall: existed=%v, %v; want harmless", existed, err)
	}
}

// A failed install leaves nothing behind, and Apply stops at the first
// failure.
func TestLifecycleFailedInstalls(t *testing.T) {
	ctx := t.Context()
	c := lifecycleClient(t)
	ns := lifecycleNamespace(t, "lifecycle-e2e-fail")
	ch := lifecycleChart(t)

	rels := []lifecycle.Release{
		{Name: "first", Namespace: ns, Chart: ch},
		{Name: "rejected", Namespace: ns, Chart: ch, Values: map[string]any{"replicas": -1}},
		{Name: "never", Namespace: ns, Chart: ch},
	}
	res, err := c.Apply(ctx, rels, lifecycle.Options{Wait: true, Timeout: 2 * time.Minute})
	lifecycleWantError(t, err, "installing rejected in "+ns+": ", "replicas", "the release was uninstalled")
	if len(res) != 1 || res[0].Release != "first" {
		t.Errorf("results %+v, want only first", res)
	}
	for name, want := range map[string]bool{"first": true, "rejected": false, "never": false} {
		if got := lifecycleGet(t, c, name, ns) != nil; got != want {
			t.Errorf("release %s installed: %v, want %v", name, got, want)
		}
	}
	if _, err := harness.KubeClient(t).CoreV1().ConfigMaps(ns).Get(ctx, "rejected", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the failed install's ConfigMap: %v, want it removed", err)
	}

	_, err = c.Apply(ctx, []lifecycle.Release{{Name: "unready", Namespace: ns, Chart: ch, Values: map[string]any{"unschedulable": true}}},
		lifecycle.Options{Wait: true, Timeout: 5 * time.Second})
	lifecycleWantError(t, err, "installing unready in "+ns+": not ready within 5s: ", "the release was uninstalled")
	if info := lifecycleGet(t, c, "unready", ns); info != nil {
		t.Errorf("the release that never got ready is still there: %+v", info)
	}
}

// Ctrl-C while waiting stops at once and leaves a state the next Apply
// starts from; so do the states a killed process leaves (pending-install,
// pending-upgrade), which plain helm refuses to touch.
func TestLifecycleInterruptedRuns(t *testing.T) {
	kube := harness.KubeClient(t)
	c := lifecycleClient(t)
	ns := lifecycleNamespace(t, "lifecycle-e2e-interrupt")
	ch := lifecycleChart(t)
	opts := lifecycle.Options{Wait: true, Timeout: 2 * time.Minute}

	t.Run("cancelled install", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		done := make(chan error, 1)
		go func() {
			_, err := c.Apply(ctx, []lifecycle.Release{{Name: "cancelled", Namespace: ns, Chart: ch, Values: map[string]any{"unschedulable": true}}},
				lifecycle.Options{Wait: true, Timeout: 10 * time.Minute})
			done <- err
		}()
		lifecyclePoll(t, "the Deployment of the install", func() bool {
			_, err := kube.AppsV1().Deployments(ns).Get(t.Context(), "cancelled", metav1.GetOptions{})
			return err == nil
		})
		cancel()
		err := <-done
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Apply after cancel: %v, want context.Canceled", err)
		}
		lifecycleWantError(t, err, "installing cancelled in "+ns+": interrupted")
		if _, err := c.Apply(t.Context(), []lifecycle.Release{{Name: "cancelled", Namespace: ns, Chart: ch}}, opts); err != nil {
			t.Fatalf("re-run after cancel: %v", err)
		}
		lifecycleWantHistory(t, ns, "cancelled", rcommon.StatusDeployed)
		lifecycleDeploymentReady(t, ns, "cancelled")
	})

	t.Run("killed during install", func(t *testing.T) {
		cfg := lifecycleHelmConfig(t, ns)
		now := time.Now()
		pending := &release.Release{Name: "killed-install", Namespace: ns, Chart: ch, Config: map[string]any{}, Version: 1,
			Info: &release.Info{FirstDeployed: now, LastDeployed: now, Status: rcommon.StatusPendingInstall, Description: "Initial install underway"}}
		if err := cfg.Releases.Create(pending); err != nil {
			t.Fatal(err)
		}
		res, err := c.Apply(t.Context(), []lifecycle.Release{{Name: "killed-install", Namespace: ns, Chart: ch}}, opts)
		if err != nil {
			t.Fatalf("Apply over a pending install: %v", err)
		}
		if res[0].Action != "installed" || res[0].Revision != 1 {
			t.Errorf("result %+v, want installed revision 1", res[0])
		}
		lifecycleWantHistory(t, ns, "killed-install", rcommon.StatusDeployed)
	})

	t.Run("killed during upgrade", func(t *testing.T) {
		if _, err := c.Apply(t.Context(), []lifecycle.Release{{Name: "killed-upgrade", Namespace: ns, Chart: ch, Values: map[string]any{"message": "v1"}}}, opts); err != nil {
			t.Fatal(err)
		}
		cfg := lifecycleHelmConfig(t, ns)
		r1, err := cfg.Releases.Get("killed-upgrade", 1)
		if err != nil {
			t.Fatal(err)
		}
		pending := *(r1.(*release.Release))
		info := *pending.Info
		info.Status = rcommon.StatusPendingUpgrade
		pending.Info, pending.Version, pending.Config = &info, 2, map[string]any{"message": "half-done"}
		if err := cfg.Releases.Create(&pending); err != nil {
			t.Fatal(err)
		}
		// What plain helm says.
		up := action.NewUpgrade(lifecycleHelmConfig(t, ns))
		up.Namespace = ns
		if _, err := up.RunWithContext(t.Context(), "killed-upgrade", ch, map[string]any{}); err == nil || !strings.Contains(err.Error(), "another operation") {
			t.Errorf("helm upgrade over a pending upgrade: %v, want it refused", err)
		}

		var progress cmdrun.SyncBuffer
		res, err := c.Apply(t.Context(), []lifecycle.Release{{Name: "killed-upgrade", Namespace: ns, Chart: ch, Values: map[string]any{"message": "v2"}}},
			lifecycle.Options{Wait: true, Timeout: 2 * time.Minute, Progress: &progress})
		if err != nil {
			t.Fatalf("Apply over a pending upgrade: %v\n%s", err, progress.String())
		}
		if !strings.Contains(progress.String(), "killed-upgrade: repairing: revision 2 was left pending-upgrade by an interrupted run; rolling back to revision 1") {
			t.Errorf("progress:\n%s", progress.String())
		}
		if res[0].Action != "upgraded" || res[0].Revision != 4 {
			t.Errorf("result %+v, want upgraded to revision 4 (2 failed, 3 the rollback)", res[0])
		}
		lifecycleWantHistory(t, ns, "killed-upgrade", rcommon.StatusSuperseded, rcommon.StatusFailed, rcommon.StatusSuperseded, rcommon.StatusDeployed)
		lifecycleWantMessage(t, ns, "killed-upgrade", "v2")
	})
}

func lifecycleClient(t *testing.T) *lifecycle.Client {
	t.Helper()
	c, err := lifecycle.New(harness.Factory(), &lifecycleTestLog{t: t})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// lifecycleTestLog sends Helm's warnings to the test log.
type lifecycleTestLog struct{ t *testing.T }

func (l *lifecycleTestLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func lifecycleHelmConfig(t *testing.T, ns string) *action.Configuration {
	t.Helper()
	cfg := action.NewConfiguration()
	if err := cfg.Init(harness.Factory(), ns, "secret"); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func lifecycleChart(t *testing.T) *chart.Chart {
	t.Helper()
	ch, err := lifecycle.LoadChartFS(os.DirFS("../../plugin/lifecycle/testdata"), "demo")
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// lifecycleNamespace is a name for the test's namespace, which Apply
// creates; the namespace, the releases in it and the chart's CRD go at the
// end. The CRD is waited for: the next test installs it again, and a
// terminating CRD never becomes Established.
func lifecycleNamespace(t *testing.T, name string) string {
	t.Helper()
	c := lifecycleClient(t)
	t.Cleanup(func() {
		ctx := context.Background()
		_ = harness.KubeClient(t).CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{})
		if _, err := c.DeleteCRDs(ctx, []string{lifecycleCRD}, time.Minute, func(msg string) { t.Log(msg) }); err != nil {
			t.Errorf("deleting the chart's CRD: %v", err)
		}
	})
	return name
}

func lifecycleCRDExists(t *testing.T) bool {
	t.Helper()
	_, err := harness.DynamicClient(t).Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}).
		Get(t.Context(), lifecycleCRD, metav1.GetOptions{})
	return err == nil
}

func lifecycleGet(t *testing.T, c *lifecycle.Client, name, ns string) *lifecycle.ReleaseInfo {
	t.Helper()
	info, err := c.Get(t.Context(), name, ns)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// lifecycleWantDeployed checks the latest revision is deployed with message.
func lifecycleWantDeployed(t *testing.T, c *lifecycle.Client, ns, name, message string) {
	t.Helper()
	info := lifecycleGet(t, c, name, ns)
	if info == nil || info.Status != "deployed" || info.Values["message"] != message {
		t.Errorf("release %s: %+v, want deployed with message %s", name, info, message)
	}
}

func lifecycleWantMessage(t *testing.T, ns, name, message string) {
	t.Helper()
	cm, err := harness.KubeClient(t).CoreV1().ConfigMaps(ns).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cm.Data["message"] != message {
		t.Errorf("ConfigMap %s says %q, want %q", name, cm.Data["message"], message)
	}
}

func lifecycleWantError(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q, want it to contain %q", err, w)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error %q is not one line", err)
	}
}

// lifecycleWantHistory checks the statuses of every revision, oldest first.
func lifecycleWantHistory(t *testing.T, ns, name string, want ...rcommon.Status) {
	t.Helper()
	h := action.NewHistory(lifecycleHelmConfig(t, ns))
	revs, err := h.Run(name)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]rcommon.Status, len(revs))
	for _, r := range revs {
		rel := r.(*release.Release)
		if rel.Version < 1 || rel.Version > len(got) {
			t.Fatalf("revision %d of %d", rel.Version, len(got))
		}
		got[rel.Version-1] = rel.Info.Status
	}
	if strings.Join(lifecycleStatusNames(got), ",") != strings.Join(lifecycleStatusNames(want), ",") {
		t.Errorf("history of %s: %v, want %v", name, got, want)
	}
}

func lifecycleStatusNames(s []rcommon.Status) []string {
	out := make([]string, len(s))
	for i, st := range s {
		out[i] = st.String()
	}
	return out
}

// lifecycleDeploymentReady polls until the Deployment is available with
// all its replicas (the kwok nodes run them).
func lifecycleDeploymentReady(t *testing.T, ns, name string) *appsv1.Deployment {
	t.Helper()
	var d *appsv1.Deployment
	lifecyclePoll(t, "Deployment "+name+" ready", func() bool {
		var err error
		d, err = harness.KubeClient(t).AppsV1().Deployments(ns).Get(t.Context(), name, metav1.GetOptions{})
		return err == nil && d.Spec.Replicas != nil && d.Status.ObservedGeneration == d.Generation &&
			d.Status.ReadyReplicas == *d.Spec.Replicas && d.Status.UpdatedReplicas == *d.Spec.Replicas && d.Status.Replicas == *d.Spec.Replicas
	})
	return d
}

func lifecyclePoll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, 2*time.Minute, true, func(context.Context) (bool, error) {
		return cond(), nil
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

func lifecycleListed(list []lifecycle.ReleaseInfo, ns, name string) bool {
	for _, r := range list {
		if r.Namespace == ns && r.Name == name {
			return true
		}
	}
	return false
}

func lifecycleSecretSummary(items []corev1.Secret) []string {
	out := make([]string, 0, len(items))
	for _, s := range items {
		out = append(out, s.Name+" "+string(s.Type))
	}
	return out
}
