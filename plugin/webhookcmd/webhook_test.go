package webhookcmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/spf13/cobra"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-mesh/kubectl-mesh/charts"
	"github.com/kubectl-mesh/kubectl-mesh/internal/buildinfo"
	"github.com/kubectl-mesh/kubectl-mesh/internal/inputlimit"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil/cmdtesting"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/webhookinstall"
)

// fakeReleases records what the commands ask of the Helm layer.
type fakeReleases struct {
	namespace    string
	install      *webhookinstall.InstallOptions
	installChart *chart.Chart
	upgraded     bool
	uninstall    *webhookinstall.UninstallOptions
	uninstallRes webhookinstall.UninstallResult
	status       *webhookinstall.Status
	err          error
}

func (f *fakeReleases) Install(_ context.Context, ch *chart.Chart, o webhookinstall.InstallOptions) (*lifecycle.Result, error) {
	f.install, f.installChart = &o, ch
	if f.err != nil {
		return nil, f.err
	}
	res := &lifecycle.Result{Release: webhookinstall.ReleaseName, Namespace: f.namespace, Revision: 1, Action: "installed",
		Chart: ch.Metadata.Name, ChartVersion: ch.Metadata.Version, AppVersion: ch.Metadata.AppVersion,
		Manifest: "\n---\nkind: Deployment\n", Notes: "Check it: kubectl mesh webhook status\n"}
	if f.upgraded {
		res.Revision, res.Action = 2, "upgraded"
	}
	return res, nil
}

func (f *fakeReleases) Uninstall(_ context.Context, _ *chart.Chart, o webhookinstall.UninstallOptions) (*webhookinstall.UninstallResult, error) {
	f.uninstall = &o
	if f.err != nil {
		return nil, f.err
	}
	return &f.uninstallRes, nil
}

func (f *fakeReleases) Status(context.Context) (*webhookinstall.Status, error) {
	if f.err != nil {
		return nil, f.err
	}
	return f.status, nil
}

// runWebhook runs a webhook subcommand (-n namespace, unless empty)
// against fake releases and the given chart files; it returns stdout and
// the error; fake records the namespace its releases were asked for.
// A nil fake means the command must not reach for the cluster.
func runWebhook(t *testing.T, newCmd func(cmdutil.Factory, *webhookTarget) *cobra.Command, chartFS fs.FS, fake *fakeReleases, namespace string, args ...string) (string, error) {
	t.Helper()
	f := cmdtesting.NewFactory(t)
	if fake != nil {
		f.WebhookReleases = func(ns string) cmdutil.WebhookReleases {
			fake.namespace = ns
			return fake
		}
	}
	build := func(streams genericiooptions.IOStreams, factory cmdutil.Factory) *cobra.Command {
		target := newWebhookTarget(streams)
		target.chartFS = chartFS
		return newCmd(factory, target)
	}
	args = append([]string{build(genericiooptions.NewTestIOStreamsDiscard(), f).Name()}, args...)
	if namespace != "" {
		args = append(args, "-n", namespace)
	}
	out, _, err := f.Run(t, "", args, build)
	if fake == nil && f.Connects != 0 {
		t.Fatalf("the command reached for the cluster")
	}
	return out, err
}

func realChart(t *testing.T) fs.FS {
	t.Helper()
	fsys := charts.MeshWebhook()
	if _, err := fs.Stat(fsys, "crds/openreports.io_reports.yaml"); err != nil {
		t.Fatalf("the embedded chart has no OpenReports CRDs (make chart-crds): %v", err)
	}
	return fsys
}

// A chart without crds/, as a build without `make chart-crds` embeds.
func chartWithoutCRDs(t *testing.T) fs.FS {
	t.Helper()
	out := fstest.MapFS{}
	err := fs.WalkDir(charts.MeshWebhook(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(p, "crds/") {
			return err
		}
		data, err := fs.ReadFile(charts.MeshWebhook(), p)
		out[p] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestWebhookCommandTree(t *testing.T) {
	streams, _, _, _ := genericiooptions.NewTestIOStreams()
	cmd := NewCmdWebhook(streams, cmdtesting.NewFactory(t))
	var names []string
	for _, c := range cmd.Commands() {
		names = append(names, c.Name())
	}
	if strings.Join(names, ",") != "install,status,uninstall" {
		t.Errorf("subcommands %v, want install, status, uninstall", names)
	}
}

func TestWebhookInstallDryRunRendersWithoutCluster(t *testing.T) {
	dir := t.TempDir()
	valuesFile := filepath.Join(dir, "values.yaml")
	if err := os.WriteFile(valuesFile, []byte("replicaCount: 3\nwebhook:\n  timeoutSeconds: 7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		namespace string
		args      []string
		want      []string
	}{
		{name: "defaults", args: []string{"--dry-run=client", "--kube-version", "v1.37.0"},
			want: []string{"name: reports.openreports.io", "name: clusterreports.openreports.io", "kind: Deployment", "namespace: kubectl-mesh-system", "failurePolicy: Fail"}},
		{name: "kubectl's spelling", args: []string{"--dry-run=client", "-o", "yaml", "--kube-version", "v1.37.0"}, want: []string{"kind: ValidatingWebhookConfiguration"}},
		{name: "-n", namespace: "policy", args: []string{"--dry-run=client", "--kube-version", "v1.37.0"}, want: []string{"namespace: policy", "--excluded-namespaces=kube-system,policy"}},
		{name: "--set", args: []string{"--dry-run=client", "--kube-version", "v1.37.0", "--set", "webhook.failurePolicy=Ignore"}, want: []string{"failurePolicy: Ignore"}},
		{name: "-f then --set", args: []string{"--dry-run=client", "--kube-version", "v1.37.0", "-f", valuesFile, "--set", "replicaCount=4"}, want: []string{"replicas: 4", "timeoutSeconds: 7"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runWebhook(t, newCmdWebhookInstall, realChart(t), nil, tc.namespace, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(out, "---\n") {
				t.Errorf("output does not start with a YAML document:\n%.200s", out)
			}
			for _, want := range tc.want {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q", want)
				}
			}
			if strings.Index(out, "kind: CustomResourceDefinition") > strings.Index(out, "kind: Deployment") {
				t.Errorf("the CRDs do not come first")
			}
		})
	}
}

func TestWebhookInstall(t *testing.T) {
	fake := &fakeReleases{}
	out, err := runWebhook(t, newCmdWebhookInstall, realChart(t), fake, "", "--set", "webhook.failurePolicy=Ignore", "--timeout", "90s")
	if err != nil {
		t.Fatal(err)
	}
	o := fake.install
	if fake.namespace != webhookinstall.DefaultNamespace || !o.Wait || !o.CreateNamespace || o.Timeout != 90*time.Second || o.ServerDryRun {
		t.Errorf("install in %q with %+v; want kubectl-mesh-system, waiting, creating the namespace, 90s", fake.namespace, o)
	}
	if o.Values["webhook"].(map[string]any)["failurePolicy"] != "Ignore" {
		t.Errorf("values %v, want webhook.failurePolicy=Ignore", o.Values)
	}
	if md := fake.installChart.Metadata; md.Name != "mesh-webhook" || md.AppVersion != buildinfo.Get().Version {
		t.Errorf("chart %s appVersion %s, want mesh-webhook at this binary's version %s", md.Name, md.AppVersion, buildinfo.Get().Version)
	}
	for _, want := range []string{`Release "mesh-webhook" installed in namespace kubectl-mesh-system: revision 1, chart mesh-webhook-0.1.0`, "Check it: kubectl mesh webhook status"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	fake = &fakeReleases{upgraded: true}
	out, err = runWebhook(t, newCmdWebhookInstall, realChart(t), fake, "mesh", "--wait=false", "--create-namespace=false", "--dry-run=server")
	if err != nil {
		t.Fatal(err)
	}
	if o := fake.install; fake.namespace != "mesh" || o.Wait || o.CreateNamespace || !o.ServerDryRun {
		t.Errorf("install in %q with %+v; want mesh, no wait, no namespace creation, server dry-run", fake.namespace, o)
	}
	if out != "---\nkind: Deployment\n" {
		t.Errorf("server dry-run prints %q, want the manifest", out)
	}
	fake = &fakeReleases{upgraded: true}
	out, err = runWebhook(t, newCmdWebhookInstall, realChart(t), fake, "", "--wait=false")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`Release "mesh-webhook" upgraded in namespace kubectl-mesh-system: revision 2`, "Not waiting"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestWebhookInstallErrors(t *testing.T) {
	laughs := filepath.Join(t.TempDir(), "laughs.yaml")
	if err := os.WriteFile(laughs, inputlimit.BillionLaughs(), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		chartFS fs.FS
		fake    *fakeReleases
		args    []string
		want    string
	}{
		{name: "chart without CRDs", chartFS: chartWithoutCRDs(t), args: []string{}, want: "built without the OpenReports CRDs in its webhook chart: run make chart-crds"},
		{name: "chart without CRDs, dry run", chartFS: chartWithoutCRDs(t), args: []string{"--dry-run=client"}, want: "run make chart-crds"},
		{name: "unknown dry-run", args: []string{"--dry-run=maybe"}, want: `--dry-run: unknown strategy "maybe" (allowed: none, server, client)`},
		{name: "unknown output", args: []string{"-o", "json"}, want: `--output: unknown format "json"`},
		{name: "zero timeout", args: []string{"--timeout", "0s"}, want: "--timeout: 0s is not a positive duration"},
		{name: "bad --set", args: []string{"--set", "webhook"}, want: "reading values"},
		{name: "missing values file", args: []string{"-f", "/nonexistent/values.yaml"}, want: "reading values"},
		{name: "values file of nested aliases", args: []string{"--dry-run=client", "-f", laughs},
			want: "reading values: " + laughs + ":1: document contains excessive aliasing: aliases add more than 400000 nodes"},
		{name: "invalid value", args: []string{"--dry-run=client", "--kube-version", "v1.37.0", "--set", "webhook.failurePolicy=Sometimes"}, want: "at '/webhook/failurePolicy': value must be one of 'Fail', 'Ignore'"},
		{name: "kube-version without client dry run", args: []string{"--kube-version", "v1.37.0"}, want: "--kube-version applies to --dry-run=client only"},
		{name: "too old a Kubernetes", args: []string{"--dry-run=client", "--kube-version", "v1.20.0"}, want: "chart requires kubeVersion: >=1.28.0-0"},
		{name: "pending operation", fake: &fakeReleases{err: errors.New("upgrading mesh-webhook: another operation (install/upgrade/rollback) is in progress")},
			want: "helm rollback mesh-webhook -n kubectl-mesh-system"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fsys := tc.chartFS
			if fsys == nil {
				fsys = realChart(t)
			}
			_, err := runWebhook(t, newCmdWebhookInstall, fsys, tc.fake, "", tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("the error spans several lines: %q", err)
			}
		})
	}
}

func TestWebhookUninstall(t *testing.T) {
	fake := &fakeReleases{}
	out, err := runWebhook(t, newCmdWebhookUninstall, realChart(t), fake, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := `Release "mesh-webhook" is not installed in namespace kubectl-mesh-system: nothing to uninstall.`; !strings.Contains(out, want) {
		t.Errorf("output %q, want %q", out, want)
	}
	if fake.uninstall.Purge {
		t.Errorf("purged without --purge")
	}

	fake = &fakeReleases{uninstallRes: webhookinstall.UninstallResult{Installed: true}}
	out, err = runWebhook(t, newCmdWebhookUninstall, realChart(t), fake, "mesh")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`Release "mesh-webhook" uninstalled from namespace mesh.`, "--purge deletes them"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	fake = &fakeReleases{uninstallRes: webhookinstall.UninstallResult{Installed: true, Purged: []string{"customresourcedefinition/reports.openreports.io"}}}
	out, err = runWebhook(t, newCmdWebhookUninstall, realChart(t), fake, "", "--purge", "--wait")
	if err != nil {
		t.Fatal(err)
	}
	if !fake.uninstall.Purge || !fake.uninstall.Wait {
		t.Errorf("uninstall options %+v, want purge and wait", fake.uninstall)
	}
	if !strings.Contains(out, "customresourcedefinition/reports.openreports.io deleted") || strings.Contains(out, "--purge deletes them") {
		t.Errorf("output:\n%s", out)
	}

	if _, err := runWebhook(t, newCmdWebhookUninstall, chartWithoutCRDs(t), nil, "", "--purge"); err == nil || !strings.Contains(err.Error(), "make chart-crds") {
		t.Errorf("--purge without CRDs in the chart: %v, want the make chart-crds error", err)
	}
}

func TestWebhookStatus(t *testing.T) {
	st := &webhookinstall.Status{
		Release: "mesh-webhook", Namespace: "kubectl-mesh-system", Revision: 2, Status: "deployed",
		LastDeployed: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Chart:        "mesh-webhook", ChartVersion: "0.1.0", AppVersion: "v0.4.0",
		Deployment: &webhookinstall.DeploymentStatus{Name: "mesh-webhook", Found: true, Replicas: 2, ReadyReplicas: 1, UpdatedReplicas: 2, AvailableReplicas: 1},
		WebhookConfiguration: &webhookinstall.WebhookConfigurationStatus{Name: "mesh-webhook", Found: true, Webhooks: []webhookinstall.WebhookStatus{
			{Name: "validate.kubectl-mesh.io", FailurePolicy: "Fail", TimeoutSeconds: 5, CABundle: true},
			{Name: "policies.kubectl-mesh.io", FailurePolicy: "Ignore", TimeoutSeconds: 5},
		}},
	}
	out, err := runWebhook(t, newCmdWebhookStatus, realChart(t), &fakeReleases{status: st}, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"RELEASE:", "mesh-webhook",
		"deployed (revision 2, 2026-01-02T03:04:05Z)",
		"mesh-webhook-0.1.0", "v0.4.0",
		"mesh-webhook: 1/2 ready, 2 up-to-date, 1 available",
		"validate.kubectl-mesh.io:  failurePolicy Fail, timeout 5s, caBundle set",
		"policies.kubectl-mesh.io:  failurePolicy Ignore, timeout 5s, caBundle NOT set",
		"READY:", "no",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	out, err = runWebhook(t, newCmdWebhookStatus, realChart(t), &fakeReleases{status: st}, "", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var got webhookinstall.Status
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got.AppVersion != "v0.4.0" || got.Deployment.ReadyReplicas != 1 || got.WebhookConfiguration.Webhooks[1].CABundle {
		t.Errorf("JSON status %+v", got)
	}
	out, err = runWebhook(t, newCmdWebhookStatus, realChart(t), &fakeReleases{status: st}, "", "-o", "yaml")
	if err != nil || !strings.Contains(out, "appVersion: v0.4.0") {
		t.Errorf("YAML status %v:\n%s", err, out)
	}

	notInstalled := fmt.Errorf("mesh-webhook in namespace x: %w", webhookinstall.ErrNotInstalled)
	_, err = runWebhook(t, newCmdWebhookStatus, realChart(t), &fakeReleases{err: notInstalled}, "x")
	if err == nil || err.Error() != "the webhook is not installed in namespace x: install it with kubectl mesh webhook install -n x" {
		t.Errorf("got %v, want the not installed error with the fix", err)
	}
	if _, err := runWebhook(t, newCmdWebhookStatus, realChart(t), nil, "", "-o", "wide"); err == nil || !strings.Contains(err.Error(), `--output: unknown format "wide"`) {
		t.Errorf("got %v, want the output format error", err)
	}
}
