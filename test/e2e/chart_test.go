package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/restmapper"

	"github.com/kubectl-mesh/kubectl-mesh/charts"
	"github.com/kubectl-mesh/kubectl-mesh/internal/buildinfo"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh/all"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/webhookcmd"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/webhookinstall"
	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
)

const (
	chartNamespace = "kubectl-mesh-chart-e2e"
	// chartFullname keeps the chart's cluster-scoped objects apart from
	// those of other tests.
	chartFullname = "mesh-webhook-chart-e2e"
)

// The webhook's Service has no process behind it in the sandbox, so the
// webhook configuration must never stand in another test's way: Ignore on
// failure, and a namespaceSelector no namespace matches.
const chartValues = `fullnameOverride: ` + chartFullname + `
webhook:
  failurePolicy: Ignore
  namespaceSelector:
    matchLabels:
      kubectl-mesh.io/chart-e2e: never
  policyConfigMaps:
    validate: true
`

// kubectl mesh webhook install puts every object of the chart into the real
// apiserver (the release reaches deployed, the Pods pass the restricted Pod
// Security Standard), status reports it, an install over it upgrades, and
// uninstall removes it, twice without harm.
func TestChartInstallStatusUninstall(t *testing.T) {
	ctx := t.Context()
	client := harness.KubeClient(t)
	valuesFile := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(valuesFile, []byte(chartValues), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if out, err := chartRun(t, "uninstall"); err != nil {
			t.Logf("cleanup: %v\n%s", err, out)
		}
	})

	out, err := chartRun(t, "install", "-f", valuesFile, "--wait", "--timeout", "3m")
	if err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
	if !strings.Contains(out, `Release "mesh-webhook" installed in namespace `+chartNamespace+": revision 1") {
		t.Errorf("install output:\n%s", out)
	}

	// Every object the chart renders is in the cluster.
	ch, err := webhookinstall.LoadChart(charts.MeshWebhook(), buildinfo.Get().Version)
	if err != nil {
		t.Fatal(err)
	}
	rel, err := webhookinstall.Render(ctx, ch, webhookinstall.RenderOptions{Namespace: chartNamespace, Values: chartReadValues(t, valuesFile), IncludeCRDs: true, KubeVersion: "v1.37.0"})
	if err != nil {
		t.Fatal(err)
	}
	objects := chartObjects(t, rel.Manifest)
	if len(objects) < 10 {
		t.Fatalf("only %d objects rendered", len(objects))
	}
	for _, obj := range objects {
		if _, err := chartGet(t, obj); err != nil {
			t.Errorf("%s %s: %v", obj.GetKind(), obj.GetName(), err)
		}
	}

	ns, err := client.CoreV1().Namespaces().Get(ctx, chartNamespace, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ns.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
		t.Errorf("namespace labels %v, want restricted enforced", ns.Labels)
	}
	pods, err := client.CoreV1().Pods(chartNamespace).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=mesh-webhook"})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 2 {
		t.Errorf("%d webhook Pods in the restricted namespace, want 2", len(pods.Items))
	}
	// Stored as the helm CLI stores releases, so helm list sees it.
	secrets, err := client.CoreV1().Secrets(chartNamespace).List(ctx, metav1.ListOptions{LabelSelector: "owner=helm,name=mesh-webhook,status=deployed"})
	if err != nil {
		t.Fatal(err)
	}
	if len(secrets.Items) != 1 || secrets.Items[0].Type != "helm.sh/release.v1" {
		t.Errorf("%d deployed Helm release Secrets, want 1 of type helm.sh/release.v1", len(secrets.Items))
	}

	st := chartStatus(t)
	if st.Status != "deployed" || st.Revision != 1 || st.ChartVersion != "0.1.0" || st.AppVersion != buildinfo.Get().Version {
		t.Errorf("status %+v", st)
	}
	if d := st.Deployment; d == nil || !d.Found || d.Name != chartFullname || d.Replicas != 2 || d.ReadyReplicas != 2 {
		t.Errorf("deployment status %+v, want 2/2 ready (kwok runs the Pods)", d)
	}
	wc := st.WebhookConfiguration
	if wc == nil || !wc.Found || wc.Name != chartFullname || len(wc.Webhooks) != 2 {
		t.Fatalf("webhook configuration status %+v", wc)
	}
	for _, w := range wc.Webhooks {
		// Nothing publishes a caBundle here: no webhook process runs.
		if w.FailurePolicy != "Ignore" || w.CABundle || w.TimeoutSeconds != 5 {
			t.Errorf("webhook %+v, want Ignore, no caBundle, 5s", w)
		}
	}
	if st.Ready() {
		t.Errorf("status ready without a caBundle")
	}
	text, err := chartRun(t, "status")
	if err != nil || !strings.Contains(text, "caBundle NOT set") || !strings.Contains(text, "2/2 ready") {
		t.Errorf("status: %v\n%s", err, text)
	}

	// Installing again upgrades.
	out, err = chartRun(t, "install", "-f", valuesFile, "--set", "webhook.timeoutSeconds=7", "--wait=false")
	if err != nil {
		t.Fatalf("install over the release: %v\n%s", err, out)
	}
	if !strings.Contains(out, `Release "mesh-webhook" upgraded in namespace `+chartNamespace+": revision 2") {
		t.Errorf("second install output:\n%s", out)
	}
	if st := chartStatus(t); st.Revision != 2 || st.WebhookConfiguration.Webhooks[0].TimeoutSeconds != 7 {
		t.Errorf("after the upgrade: revision %d, timeout %ds; want 2, 7s", st.Revision, st.WebhookConfiguration.Webhooks[0].TimeoutSeconds)
	}

	out, err = chartRun(t, "uninstall", "--wait", "--timeout", "2m")
	if err != nil {
		t.Fatalf("uninstall: %v\n%s", err, out)
	}
	if !strings.Contains(out, `Release "mesh-webhook" uninstalled from namespace `+chartNamespace) {
		t.Errorf("uninstall output:\n%s", out)
	}
	for _, obj := range objects {
		if obj.GetKind() == "CustomResourceDefinition" {
			if _, err := chartGet(t, obj); err != nil {
				t.Errorf("CRD %s removed without --purge: %v", obj.GetName(), err)
			}
			continue
		}
		err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			_, err := chartGet(t, obj)
			return apierrors.IsNotFound(err), nil
		})
		if err != nil {
			t.Errorf("%s %s is still there after uninstall", obj.GetKind(), obj.GetName())
		}
	}
	if _, err := chartRun(t, "status"); err == nil || !strings.Contains(err.Error(), "not installed in namespace "+chartNamespace) {
		t.Errorf("status after uninstall: %v, want not installed", err)
	}

	out, err = chartRun(t, "uninstall")
	if err != nil {
		t.Fatalf("second uninstall: %v\n%s", err, out)
	}
	if !strings.Contains(out, "nothing to uninstall") {
		t.Errorf("second uninstall output:\n%s", out)
	}
}

// chartRun runs `kubectl mesh webhook ARGS -n chartNamespace` in-process
// against the sandbox and returns its standard output.
func chartRun(t *testing.T, args ...string) (string, error) {
	t.Helper()
	return chartRunIn(t, chartNamespace, args...)
}

// chartRunIn is chartRun in another namespace.
func chartRunIn(t *testing.T, namespace string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: io.Discard}
	configFlags := genericclioptions.NewConfigFlags(true)
	kubeconfig := harness.Kubeconfig()
	configFlags.KubeConfig, configFlags.Namespace = &kubeconfig, &namespace
	cmd := webhookcmd.NewCmdWebhook(streams, cmdutil.NewFactory(configFlags, all.Registry()))
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(t.Context())
	return out.String(), err
}

func chartStatus(t *testing.T) webhookinstall.Status {
	t.Helper()
	out, err := chartRun(t, "status", "-o", "json")
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	var st webhookinstall.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("decoding status: %v\n%s", err, out)
	}
	return st
}

func chartReadValues(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var vals map[string]any
	if err := utilyaml.Unmarshal(data, &vals); err != nil {
		t.Fatal(err)
	}
	return vals
}

func chartObjects(t *testing.T, manifest string) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(manifest), 4096)
	for {
		obj := &unstructured.Unstructured{}
		if err := dec.Decode(&obj.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return out
			}
			t.Fatal(err)
		}
		if len(obj.Object) > 0 {
			out = append(out, obj)
		}
	}
}

// chartGet reads obj's live counterpart through discovery, as kubectl get does.
func chartGet(t *testing.T, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	t.Helper()
	cfg := harness.RESTConfig(t)
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	gvk := obj.GroupVersionKind()
	mapping, err := mapper.RESTMapping(schema.GroupKind{Group: gvk.Group, Kind: gvk.Kind}, gvk.Version)
	if err != nil {
		return nil, err
	}
	dyn := harness.DynamicClient(t)
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		return dyn.Resource(mapping.Resource).Namespace(chartNamespace).Get(t.Context(), obj.GetName(), metav1.GetOptions{})
	}
	return dyn.Resource(mapping.Resource).Get(t.Context(), obj.GetName(), metav1.GetOptions{})
}
