package reliability

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
	"github.com/kubectl-mesh/kubectl-mesh/test/sandbox"
	"github.com/kubectl-mesh/kubectl-mesh/test/soak"
	"github.com/kubectl-mesh/kubectl-mesh/webhook/certrotate"
	"github.com/kubectl-mesh/kubectl-mesh/webhook/certs"
)

var reports = schema.GroupVersionResource{Group: "openreports.io", Version: "v1alpha1", Resource: "reports"}

// Issue 20, item 4: etcd and the apiserver restart while the webhook runs
// its informers and audit and a rotator renews a certificate of a few
// seconds. Afterwards the webhook admits again with the inventory it had
// (no MESH1101 "matches no Service" for a Service that exists, at
// admission or in any audit report seen from the restart on), the audit
// resumes (a violation made after the restart is reported), the watches
// that expired across the restart (410 Gone) are listed again, and the
// rotation completes.
func TestAPIServerRestart(t *testing.T) {
	const ns, system = "restart", "restart-system"
	ctx := t.Context()
	harness.Namespace(t, ns)
	harness.Namespace(t, system)
	// Before the webhook: a Service with its routes, and a VirtualService
	// whose host has no Service (MESH1101, which only the audit sees).
	harness.Must(t, harness.KubectlStdin(t, restartObjects(ns, "reviews")+restartVirtualService(ns, "orphan", "gone"), "apply", "-f", "-"))

	ca, err := certs.NewCA("reliability-restart-ca", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// At level 4 the log shows client-go's watches that end, 410 Gone
	// included (controller-runtime hands its cache's logger to client-go).
	wh := harness.StartWebhook(t, harness.WebhookOptions{CA: ca, Args: []string{"--namespace=" + system, "--audit-interval=2s", "--zap-log-level=4"}})
	rc := harness.RESTConfig(t)
	url := wh.URL()
	unregister, err := soak.Register(ctx, rc, "restart", ns, admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: ca.CertPEM})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unregister)
	if err := soak.WaitCalled(ctx, rc, ns, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	rotatorDir := restartStartRotator(t, system)

	restartWaitReport(t, ns, "before the restart", nil, func(got []string) bool {
		return slices.Contains(got, "MESH1101 orphan") && !slices.Contains(got, "MESH1101 reviews")
	})
	served := restartSecretSerial(t, system)

	// Writes to a kind no policy reads move the cluster's resourceVersion
	// past the last one the webhook's watches saw, so that their watches
	// expire across the restart.
	kube := harness.KubeClient(t)
	for i := range 5 {
		lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("rv-%d", i)}}
		if _, err := kube.CoordinationV1().Leases(ns).Create(ctx, lease, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	logBefore := len(wh.Log.String())
	started := time.Now()
	if err := harness.Cluster().Restart(ctx, 5*time.Second, sandbox.Etcd, sandbox.KubeAPIServer); err != nil {
		t.Fatal(err)
	}
	t.Logf("etcd and the apiserver restarted in %s", time.Since(started).Round(time.Millisecond))

	// Admission after the restart, from the inventory kept across it: a
	// route to the Service made before is not warned about, nor are new
	// objects (read your writes); a new violation is.
	var late string
	err = wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		r := harness.KubectlStdin(t, restartObjects(ns, "late"), "apply", "-f", "-")
		late = r.String()
		return r.Code == 0, nil
	})
	if err != nil {
		t.Fatalf("no admission after the restart: %v\n%s\nwebhook log:\n%s", err, late, wh.Tail(30))
	}
	if strings.Contains(late, "Warning:") {
		t.Errorf("objects created after the restart drew warnings:\n%s\nwebhook log:\n%s", late, wh.Tail(30))
	}
	r := harness.Must(t, harness.KubectlStdin(t, restartVirtualService(ns, "orphan-late", "gone-late"), "apply", "-f", "-"))
	if !strings.Contains(r.Stderr, "MESH1101") {
		t.Errorf("a VirtualService with no Service made after the restart drew no MESH1101:\n%s", r)
	}

	// The audit resumes, and no report it writes from now on holds a
	// finding against an object that exists.
	falseFindings := []string{"MESH1101 reviews", "MESH1101 late", "MESH1108 reviews", "MESH1108 late"}
	restartWaitReport(t, ns, "after the restart", falseFindings, func(got []string) bool {
		return slices.Contains(got, "MESH1101 orphan") && slices.Contains(got, "MESH1101 orphan-late")
	})

	// The watches resumed after the restart from resourceVersions older
	// than the new apiserver's watch cache: 410 Gone, and the informers
	// listed again (the report above holds what was made after the restart).
	expired := 0
	for line := range strings.Lines(wh.Log.String()[logBefore:]) {
		if strings.Contains(line, "too old resource version") {
			expired++
		}
	}
	t.Logf("%d watches expired (410 Gone) across the restart", expired)
	if expired == 0 {
		t.Errorf("no watch expired (410 Gone) across the restart: the test did not exercise the re-list\nwebhook log:\n%s", wh.Tail(40))
	}
	if strings.Contains(wh.Log.String(), "listing again") {
		t.Log("the inventory listed a kind whose cache lagged after the restart again")
	}
	if !wh.Ready() {
		t.Errorf("the webhook is not ready after the restart\n%s", wh.Tail(30))
	}

	// The rotation completes after the restart: a new serving certificate
	// in the Secret, written to the rotator's files, trusted by the
	// caBundle it published.
	var renewed string
	err = wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		renewed = restartSecretSerial(t, system)
		return renewed != served, nil
	})
	if err != nil {
		t.Fatalf("no certificate renewed after the restart (serial %s): %v", served, err)
	}
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		return restartVerifyFiles(t, rotatorDir) == nil, nil
	})
	if err != nil {
		t.Errorf("the rotator's files after the restart: %v", restartVerifyFiles(t, rotatorDir))
	}
}

// restartObjects are a Service, a DestinationRule and a VirtualService
// routing to it, all named name.
func restartObjects(ns, name string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: %[2]s, namespace: %[1]s}
spec:
  selector: {app: %[2]s}
  ports: [{name: http, port: 8080}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: %[2]s, namespace: %[1]s}
spec: {host: %[2]s}
---
`, ns, name) + restartVirtualService(ns, name, name)
}

func restartVirtualService(ns, name, host string) string {
	return fmt.Sprintf(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: %[2]s, namespace: %[1]s}
spec:
  hosts: [%[3]s]
  http:
  - timeout: 5s
    route: [{destination: {host: %[3]s, port: {number: 8080}}}]
---
`, ns, name, host)
}

// restartFindings lists a report's results as "POLICY subject-name".
func restartFindings(t *testing.T, u *unstructured.Unstructured) []string {
	t.Helper()
	var r v1alpha1.Report
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &r); err != nil {
		t.Fatalf("reading the report: %v", err)
	}
	var out []string
	for _, res := range r.Results {
		for _, s := range res.Subjects {
			out = append(out, res.Policy+" "+s.Name)
		}
	}
	slices.Sort(out)
	return out
}

// restartWaitReport polls the namespace's audit report until done says so;
// every report seen on the way must hold none of never.
func restartWaitReport(t *testing.T, ns, when string, never []string, done func([]string) bool) {
	t.Helper()
	dyn := harness.DynamicClient(t)
	var last []string
	seen := 0
	err := wait.PollUntilContextTimeout(t.Context(), 500*time.Millisecond, 90*time.Second, true, func(ctx context.Context) (bool, error) {
		r, err := dyn.Resource(reports).Namespace(ns).Get(ctx, "kubectl-mesh-audit", metav1.GetOptions{})
		if err != nil {
			return false, nil // not written yet, or the apiserver is coming back
		}
		seen++
		last = restartFindings(t, r)
		for _, f := range never {
			if slices.Contains(last, f) {
				t.Errorf("%s: a report holds the false finding %q (report %s): %v", when, f, r.GetResourceVersion(), last)
				return true, nil
			}
		}
		return done(last), nil
	})
	if err != nil {
		t.Fatalf("%s: the audit report never got there (%d read): %v\nlast findings: %v", when, seen, err, last)
	}
	t.Logf("%s: %d reports read, last findings %v", when, seen, last)
}

// restartStartRotator runs a certificate rotator in process with a serving
// certificate of 9 seconds, against a webhook configuration of its own
// that the apiserver never calls; it returns the rotator's directory.
func restartStartRotator(t *testing.T, system string) string {
	t.Helper()
	kube := harness.KubeClient(t)
	url := "https://127.0.0.1:1/never"
	none := admissionregistrationv1.SideEffectClassNone
	cfg := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "restart-certs"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name: "never.kubectl-mesh.io", ClientConfig: admissionregistrationv1.WebhookClientConfig{URL: &url},
			Rules: []admissionregistrationv1.RuleWithOperations{{Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
				Rule: admissionregistrationv1.Rule{APIGroups: []string{"example.com"}, APIVersions: []string{"v1"}, Resources: []string{"nothing"}}}},
			SideEffects: &none, AdmissionReviewVersions: []string{"v1"},
		}},
	}
	if _, err := kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(t.Context(), cfg, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Delete(context.Background(), cfg.Name, metav1.DeleteOptions{})
	})
	c, err := client.NewWithWatch(harness.RESTConfig(t), client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "certs")
	rot, err := certrotate.New(certrotate.Config{
		Client: c, Namespace: system, SecretName: "restart-certs", ServiceName: "mesh-webhook",
		WebhookConfigName: cfg.Name, CertDir: dir,
		CAValidity: time.Hour, ServingValidity: 9 * time.Second, CheckInterval: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	boot, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := rot.EnsureCertFiles(boot); err != nil {
		t.Fatal(err)
	}
	harness.Start(t, "certificate rotation", rot.Start)
	return dir
}

// restartSecretSerial is the serial of the serving certificate in the
// rotator's Secret; empty while the apiserver does not answer.
func restartSecretSerial(t *testing.T, system string) string {
	t.Helper()
	s, err := harness.KubeClient(t).CoreV1().Secrets(system).Get(t.Context(), "restart-certs", metav1.GetOptions{})
	if err != nil {
		return ""
	}
	cert, err := restartParse(s.Data[corev1.TLSCertKey])
	if err != nil {
		return ""
	}
	return cert.SerialNumber.String()
}

// restartVerifyFiles checks that the rotator's files hold the Secret's
// certificate and that the published caBundle trusts it.
func restartVerifyFiles(t *testing.T, dir string) error {
	t.Helper()
	kube := harness.KubeClient(t)
	s, err := kube.CoreV1().Secrets("restart-system").Get(t.Context(), "restart-certs", metav1.GetOptions{})
	if err != nil {
		return err
	}
	file, err := os.ReadFile(filepath.Join(dir, "tls.crt"))
	if err != nil {
		return err
	}
	if !bytes.Equal(file, s.Data[corev1.TLSCertKey]) {
		return fmt.Errorf("tls.crt differs from the Secret's")
	}
	vwc, err := kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(t.Context(), "restart-certs", metav1.GetOptions{})
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(vwc.Webhooks[0].ClientConfig.CABundle) {
		return fmt.Errorf("the caBundle holds no certificate")
	}
	cert, err := restartParse(file)
	if err != nil {
		return err
	}
	_, err = cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: "mesh-webhook.restart-system.svc"})
	return err
}

func restartParse(data []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("no PEM certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}
