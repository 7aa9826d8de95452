package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh/istio"
	"github.com/kubectl-mesh/kubectl-mesh/test/cmdrun"
	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
	"github.com/kubectl-mesh/kubectl-mesh/test/helmrepo"
)

const (
	istioAdapterNamespace = "istio-e2e-system"
	istioAdapterAppNS     = "istio-e2e-app"
	// A revision keeps this test's cluster-scoped webhooks apart from
	// other tests' Istio: they match only istio.io/rev=e2e (or its tag).
	istioAdapterRevision = "e2e"
	istioAdapterTag      = "e2e-prod"
)

// TestIstioAdapter installs the minimal profile of the default release,
// from a loopback stand-in for Istio's Helm repository, with the lifecycle
// client, then exercises status, revision tags, injection labels, the
// in-use check and the uninstall plan against the real apiserver.
func TestIstioAdapter(t *testing.T) {
	ctx := t.Context()
	kube := harness.KubeClient(t)
	cfg := harness.RESTConfig(t)
	helm, err := lifecycle.New(harness.Factory(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	c := mesh.Cluster{Config: cfg, Clientset: kube, Helm: helm}
	adapter := istio.New(istio.Config{})

	charts, err := helmrepo.IstioReleases(istio.DefaultVersion)
	if err != nil {
		t.Fatal(err)
	}
	repo := helmrepo.ServeCharts(t, charts...)
	rels, err := adapter.Plan(ctx, mesh.InstallOptions{Profile: "minimal", Revision: istioAdapterRevision, Namespace: istioAdapterNamespace, Repo: repo})
	if err != nil {
		t.Fatal(err)
	}
	// Istio's CRDs are cluster-wide: when another test installed them, use
	// theirs rather than fight over their ownership.
	ownCRDs := !istioAdapterCRDsExist(t)
	if !ownCRDs {
		rels = slices.DeleteFunc(rels, func(r lifecycle.Release) bool { return r.Component == "base" })
	}
	t.Cleanup(func() { istioAdapterCleanup(t, c, helm, ownCRDs) })

	var progress cmdrun.SyncBuffer
	results, err := helm.Apply(ctx, rels, lifecycle.Options{Wait: true, Timeout: 3 * time.Minute, Progress: &progress})
	if err != nil {
		t.Fatalf("installing: %v\n%s", err, progress.String())
	}
	if last := results[len(results)-1]; last.Release != "istiod-e2e" || last.Action != "installed" {
		t.Fatalf("results %+v, want istiod-e2e installed last", results)
	}

	// A workload whose proxy is older than the control plane: created
	// before any webhook selects it (istiod does not run in the sandbox, so
	// an injection webhook call would fail).
	istioAdapterNamespaceCreate(t, kube, istioAdapterAppNS, map[string]string{"istio-injection": "enabled"})
	istioAdapterProxyPod(t, kube, istioAdapterAppNS, "old-proxy", "docker.io/istio/proxyv2:0.9.0", istioAdapterTag)

	t.Run("status reports the revision ready", func(t *testing.T) {
		rev := istioAdapterRevisionStatus(t, adapter, c)
		if rev.Version != istio.DefaultVersion {
			t.Errorf("version %q, want the release installed, %s", rev.Version, istio.DefaultVersion)
		}
		i := slices.IndexFunc(rev.Components, func(comp mesh.Component) bool { return comp.Name == "istiod" })
		if i < 0 {
			t.Fatalf("no istiod in %+v", rev.Components)
		}
		if got := rev.Components[i]; !got.Ready || got.Replicas != "1/1" || got.Release != "istiod-e2e" {
			t.Errorf("istiod %+v, want ready 1/1 from release istiod-e2e", got)
		}
	})

	t.Run("revision tags", func(t *testing.T) {
		if err := adapter.SetTag(ctx, c, istioAdapterTag, istioAdapterRevision, false); err != nil {
			t.Fatal(err)
		}
		wh, err := kube.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(ctx, "istio-revision-tag-"+istioAdapterTag+"-"+istioAdapterNamespace, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if wh.Labels["istio.io/tag"] != istioAdapterTag || wh.Labels["istio.io/rev"] != istioAdapterRevision {
			t.Errorf("tag webhook labels %v", wh.Labels)
		}
		for _, w := range wh.Webhooks {
			if s := w.ClientConfig.Service; s == nil || s.Name != "istiod-e2e" || s.Namespace != istioAdapterNamespace {
				t.Errorf("webhook %s calls %+v, want istiod-e2e in %s", w.Name, w.ClientConfig.Service, istioAdapterNamespace)
			}
		}
		if !strings.Contains(wh.Webhooks[0].NamespaceSelector.String(), istioAdapterTag) {
			t.Errorf("namespace selector %s does not select istio.io/rev=%s", wh.Webhooks[0].NamespaceSelector, istioAdapterTag)
		}
		if _, err := kube.CoreV1().Services(istioAdapterNamespace).Get(ctx, "istiod-revision-tag-"+istioAdapterTag, metav1.GetOptions{}); err != nil {
			t.Errorf("tag Service: %v", err)
		}

		err = adapter.SetTag(ctx, c, istioAdapterTag, istioAdapterRevision, false)
		if err == nil || !strings.Contains(err.Error(), "--overwrite") {
			t.Errorf("setting an existing tag without overwrite: %v, want a refusal naming --overwrite", err)
		}
		if err := adapter.SetTag(ctx, c, istioAdapterTag, istioAdapterRevision, true); err != nil {
			t.Errorf("overwrite: %v", err)
		}
		if err := adapter.SetTag(ctx, c, "e2e-other", "no-such-rev", false); err == nil || !strings.Contains(err.Error(), "not installed") {
			t.Errorf("tag to a missing revision: %v, want not installed", err)
		}
		if err := adapter.SetTag(ctx, c, istioAdapterRevision, istioAdapterRevision, false); err == nil {
			t.Error("a tag named like a revision was accepted")
		}

		tags, err := adapter.ListTags(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if i := slices.IndexFunc(tags, func(tg istio.Tag) bool { return tg.Tag == istioAdapterTag }); i < 0 || tags[i].Revision != istioAdapterRevision {
			t.Errorf("tags %+v, want %s -> %s", tags, istioAdapterTag, istioAdapterRevision)
		}
		if rev := istioAdapterRevisionStatus(t, adapter, c); !slices.Contains(rev.Tags, istioAdapterTag) {
			t.Errorf("status tags %v, want %s", rev.Tags, istioAdapterTag)
		}
	})

	t.Run("injection labels", func(t *testing.T) {
		if missing, err := adapter.MissingInjector(ctx, c, "no-such-rev"); err != nil || !strings.Contains(missing, "no-such-rev") {
			t.Errorf("injector of a missing revision: %q, %v, want it named missing", missing, err)
		}
		if missing, err := adapter.MissingInjector(ctx, c, istioAdapterTag); err != nil || missing != "" {
			t.Errorf("injector of tag %s: %q, %v, want it found", istioAdapterTag, missing, err)
		}
		istioAdapterMark(t, kube, istioAdapterAppNS, adapter.InjectionMarks(true, istioAdapterTag))
		labels := istioAdapterNamespaceLabels(t, kube, istioAdapterAppNS)
		if labels["istio.io/rev"] != istioAdapterTag || labels["istio-injection"] != "" {
			t.Errorf("labels %v, want istio.io/rev=%s alone", labels, istioAdapterTag)
		}
	})

	t.Run("proxies, skew and in use", func(t *testing.T) {
		st, err := adapter.Status(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(st.Proxies, func(p mesh.ProxyInfo) bool { return p.Revision == istioAdapterRevision })
		if i < 0 {
			t.Fatalf("proxies %+v, want the tag's pod counted for revision %s", st.Proxies, istioAdapterRevision)
		}
		if p := st.Proxies[i]; p.Version != "0.9.0" || p.Pods != 1 || !p.Skew {
			t.Errorf("proxy %+v, want 1 pod of 0.9.0 with skew", p)
		}
		if !slices.ContainsFunc(st.Warnings, func(w string) bool { return strings.Contains(w, "0.9.0") }) {
			t.Errorf("warnings %q do not mention the skew", st.Warnings)
		}

		u, err := istio.InUse(ctx, c, istioAdapterRevision)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(u.Namespaces, istioAdapterAppNS) || !slices.Contains(u.Pods, istioAdapterAppNS+"/old-proxy") {
			t.Errorf("in use %+v, want %s and its pod", u, istioAdapterAppNS)
		}
	})

	t.Run("removing a tag in use", func(t *testing.T) {
		err := adapter.RemoveTag(ctx, c, istioAdapterTag, false)
		if err == nil || !strings.Contains(err.Error(), istioAdapterAppNS) {
			t.Fatalf("removing a used tag: %v, want a refusal naming %s", err, istioAdapterAppNS)
		}
		istioAdapterMark(t, kube, istioAdapterAppNS, adapter.InjectionMarks(false, ""))
		if labels := istioAdapterNamespaceLabels(t, kube, istioAdapterAppNS); labels["istio.io/rev"] != "" || labels["istio-injection"] != "" {
			t.Errorf("labels after disable %v", labels)
		}
		if err := adapter.RemoveTag(ctx, c, istioAdapterTag, false); err != nil {
			t.Fatal(err)
		}
		tags, err := adapter.ListTags(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(tags, func(tg istio.Tag) bool { return tg.Tag == istioAdapterTag }) {
			t.Errorf("tag still listed: %+v", tags)
		}
		if err := adapter.RemoveTag(ctx, c, istioAdapterTag, false); !errors.Is(err, mesh.ErrTagNotFound) {
			t.Errorf("removing it again: %v, want ErrTagNotFound", err)
		}
	})

	t.Run("uninstall", func(t *testing.T) {
		plan, err := istio.UninstallPlan(ctx, c, istioAdapterRevision, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(plan) == 0 || plan[0].Name != "istiod-e2e" || plan[0].Namespace != istioAdapterNamespace {
			t.Fatalf("plan %+v, want istiod-e2e first", plan)
		}
		for _, r := range plan {
			if r.Component != "base" && r.Name != "istiod-e2e" {
				t.Errorf("plan removes %+v, which is not this revision's", r)
			}
		}
		istioAdapterUninstall(t, helm, plan)
		if st, err := adapter.Status(ctx, c); err != nil {
			t.Fatal(err)
		} else if slices.ContainsFunc(st.Revisions, func(r mesh.Revision) bool { return r.Name == istioAdapterRevision }) {
			t.Errorf("revision %s still reported after uninstall: %+v", istioAdapterRevision, st.Revisions)
		}
		again, err := istio.UninstallPlan(ctx, c, istioAdapterRevision, false)
		if err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(again, func(r istio.ReleaseRef) bool { return r.Namespace == istioAdapterNamespace }) {
			t.Errorf("second plan %+v still has releases in %s", again, istioAdapterNamespace)
		}
	})
}

// istioAdapterRevisionStatus returns the test's revision from Status.
func istioAdapterRevisionStatus(t *testing.T, adapter *istio.Istio, c mesh.Cluster) mesh.Revision {
	t.Helper()
	st, err := adapter.Status(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Installed {
		t.Fatalf("status says Istio is not installed: %+v", st)
	}
	i := slices.IndexFunc(st.Revisions, func(r mesh.Revision) bool { return r.Name == istioAdapterRevision })
	if i < 0 {
		t.Fatalf("revisions %+v lack %s", st.Revisions, istioAdapterRevision)
	}
	return st.Revisions[i]
}

// istioAdapterUninstall removes the releases of plan that this test owns.
func istioAdapterUninstall(t *testing.T, helm *lifecycle.Client, plan []istio.ReleaseRef) {
	t.Helper()
	for _, r := range plan {
		if r.Namespace != istioAdapterNamespace {
			continue // another test's
		}
		if _, err := helm.Uninstall(t.Context(), r.Name, r.Namespace, 2*time.Minute); err != nil {
			t.Fatalf("uninstalling %s: %v", r.Name, err)
		}
	}
}

func istioAdapterCleanup(t *testing.T, c mesh.Cluster, helm *lifecycle.Client, ownCRDs bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_ = istio.New(istio.Config{}).RemoveTag(ctx, c, istioAdapterTag, true)
	for _, name := range []string{"istiod-e2e", "istio-base"} {
		if _, err := helm.Uninstall(ctx, name, istioAdapterNamespace, time.Minute); err != nil {
			t.Errorf("cleanup: uninstalling %s: %v", name, err)
		}
	}
	if ownCRDs {
		if _, err := istio.PurgeCRDs(ctx, c, time.Minute, func(msg string) { t.Log(msg) }); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	}
	for _, ns := range []string{istioAdapterAppNS, istioAdapterNamespace} {
		if err := c.Clientset.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("cleanup: deleting namespace %s: %v", ns, err)
		}
	}
}

func istioAdapterCRDsExist(t *testing.T) bool {
	t.Helper()
	_, err := harness.DynamicClient(t).Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}).
		Get(t.Context(), "virtualservices.networking.istio.io", metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

func istioAdapterNamespaceCreate(t *testing.T, kube kubernetes.Interface, name string, labels map[string]string) {
	t.Helper()
	_, err := kube.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

func istioAdapterNamespaceLabels(t *testing.T, kube kubernetes.Interface, name string) map[string]string {
	t.Helper()
	ns, err := kube.CoreV1().Namespaces().Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ns.Labels
}

// istioAdapterMark patches the namespace's marks as kubectl mesh inject does.
func istioAdapterMark(t *testing.T, kube kubernetes.Interface, name string, marks mesh.Marks) {
	t.Helper()
	ns, err := kube.CoreV1().Namespaces().Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	labels, _ := marks.Patch(ns)
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"labels": labels}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kube.CoreV1().Namespaces().Patch(t.Context(), name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

// istioAdapterProxyPod creates a pod shaped like an injected one.
func istioAdapterProxyPod(t *testing.T, kube kubernetes.Interface, ns, name, proxyImage, rev string) {
	t.Helper()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"istio.io/rev": rev},
			Annotations: map[string]string{"sidecar.istio.io/status": `{"containers":["istio-proxy"],"revision":"` + rev + `"}`}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "app", Image: "example.com/app:1"},
			{Name: "istio-proxy", Image: proxyImage},
		}},
	}
	if _, err := kube.CoreV1().Pods(ns).Create(t.Context(), pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}
