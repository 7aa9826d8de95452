package meshcmd

import (
	"context"
	"fmt"
	"time"

	"k8s.io/kubectl/pkg/util/templates"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
)

var uninstallLong = templates.LongDesc(`Uninstall a mesh's Helm releases, gateways and control plane first.

It refuses while namespaces are still enrolled for injection or pods still run
the mesh's proxies, which would lose their control plane: move them first, or
pass --force. CRDs, and with them every mesh resource, stay unless --purge.
Running it again when nothing is left is harmless.

For Istio, --revision removes one control plane (after a canary upgrade);
without it the default revision goes, and the shared base, CNI and ztunnel
releases go with the last revision. --purge removes every revision and Istio's
CRDs, as istioctl uninstall --purge does.`)

var uninstallExample = templates.Examples(`  # The default Istio revision
  kubectl mesh uninstall istio

  # The old revision after a canary upgrade
  kubectl mesh uninstall istio --revision 1-30

  # Everything, CRDs included, even with workloads still meshed
  kubectl mesh uninstall linkerd --purge --force`)

// MeshUninstallOptions holds the flags of kubectl mesh uninstall.
type MeshUninstallOptions struct {
	Revision string
	Force    bool
	Purge    bool
	Timeout  time.Duration

	mesh    mesh.Mesh
	opts    mesh.UninstallOptions
	factory cmdutil.Factory
	genericiooptions.IOStreams
}

// NewCmdUninstall creates `kubectl mesh uninstall istio|linkerd`.
func NewCmdUninstall(streams genericiooptions.IOStreams, factory cmdutil.Factory) *cobra.Command {
	o := &MeshUninstallOptions{IOStreams: streams, Timeout: 5 * time.Minute}
	cmd := &cobra.Command{
		Use:       "uninstall istio|linkerd",
		Short:     "Uninstall Istio or Linkerd",
		Long:      uninstallLong,
		Example:   uninstallExample,
		Args:      cobra.ExactArgs(1),
		ValidArgs: factory.Meshes().Names(),
		RunE:      cmdutil.RunOptions(factory, o),
	}
	f := cmd.Flags()
	f.StringVar(&o.Revision, "revision", "", "Istio control plane revision to remove (default: the default revision)")
	f.BoolVar(&o.Force, "force", false, "Uninstall even while namespaces are enrolled or pods run the mesh's proxies")
	f.BoolVar(&o.Purge, "purge", false, "Also remove the CRDs, and with them every mesh resource (Istio: every revision)")
	f.DurationVar(&o.Timeout, "timeout", o.Timeout, "How long to wait for each release's objects (with --purge, also the CRDs) to be deleted")
	return cmd
}

// Complete picks the mesh and gathers what the adapter is asked for.
func (o *MeshUninstallOptions) Complete(f cmdutil.Factory, _ *cobra.Command, args []string) error {
	m, err := f.Meshes().Get(args[0])
	if err != nil {
		return err
	}
	o.mesh, o.factory = m, f
	o.opts = mesh.UninstallOptions{Revision: o.Revision, Purge: o.Purge, Timeout: o.Timeout,
		Warn: func(msg string) { fmt.Fprintln(o.ErrOut, "warning: "+msg) }}
	o.opts.Namespace = cmdutil.NamespaceOverride(f)
	return nil
}

// Validate checks the flags against the mesh.
func (o *MeshUninstallOptions) Validate() error {
	if err := o.mesh.ValidateUninstall(o.opts); err != nil {
		return err
	}
	if o.Timeout <= 0 {
		return fmt.Errorf("--timeout: %s is not a positive duration", o.Timeout)
	}
	return nil
}

// Run checks what still uses the mesh, then uninstalls its releases.
func (o *MeshUninstallOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	cluster, helm, err := o.factory.MeshCluster(o.ErrOut)
	if err != nil {
		return err
	}
	inUse, err := o.mesh.InUse(ctx, *cluster, o.opts)
	if err != nil {
		return err
	}
	plan, err := o.mesh.UninstallPlan(ctx, *cluster, o.opts)
	if err != nil {
		return err
	}
	if len(plan) == 0 && !o.Purge {
		fmt.Fprintf(o.Out, "Nothing to uninstall: no %s release found.\n", o.mesh.Name())
		return nil
	}
	if len(inUse) > 0 && !o.Force {
		return fmt.Errorf("%s is still in use: %s; move them off the mesh first, or pass --force", o.mesh.Name(), cmdutil.Summarize(inUse, 5))
	}
	for _, r := range plan {
		existed, err := helm.Uninstall(ctx, r.Name, r.Namespace, o.Timeout)
		if err != nil {
			return fmt.Errorf("uninstalling %s: %w", r.Name, err)
		}
		if existed {
			fmt.Fprintf(o.Out, "release %q uninstalled from %s (%s)\n", r.Name, r.Namespace, r.Component)
		}
	}
	if !o.Purge {
		return nil
	}
	done, err := o.mesh.Purge(ctx, *cluster, o.opts)
	if err != nil {
		return err
	}
	if done != "" {
		fmt.Fprintln(o.Out, done)
	}
	return nil
}
