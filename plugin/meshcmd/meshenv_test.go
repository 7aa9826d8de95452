package meshcmd

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"

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

// fakeHelm records the Helm actions a command takes.
type fakeHelm struct {
	applied     []lifecycle.Release
	uninstalled []string
	missing     map[string]bool // releases Uninstall finds gone already
	err         error
}

func (h *fakeHelm) Apply(_ context.Context, rels []lifecycle.Release, _ lifecycle.Options) ([]lifecycle.Result, error) {
	h.applied = append(h.applied, rels...)
	var out []lifecycle.Result
	for _, r := range rels {
		out = append(out, lifecycle.Result{Component: r.Component, Release: r.Name, Namespace: r.Namespace, Revision: 2, Action: "upgraded"})
	}
	return out, h.err
}

func (h *fakeHelm) Uninstall(_ context.Context, name, _ string, _ time.Duration) (bool, error) {
	h.uninstalled = append(h.uninstalled, name)
	return !h.missing[name], h.err
}

// fakeMeshEnv is a meshEnv over a fake clientset, Helm and adapters.
func fakeMeshEnv(cs kubernetes.Interface, helm *fakeHelm, meshes ...mesh.Mesh) meshEnv {
	if cs == nil {
		cs = fake.NewClientset()
	}
	return meshEnv{
		registry: mesh.Registry(meshes),
		connect: func(io.Writer) (*mesh.Cluster, releaseActions, error) {
			if helm == nil {
				return &mesh.Cluster{Clientset: cs}, nil, nil
			}
			return &mesh.Cluster{Clientset: cs}, helm, nil
		},
	}
}

// runMeshCmd runs the command newCmd builds with args and returns what it
// printed.
func runMeshCmd(t *testing.T, newCmd func(genericiooptions.IOStreams, *genericclioptions.ConfigFlags) *cobra.Command, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	namespace := ""
	configFlags := genericclioptions.NewConfigFlags(false)
	configFlags.Namespace = &namespace
	cmd := newCmd(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, configFlags)
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	err = cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
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
		helm       *fakeHelm
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
		{name: "a release already gone is not reported", mesh: &fakeMesh{name: "alpha", plan: plan}, helm: &fakeHelm{missing: map[string]bool{"gw": true}},
			args: []string{"alpha"}, wantRemove: []string{"gw", "cp"}, wantOut: "release \"cp\" uninstalled from sys (control-plane)\n"},
		{name: "purge with nothing installed still purges", mesh: &fakeMesh{name: "alpha", purged: "deleted 3 Alpha CRDs"},
			args: []string{"alpha", "--purge"}, wantOut: "deleted 3 Alpha CRDs\n"},
		{name: "the adapter refuses a flag", mesh: &fakeMesh{name: "alpha", refuse: errors.New("--revision is not for alpha")},
			args: []string{"alpha", "--revision", "r"}, wantErr: "--revision is not for alpha"},
		{name: "failing uninstall", mesh: &fakeMesh{name: "alpha", plan: plan}, helm: &fakeHelm{err: errors.New("boom")},
			args: []string{"alpha"}, wantRemove: []string{"gw"}, wantErr: "uninstalling gw: boom"},
		{name: "the adapter cannot read the cluster", mesh: &fakeMesh{name: "alpha", err: errors.New("forbidden")},
			args: []string{"alpha"}, wantErr: "forbidden"},
		{name: "timeout", mesh: &fakeMesh{name: "alpha"}, args: []string{"alpha", "--timeout", "0s"}, wantErr: "--timeout: 0s is not a positive duration"},
		{name: "unknown mesh", mesh: &fakeMesh{name: "alpha"}, args: []string{"consul"}, wantErr: `unknown mesh "consul" (allowed: alpha, beta)`},
		{name: "no mesh", mesh: &fakeMesh{name: "alpha"}, args: nil, wantErr: "accepts 1 arg(s), received 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			helm := tt.helm
			if helm == nil {
				helm = &fakeHelm{}
			}
			env := fakeMeshEnv(nil, helm, tt.mesh, &fakeMesh{name: "beta"})
			out, _, err := runMeshCmd(t, func(s genericiooptions.IOStreams, f *genericclioptions.ConfigFlags) *cobra.Command {
				return newCmdUninstall(s, f, env)
			}, tt.args...)
			checkMeshCmd(t, out, err, tt.wantOut, tt.wantErr)
			if strings.Join(helm.uninstalled, ",") != strings.Join(tt.wantRemove, ",") {
				t.Errorf("uninstalled %v, want %v", helm.uninstalled, tt.wantRemove)
			}
		})
	}
}

func TestStatusCommand(t *testing.T) {
	alpha := &fakeMesh{name: "alpha", status: &mesh.Status{Mesh: "alpha", Installed: true, Namespace: "alpha-system", Version: "1.2.3",
		Revisions: []mesh.Revision{{Name: "default", Version: "1.2.3", Components: []mesh.Component{{Name: "control-plane", Ready: true, Replicas: "1/1"}}}},
		Warnings:  []string{"something to act on"}}}
	beta := &fakeMesh{name: "beta"}
	tests := []struct {
		name    string
		meshes  []mesh.Mesh
		args    []string
		wantOut []string // lines stdout must hold, in order
		wantErr string
	}{
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
			env := fakeMeshEnv(nil, nil, tt.meshes...)
			out, _, err := runMeshCmd(t, func(s genericiooptions.IOStreams, _ *genericclioptions.ConfigFlags) *cobra.Command {
				return newCmdStatus(s, env)
			}, tt.args...)
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
			helm := &fakeHelm{}
			env := fakeMeshEnv(nil, helm, tt.mesh)
			out, _, err := runMeshCmd(t, func(s genericiooptions.IOStreams, f *genericclioptions.ConfigFlags) *cobra.Command {
				return newCmdMeshInstall(s, f, env, true)
			}, tt.args...)
			checkMeshCmd(t, out, err, tt.wantOut, tt.wantErr)
			if applied := len(helm.applied) > 0; applied != tt.wantApply {
				t.Fatalf("applied %v, want %v", helm.applied, tt.wantApply)
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
	env := fakeMeshEnv(nil, nil, &fakeMesh{name: "beta"}, &fakeMesh{name: "alpha"})
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard}
	flags := genericclioptions.NewConfigFlags(false)
	want := []string{"alpha", "beta"}
	for _, cmd := range []*cobra.Command{newCmdMeshInstall(streams, flags, env, false), newCmdUninstall(streams, flags, env), newCmdStatus(streams, env)} {
		if !slices.Equal(cmd.ValidArgs, want) {
			t.Errorf("%s: arguments complete to %v, want %v", cmd.Name(), cmd.ValidArgs, want)
		}
	}
	for _, sub := range newCmdInject(streams, flags, env).Commands() {
		complete, ok := sub.GetFlagCompletionFunc("mesh")
		if !ok {
			t.Fatalf("inject %s: --mesh has no completion", sub.Name())
		}
		if got, _ := complete(sub, nil, ""); !slices.Equal(got, want) {
			t.Errorf("inject %s --mesh completes to %v, want %v", sub.Name(), got, want)
		}
	}
}
