package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/version"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh/all"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/meshcmd"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/precheck"
	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
)

// TestPrecheck runs kubectl mesh precheck against the sandbox: as admin the
// cluster is ready for Istio (v1.37 is newer than tested: a warning); as a
// user with view rights only, the permissions check fails with exit code 3;
// an istiod that Helm does not manage fails the Istio precheck.
func TestPrecheck(t *testing.T) {
	client := harness.KubeClient(t)
	server, err := client.Discovery().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	wantVersion := precheck.StatusOK
	if v := version.MustParseGeneric(server.GitVersion); v.Minor() > 36 {
		wantVersion = precheck.StatusWarning
	}

	t.Run("admin, istio", func(t *testing.T) {
		report, code, stderr := precheckRunJSON(t, harness.Kubeconfig(), "istio")
		if code != 0 {
			t.Errorf("exit code %d, want 0\nfailed: %s\nstderr: %s", code, precheckFailed(report), stderr)
		}
		checks := precheckChecks(t, report, "istio")
		precheckExpect(t, checks, precheck.CategoryAPI, precheck.StatusOK, server.GitVersion)
		precheckExpect(t, checks, precheck.CategoryVersion, wantVersion, server.GitVersion)
		precheckExpect(t, checks, precheck.CategoryPermissions, precheck.StatusOK, "allowed to get,list,watch,create,patch,delete")
	})

	t.Run("admin, table for both meshes", func(t *testing.T) {
		out, err := precheckRun(t, harness.Kubeconfig(), "")
		if code := cmdutil.ExitCode(err); code != 0 {
			t.Fatalf("exit code %d (%v)\n%s", code, err, out)
		}
		for _, want := range []string{"istio (control plane namespace istio-system)", "linkerd (control plane namespace linkerd)",
			"istio: ready to install", "linkerd: ready to install", "ok    can install, upgrade and uninstall the control plane"} {
			if !strings.Contains(out, want) {
				t.Errorf("table does not contain %q:\n%s", want, out)
			}
		}
	})

	t.Run("view-only user", func(t *testing.T) {
		kubeconfig := precheckViewerKubeconfig(t, client)
		report, code, stderr := precheckRunJSON(t, kubeconfig, "istio")
		if code != cmdutil.ExitViolation {
			t.Fatalf("exit code %d, want 3\nstderr: %s", code, stderr)
		}
		checks := precheckChecks(t, report, "istio")
		perms := precheckExpect(t, checks, precheck.CategoryPermissions, precheck.StatusFailed,
			// view reads namespaces and Deployments, but neither cluster
			// RBAC, CRDs, webhooks nor Secrets.
			"cannot create,patch,delete: namespaces;",
			"get,list,watch,create,patch,delete: customresourcedefinitions.apiextensions.k8s.io, clusterroles.rbac.authorization.k8s.io,",
			"create,patch,delete in istio-system: configmaps, serviceaccounts, services, deployments.apps,",
			"get,list,watch,create,patch,delete in istio-system: secrets,")
		if perms.Hint != "ask your cluster admin for cluster-admin or these rules" {
			t.Errorf("hint %q", perms.Hint)
		}
		// The view role reads Deployments and namespaces: the other checks still run.
		precheckExpect(t, checks, precheck.CategoryVersion, wantVersion, server.GitVersion)
		if failed := precheckFailed(report); failed != "permissions" {
			t.Errorf("failed checks %q, want only permissions", failed)
		}
	})

	t.Run("istiod installed by another tool", func(t *testing.T) {
		ns := precheckNamespace(t, client, "precheck-istioctl", nil)
		precheckIstiod(t, client, ns)
		report, code, _ := precheckRunJSON(t, harness.Kubeconfig(), "istio")
		if code != cmdutil.ExitViolation {
			t.Errorf("exit code %d, want 3", code)
		}
		checks := precheckChecks(t, report, "istio")
		r := precheckExpectName(t, checks, "installed by another tool", precheck.StatusFailed, "istiod in "+ns+" was not installed with Helm")
		if !strings.Contains(r.Hint, "istioctl uninstall --purge") {
			t.Errorf("hint %q", r.Hint)
		}
		// Linkerd can be installed beside it, with a warning.
		report, code, _ = precheckRunJSON(t, harness.Kubeconfig(), "linkerd")
		if code != 0 {
			t.Errorf("linkerd: exit code %d, want 0; failed: %s", code, precheckFailed(report))
		}
		precheckExpectName(t, precheckChecks(t, report, "linkerd"), "no Istio control plane", precheck.StatusWarning, "istiod in "+ns)
	})

	t.Run("unreachable cluster", func(t *testing.T) {
		raw, err := clientcmd.LoadFromFile(harness.Kubeconfig())
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range raw.Clusters {
			c.Server = "https://127.0.0.1:1"
		}
		path := filepath.Join(t.TempDir(), "kubeconfig")
		if err := clientcmd.WriteToFile(*raw, path); err != nil {
			t.Fatal(err)
		}
		_, err = precheckRun(t, path, "", "istio")
		if code := cmdutil.ExitCode(err); code != cmdutil.ExitError || !strings.Contains(err.Error(), "reaching the cluster") {
			t.Errorf("exit code %d, error %v; want 1 and reaching the cluster", code, err)
		}
	})
}

// TestInjectEnableDisable labels and annotates a namespace of the sandbox
// through kubectl mesh inject and reads the result back from the API.
func TestInjectEnableDisable(t *testing.T) {
	client := harness.KubeClient(t)
	ns := precheckNamespace(t, client, "precheck-inject", map[string]string{"team": "shop"})
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1"}}},
	}
	if _, err := client.CoreV1().Pods(ns).Create(t.Context(), pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		args            []string
		wantOut         string
		wantErrOut      string
		wantLabels      map[string]string
		wantAnnotations map[string]string
	}{
		{[]string{"enable", "--mesh", "istio"}, "namespace/" + ns + " labeled\n",
			"1 pod in " + ns + " runs without the proxy: restart workloads to inject: kubectl rollout restart deployment -n " + ns,
			map[string]string{"istio-injection": "enabled"}, nil},
		{[]string{"enable", "--revision", "canary"}, "namespace/" + ns + " labeled\n",
			`no injector webhook of Istio revision or tag "canary" is installed`,
			map[string]string{"istio.io/rev": "canary"}, nil},
		{[]string{"enable", "--revision", "canary"}, "namespace/" + ns + " not labeled\n", "",
			map[string]string{"istio.io/rev": "canary"}, nil},
		{[]string{"disable", "--mesh", "istio"}, "namespace/" + ns + " unlabeled\n", "",
			map[string]string{}, nil},
		{[]string{"enable", "--mesh", "linkerd"}, "namespace/" + ns + " annotated\n", "",
			map[string]string{}, map[string]string{"linkerd.io/inject": "enabled"}},
		{[]string{"disable"}, "namespace/" + ns + " annotated\n", "",
			map[string]string{}, map[string]string{}},
	}
	for _, s := range steps {
		var out, errOut bytes.Buffer
		configFlags := genericclioptions.NewConfigFlags(false)
		kubeconfig, namespace := harness.Kubeconfig(), ns
		configFlags.KubeConfig, configFlags.Namespace = &kubeconfig, &namespace
		cmd := meshcmd.NewCmdInject(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, cmdutil.NewFactory(configFlags, all.Registry()))
		cmd.SetArgs(s.args)
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		cmd.SilenceUsage, cmd.SilenceErrors = true, true
		if err := cmd.ExecuteContext(t.Context()); err != nil {
			t.Fatalf("inject %v: %v", s.args, err)
		}
		if out.String() != s.wantOut || !strings.Contains(errOut.String(), s.wantErrOut) {
			t.Errorf("inject %v: stdout %q, stderr %q; want %q and %q", s.args, out.String(), errOut.String(), s.wantOut, s.wantErrOut)
		}
		got, err := client.CoreV1().Namespaces().Get(t.Context(), ns, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if l := precheckInjectionMarks(got.Labels, "istio-injection", "istio.io/rev"); !precheckSameMap(l, s.wantLabels) {
			t.Errorf("after inject %v: labels %v, want %v", s.args, l, s.wantLabels)
		}
		if got.Labels["team"] != "shop" {
			t.Errorf("after inject %v: other labels changed: %v", s.args, got.Labels)
		}
		if s.wantAnnotations != nil {
			if a := precheckInjectionMarks(got.Annotations, "linkerd.io/inject"); !precheckSameMap(a, s.wantAnnotations) {
				t.Errorf("after inject %v: annotations %v, want %v", s.args, a, s.wantAnnotations)
			}
		}
	}
}

func precheckRun(t *testing.T, kubeconfig, output string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	configFlags := genericclioptions.NewConfigFlags(false)
	configFlags.KubeConfig = &kubeconfig
	cmd := meshcmd.NewCmdPrecheck(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: io.Discard}, cmdutil.NewFactory(configFlags, all.Registry()))
	if output != "" {
		args = append(args, "-o", output)
	}
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	err := cmd.ExecuteContext(ctx)
	return out.String(), err
}

func precheckRunJSON(t *testing.T, kubeconfig string, args ...string) (meshcmd.PrecheckReport, int, string) {
	t.Helper()
	out, err := precheckRun(t, kubeconfig, "json", args...)
	var report meshcmd.PrecheckReport
	if jsonErr := json.Unmarshal([]byte(out), &report); jsonErr != nil {
		t.Fatalf("precheck %v: %v (command error: %v)\n%s", args, jsonErr, err, out)
	}
	errText := ""
	if err != nil {
		errText = err.Error()
	}
	return report, cmdutil.ExitCode(err), errText
}

func precheckChecks(t *testing.T, report meshcmd.PrecheckReport, mesh string) []precheck.Result {
	t.Helper()
	for _, m := range report.Meshes {
		if m.Mesh == mesh {
			return m.Checks
		}
	}
	t.Fatalf("no %s in the report %+v", mesh, report)
	return nil
}

// precheckFailed lists the categories of the failed checks, with messages
// when there is more than one.
func precheckFailed(report meshcmd.PrecheckReport) string {
	var failed []string
	for _, m := range report.Meshes {
		for _, c := range m.Checks {
			if c.Status == precheck.StatusFailed {
				failed = append(failed, c.Category)
			}
		}
	}
	if len(failed) > 1 {
		data, _ := json.Marshal(report)
		return strings.Join(failed, ", ") + ": " + string(data)
	}
	return strings.Join(failed, ", ")
}

func precheckExpect(t *testing.T, checks []precheck.Result, category string, status precheck.Status, messageParts ...string) precheck.Result {
	t.Helper()
	for _, c := range checks {
		if c.Category == category {
			precheckAssert(t, c, status, messageParts)
			return c
		}
	}
	t.Fatalf("no %s check in %+v", category, checks)
	return precheck.Result{}
}

func precheckExpectName(t *testing.T, checks []precheck.Result, nameContains string, status precheck.Status, messageParts ...string) precheck.Result {
	t.Helper()
	for _, c := range checks {
		if strings.Contains(c.Name, nameContains) {
			precheckAssert(t, c, status, messageParts)
			return c
		}
	}
	t.Fatalf("no check named %q in %+v", nameContains, checks)
	return precheck.Result{}
}

func precheckAssert(t *testing.T, c precheck.Result, status precheck.Status, messageParts []string) {
	t.Helper()
	if c.Status != status {
		t.Errorf("%s: %s (%s), want %s", c.Name, c.Status, c.Message, status)
	}
	for _, p := range messageParts {
		if !strings.Contains(c.Message, p) {
			t.Errorf("%s: message %q does not contain %q", c.Name, c.Message, p)
		}
	}
}

// precheckNamespace creates a namespace deleted when the test ends.
func precheckNamespace(t *testing.T, client kubernetes.Interface, name string, labels map[string]string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	if _, err := client.CoreV1().Namespaces().Create(t.Context(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = client.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	return name
}

// precheckIstiod creates an istiod Deployment without Helm's ownership
// metadata, as istioctl install leaves it.
func precheckIstiod(t *testing.T, client kubernetes.Interface, ns string) {
	t.Helper()
	labels := map[string]string{"app": "istiod"}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "istiod", Namespace: ns, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "discovery", Image: "docker.io/istio/pilot:1.31.0"}}},
			},
		},
	}
	if _, err := client.AppsV1().Deployments(ns).Create(t.Context(), d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Deleted before the namespace, so that no later test sees it while the
	// namespace terminates.
	t.Cleanup(func() {
		_ = client.AppsV1().Deployments(ns).Delete(context.Background(), d.Name, metav1.DeleteOptions{})
	})
}

// precheckViewerKubeconfig returns a kubeconfig for a ServiceAccount bound to
// the view ClusterRole, with a token from the TokenRequest API.
func precheckViewerKubeconfig(t *testing.T, client kubernetes.Interface) string {
	t.Helper()
	ns := precheckNamespace(t, client, "precheck-viewer", nil)
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "viewer", Namespace: ns}}
	if _, err := client.CoreV1().ServiceAccounts(ns).Create(t.Context(), sa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "precheck-viewer"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "view"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: sa.Name, Namespace: ns}},
	}
	if _, err := client.RbacV1().ClusterRoleBindings().Create(t.Context(), binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = client.RbacV1().ClusterRoleBindings().Delete(context.Background(), binding.Name, metav1.DeleteOptions{})
	})
	tr, err := client.CoreV1().ServiceAccounts(ns).CreateToken(t.Context(), sa.Name,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](600)}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := clientcmd.LoadFromFile(harness.Kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	current := raw.Contexts[raw.CurrentContext]
	if current == nil {
		t.Fatalf("kubeconfig %s has no current context", harness.Kubeconfig())
	}
	raw.AuthInfos = map[string]*clientcmdapi.AuthInfo{"viewer": {Token: tr.Status.Token}}
	current.AuthInfo = "viewer"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*raw, path); err != nil {
		t.Fatal(err)
	}
	return path
}

func precheckInjectionMarks(m map[string]string, keys ...string) map[string]string {
	out := map[string]string{}
	for _, k := range keys {
		if v, ok := m[k]; ok {
			out[k] = v
		}
	}
	return out
}

func precheckSameMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
