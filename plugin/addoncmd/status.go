package addoncmd

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/addon"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/table"
)

// AddonStatusOptions holds the flags of `kubectl mesh addon status`.
type AddonStatusOptions struct {
	Output string

	name    string
	factory cmdutil.Factory
	genericiooptions.IOStreams
}

func newCmdAddonStatus(streams genericiooptions.IOStreams, f cmdutil.Factory) *cobra.Command {
	o := &AddonStatusOptions{IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "status [NAME]",
		Short: "Show the installed add-ons: version, readiness and in-cluster URL",
		Long: templates.LongDesc(`
			Show every installed add-on, or NAME: its chart version, whether its
			Deployments and StatefulSets are ready, and the URL it answers at inside
			the cluster (kubectl port-forward reaches it from outside).`),
		Example: templates.Examples(`
			kubectl mesh addon status
			kubectl mesh addon status grafana -o yaml`),
		Args:      cobra.MaximumNArgs(1),
		ValidArgs: addon.Names(),
		RunE:      cmdutil.RunOptions(f, o),
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "Output format: json or yaml (default: a table)")
	return cmd
}

// Complete reads NAME.
func (o *AddonStatusOptions) Complete(f cmdutil.Factory, _ *cobra.Command, args []string) error {
	o.factory = f
	if len(args) == 1 {
		a, err := addon.Get(args[0])
		if err != nil {
			return err
		}
		o.name = a.Name
	}
	return nil
}

// Validate checks -o.
func (o *AddonStatusOptions) Validate() error {
	if o.Output == "" {
		return nil
	}
	return cmdutil.ValidateOutputFormat(o.Output, "json", "yaml")
}

// Run lists the add-on releases and reads their workloads.
func (o *AddonStatusOptions) Run(ctx context.Context) error {
	cluster, helm, err := o.factory.MeshCluster(io.Discard)
	if err != nil {
		return err
	}
	sel := map[string]string{}
	if o.name != "" {
		sel[addon.LabelAddon] = o.name
	}
	rels, err := helm.List(ctx, sel)
	if err != nil {
		return err
	}
	statuses := []addon.Status{}
	for _, rel := range rels {
		if !addon.IsAddon(rel) || rel.Status == "uninstalled" {
			continue
		}
		st, err := addon.ReadStatus(ctx, cluster.Clientset, rel)
		if err != nil {
			return err
		}
		statuses = append(statuses, *st)
	}
	if o.Output != "" {
		return cmdutil.PrintStructured(o.Out, o.Output, statuses)
	}
	if len(statuses) == 0 {
		if o.name != "" {
			fmt.Fprintf(o.ErrOut, "%s is not installed.\n", o.name)
		} else {
			fmt.Fprintln(o.ErrOut, "No add-ons installed.")
		}
		return nil
	}
	var rows [][]string
	for _, st := range statuses {
		var waiting []string
		for _, w := range st.Workloads {
			if !w.Ready {
				waiting = append(waiting, fmt.Sprintf("%s/%s: %s", kindShort(w.Kind), w.Name, w.Message))
			}
		}
		if st.Release != "deployed" {
			waiting = append([]string{"release " + st.Release}, waiting...)
		}
		rows = append(rows, []string{st.Name, st.Namespace, st.Mesh, st.Version, table.YesNo(st.Ready), st.URL, table.Compact(waiting)})
	}
	return table.Print(o.Out, []string{"NAME", "NAMESPACE", "MESH", "VERSION", "READY", "URL", "MESSAGE"}, rows, table.Width)
}

func kindShort(kind string) string {
	if kind == "StatefulSet" {
		return "statefulset"
	}
	return "deployment"
}
