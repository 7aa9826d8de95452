package meshcmd

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	fakediscovery "k8s.io/client-go/discovery/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil/cmdtesting"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/precheck"
)

// precheckFakeClients is a fake cluster: its apiserver version, and an
// authorizer that records the namespaces it was asked about.
type precheckFakeClients struct {
	cs *fake.Clientset

	mu         sync.Mutex
	namespaces map[string]bool
}

func newPrecheckFakeClients(gitVersion string, allow func(*authorizationv1.ResourceAttributes) bool, objects ...runtime.Object) *precheckFakeClients {
	f := &precheckFakeClients{cs: fake.NewClientset(objects...), namespaces: map[string]bool{}}
	f.cs.Discovery().(*fakediscovery.FakeDiscovery).FakedServerVersion = &version.Info{GitVersion: gitVersion}
	f.cs.PrependReactor("create", "selfsubjectaccessreviews", func(action k8stesting.Action) (bool, runtime.Object, error) {
		sar := action.(k8stesting.CreateAction).GetObject().(*authorizationv1.SelfSubjectAccessReview).DeepCopy()
		f.mu.Lock()
		f.namespaces[sar.Spec.ResourceAttributes.Namespace] = true
		f.mu.Unlock()
		sar.Status.Allowed = allow == nil || allow(sar.Spec.ResourceAttributes)
		return true, sar, nil
	})
	return f
}

func viewOnly(a *authorizationv1.ResourceAttributes) bool {
	return a.Verb == "get" || a.Verb == "list" || a.Verb == "watch"
}

func runPrecheck(t *testing.T, fake *precheckFakeClients, namespace string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	f := cmdtesting.NewFactory(t)
	f.Clientset = fake.cs
	args = append([]string{"precheck"}, args...)
	if namespace != "" {
		args = append(args, "-n", namespace)
	}
	return f.Run(t, "", args, NewCmdPrecheck)
}

// The whole table for a cluster where Istio can be installed: the printer's
// golden output.
const precheckIstioTable = `istio (control plane namespace istio-system)
============================================

kubernetes-api
--------------
ok    can query the Kubernetes API: Kubernetes v1.37.1

kubernetes-version
------------------
warn  Kubernetes version is supported by Istio 1.31: v1.37.1 is newer than Istio 1.31 is tested on (Kubernetes 1.32 to 1.36)
      hint: newer versions usually work; see https://istio.io/latest/docs/releases/supported-releases/

permissions
-----------
ok    can install, upgrade and uninstall the control plane: allowed to get,list,watch,create,patch,delete the 16 kinds of resources the install writes

existing-installs
-----------------
ok    no Linkerd control plane or CRDs: none found
ok    no Istio control plane installed by another tool: none found
ok    no IstioOperator CRD: not installed

crds
----
ok    existing Istio CRDs serve v1: none installed yet
ok    Gateway API CRDs are v1.1 or newer: not installed (needed only for Gateway API routes and ambient waypoints)

namespaces
----------
ok    control plane namespace is not labelled for injection: istio-system does not exist yet: install creates it
ok    no namespace has both istio-injection and istio.io/rev: none found

istio: ready to install (0 failed, 1 warning, 9 ok)
`

func TestPrecheckTable(t *testing.T) {
	out, _, err := runPrecheck(t, newPrecheckFakeClients("v1.37.1", nil), "", "istio")
	if err != nil {
		t.Fatalf("precheck: %v", err)
	}
	if out != precheckIstioTable {
		t.Errorf("table:\n%s\nwant:\n%s", out, precheckIstioTable)
	}
}

func TestPrecheckFailedCheckExits3(t *testing.T) {
	out, _, err := runPrecheck(t, newPrecheckFakeClients("v1.34.0", viewOnly), "")
	if code := cmdutil.ExitCode(err); code != cmdutil.ExitViolation {
		t.Fatalf("exit code %d (%v), want 3", code, err)
	}
	for _, want := range []string{
		"istio (control plane namespace istio-system)",
		"linkerd (control plane namespace linkerd)",
		"FAIL  can install, upgrade and uninstall the control plane: 48 of 96 permissions missing: cannot create,patch,delete: namespaces,",
		"FAIL  can install, upgrade and uninstall the control plane: 45 of 90 permissions missing",
		"      hint: ask your cluster admin for cluster-admin or these rules\n",
		"istio: NOT ready to install (1 failed, 9 ok)",
		"linkerd: NOT ready to install (1 failed, 6 ok)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not contain %q:\n%s", want, out)
		}
	}
	if !strings.Contains(err.Error(), "precheck failed") {
		t.Errorf("error %q", err)
	}
}

func TestPrecheckJSON(t *testing.T) {
	istiod := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "istiod", Namespace: "istio-system", Labels: map[string]string{"app": "istiod"}}}
	out, _, err := runPrecheck(t, newPrecheckFakeClients("v1.33.0", nil, istiod), "", "linkerd", "istio", "-o", "json")
	if code := cmdutil.ExitCode(err); code != cmdutil.ExitViolation {
		t.Fatalf("exit code %d (%v), want 3: an istioctl install fails the Istio precheck", code, err)
	}
	var report PrecheckReport
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if report.Success || len(report.Meshes) != 2 || report.Meshes[0].Mesh != "linkerd" || report.Meshes[1].Mesh != "istio" {
		t.Fatalf("report %+v", report)
	}
	linkerd, istio := report.Meshes[0], report.Meshes[1]
	if !linkerd.Success || linkerd.Summary["warning"] != 1 || linkerd.Namespace != "linkerd" {
		t.Errorf("linkerd: %+v (Istio running is a warning, not a failure)", linkerd)
	}
	if istio.Success || istio.Summary["failed"] != 1 {
		t.Errorf("istio: %+v", istio)
	}
	var failed []precheck.Result
	for _, c := range istio.Checks {
		if c.Status == precheck.StatusFailed {
			failed = append(failed, c)
		}
	}
	if len(failed) != 1 || failed[0].Category != "existing-installs" || !strings.Contains(failed[0].Message, "istiod in istio-system was not installed with Helm") || failed[0].Hint == "" {
		t.Errorf("failed checks %+v", failed)
	}
	if !strings.Contains(out, `"status": "ok"`) || !strings.Contains(out, `"category": "kubernetes-version"`) {
		t.Errorf("JSON field names:\n%s", out)
	}
}

func TestPrecheckNamespaceFlag(t *testing.T) {
	f := newPrecheckFakeClients("v1.34.0", nil)
	out, _, err := runPrecheck(t, f, "mesh-cp", "istio")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "istio (control plane namespace mesh-cp)") || !strings.Contains(out, "mesh-cp does not exist yet") {
		t.Errorf("output:\n%s", out)
	}
	if !f.namespaces["mesh-cp"] || f.namespaces["istio-system"] {
		t.Errorf("permissions reviewed in namespaces %v, want mesh-cp (and cluster scope)", f.namespaces)
	}
}

func TestPrecheckUnreachableExits1(t *testing.T) {
	f := newPrecheckFakeClients("v1.34.0", nil)
	f.cs.PrependReactor("get", "version", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("dial tcp 127.0.0.1:1: connect: connection refused")
	})
	out, _, err := runPrecheck(t, f, "", "istio", "-o", "json")
	if code := cmdutil.ExitCode(err); code != cmdutil.ExitError || !strings.Contains(err.Error(), "reaching the cluster") || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("exit code %d, error %v", code, err)
	}
	if out != "" {
		t.Errorf("printed a report for an unreachable cluster:\n%s", out)
	}
}

func TestPrecheckIncompleteExits1(t *testing.T) {
	f := newPrecheckFakeClients("v1.34.0", viewOnly)
	f.cs.PrependReactor("list", "deployments", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewInternalError(errors.New("etcd timeout"))
	})
	out, errOut, err := runPrecheck(t, f, "", "istio")
	if code := cmdutil.ExitCode(err); code != cmdutil.ExitError {
		t.Fatalf("exit code %d (%v), want 1: an incomplete check outranks a failed one", code, err)
	}
	if !strings.Contains(out, "FAIL  can install") || !strings.Contains(errOut, "error: istio: no Istio control plane installed by another tool:") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", out, errOut)
	}
}

func TestPrecheckValidation(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"consul"}, `unknown mesh "consul" (allowed: istio, linkerd)`},
		{[]string{"istio", "istio"}, `mesh "istio" given twice`},
		{[]string{"istio", "-o", "wide"}, `--output: unknown format "wide"`},
	} {
		_, _, err := runPrecheck(t, newPrecheckFakeClients("v1.34.0", nil), "", tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want %q", tt.args, err, tt.want)
		}
	}
	cmd := NewCmdPrecheck(genericiooptions.NewTestIOStreamsDiscard(), cmdtesting.NewFactory(t))
	cmd.SetArgs([]string{"istio", "linkerd", "consul"})
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), "accepts at most 2 arg(s)") {
		t.Errorf("three meshes: %v", err)
	}
}
