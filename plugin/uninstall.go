package plugin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh/istio"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh/linkerd"
)

const uninstallLong = `Uninstall a mesh's Helm releases, gateways and control plane first.

It refuses while namespaces are still enrolled for injection or pods still run
the mesh's proxies, which would lose their control plane: move them first, or
pass --force. CRDs, and with them every mesh resource, stay unless --purge.
Running it again when nothing is left is harmless.

For Istio, --revision removes one control plane (after a canary upgrade);
without it the default revision goes, and the shared base, CNI and ztunnel
releases go with the last revision. --purge removes every revision and Istio's
CRDs, as istioctl uninstall --purge does.`

const uninstallExample = `  # The default Istio revision
  kubectl mesh uninstall istio

  # The old revision after a canary upgrade
  kubectl mesh uninstall istio --revision 1-30

  # Everything, CRDs included, even with workloads still meshed
  kubectl mesh uninstall linkerd --purge --force`

// MeshUninstallOptions holds the flags of kubectl mesh uninstall.
type MeshUninstallOptions struct {
	Revision string
	Force    bool
	Purge    bool
	Timeout  time.Duration

	mesh        mesh.Mesh
	namespace   string
	configFlags *genericclioptions.ConfigFlags
	genericiooptions.IOStreams
}

// NewCmdUninstall creates `kubectl mesh uninstall istio|linkerd`.
func NewCmdUninstall(streams genericiooptions.IOStreams, configFlags *genericclioptions.ConfigFlags) *cobra.Command {
	o := &MeshUninstallOptions{IOStreams: streams, configFlags: configFlags, Timeout: 5 * time.Minute}
	cmd := &cobra.Command{
		Use:       "uninstall istio|linkerd [flags]",
		Short:     "Uninstall Istio or Linkerd",
		Long:      uninstallLong,
		Example:   uninstallExample,
		Args:      cobra.ExactArgs(1),
		ValidArgs: meshNames(),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := meshByName(args[0])
			if err != nil {
				return err
			}
			o.mesh = m
			if configFlags != nil && configFlags.Namespace != nil {
				o.namespace = *configFlags.Namespace
			}
			if o.Revision != "" && m.Name() != "istio" {
				return fmt.Errorf("--revision is an Istio flag; %s has one control plane", m.Name())
			}
			if o.Timeout <= 0 {
				return fmt.Errorf("--timeout: %s is not a positive duration", o.Timeout)
			}
			return o.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Revision, "revision", "", "Istio control plane revision to remove (default: the default revision)")
	f.BoolVar(&o.Force, "force", false, "Uninstall even while namespaces are enrolled or pods run the mesh's proxies")
	f.BoolVar(&o.Purge, "purge", false, "Also remove the CRDs, and with them every mesh resource (Istio: every revision)")
	f.DurationVar(&o.Timeout, "timeout", o.Timeout, "How long to wait for each release's objects (with --purge, also the CRDs) to be deleted")
	return cmd
}

// uninstallStep is one release to remove, whichever adapter planned it.
type uninstallStep struct{ name, namespace, component string }

// Run checks what still uses the mesh, then uninstalls its releases.
func (o *MeshUninstallOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	cluster, err := newMeshCluster(o.configFlags, o.ErrOut)
	if err != nil {
		return err
	}
	inUse, plan, err := o.plan(ctx, cluster)
	if err != nil {
		return err
	}
	if len(plan) == 0 && !o.Purge {
		fmt.Fprintf(o.Out, "Nothing to uninstall: no %s release found.\n", o.mesh.Name())
		return nil
	}
	if len(inUse) > 0 && !o.Force {
		return fmt.Errorf("%s is still in use: %s; move them off the mesh first, or pass --force", o.mesh.Name(), summarize(inUse, 5))
	}
	for _, r := range plan {
		existed, err := cluster.Helm.Uninstall(ctx, r.name, r.namespace, o.Timeout)
		if err != nil {
			return fmt.Errorf("uninstalling %s: %w", r.name, err)
		}
		if existed {
			fmt.Fprintf(o.Out, "release %q uninstalled from %s (%s)\n", r.name, r.namespace, r.component)
		}
	}
	if o.Purge && o.mesh.Name() == "istio" {
		warn := func(msg string) { fmt.Fprintln(o.ErrOut, "warning: "+msg) }
		crds, err := istio.PurgeCRDs(ctx, *cluster, o.Timeout, warn)
		if err != nil {
			return fmt.Errorf("purging Istio's CRDs: %w", err)
		}
		if len(crds) > 0 {
			fmt.Fprintf(o.Out, "deleted %d Istio CRDs and every resource of them\n", len(crds))
		}
	}
	return nil
}

// plan asks the adapter what uses the mesh and which releases to remove.
func (o *MeshUninstallOptions) plan(ctx context.Context, c *mesh.Cluster) (inUse []string, plan []uninstallStep, err error) {
	switch m := o.mesh.(type) {
	case *istio.Istio:
		usage, err := istio.InUse(ctx, *c, o.Revision)
		if err != nil {
			return nil, nil, err
		}
		for _, ns := range usage.Namespaces {
			inUse = append(inUse, "namespace "+ns)
		}
		for _, pod := range usage.Pods {
			inUse = append(inUse, "pod "+pod)
		}
		refs, err := istio.UninstallPlan(ctx, *c, o.Revision, o.Purge)
		if err != nil {
			return nil, nil, err
		}
		for _, r := range refs {
			plan = append(plan, uninstallStep{r.Name, r.Namespace, r.Component})
		}
	case *linkerd.Linkerd:
		if inUse, err = m.InUse(ctx, c, o.namespace); err != nil {
			return nil, nil, err
		}
		rels, err := m.UninstallPlan(ctx, c, o.namespace, o.Purge)
		if err != nil {
			return nil, nil, err
		}
		for _, r := range rels {
			plan = append(plan, uninstallStep{r.Name, r.Namespace, r.Component})
		}
	default:
		return nil, nil, errors.New("uninstalling " + o.mesh.Name() + " is not supported")
	}
	return inUse, plan, nil
}

// summarize lists up to n items and counts the rest.
func summarize(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:n], ", "), len(items)-n)
}
