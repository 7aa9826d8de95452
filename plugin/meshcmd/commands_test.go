package meshcmd

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/addon"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil/cmdtesting"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
)

// fakeMesh is an adapter whose answers the test sets; it embeds the
// contract so that a method a test does not expect panics.
type fakeMesh struct {
	mesh.Mesh
	name      string
	installed bool
	status    *mesh.Status
	err       error // of Status, Detect, InUse and UninstallPlan
	inUse     []string
	plan      []lifecycle.Release
	purged    string
	planned   []mesh.InstallOptions
	refuse    error // of ValidateInstall and ValidateUninstall
}

func (f *fakeMesh) Name() string                              { return f.name }
func (f *fakeMesh) ValidateInstall(mesh.InstallOptions) error { return f.refuse }
func (f *fakeMesh) RenderWarning() string                     { return "" }
func (f *fakeMesh) Plan(_ context.Context, opts mesh.InstallOptions) ([]lifecycle.Release, error) {
	f.planned = append(f.planned, opts)
	return []lifecycle.Release{{Name: f.name + "-cp", Namespace: f.name, Component: "control-plane"}}, nil
}
func (f *fakeMesh) Status(context.Context, mesh.Cluster) (*mesh.Status, error) {
	if f.status != nil {
		return f.status, f.err
	}
	return &mesh.Status{Mesh: f.name, Installed: f.installed}, f.err
}
func (f *fakeMesh) Detect(context.Context, mesh.Cluster) (bool, error) { return f.installed, f.err }
func (f *fakeMesh) ValidateUninstall(mesh.UninstallOptions) error      { return f.refuse }
func (f *fakeMesh) InUse(context.Context, mesh.Cluster, mesh.UninstallOptions) ([]string, error) {
	return f.inUse, f.err
}
func (f *fakeMesh) UninstallPlan(context.Context, mesh.Cluster, mesh.UninstallOptions) ([]lifecycle.Release, error) {
	return f.plan, f.err
}
func (f *fakeMesh) Purge(context.Context, mesh.Cluster, mesh.UninstallOptions) (string, error) {
	return f.purged, nil
}
func (f *fakeMesh) HasProxy(*corev1.Pod) bool { return false }

// newFactory is the fake factory with the given meshes.
func newFactory(t *testing.T, meshes ...mesh.Mesh) *cmdtesting.Factory {
	f := cmdtesting.NewFactory(t)
	f.Registry = meshes
	return f
}

// checkMeshCmd checks a command's error (exactly wantErr, or none) and
// its standard output.
func checkMeshCmd(t *testing.T, out string, err error, wantOut, wantErr string) {
	t.Helper()
	if wantErr != "" {
		if err == nil || err.Error() != wantErr {
			t.Fatalf("error %v, want %q", err, wantErr)
		}
	} else if err != nil {
		t.Fatal(err)
	}
	if out != wantOut {
		t.Errorf("stdout %q, want %q", out, wantOut)
	}
}

func TestUninstallCommand(t *testing.T) {
	plan := []lifecycle.Release{{Name: "gw", Namespace: "sys", Component: "gateway"}, {Name: "cp", Namespace: "sys", Component: "control-plane"}}
	tests := []struct {
		name       string
		mesh       *fakeMesh
		helm       *cmdtesting.Releases
		args       []string
		wantOut    string
		wantErr    string
		wantRemove []string
	}{
		{name: "nothing installed", mesh: &fakeMesh{name: "alpha"}, args: []string{"alpha"},
			wantOut: "Nothing to uninstall: no alpha release found.\n"},
		{name: "in use", mesh: &fakeMesh{name: "alpha", plan: plan, inUse: []string{"namespace a", "namespace b", "pod a/1", "pod a/2", "pod b/1", "pod b/2"}},
			args: []string{"alpha"}, wantErr: "alpha is still in use: namespace a, namespace b, pod a/1, pod a/2, pod b/1 and 1 more; move them off the mesh first, or pass --force"},
		{name: "in use, forced", mesh: &fakeMesh{name: "alpha", plan: plan, inUse: []string{"namespace a"}},
			args: []string{"alpha", "--force"}, wantRemove: []string{"gw", "cp"},
			wantOut: "release \"gw\" uninstalled from sys (gateway)\nrelease \"cp\" uninstalled from sys (control-plane)\n"},
		{name: "a release already gone is not reported", mesh: &fakeMesh{name: "alpha", plan: plan}, helm: &cmdtesting.Releases{Missing: map[string]bool{"gw": true}},
			args: []string{"alpha"}, wantRemove: []string{"gw", "cp"}, wantOut: "release \"cp\" uninstalled from sys (control-plane)\n"},
		{name: "purge with nothing installed still purges", mesh: &fakeMesh{name: "alpha", purged: "deleted 3 Alpha CRDs"},
			args: []string{"alpha", "--purge"}, wantOut: "deleted 3 Alpha CRDs\n"},
		{name: "the adapter refuses a flag", mesh: &fakeMesh{name: "alpha", refuse: errors.New("--revision is not for alpha")},
			args: []string{"alpha", "--revision", "r"}, wantErr: "--revision is not for alpha"},
		{name: "failing uninstall", mesh: &fakeMesh{name: "alpha", plan: plan}, helm: &cmdtesting.Releases{Err: errors.New("boom")},
			args: []string{"alpha"}, wantRemove: []string{"gw"}, wantErr: "uninstalling gw: boom"},
		{name: "the adapter cannot read the cluster", mesh: &fakeMesh{name: "alpha", err: errors.New("forbidden")},
			args: []string{"alpha"}, wantErr: "forbidden"},
		{name: "timeout", mesh: &fakeMesh{name: "alpha"}, args: []string{"alpha", "--timeout", "0s"}, wantErr: "--timeout: 0s is not a positive duration"},
		{name: "unknown mesh", mesh: &fakeMesh{name: "alpha"}, args: []string{"consul"}, wantErr: `unknown mesh "consul" (allowed: alpha, beta)`},
		{name: "no mesh", mesh: &fakeMesh{name: "alpha"}, args: nil, wantErr: "accepts 1 arg(s), received 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFactory(t, tt.mesh, &fakeMesh{name: "beta"})
			if tt.helm != nil {
				f.Releases = tt.helm
			}
			out, _, err := f.Run(t, "", append([]string{"uninstall"}, tt.args...), NewCmdUninstall)
			checkMeshCmd(t, out, err, tt.wantOut, tt.wantErr)
			if strings.Join(f.Releases.Uninstalled, ",") != strings.Join(tt.wantRemove, ",") {
				t.Errorf("uninstalled %v, want %v", f.Releases.Uninstalled, tt.wantRemove)
			}
		})
	}
}

func TestStatusCommand(t *testing.T) {
	alpha := &fakeMesh{name: "alpha", status: &mesh.Status{Mesh: "alpha", Installed: true, Namespace: "alpha-system", Version: "1.2.3",
		Revisions: []mesh.Revision{{Name: "default", Version: "1.2.3", Components: []mesh.Component{{Name: "control-plane", Ready: true, Replicas: "1/1"}}}},
		Warnings:  []string{"something to act on"}}}
	beta := &fakeMesh{name: "beta"}
	addons := []lifecycle.ReleaseInfo{
		{Name: "grafana", Namespace: "alpha-system", ChartVersion: "9.2.2", Status: "deployed", Labels: map[string]string{addon.LabelAddon: "grafana", addon.LabelMesh: "alpha"}},
		{Name: "prometheus", Namespace: "beta-system", ChartVersion: "28.13.0", Status: "deployed", Labels: map[string]string{addon.LabelAddon: "prometheus", addon.LabelMesh: "beta"}},
		{Name: "alpha-cp", Namespace: "alpha-system", Status: "deployed", Labels: map[string]string{"kubectl-mesh.io/mesh": "alpha"}},
	}
	tests := []struct {
		name      string
		meshes    []mesh.Mesh
		installed []lifecycle.ReleaseInfo
		args      []string
		wantOut   []string // lines stdout must hold, in order
		notOut    string
		wantErr   string
	}{
		{name: "the add-ons of the meshes shown", meshes: []mesh.Mesh{alpha, beta}, installed: addons, args: []string{"alpha"},
			wantOut: []string{"Alpha 1.2.3 in alpha-system", "ADD-ON", "grafana   alpha-system   alpha   9.2.2     yes     http://grafana.alpha-system:3000"}, notOut: "prometheus"},
		{name: "every mesh, one installed", meshes: []mesh.Mesh{alpha, beta},
			wantOut: []string{"Alpha 1.2.3 in alpha-system", "REVISION", "default", "control-plane", "Warning: something to act on"}},
		{name: "none installed", meshes: []mesh.Mesh{beta, &fakeMesh{name: "gamma"}}, wantOut: []string{"No mesh installed (looked for beta, gamma)."}},
		{name: "one mesh as json", meshes: []mesh.Mesh{alpha, beta}, args: []string{"beta", "-o", "json"},
			wantOut: []string{`"mesh": "beta"`, `"installed": false`}},
		{name: "yaml", meshes: []mesh.Mesh{alpha}, args: []string{"-o", "yaml"}, wantOut: []string{"- installed: true", "mesh: alpha"}},
		{name: "unknown mesh", meshes: []mesh.Mesh{alpha, beta}, args: []string{"consul"}, wantErr: `unknown mesh "consul" (allowed: alpha, beta)`},
		{name: "unknown output", meshes: []mesh.Mesh{alpha}, args: []string{"-o", "wide"}, wantErr: "--output"},
		{name: "a mesh cannot be read", meshes: []mesh.Mesh{alpha, &fakeMesh{name: "beta", err: errors.New("forbidden")}},
			wantErr: "reading the status of beta: forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFactory(t, tt.meshes...)
			f.Releases.Installed = tt.installed
			out, _, err := f.Run(t, "", append([]string{"status"}, tt.args...), NewCmdStatus)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rest := out
			for _, want := range tt.wantOut {
				i := strings.Index(rest, want)
				if i < 0 {
					t.Fatalf("stdout lacks %q (in order):\n%s", want, out)
				}
				rest = rest[i+len(want):]
			}
			if tt.notOut != "" && strings.Contains(out, tt.notOut) {
				t.Errorf("stdout holds %q:\n%s", tt.notOut, out)
			}
		})
	}
}

func TestUpgradeCommand(t *testing.T) {
	tests := []struct {
		name      string
		mesh      *fakeMesh
		args      []string
		wantOut   string
		wantErr   string
		wantApply bool
	}{
		{name: "in place", mesh: &fakeMesh{name: "alpha", installed: true}, args: []string{"alpha", "--version", "2.0.0"}, wantApply: true,
			wantOut: "COMPONENT       RELEASE    NAMESPACE   REVISION   ACTION\ncontrol-plane   alpha-cp   alpha       2          upgraded\n"},
		{name: "without waiting", mesh: &fakeMesh{name: "alpha", installed: true}, args: []string{"alpha", "--wait=false"}, wantApply: true,
			wantOut: "COMPONENT       RELEASE    NAMESPACE   REVISION   ACTION\ncontrol-plane   alpha-cp   alpha       2          upgraded\nNot waiting for readiness: check with kubectl mesh status\n"},
		{name: "not installed", mesh: &fakeMesh{name: "alpha"}, args: []string{"alpha"},
			wantErr: "alpha is not installed: run kubectl mesh install alpha"},
		{name: "the adapter refuses a flag", mesh: &fakeMesh{name: "alpha", installed: true, refuse: errors.New("--profile is not for alpha")},
			args: []string{"alpha", "--profile", "demo"}, wantErr: "--profile is not for alpha"},
		{name: "status fails", mesh: &fakeMesh{name: "alpha", err: errors.New("forbidden")}, args: []string{"alpha"}, wantErr: "forbidden"},
		{name: "output without dry run", mesh: &fakeMesh{name: "alpha", installed: true}, args: []string{"alpha", "-o", "yaml"},
			wantErr: "-o/--output applies to --dry-run=client only"},
		{name: "unknown mesh", mesh: &fakeMesh{name: "alpha"}, args: []string{"consul"}, wantErr: `unknown mesh "consul" (allowed: alpha)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFactory(t, tt.mesh)
			out, _, err := f.Run(t, "", append([]string{"upgrade"}, tt.args...), NewCmdUpgrade)
			checkMeshCmd(t, out, err, tt.wantOut, tt.wantErr)
			if applied := len(f.Releases.Applied) > 0; applied != tt.wantApply {
				t.Fatalf("applied %v, want %v", f.Releases.Applied, tt.wantApply)
			}
			if tt.wantApply {
				opts := tt.mesh.planned[len(tt.mesh.planned)-1]
				if !opts.Upgrade || opts.Cluster == nil {
					t.Errorf("planned with %+v, want Upgrade and the cluster", opts)
				}
			}
		})
	}
}

func TestMeshCompletionFromTheRegistry(t *testing.T) {
	f := newFactory(t, &fakeMesh{name: "beta"}, &fakeMesh{name: "alpha"})
	streams := genericiooptions.NewTestIOStreamsDiscard()
	want := []string{"alpha", "beta"}
	for _, cmd := range []*cobra.Command{NewCmdInstall(streams, f), NewCmdUninstall(streams, f), NewCmdStatus(streams, f)} {
		if !slices.Equal(cmd.ValidArgs, want) {
			t.Errorf("%s: arguments complete to %v, want %v", cmd.Name(), cmd.ValidArgs, want)
		}
	}
	for _, sub := range NewCmdInject(streams, f).Commands() {
		complete, ok := sub.GetFlagCompletionFunc("mesh")
		if !ok {
			t.Fatalf("inject %s: --mesh has no completion", sub.Name())
		}
		if got, _ := complete(sub, nil, ""); !slices.Equal(got, want) {
			t.Errorf("inject %s --mesh completes to %v, want %v", sub.Name(), got, want)
		}
	}
}
