package e2e

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-mesh/kubectl-mesh/test/cmdrun"
	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
	"github.com/kubectl-mesh/kubectl-mesh/test/golden"
)

const (
	rbacNamespace = "kubectl-mesh-rbac-e2e"
	// rbacFullname is also the ServiceAccount's name.
	rbacFullname = "mesh-webhook-rbac-e2e"
)

// The webhook's ServiceAccount, as the chart grants it, can do what
// testdata/webhook-rbac.golden lists and nothing more: `kubectl auth can-i
// --list` as that account, in its own namespace and in another, compared
// with the checked-in expectation. A chart change that widens the
// account's rights shows up as a diff to review (go test -update).
func TestWebhookServiceAccountPermissions(t *testing.T) {
	installRBACChart(t)
	as := "system:serviceaccount:" + rbacNamespace + ":" + rbacFullname
	var got strings.Builder
	for _, ns := range []string{rbacNamespace, "default"} {
		out := harness.Must(t, harness.Kubectl(t, "auth", "can-i", "--list", "--as", as, "-n", ns)).Stdout
		fmt.Fprintf(&got, "# kubectl auth can-i --list --as %s -n %s\n%s\n",
			strings.ReplaceAll(as, rbacNamespace, "NAMESPACE"), strings.ReplaceAll(ns, rbacNamespace, "NAMESPACE"), canIRules(out))
	}
	golden.Assert(t, filepath.Join("testdata", "webhook-rbac.golden"), strings.ReplaceAll(got.String(), rbacNamespace, "NAMESPACE"))

	// Negative controls: what the account must never do.
	for _, args := range [][]string{
		{"get", "secrets", "-n", "default"},
		{"list", "secrets", "--all-namespaces"},
		{"create", "pods", "-n", rbacNamespace},
		{"delete", "virtualservices.networking.istio.io", "-n", "default"},
		{"update", "validatingwebhookconfigurations/some-other-webhook"},
		{"get", "secrets/sh.helm.release.v1." + rbacFullname + ".v1", "-n", rbacNamespace},
		{"list", "secrets", "-n", rbacNamespace},
		{"delete", "leases/mesh-webhook-audit", "-n", rbacNamespace},
		{"impersonate", "serviceaccounts"},
		{"create", "clusterrolebindings"},
	} {
		r := harness.Kubectl(t, append([]string{"auth", "can-i", "--as", as}, args...)...)
		if strings.TrimSpace(r.Stdout) != "no" {
			t.Errorf("kubectl auth can-i %s as the webhook: %q, want no", strings.Join(args, " "), r.Stdout)
		}
	}
}

// What the account may do is enough: mesh-webhook, run as it (the
// sandbox's admin impersonating it), becomes ready in self mode with
// leader election, its certificate Secret and its Lease written.
func TestWebhookRunsAsItsServiceAccount(t *testing.T) {
	ctx := t.Context()
	installRBACChart(t)
	cfg, err := clientcmd.LoadFromFile(harness.Kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, auth := range cfg.AuthInfos {
		auth.Impersonate = "system:serviceaccount:" + rbacNamespace + ":" + rbacFullname
	}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, kubeconfig); err != nil {
		t.Fatal(err)
	}
	// Control: the kubeconfig acts as the account, not as the admin.
	if r := cmdrun.Run(t, kubeconfig, "", harness.KubectlPath, "auth", "can-i", "list", "secrets", "-n", rbacNamespace); strings.TrimSpace(r.Stdout) != "no" {
		t.Fatalf("the impersonating kubeconfig may list Secrets (%q): it is not the ServiceAccount", r.Stdout)
	}
	log := runSelfModeWebhookAs(t, kubeconfig, "--namespace="+rbacNamespace, "--cert-mode=self",
		"--webhook-config-name="+rbacFullname, "--service-name="+rbacFullname, "--cert-secret-name="+rbacFullname+"-certs",
		"--cert-extra-hosts=127.0.0.1", "--leader-elect", "--audit-interval=1s")
	client := harness.KubeClient(t)
	if _, err := client.CoreV1().Secrets(rbacNamespace).Get(ctx, rbacFullname+"-certs", metav1.GetOptions{}); err != nil {
		t.Errorf("the certificate Secret: %v\nwebhook log:\n%s", err, webhookTail(log, 30))
	}
	// Acquired, then released when the webhook stopped (its holder is
	// empty again).
	lease, err := client.CoordinationV1().Leases(rbacNamespace).Get(ctx, "mesh-webhook-audit", metav1.GetOptions{})
	if err != nil || lease.Spec.AcquireTime == nil {
		t.Errorf("the leader-election Lease: %v %+v\nwebhook log:\n%s", err, lease, webhookTail(log, 30))
	}
	if strings.Contains(log, "forbidden") {
		t.Errorf("the webhook was refused something as its ServiceAccount:\n%s", webhookTail(log, 40))
	}
}

// installRBACChart installs the webhook's chart in rbacNamespace, as
// rbacFullname, until the test ends.
func installRBACChart(t *testing.T) {
	t.Helper()
	values := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(values, []byte(strings.ReplaceAll(chartValues, chartFullname, rbacFullname)), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if out, err := chartRunIn(t, rbacNamespace, "uninstall"); err != nil {
			t.Logf("cleanup: %v\n%s", err, out)
		}
	})
	if out, err := chartRunIn(t, rbacNamespace, "install", "-f", values); err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
}

// canIRules sorts the rows of kubectl auth can-i --list under its header,
// with runs of spaces made one, so that the expectation reads the same
// whatever the column widths.
func canIRules(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) == 0 {
		return ""
	}
	rows := make([]string, 0, len(lines)-1)
	for _, l := range lines[1:] {
		rows = append(rows, strings.Join(strings.Fields(l), " "))
	}
	slices.Sort(rows)
	return strings.Join(strings.Fields(lines[0]), " ") + "\n" + strings.Join(rows, "\n")
}

// The webhook never logs a private key: a mesh-webhook process in self
// mode at the most verbose log level generates its CA (the issuer) and its
// serving certificate, stores them in its Secret and serves; a second one
// loads them from the Secret. Neither log holds either key, in PEM, in
// the base64 of a Secret's data, or a line of either.
func TestSecretsNeverLogged(t *testing.T) {
	const ns, secret, config = "kubectl-mesh-secrets-e2e", "mesh-webhook-certs", "kubectl-mesh-secrets-e2e"
	ctx := t.Context()
	client := harness.KubeClient(t)
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The configuration whose caBundle self mode keeps current; it
	// matches no namespace, so that it stands in no other test's way.
	ignore, none := admissionregistrationv1.Ignore, admissionregistrationv1.SideEffectClassNone
	url := "https://127.0.0.1:1/validate"
	createWebhookConfiguration(t, client, &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: config},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name: "validate.kubectl-mesh.io", ClientConfig: admissionregistrationv1.WebhookClientConfig{URL: &url},
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubectl-mesh.io/secrets-e2e": "never"}},
			FailurePolicy:     &ignore, SideEffects: &none, AdmissionReviewVersions: []string{"v1"},
		}},
	})

	var logs []string
	for range 2 {
		log := runSelfModeWebhook(t, "--namespace="+ns, "--cert-mode=self", "--webhook-config-name="+config,
			"--service-name=mesh-webhook", "--cert-secret-name="+secret, "--cert-extra-hosts=127.0.0.1",
			"--audit-interval=1s", "--zap-log-level=10", "--zap-devel")
		logs = append(logs, log)
	}
	s, err := client.CoreV1().Secrets(ns).Get(ctx, secret, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"ca.key", "tls.key"} {
		pem := s.Data[key]
		if len(pem) == 0 {
			t.Fatalf("Secret %s has no %s", secret, key)
		}
		for i, log := range logs {
			if leak := keyIn(log, pem); leak != "" {
				t.Errorf("log of webhook process %d holds %s (%s)", i+1, key, leak)
			}
		}
	}
	if !strings.Contains(logs[0], "\"level\"") && !strings.Contains(logs[0], "DEBUG") && !strings.Contains(logs[0], "INFO") {
		t.Errorf("the first webhook logged nothing to search:\n%s", logs[0])
	}
}

// keyIn reports how a PEM key shows in log, or "" when it does not: whole,
// as the base64 of a Secret's data, or any line of its body.
func keyIn(log string, pem []byte) string {
	if strings.Contains(log, string(pem)) {
		return "PEM"
	}
	if b64 := base64.StdEncoding.EncodeToString(pem); strings.Contains(log, b64[:48]) {
		return "base64 of the PEM"
	}
	for _, line := range strings.Split(string(pem), "\n") {
		if len(line) >= 32 && !strings.HasPrefix(line, "-----") && strings.Contains(log, line) {
			return "a line of the PEM body"
		}
	}
	return ""
}

// runSelfModeWebhook runs mesh-webhook with args until it is ready and has
// run a while (audits, certificate checks), stops it, and returns its log.
func runSelfModeWebhook(t *testing.T, args ...string) string {
	t.Helper()
	return runSelfModeWebhookAs(t, harness.Kubeconfig(), args...)
}

// runSelfModeWebhookAs is runSelfModeWebhook with another kubeconfig.
func runSelfModeWebhookAs(t *testing.T, kubeconfig string, args ...string) string {
	t.Helper()
	wh := harness.StartWebhook(t, harness.WebhookOptions{Kubeconfig: kubeconfig, CertDir: t.TempDir(), Args: args})
	time.Sleep(3 * time.Second) // a few audits and certificate checks
	wh.Stop(t)
	return wh.Log.String()
}
