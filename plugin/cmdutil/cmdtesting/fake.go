// Package cmdtesting is the one fake of cmdutil.Factory, for command tests,
// as kubectl's pkg/cmd/testing is: the real kubeconfig flags (so -n and
// --kubeconfig behave as they do for users) over an empty kubeconfig, and
// fake clients, releases and meshes in place of a cluster.
package cmdtesting

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh/all"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/apply"
)

// ErrNoCluster is what a client the test did not provide returns.
var ErrNoCluster = errors.New("no cluster in this test")

// Factory is cmdutil.Factory over fakes. Zero fields mean "no such client
// in this test": asking for one fails with ErrNoCluster.
type Factory struct {
	// Factory is the real factory over Flags: namespace resolution and the
	// kubeconfig (empty, so a real client cannot be made).
	cmdutil.Factory
	Flags *genericclioptions.ConfigFlags

	Clientset *fake.Clientset
	Dynamic   dynamic.Interface
	// Apply is the pattern commands' client: NewApplyClient makes one
	// over a fake apiserver, and the dynamic client to go with it.
	Apply *apply.Client
	// Registry replaces the shipped meshes when set.
	Registry mesh.Registry
	// Releases are the mesh commands' Helm actions.
	Releases *Releases
	// WebhookReleases are the webhook commands', given the namespace.
	WebhookReleases func(namespace string) cmdutil.WebhookReleases
	// ConnectErr fails every client.
	ConnectErr error
	// Connects counts the clients commands asked for: a command that must
	// not reach a cluster leaves it at 0.
	Connects int
}

// NewFactory returns a Factory with a fake clientset holding objects, the
// shipped meshes and recording Helm releases.
func NewFactory(t testing.TB, objects ...runtime.Object) *Factory {
	t.Helper()
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	flags := genericclioptions.NewConfigFlags(true)
	*flags.KubeConfig = kubeconfig
	return &Factory{
		Factory:   cmdutil.NewFactory(flags, all.Registry()),
		Flags:     flags,
		Clientset: fake.NewClientset(objects...),
		Releases:  &Releases{},
	}
}

// ToRESTConfig is the empty kubeconfig's: no configuration.
func (f *Factory) ToRESTConfig() (*rest.Config, error) {
	f.Connects++
	return f.Factory.ToRESTConfig()
}

func (f *Factory) ToRESTMapper() (meta.RESTMapper, error) {
	f.Connects++
	return f.Factory.ToRESTMapper()
}

func (f *Factory) KubernetesClientSet() (kubernetes.Interface, error) {
	f.Connects++
	if f.ConnectErr != nil || f.Clientset == nil {
		return nil, noCluster(f.ConnectErr)
	}
	return f.Clientset, nil
}

func (f *Factory) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	cs, err := f.KubernetesClientSet()
	if err != nil {
		return nil, err
	}
	return memory.NewMemCacheClient(cs.Discovery()), nil
}

func (f *Factory) DynamicClient() (dynamic.Interface, error) {
	f.Connects++
	if f.ConnectErr != nil || f.Dynamic == nil {
		return nil, noCluster(f.ConnectErr)
	}
	return f.Dynamic, nil
}

func (f *Factory) ApplyClient() (*apply.Client, error) {
	f.Connects++
	if f.ConnectErr != nil || f.Apply == nil {
		return nil, noCluster(f.ConnectErr)
	}
	return f.Apply, nil
}

func (f *Factory) Meshes() mesh.Registry {
	if f.Registry != nil {
		return f.Registry
	}
	return f.Factory.Meshes()
}

func (f *Factory) MeshCluster(io.Writer) (*mesh.Cluster, cmdutil.Releases, error) {
	cs, err := f.KubernetesClientSet()
	if err != nil {
		return nil, nil, err
	}
	var releases cmdutil.Releases
	if f.Releases != nil {
		releases = f.Releases
	}
	return &mesh.Cluster{Clientset: cs}, releases, nil
}

func (f *Factory) Webhook(namespace string, _ io.Writer) (cmdutil.WebhookReleases, error) {
	f.Connects++
	if f.ConnectErr != nil || f.WebhookReleases == nil {
		return nil, noCluster(f.ConnectErr)
	}
	return f.WebhookReleases(namespace), nil
}

func noCluster(err error) error {
	if err != nil {
		return err
	}
	return ErrNoCluster
}

// Releases records the Helm actions a command takes.
type Releases struct {
	Applied     []lifecycle.Release
	Uninstalled []string
	Missing     map[string]bool // releases Uninstall finds gone already
	// Installed are what List finds, by their labels.
	Installed []lifecycle.ReleaseInfo
	Err       error
}

func (h *Releases) Apply(_ context.Context, rels []lifecycle.Release, _ lifecycle.Options) ([]lifecycle.Result, error) {
	h.Applied = append(h.Applied, rels...)
	var out []lifecycle.Result
	for _, r := range rels {
		out = append(out, lifecycle.Result{Component: r.Component, Release: r.Name, Namespace: r.Namespace, Revision: 2, Action: "upgraded"})
	}
	return out, h.Err
}

func (h *Releases) Uninstall(_ context.Context, name, _ string, _ time.Duration) (bool, error) {
	h.Uninstalled = append(h.Uninstalled, name)
	return !h.Missing[name], h.Err
}

func (h *Releases) List(_ context.Context, sel map[string]string) ([]lifecycle.ReleaseInfo, error) {
	var out []lifecycle.ReleaseInfo
	for _, r := range h.Installed {
		match := true
		for k, v := range sel {
			match = match && r.Labels[k] == v
		}
		if match {
			out = append(out, r)
		}
	}
	return out, nil
}

// NewCmd is a command's constructor.
type NewCmd func(genericiooptions.IOStreams, cmdutil.Factory) *cobra.Command

// Run executes `kubectl mesh ARGS` with stdin, under a root that has the
// kubeconfig flags and the commands newCmds build; it returns what the
// command printed.
func (f *Factory) Run(t testing.TB, stdin string, args []string, newCmds ...NewCmd) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut}
	root := &cobra.Command{Use: "kubectl-mesh", SilenceErrors: true, SilenceUsage: true}
	f.Flags.AddFlags(root.PersistentFlags())
	for _, newCmd := range newCmds {
		root.AddCommand(newCmd(streams, f))
	}
	root.SetArgs(args)
	root.SetOut(io.Discard)
	root.SetErr(io.Discard)
	err = root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}
