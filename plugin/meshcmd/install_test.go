package meshcmd

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil/cmdtesting"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh/istio"
	"github.com/kubectl-mesh/kubectl-mesh/test/helmrepo"
)

// commands are the mesh lifecycle commands.
var commands = []cmdtesting.NewCmd{NewCmdPrecheck, NewCmdInstall, NewCmdUpgrade, NewCmdUninstall, NewCmdStatus, NewCmdRevision, NewCmdInject}

// runRoot runs `kubectl mesh ARGS` with the lifecycle commands and no cluster.
func runRoot(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	return cmdtesting.NewFactory(t).Run(t, "", args, commands...)
}

func TestInstallFlagsRefusedWithTheFlagNamed(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"install", "consul"}, `unknown mesh "consul" (allowed: istio, linkerd)`},
		{[]string{"status", "consul"}, `unknown mesh "consul" (allowed: istio, linkerd)`},
		{[]string{"precheck", "consul"}, `unknown mesh "consul" (allowed: istio, linkerd)`},
		{[]string{"inject", "enable", "-n", "shop", "--mesh", "consul"}, `--mesh: unknown mesh "consul" (allowed: istio, linkerd)`},
		{[]string{"install", "linkerd", "--profile", "demo"}, "--profile and --revision are Istio flags"},
		{[]string{"install", "istio", "--identity-issuer-key-file", "k.pem"}, "--identity-* flags are Linkerd flags"},
		{[]string{"install", "linkerd", "--identity-issuer-key-file", "k.pem"}, "--identity-issuer-certificate-file and --identity-issuer-key-file go together"},
		{[]string{"install", "istio", "-o", "yaml"}, "-o/--output applies to --dry-run=client only"},
		{[]string{"install", "istio", "--dry-run=client", "-o", "json"}, `--output`},
		{[]string{"install", "istio", "--dry-run=server"}, "--dry-run=server: kubectl mesh install has no server dry run (allowed: none, client)"},
		{[]string{"upgrade", "linkerd", "--dry-run=server"}, "--dry-run=server: kubectl mesh upgrade has no server dry run (allowed: none, client)"},
		{[]string{"install", "istio", "--dry-run=maybe"}, `--dry-run: unknown strategy "maybe" (allowed: none, server, client)`},
		{[]string{"install", "istio", "--timeout", "0s"}, "--timeout: 0s is not a positive duration"},
		{[]string{"install", "istio", "--profile", "bogus", "--dry-run=client"}, `--profile "bogus"`},
		{[]string{"install", "istio", "--set", "a=", "--set", "{", "--dry-run=client"}, "reading values"},
		{[]string{"install", "istio", "--offline", "--repo", "http://127.0.0.1:1"}, "--offline and --repo cannot be combined"},
		{[]string{"upgrade", "istio", "--offline", "--version", "1.31.4"}, "--offline and --version cannot be combined"},
		{[]string{"install", "linkerd", "--offline"}, "--offline is an Istio flag"},
		{[]string{"uninstall", "linkerd", "--revision", "canary"}, "--revision is an Istio flag"},
		{[]string{"revision", "tag", "set", "prod"}, "--revision is required"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, _, err := runRoot(t, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// --dry-run=client --offline renders from the embedded charts with no cluster and
// no network at all, and says in one line what they are.
func TestInstallDryRunRendersWithoutACluster(t *testing.T) {
	out, errOut, err := runRoot(t, "install", "istio", "--offline", "--profile", "minimal", "--revision", "canary", "--dry-run=client")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(errOut, "warning: --offline: ") || strings.Count(errOut, "\n") != 1 ||
		!strings.Contains(errOut, "development build of Istio's master branch") || !strings.Contains(errOut, "not for production") {
		t.Errorf("stderr %q, want the one-line notice of the development build", errOut)
	}
	for _, want := range []string{"kind: CustomResourceDefinition", "name: istiod-canary", "kind: Deployment"} {
		if !strings.Contains(out, want) {
			t.Errorf("the rendered manifests lack %q", want)
		}
	}
	if strings.Contains(out, "istio-ingressgateway") {
		t.Error("the minimal profile rendered a gateway")
	}
}

// Releases come from a repository; a version outside the tested range is
// one warning line, an unreachable repository one error line.
func TestInstallIstioReleases(t *testing.T) {
	charts, err := helmrepo.IstioReleases("1.29.8", istio.DefaultVersion)
	if err != nil {
		t.Fatal(err)
	}
	repo := helmrepo.ServeCharts(t, charts...)

	out, errOut, err := runRoot(t, "install", "istio", "--repo", repo, "--profile", "minimal", "--dry-run=client")
	if err != nil || errOut != "" || !strings.Contains(out, "docker.io/istio/pilot:"+istio.DefaultVersion) {
		t.Errorf("the default release: err %v, stderr %q; want istiod %s and no warning", err, errOut, istio.DefaultVersion)
	}
	out, errOut, err = runRoot(t, "install", "istio", "--repo", repo, "--version", "1.29.8", "--profile", "minimal", "--dry-run=client")
	want := "warning: Istio 1.29.8 is outside the versions this kubectl mesh was tested with (" + istio.TestedVersions + "); " + istio.DefaultVersion + " is the default\n"
	if err != nil || errOut != want || !strings.Contains(out, "docker.io/istio/pilot:1.29.8") {
		t.Errorf("an untested release: err %v, stderr %q; want istiod 1.29.8 and\n%q", err, errOut, want)
	}

	_, _, err = runRoot(t, "install", "istio", "--repo", "http://127.0.0.1:1/charts", "--dry-run=client")
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "http://127.0.0.1:1/charts") || !strings.Contains(err.Error(), "--offline") {
		t.Errorf("an unreachable repository: %v; want one line naming it and --offline", err)
	}
}

func TestPrintStatuses(t *testing.T) {
	now := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	var b bytes.Buffer
	printStatuses(&b, []*mesh.Status{
		{Mesh: "istio"},
		{Mesh: "linkerd", Installed: true, Namespace: "linkerd", Version: "edge-26.2.1",
			Revisions: []mesh.Revision{{Name: "default", Version: "edge-26.2.1", Components: []mesh.Component{
				{Name: "linkerd-destination", Ready: true, Replicas: "1/1"},
				{Name: "linkerd-identity", Ready: false, Replicas: "0/1", Message: "0 of 1 updated replicas available"},
			}}},
			Proxies:      []mesh.ProxyInfo{{Version: "edge-26.1.1", Pods: 3, Skew: true}},
			Certificates: []mesh.Certificate{{Name: "issuer", Subject: "CN=identity.linkerd.cluster.local", NotAfter: now.Add(30 * 24 * time.Hour), Expiring: true}},
			Warnings:     []string{"the issuer expires in 30 days"},
		},
	}, now)
	got := b.String()
	for _, want := range []string{
		"Linkerd edge-26.2.1 in linkerd",
		"linkerd-identity      no      0/1",
		"edge-26.1.1     -          3      yes",
		"2026-12-23   30d",
		"Warning: the issuer expires in 30 days",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("status output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "Istio") {
		t.Errorf("a mesh that is not installed was printed:\n%s", got)
	}

	b.Reset()
	printStatuses(&b, []*mesh.Status{{Mesh: "istio"}, {Mesh: "linkerd"}}, now)
	if got := b.String(); got != "No mesh installed (looked for istio, linkerd).\n" {
		t.Errorf("with nothing installed: %q", got)
	}
}

// A bare --dry-run reaches the command as client, with kubectl's warning on
// the command's stderr, and does not swallow the next argument.
func TestBareDryRunThroughTheCommand(t *testing.T) {
	out, errOut, err := runRoot(t, "install", "istio", "--offline", "--profile", "minimal", "--dry-run")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut, "Warning: --dry-run is deprecated and can be replaced with --dry-run=client.\n") {
		t.Errorf("stderr %q, want kubectl's deprecation warning", errOut)
	}
	if !strings.Contains(out, "kind: Deployment") {
		t.Errorf("a bare --dry-run did not render: %.200q", out)
	}
	_, errOut, err = runRoot(t, "install", "istio", "--offline", "--profile", "minimal", "--dry-run=client")
	if err != nil || strings.Contains(errOut, "deprecated") {
		t.Errorf("--dry-run=client: err %v, stderr %q; want no warning", err, errOut)
	}
}
