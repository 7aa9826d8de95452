package addoncmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"helm.sh/helm/v4/pkg/cli/values"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/addon"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/table"
)

var (
	addonLong = templates.LongDesc(`
		Install the add-ons that make a mesh observable, set up for the mesh in
		the cluster: Prometheus, Grafana, Jaeger and Kiali for Istio; Prometheus,
		Grafana and Linkerd's viz and jaeger extensions for Linkerd.

		Each is a Helm release of its project's official chart, at the version
		kubectl mesh pins unless --version says otherwise, installed through the
		same Helm client, waits and rollback as kubectl mesh install. Prometheus
		scrapes the mesh's proxies and control plane; Grafana reads that
		Prometheus and provisions the mesh's dashboards; Kiali reads it too.`)

	addonExample = templates.Examples(`
		# The add-ons, then Prometheus and Grafana for the mesh in the cluster
		kubectl mesh addon list
		kubectl mesh addon install prometheus
		kubectl mesh addon install grafana

		# Versions, readiness and in-cluster URLs
		kubectl mesh addon status

		# Remove one
		kubectl mesh addon uninstall grafana`)
)

// NewCmdAddon creates `kubectl mesh addon` and its subcommands.
func NewCmdAddon(streams genericiooptions.IOStreams, f cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "addon",
		Short:   "Install, inspect and remove the observability add-ons of a mesh",
		Long:    addonLong,
		Example: addonExample,
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newCmdAddonList(streams, f), newCmdAddonInstall(streams, f), newCmdAddonUninstall(streams, f), newCmdAddonStatus(streams, f))
	return cmd
}

// AddonListOptions holds the flags of `kubectl mesh addon list`.
type AddonListOptions struct {
	Output string
	genericiooptions.IOStreams
}

func newCmdAddonList(streams genericiooptions.IOStreams, f cmdutil.Factory) *cobra.Command {
	o := &AddonListOptions{IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the add-ons, the meshes each is for, and their charts",
		Long: templates.LongDesc(`
			List the add-ons kubectl mesh installs: the meshes each is for, its
			chart and the version installed without --version; -o json|yaml adds
			the repository. addon status shows the installed ones.`),
		Example: templates.Examples(`
			kubectl mesh addon list`),
		Args: cobra.NoArgs,
		RunE: cmdutil.RunOptions(f, o),
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "Output format: json or yaml (default: a table)")
	return cmd
}

// Complete has nothing to fill in.
func (o *AddonListOptions) Complete(cmdutil.Factory, *cobra.Command, []string) error { return nil }

// Validate checks -o.
func (o *AddonListOptions) Validate() error {
	if o.Output == "" {
		return nil
	}
	return cmdutil.ValidateOutputFormat(o.Output, "json", "yaml")
}

// addonItem is one add-on as -o json|yaml prints it.
type addonItem struct {
	Name        string            `json:"name"`
	Meshes      []string          `json:"meshes"`
	Chart       string            `json:"chart"`
	Version     string            `json:"version"`
	Repository  string            `json:"repository"`
	Namespaces  map[string]string `json:"namespaces"`
	Description string            `json:"description"`
}

// Run prints the catalog.
func (o *AddonListOptions) Run(context.Context) error {
	var items []addonItem
	var rows [][]string
	for _, a := range addon.All() {
		ns := map[string]string{}
		for _, m := range a.Meshes {
			ns[m] = a.Namespace(m)
		}
		items = append(items, addonItem{Name: a.Name, Meshes: a.Meshes, Chart: a.Chart, Version: a.Version, Repository: a.Repo, Namespaces: ns, Description: a.Description})
		rows = append(rows, []string{a.Name, strings.Join(a.Meshes, ","), a.Chart, a.Version, a.Description})
	}
	if o.Output != "" {
		return cmdutil.PrintStructured(o.Out, o.Output, items)
	}
	return table.Print(o.Out, []string{"NAME", "MESHES", "CHART", "VERSION", "DESCRIPTION"}, rows, table.Width)
}

// AddonInstallOptions holds the flags of `kubectl mesh addon install`.
type AddonInstallOptions struct {
	Mesh          string
	Repo, Version string
	Values        values.Options
	Wait          bool
	Timeout       time.Duration
	DryRun        string
	Output        string
	KubeVersion   string
	Pull          lifecycle.PullOptions

	addon     addon.Addon
	namespace string
	vals      map[string]any
	dryRun    cmdutil.DryRunStrategy
	factory   cmdutil.Factory
	genericiooptions.IOStreams
}

func newCmdAddonInstall(streams genericiooptions.IOStreams, f cmdutil.Factory) *cobra.Command {
	o := &AddonInstallOptions{IOStreams: streams, Wait: true, Timeout: lifecycle.DefaultTimeout}
	cmd := &cobra.Command{
		Use:   "install NAME [--mesh MESH] [-n NAMESPACE]",
		Short: "Install or upgrade an add-on, set up for the mesh in the cluster",
		Long: templates.LongDesc(`
			Install an add-on as a Helm release, or upgrade it when it is installed,
			from its project's chart repository (--repo for a mirror) at the version
			kubectl mesh pins, or for Linkerd's extensions the installed Linkerd's
			release (--version for another), into the namespace the mesh's
			documentation installs it in (-n for another). Values given with -f and
			--set go over the ones kubectl mesh sets for the mesh.

			--mesh defaults to the mesh installed in the cluster. --dry-run=client
			prints the manifests without a cluster (--mesh is then required).`),
		Example: templates.Examples(`
			# Prometheus for the mesh in the cluster, then Kiali over it
			kubectl mesh addon install prometheus
			kubectl mesh addon install kiali

			# Grafana from a mirror, with a values file
			kubectl mesh addon install grafana --repo https://charts.example.com/grafana -f grafana.yaml

			# The manifests of Linkerd's viz extension, without a cluster
			kubectl mesh addon install linkerd-viz --mesh linkerd --dry-run=client -o yaml`),
		Args:      cobra.ExactArgs(1),
		ValidArgs: addon.Names(),
		RunE:      cmdutil.RunOptions(f, o),
	}
	flags := cmd.Flags()
	cmdutil.AddMeshFlag(cmd, &o.Mesh, f.Meshes().Names(), "Mesh to set the add-on up for (default: the mesh installed in the cluster)")
	flags.StringVar(&o.Repo, "repo", "", "Helm repository URL to take the chart from (default: the add-on's official repository, see addon list -o yaml)")
	flags.StringVar(&o.Version, "version", "", "Chart version or semver range (default: the version addon list shows)")
	flags.StringSliceVarP(&o.Values.ValueFiles, "values", "f", nil, "Values files (YAML) applied over kubectl mesh's values; repeat for several, the last wins")
	flags.StringArrayVar(&o.Values.Values, "set", nil, "Set a value, as KEY=VALUE (dots for nesting); repeat for several")
	flags.StringArrayVar(&o.Values.StringValues, "set-string", nil, "Set a STRING value, as KEY=VALUE; repeat for several")
	flags.BoolVar(&o.Wait, "wait", o.Wait, "Wait until the add-on is ready; one that fails is rolled back")
	flags.DurationVar(&o.Timeout, "timeout", o.Timeout, "How long to wait")
	cmdutil.AddDryRunFlag(cmd, &o.DryRun, `Must be "none" or "client" (print the manifests instead of installing; no cluster needed)`)
	flags.StringVarP(&o.Output, "output", "o", "", "With --dry-run=client: yaml (the default)")
	flags.StringVar(&o.KubeVersion, "kube-version", "", "Kubernetes version the templates see with --dry-run=client (default: the version kubectl mesh is built for)")
	cmdutil.AddChartPullFlags(cmd, &o.Pull)
	return cmd
}

// Complete picks the add-on and reads the values.
func (o *AddonInstallOptions) Complete(f cmdutil.Factory, _ *cobra.Command, args []string) error {
	a, err := addon.Get(args[0])
	if err != nil {
		return err
	}
	o.addon, o.factory = a, f
	o.namespace = cmdutil.NamespaceOverride(f)
	if o.dryRun, err = cmdutil.ParseDryRun(o.DryRun, o.ErrOut, "kubectl mesh addon install", cmdutil.DryRunNone, cmdutil.DryRunClient); err != nil {
		return err
	}
	if o.vals, err = cmdutil.ReadValues(&o.Values); err != nil {
		return err
	}
	return nil
}

// Validate checks the flags against each other and the add-on.
func (o *AddonInstallOptions) Validate() error {
	if err := cmdutil.ValidateMeshFlag(o.Mesh, o.factory.Meshes().Names()...); err != nil {
		return err
	}
	if o.Mesh != "" && !o.addon.Supports(o.Mesh) {
		return fmt.Errorf("--mesh: %s is not an add-on of %s (it is of %s)", o.addon.Name, o.Mesh, strings.Join(o.addon.Meshes, ", "))
	}
	if o.Output != "" {
		if o.dryRun != cmdutil.DryRunClient {
			return errors.New("-o/--output applies to --dry-run=client only")
		}
		if err := cmdutil.ValidateOutputFormat(o.Output, "yaml"); err != nil {
			return err
		}
	}
	if o.dryRun == cmdutil.DryRunClient && o.Mesh == "" {
		return errors.New("--mesh is required with --dry-run=client: there is no cluster to find the mesh in")
	}
	if o.Timeout <= 0 {
		return fmt.Errorf("--timeout: %s is not a positive duration", o.Timeout)
	}
	return nil
}

func (o *AddonInstallOptions) planOptions(meshName string) addon.PlanOptions {
	return addon.PlanOptions{Mesh: meshName, Namespace: o.namespace, Repo: o.Repo, Version: o.Version, Pull: o.Pull, Values: o.vals}
}

// Run renders, or applies the add-on's release and prints it.
func (o *AddonInstallOptions) Run(ctx context.Context) error {
	if o.dryRun == cmdutil.DryRunClient {
		rels, err := o.addon.Plan(ctx, o.planOptions(o.Mesh))
		if err != nil {
			return err
		}
		manifests, err := lifecycle.Render(rels, o.KubeVersion)
		if err != nil {
			return err
		}
		_, err = io.WriteString(o.Out, manifests)
		return err
	}
	cluster, helm, err := o.factory.MeshCluster(o.ErrOut)
	if err != nil {
		return err
	}
	m, err := o.mesh(ctx, *cluster)
	if err != nil {
		return err
	}
	meshName := m.Name()
	opts := o.planOptions(meshName)
	// Grafana and Kiali read the prometheus add-on where it is installed.
	installed, err := helm.List(ctx, map[string]string{addon.LabelAddon: "prometheus", addon.LabelMesh: meshName})
	if err != nil {
		return err
	}
	installed = slices.DeleteFunc(installed, func(r lifecycle.ReleaseInfo) bool { return r.Status == "uninstalled" })
	if len(installed) == 1 {
		opts.PrometheusNamespace = installed[0].Namespace
	}
	// Kiali and Linkerd's extensions name the control plane's namespace,
	// which need not be the mesh's default.
	if st, err := m.Status(ctx, *cluster); err != nil {
		fmt.Fprintf(o.ErrOut, "warning: reading the status of %s: %v; assuming its control plane is in its default namespace\n", meshName, err)
	} else if st.Installed {
		opts.MeshNamespace, opts.MeshVersion = st.Namespace, st.Version
	}
	rels, err := o.addon.Plan(ctx, opts)
	if err != nil {
		return err
	}
	if err := refuseForeign(ctx, helm, rels[0]); err != nil {
		return err
	}
	results, err := helm.Apply(ctx, rels, lifecycle.Options{Wait: o.Wait, Timeout: o.Timeout, Progress: o.ErrOut})
	for _, r := range results {
		fmt.Fprintf(o.Out, "%s %s in namespace %s (revision %d) for %s: %s\n", r.Release, r.Action, r.Namespace, r.Revision, meshName, o.addon.URL(r.Namespace))
	}
	if err != nil {
		return err
	}
	if !o.Wait {
		fmt.Fprintln(o.Out, "Not waiting for readiness: check with kubectl mesh addon status")
	}
	return nil
}

// refuseForeign refuses to upgrade a release of the add-on's name that
// addon install did not make (someone's own helm install grafana).
func refuseForeign(ctx context.Context, helm cmdutil.Releases, rel lifecycle.Release) error {
	all, err := helm.List(ctx, nil)
	if err != nil {
		return err
	}
	for _, r := range all {
		if r.Name == rel.Name && r.Namespace == rel.Namespace && r.Status != "uninstalled" && !addon.IsAddon(r) {
			return fmt.Errorf("namespace %s holds a Helm release %s that kubectl mesh addon install did not make: install into another namespace with -n", r.Namespace, r.Name)
		}
	}
	return nil
}

// mesh is --mesh's adapter, or the mesh installed in the cluster.
func (o *AddonInstallOptions) mesh(ctx context.Context, c mesh.Cluster) (mesh.Mesh, error) {
	m, err := cmdutil.MeshOrDetected(ctx, o.factory, c, o.Mesh,
		"install one with kubectl mesh install, or name the mesh to set "+o.addon.Name+" up for with --mesh")
	if err != nil || o.Mesh != "" {
		return m, err
	}
	if !o.addon.Supports(m.Name()) {
		return nil, fmt.Errorf("%s is not an add-on of %s, the mesh in the cluster (it is of %s)", o.addon.Name, m.Name(), strings.Join(o.addon.Meshes, ", "))
	}
	return m, nil
}

// AddonUninstallOptions holds the flags of `kubectl mesh addon uninstall`.
type AddonUninstallOptions struct {
	Timeout time.Duration

	addon     addon.Addon
	namespace string
	factory   cmdutil.Factory
	genericiooptions.IOStreams
}

func newCmdAddonUninstall(streams genericiooptions.IOStreams, f cmdutil.Factory) *cobra.Command {
	o := &AddonUninstallOptions{IOStreams: streams, Timeout: lifecycle.DefaultTimeout}
	cmd := &cobra.Command{
		Use:   "uninstall NAME [-n NAMESPACE]",
		Short: "Remove an add-on's release, and nothing else",
		Long: templates.LongDesc(`
			Remove the add-on's Helm release and the objects it made, waiting until
			they are gone; its namespace and everything else stay. The release is
			looked for in -n, else wherever addon install put it; a release of the
			same name that addon install did not make is left alone.`),
		Example: templates.Examples(`
			kubectl mesh addon uninstall grafana`),
		Args:      cobra.ExactArgs(1),
		ValidArgs: addon.Names(),
		RunE:      cmdutil.RunOptions(f, o),
	}
	cmd.Flags().DurationVar(&o.Timeout, "timeout", o.Timeout, "How long to wait for the objects to be gone")
	return cmd
}

// Complete picks the add-on.
func (o *AddonUninstallOptions) Complete(f cmdutil.Factory, _ *cobra.Command, args []string) error {
	a, err := addon.Get(args[0])
	if err != nil {
		return err
	}
	o.addon, o.factory, o.namespace = a, f, cmdutil.NamespaceOverride(f)
	return nil
}

// Validate checks --timeout.
func (o *AddonUninstallOptions) Validate() error {
	if o.Timeout <= 0 {
		return fmt.Errorf("--timeout: %s is not a positive duration", o.Timeout)
	}
	return nil
}

// Run finds the release and uninstalls it.
func (o *AddonUninstallOptions) Run(ctx context.Context) error {
	_, helm, err := o.factory.MeshCluster(o.ErrOut)
	if err != nil {
		return err
	}
	// Only a release addon install made: a helm release of the same name
	// that someone else installed is not ours to remove.
	installed, err := helm.List(ctx, map[string]string{addon.LabelAddon: o.addon.Name})
	if err != nil {
		return err
	}
	var where []string
	for _, r := range installed {
		if r.Status != "uninstalled" && (o.namespace == "" || r.Namespace == o.namespace) {
			where = append(where, r.Namespace)
		}
	}
	slices.Sort(where)
	switch {
	case len(where) == 0 && o.namespace != "":
		fmt.Fprintf(o.Out, "%s is not installed in namespace %s\n", o.addon.Name, o.namespace)
		return nil
	case len(where) == 0:
		fmt.Fprintf(o.Out, "%s is not installed\n", o.addon.Name)
		return nil
	case len(where) > 1:
		return fmt.Errorf("%s is installed in namespaces %s: choose one with -n", o.addon.Name, strings.Join(where, ", "))
	}
	ns := where[0]
	existed, err := helm.Uninstall(ctx, o.addon.Name, ns, o.Timeout)
	if err != nil {
		return err
	}
	if !existed {
		fmt.Fprintf(o.Out, "%s is not installed in namespace %s\n", o.addon.Name, ns)
		return nil
	}
	fmt.Fprintf(o.Out, "%s uninstalled from namespace %s\n", o.addon.Name, ns)
	return nil
}
