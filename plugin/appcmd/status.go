package appcmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/app"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/apply"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/table"
)

// AppStatusOptions holds the flags of `kubectl mesh app status`.
type AppStatusOptions struct {
	AllNamespaces bool
	Output        string

	name      string
	namespace string
	factory   cmdutil.Factory
	genericiooptions.IOStreams
}

func newCmdAppStatus(streams genericiooptions.IOStreams, f cmdutil.Factory) *cobra.Command {
	o := &AppStatusOptions{IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "status [NAME] [-n NAMESPACE | -A]",
		Short: "Show the deployed apps: each workload's readiness and proxies",
		Long: templates.LongDesc(`
			Show the deployed apps: each workload's readiness, and how many of its
			pods run the mesh's proxy. NAME is looked for in -n, or the namespace
			named after it; without NAME, every deployed app is shown, or those in
			-n.`),
		Example: templates.Examples(`
			# bookinfo, in its own namespace
			kubectl mesh app status bookinfo

			# Every app, anywhere
			kubectl mesh app status -A`),
		Args:      cobra.MaximumNArgs(1),
		ValidArgs: app.Names(),
		RunE:      cmdutil.RunOptions(f, o),
	}
	cmd.Flags().BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "Look in every namespace (the default without NAME and -n)")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "Output format: json or yaml (default: a table)")
	return cmd
}

// Complete reads the app and the namespace.
func (o *AppStatusOptions) Complete(f cmdutil.Factory, _ *cobra.Command, args []string) error {
	o.factory = f
	if len(args) == 1 {
		a, err := app.Get(args[0])
		if err != nil {
			return err
		}
		o.name = a.Name()
		o.namespace = defaultNamespace(f, a)
	} else {
		o.namespace = cmdutil.NamespaceOverride(f)
	}
	return nil
}

// Validate checks the flags.
func (o *AppStatusOptions) Validate() error {
	if o.AllNamespaces && cmdutil.NamespaceOverride(o.factory) != "" {
		return fmt.Errorf("-A and -n: name one namespace or all of them")
	}
	if o.Output == "" {
		return nil
	}
	return cmdutil.ValidateOutputFormat(o.Output, "json", "yaml")
}

// appStatus is one deployed app as -o json|yaml prints it.
type appStatus struct {
	Name      string         `json:"name"`
	Namespace string         `json:"namespace"`
	Mesh      string         `json:"mesh"`
	Workloads []app.Workload `json:"workloads"`
}

// Run lists the deployed apps and reads their workloads.
func (o *AppStatusOptions) Run(ctx context.Context) error {
	client, err := o.factory.ApplyClient()
	if err != nil {
		return err
	}
	cs, err := o.factory.KubernetesClientSet()
	if err != nil {
		return err
	}
	where := o.namespace
	if o.AllNamespaces {
		where = ""
	}
	sets, err := client.List(ctx, apply.KindApp, where, apply.DefaultWorkers)
	if err != nil {
		return err
	}
	var statuses []appStatus
	for _, s := range sets {
		if o.name != "" && s.Pattern != o.name {
			continue
		}
		var hasProxy func(*corev1.Pod) bool
		if m, err := o.factory.Meshes().Get(s.Mesh); err == nil {
			hasProxy = m.HasProxy
		}
		workloads, err := app.Workloads(ctx, cs, s.Namespace, s.Pattern, hasProxy)
		if err != nil {
			return err
		}
		statuses = append(statuses, appStatus{Name: s.Pattern, Namespace: s.Namespace, Mesh: s.Mesh, Workloads: workloads})
	}
	if o.Output != "" {
		if statuses == nil {
			statuses = []appStatus{}
		}
		return cmdutil.PrintStructured(o.Out, o.Output, statuses)
	}
	if len(statuses) == 0 {
		switch {
		case o.name != "":
			fmt.Fprintf(o.ErrOut, "%s is not deployed in namespace %s.\n", o.name, o.namespace)
		case where != "":
			fmt.Fprintf(o.ErrOut, "No apps deployed in namespace %s.\n", where)
		default:
			fmt.Fprintln(o.ErrOut, "No apps deployed.")
		}
		return nil
	}
	var rows [][]string
	for _, st := range statuses {
		for _, w := range st.Workloads {
			rows = append(rows, []string{st.Namespace, st.Name, st.Mesh, w.Name, table.YesNo(w.Ready), w.Replicas, table.OrDash(w.Proxies), w.Message})
		}
	}
	return table.Print(o.Out, []string{"NAMESPACE", "APP", "MESH", "WORKLOAD", "READY", "REPLICAS", "PROXIES", "MESSAGE"}, rows, 120)
}
