package pattern

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-mesh/kubectl-mesh/test/cmdrun"
	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
	"k8s.io/apimachinery/pkg/util/wait"
)

// appKinds are the kinds an app is made of; the test lists each before
// and after, so that delete is shown to remove exactly what deploy made.
const appKinds = "deployments,services,serviceaccounts,configmaps,virtualservices.networking.istio.io,destinationrules.networking.istio.io,gateways.networking.istio.io,gateways.gateway.networking.k8s.io,httproutes.gateway.networking.k8s.io"

// TestAppDeployCheckDelete has the apiserver validate bookinfo for Istio
// against Istio's and the Gateway API's real CRDs (a server dry run: this
// sandbox's istiod injector cannot be reached, so an enrolled namespace
// gets no pods), then deploys it without a mesh into a namespace of its
// own, waits for its Deployments on the simulated nodes, checks the
// namespace with the policy library, and deletes it: nothing it created is
// left, and a namespace holding someone else's objects is refused.
func TestAppDeployCheckDelete(t *testing.T) {
	const ns = "e2e-bookinfo"
	t.Cleanup(func() { harness.Kubectl(t, "delete", "namespace", ns, "--ignore-not-found", "--wait=false") })

	// A server dry run checks objects only in a namespace that exists.
	if r := harness.Mesh(t, "app", "deploy", "bookinfo", "-n", ns, "--mesh", "istio", "--dry-run=server"); r.Code != 1 || !strings.Contains(r.Stderr, "namespace "+ns+" does not exist") {
		t.Errorf("server dry run into a missing namespace: %s", r)
	}
	dryNS := harness.Namespace(t, "e2e-bookinfo-dry")
	dry := harness.Must(t, harness.Mesh(t, "app", "deploy", "bookinfo", "-n", dryNS, "--mesh", "istio", "--dry-run=server"))
	for _, want := range []string{"namespace/" + dryNS + " configured (shared) (server dry run)", "virtualservice.networking.istio.io/reviews created (server dry run)", "httproute.gateway.networking.k8s.io/bookinfo created (server dry run)"} {
		if !strings.Contains(dry.Stdout, want) {
			t.Errorf("server dry run output lacks %q:\n%s", want, dry.Stdout)
		}
	}
	if left := harness.Must(t, harness.Kubectl(t, "get", "deployments,virtualservices.networking.istio.io", "-n", dryNS, "-o", "name")).Stdout; left != "" {
		t.Errorf("a server dry run left objects: %s", left)
	}

	out := harness.Must(t, harness.Mesh(t, "app", "deploy", "bookinfo", "-n", ns, "--mesh", "none", "--wait", "--timeout", "3m"))
	for _, want := range []string{"namespace/" + ns + " created", "deployment.apps/reviews-v3 created", "bookinfo is available in namespace " + ns} {
		if !strings.Contains(out.Stdout, want) {
			t.Errorf("deploy output lacks %q:\n%s", want, out.Stdout)
		}
	}
	status := harness.Must(t, harness.Mesh(t, "app", "status", "bookinfo", "-n", ns)).Stdout
	if n := strings.Count(status, " yes "); n != 6 {
		t.Errorf("status shows %d ready workloads, want bookinfo's 6:\n%s", n, status)
	}
	// The showcase of the project's own practices: nothing at warning or
	// above in what deploy created (the cluster's view, with its inventory).
	check := harness.Mesh(t, "check", "-n", ns)
	if check.Code != 0 {
		t.Errorf("check -n %s exit %d:\n%s%s", ns, check.Code, check.Stdout, check.Stderr)
	}

	before := objects(t, ns)
	// Without a mesh: 4 ServiceAccounts, 4 Services, 6 Deployments.
	if len(before) != 14 {
		t.Fatalf("deploy made %d objects, want bookinfo's 14: %v", len(before), before)
	}
	// A second namespace with someone else's Service is refused.
	foreign := harness.Namespace(t, "e2e-foreign")
	harness.Must(t, harness.Kubectl(t, "create", "service", "clusterip", "legacy", "--tcp=80", "-n", foreign))
	refused := harness.Mesh(t, "app", "deploy", "httpbin", "-n", foreign, "--mesh", "none")
	if refused.Code != 1 || !strings.Contains(refused.Stderr, "namespace "+foreign+" holds other objects (service/legacy)") {
		t.Errorf("deploy into a namespace with a foreign Service: exit %d\n%s", refused.Code, refused.Stderr)
	}

	del := harness.Must(t, harness.Mesh(t, "app", "delete", "bookinfo", "-n", ns)).Stdout
	for _, ref := range before {
		if !strings.Contains(del, ref+" deleted") {
			t.Errorf("delete did not report %s:\n%s", ref, del)
		}
	}
	deadline := time.Now().Add(2 * time.Minute)
	for harness.Kubectl(t, "get", "namespace", ns).Code == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("namespace %s still there 2 minutes after delete; it holds %v", ns, objects(t, ns))
		}
		time.Sleep(time.Second)
	}
}

// objects lists the app's kinds in namespace as kind.group/name, as
// kubectl -o name prints them, but for the kube-root-ca.crt and default
// ServiceAccount every namespace has and the apply set's parent.
func objects(t *testing.T, ns string) []string {
	t.Helper()
	out := harness.Must(t, harness.Kubectl(t, "get", appKinds, "-n", ns, "-o", "name")).Stdout
	var refs []string
	for _, line := range strings.Fields(out) {
		if line != "configmap/kube-root-ca.crt" && line != "serviceaccount/default" && line != "configmap/kubectl-mesh-app-bookinfo" {
			refs = append(refs, line)
		}
	}
	slices.Sort(refs)
	return refs
}

// Ctrl-C while deploy --wait waits leaves a state that delete completes:
// bookinfo for Istio, whose pods this sandbox's unreachable istiod injector
// refuses, so that the wait never ends by itself.
func TestAppInterruptedDeployIsDeleted(t *testing.T) {
	const ns = "e2e-interrupted"
	t.Cleanup(func() { harness.Kubectl(t, "delete", "namespace", ns, "--ignore-not-found", "--wait=false") })
	cmd := harness.Command(context.Background(), harness.Bin("kubectl-mesh"), "app", "deploy", "bookinfo", "-n", ns, "--mesh", "istio", "--wait", "--timeout", "5m")
	var stdout, stderr cmdrun.SyncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, 2*time.Minute, true, func(context.Context) (bool, error) {
		return strings.Contains(stdout.String(), "httproute.gateway.networking.k8s.io/bookinfo created"), nil
	})
	if err != nil {
		t.Fatalf("deploy never applied its objects:\n%s%s", stdout.String(), stderr.String())
	}
	time.Sleep(time.Second) // into the wait
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil {
		t.Fatalf("the interrupted deploy exited 0:\n%s", stderr.String())
	}
	harness.Must(t, harness.Mesh(t, "app", "delete", "bookinfo", "-n", ns))
	deadline := time.Now().Add(2 * time.Minute)
	for harness.Kubectl(t, "get", "namespace", ns).Code == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("namespace %s still there 2 minutes after delete", ns)
		}
		time.Sleep(time.Second)
	}
}
