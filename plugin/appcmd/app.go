package appcmd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/app"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/apply"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/table"
)

var (
	appLong = templates.LongDesc(`
		Deploy the sample applications mesh tutorials use, set up for the mesh in
		the cluster: bookinfo, httpbin, curl, emojivoto and booksapp.

		The manifests are in kubectl mesh, with pinned images, protocol-named
		ports, resource requests and, for the mesh, its routing objects (Istio:
		Gateway, VirtualService and DestinationRule with version subsets; Linkerd:
		injection, and booksapp's ServiceProfiles). Every app passes kubectl mesh
		check without a warning. An app is an ApplySet, as a pattern is: delete
		removes exactly what deploy created.`)

	appExample = templates.Examples(`
		# The apps, then bookinfo for the mesh installed in the cluster
		kubectl mesh app list
		kubectl mesh app deploy bookinfo --wait

		# Its workloads: readiness and proxies
		kubectl mesh app status bookinfo

		# Remove it, namespace included
		kubectl mesh app delete bookinfo`)

	appDeployLong = templates.LongDesc(`
		Deploy an app into -n, or a namespace named after it, created and
		enrolled for the mesh's proxy injection. A namespace that exists and
		holds anything beyond what Kubernetes puts in every namespace (and the
		app's own objects) is refused unless --force: delete would otherwise
		remove a namespace that holds someone else's work. Deploying again
		updates the app, pruning what it no longer has.

		--mesh defaults to the mesh installed in the cluster; --mesh none deploys
		without one. For Istio the way in is a Gateway API Gateway and HTTPRoute
		when the cluster serves the Gateway API, else an Istio Gateway and
		VirtualService (--ingress chooses).

		--dry-run=client prints the objects without a cluster (--mesh is then
		required); --dry-run=server has the apiserver check them, persisting
		nothing.`)

	appDeployExample = templates.Examples(`
		# bookinfo for the installed mesh, waiting for its workloads
		kubectl mesh app deploy bookinfo --wait

		# httpbin without a mesh, into an existing namespace
		kubectl mesh app deploy httpbin -n test --mesh none --force

		# The objects emojivoto is for Linkerd, without a cluster
		kubectl mesh app deploy emojivoto --mesh linkerd --dry-run=client -o yaml`)
)

// NewCmdApp creates `kubectl mesh app` and its subcommands.
func NewCmdApp(streams genericiooptions.IOStreams, f cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "app",
		Short:   "Deploy, inspect and delete the sample applications of mesh tutorials",
		Long:    appLong,
		Example: appExample,
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newCmdAppList(streams, f), newCmdAppDeploy(streams, f), newCmdAppDelete(streams, f), newCmdAppStatus(streams, f))
	return cmd
}

// AppListOptions holds the flags of `kubectl mesh app list`.
type AppListOptions struct {
	Output string
	genericiooptions.IOStreams
}

func newCmdAppList(streams genericiooptions.IOStreams, f cmdutil.Factory) *cobra.Command {
	o := &AppListOptions{IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the sample applications and the meshes each supports",
		Long: templates.LongDesc(`
			List the sample applications kubectl mesh deploys and the meshes each
			supports; app status shows the deployed ones.`),
		Example: templates.Examples(`
			kubectl mesh app list`),
		Args: cobra.NoArgs,
		RunE: cmdutil.RunOptions(f, o),
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "Output format: json or yaml (default: a table)")
	return cmd
}

// Complete has nothing to fill in.
func (o *AppListOptions) Complete(cmdutil.Factory, *cobra.Command, []string) error { return nil }

// Validate checks -o.
func (o *AppListOptions) Validate() error {
	if o.Output == "" {
		return nil
	}
	return cmdutil.ValidateOutputFormat(o.Output, "json", "yaml")
}

// appItem is one app as -o json|yaml prints it.
type appItem struct {
	Name        string   `json:"name"`
	Meshes      []string `json:"meshes"`
	Description string   `json:"description"`
}

// Run prints the catalog.
func (o *AppListOptions) Run(context.Context) error {
	var items []appItem
	var rows [][]string
	for _, name := range app.Names() {
		a, _ := app.Get(name)
		items = append(items, appItem{Name: name, Meshes: a.Meshes(), Description: a.Description()})
		rows = append(rows, []string{name, strings.Join(a.Meshes(), ","), a.Description()})
	}
	if o.Output != "" {
		return cmdutil.PrintStructured(o.Out, o.Output, items)
	}
	return table.Print(o.Out, []string{"NAME", "MESHES", "DESCRIPTION"}, rows, 120)
}

// AppDeployOptions holds the flags of `kubectl mesh app deploy`.
type AppDeployOptions struct {
	Mesh    string
	Ingress string
	Host    string
	Force   bool
	Wait    bool
	Timeout time.Duration
	DryRun  string
	Output  string

	app       app.App
	namespace string
	dryRun    cmdutil.DryRunStrategy
	factory   cmdutil.Factory
	genericiooptions.IOStreams
}

// Ways into an app for Istio (--ingress).
const (
	ingressGatewayAPI = "gateway-api"
	ingressIstio      = "istio"
)

func newCmdAppDeploy(streams genericiooptions.IOStreams, f cmdutil.Factory) *cobra.Command {
	o := &AppDeployOptions{IOStreams: streams, Timeout: 5 * time.Minute}
	cmd := &cobra.Command{
		Use:       "deploy NAME [-n NAMESPACE] [--mesh MESH]",
		Short:     "Deploy a sample application for the mesh in the cluster",
		Long:      appDeployLong,
		Example:   appDeployExample,
		Args:      cobra.ExactArgs(1),
		ValidArgs: app.Names(),
		RunE:      cmdutil.RunOptions(f, o),
	}
	flags := cmd.Flags()
	cmdutil.AddMeshFlag(cmd, &o.Mesh, append(f.Meshes().Names(), app.MeshNone), "Mesh to deploy for (default: the mesh installed in the cluster)")
	flags.StringVar(&o.Ingress, "ingress", "", "Istio: the way in, gateway-api or istio (default: gateway-api when the cluster serves it)")
	flags.StringVar(&o.Host, "host", "", "Ingress host (default: NAME.example.com)")
	flags.BoolVar(&o.Force, "force", false, "Deploy into a namespace that holds other objects")
	flags.BoolVar(&o.Wait, "wait", false, "Wait until every workload is available")
	flags.DurationVar(&o.Timeout, "timeout", o.Timeout, "How long --wait waits")
	cmdutil.AddDryRunFlag(cmd, &o.DryRun, `Must be "none", "server" (the apiserver checks everything and persists nothing) or "client" (print the objects, no cluster needed)`)
	flags.StringVarP(&o.Output, "output", "o", "", "With --dry-run=client: yaml (the default) or json")
	return cmd
}

// Complete picks the app, its namespace and --dry-run.
func (o *AppDeployOptions) Complete(f cmdutil.Factory, _ *cobra.Command, args []string) error {
	a, err := app.Get(args[0])
	if err != nil {
		return err
	}
	o.app, o.factory = a, f
	o.namespace = defaultNamespace(f, a)
	o.dryRun, err = cmdutil.ParseDryRun(o.DryRun, o.ErrOut, "kubectl mesh app deploy", cmdutil.DryRunNone, cmdutil.DryRunServer, cmdutil.DryRunClient)
	return err
}

// Validate checks the flags against each other and the app.
func (o *AppDeployOptions) Validate() error {
	if err := cmdutil.ValidateMeshFlag(o.Mesh, append(o.factory.Meshes().Names(), app.MeshNone)...); err != nil {
		return err
	}
	if o.Mesh != "" && !slices.Contains(o.app.Meshes(), o.Mesh) {
		return fmt.Errorf("--mesh: %s does not run on %s (it supports %s)", o.app.Name(), o.Mesh, strings.Join(o.app.Meshes(), ", "))
	}
	if o.Ingress != "" && o.Ingress != ingressGatewayAPI && o.Ingress != ingressIstio {
		return cmdutil.UnknownValue("ingress", "ingress", o.Ingress, ingressGatewayAPI, ingressIstio)
	}
	if o.Output != "" && o.dryRun != cmdutil.DryRunClient {
		return errors.New("-o/--output applies to --dry-run=client only")
	}
	if o.Output != "" {
		if err := cmdutil.ValidateOutputFormat(o.Output, "yaml", "json"); err != nil {
			return err
		}
	}
	if o.dryRun == cmdutil.DryRunClient && o.Mesh == "" {
		return errors.New("--mesh is required with --dry-run=client: there is no cluster to find the mesh in")
	}
	if o.dryRun != cmdutil.DryRunNone && o.Wait {
		return errors.New("--wait has nothing to wait for in a dry run")
	}
	if o.Timeout <= 0 {
		return fmt.Errorf("--timeout: %s is not a positive duration", o.Timeout)
	}
	return nil
}

// Run renders the app for the mesh and applies it as an ApplySet.
func (o *AppDeployOptions) Run(ctx context.Context) error {
	if o.dryRun == cmdutil.DryRunClient {
		// --mesh names the mesh: its marks need no cluster.
		m, err := o.mesh(ctx, mesh.Cluster{})
		if err != nil {
			return err
		}
		objs, err := o.render(m, marksOf(m), false, o.Ingress == ingressGatewayAPI)
		if err != nil {
			return err
		}
		items := make([]map[string]any, len(objs))
		for i, obj := range objs {
			items[i] = obj.Object
		}
		return cmdutil.PrintObjects(o.Out, cmp.Or(o.Output, "yaml"), items)
	}
	cluster, _, err := o.factory.MeshCluster(io.Discard)
	if err != nil {
		return err
	}
	m, err := o.mesh(ctx, *cluster)
	if err != nil {
		return err
	}
	marks := marksOf(m)
	exists, err := o.checkNamespace(ctx, cluster.Clientset)
	if err != nil {
		return err
	}
	if !exists && o.dryRun == cmdutil.DryRunServer {
		// The apiserver can check namespaced objects only in a namespace
		// that exists, and a dry run creates none.
		return fmt.Errorf("--dry-run=server: namespace %s does not exist, so the apiserver cannot check the objects in it: create it first, or use --dry-run=client", o.namespace)
	}
	gatewayAPI, err := o.gatewayAPI(cluster.Clientset)
	if err != nil {
		return err
	}
	objs, err := o.render(m, marks, exists, gatewayAPI)
	if err != nil {
		return err
	}
	client, err := o.factory.ApplyClient()
	if err != nil {
		return err
	}
	set := apply.Set{Kind: apply.KindApp, Name: o.app.Name(), Namespace: o.namespace, Mesh: meshName(m)}
	// Prune: deploying again, or for another mesh, removes what the app no
	// longer has.
	report, err := client.Apply(ctx, set, objs, apply.Options{DryRun: o.dryRun == cmdutil.DryRunServer, Prune: true, Workers: apply.DefaultWorkers})
	if report != nil {
		for _, line := range report.Lines() {
			fmt.Fprintln(o.Out, line)
		}
	}
	if err != nil || !o.Wait {
		return err
	}
	return o.wait(ctx, cluster.Clientset, m)
}

// mesh is --mesh's adapter, or the one installed in the cluster; nil for
// --mesh none.
func (o *AppDeployOptions) mesh(ctx context.Context, c mesh.Cluster) (mesh.Mesh, error) {
	if o.Mesh == app.MeshNone {
		return nil, nil
	}
	m, err := cmdutil.MeshOrDetected(ctx, o.factory, c, o.Mesh,
		"install one with kubectl mesh install, or deploy without a mesh with --mesh none")
	if err != nil || o.Mesh != "" {
		return m, err
	}
	if !slices.Contains(o.app.Meshes(), m.Name()) {
		return nil, fmt.Errorf("%s does not run on %s, the mesh in the cluster (it supports %s): --mesh none deploys it without one",
			o.app.Name(), m.Name(), strings.Join(o.app.Meshes(), ", "))
	}
	return m, nil
}

// checkNamespace reports whether the namespace exists, and refuses one
// that holds other objects unless --force.
func (o *AppDeployOptions) checkNamespace(ctx context.Context, cs kubernetes.Interface) (bool, error) {
	_, err := cs.CoreV1().Namespaces().Get(ctx, o.namespace, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading namespace %s: %w", o.namespace, err)
	}
	if o.Force {
		return true, nil
	}
	foreign, err := app.Foreign(ctx, cs, o.namespace, o.app.Name())
	if err != nil {
		return false, err
	}
	if len(foreign) > 0 {
		return false, fmt.Errorf("namespace %s holds other objects (%s): deploy into a new namespace with -n, or into this one with --force",
			o.namespace, cmdutil.Summarize(foreign, 5))
	}
	return true, nil
}

// gatewayAPI is whether Istio's ingress is a Gateway API Gateway.
func (o *AppDeployOptions) gatewayAPI(cs kubernetes.Interface) (bool, error) {
	if o.Ingress != "" {
		return o.Ingress == ingressGatewayAPI, nil
	}
	list, err := cs.Discovery().ServerResourcesForGroupVersion("gateway.networking.k8s.io/v1")
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("looking for the Gateway API: %w", err)
	}
	return slices.ContainsFunc(list.APIResources, func(r metav1.APIResource) bool { return r.Name == "gateways" }), nil
}

func (o *AppDeployOptions) render(m mesh.Mesh, marks mesh.Marks, exists, gatewayAPI bool) ([]translate.Object, error) {
	name := o.Mesh
	if m != nil {
		name = m.Name()
	}
	return o.app.Render(app.RenderOptions{Namespace: o.namespace, Mesh: cmp.Or(name, app.MeshNone), InjectionMarks: marks,
		NamespaceExists: exists, Host: o.Host, GatewayAPI: gatewayAPI})
}

// wait polls the app's workloads until all are available, printing each
// as it becomes so.
func (o *AppDeployOptions) wait(ctx context.Context, cs kubernetes.Interface, m mesh.Mesh) error {
	var hasProxy func(*corev1.Pod) bool
	if m != nil {
		hasProxy = m.HasProxy
	}
	reported := map[string]bool{}
	var last []app.Workload
	err := wait.PollUntilContextTimeout(ctx, time.Second, o.Timeout, true, func(ctx context.Context) (bool, error) {
		workloads, err := app.Workloads(ctx, cs, o.namespace, o.app.Name(), hasProxy)
		if err != nil {
			return false, err
		}
		last = workloads
		done := len(workloads) > 0
		for _, w := range workloads {
			if !w.Ready {
				done = false
				continue
			}
			if !reported[w.Name] {
				reported[w.Name] = true
				fmt.Fprintf(o.ErrOut, "deployment/%s available (%s)\n", w.Name, w.Replicas)
			}
		}
		return done, nil
	})
	if err == nil {
		hint := "kubectl mesh app status " + o.app.Name()
		if o.namespace != o.app.Name() {
			hint += " -n " + o.namespace
		}
		fmt.Fprintf(o.Out, "%s is available in namespace %s: %s\n", o.app.Name(), o.namespace, hint)
		return nil
	}
	var waiting []string
	for _, w := range last {
		if !w.Ready {
			waiting = append(waiting, w.Name+": "+w.Message)
		}
	}
	return fmt.Errorf("waiting for %s: %w (not available: %s)", o.app.Name(), err, strings.Join(waiting, "; "))
}

// AppDeleteOptions holds the flags of `kubectl mesh app delete`.
type AppDeleteOptions struct {
	DryRun string

	app       app.App
	namespace string
	dryRun    cmdutil.DryRunStrategy
	factory   cmdutil.Factory
	genericiooptions.IOStreams
}

func newCmdAppDelete(streams genericiooptions.IOStreams, f cmdutil.Factory) *cobra.Command {
	o := &AppDeleteOptions{IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "delete NAME [-n NAMESPACE]",
		Short: "Delete what app deploy created, and nothing else",
		Long: templates.LongDesc(`
			Delete every object of the app's ApplySet: its namespace too when
			deploy created it; a namespace that existed only gets its injection
			marks back.`),
		Example: templates.Examples(`
			kubectl mesh app delete bookinfo`),
		Args:      cobra.ExactArgs(1),
		ValidArgs: app.Names(),
		RunE:      cmdutil.RunOptions(f, o),
	}
	cmdutil.AddDryRunFlag(cmd, &o.DryRun, `Must be "none" or "server" (the apiserver checks the deletions and persists nothing)`)
	return cmd
}

// Complete picks the app, its namespace and --dry-run.
func (o *AppDeleteOptions) Complete(f cmdutil.Factory, _ *cobra.Command, args []string) error {
	a, err := app.Get(args[0])
	if err != nil {
		return err
	}
	o.app, o.factory, o.namespace = a, f, defaultNamespace(f, a)
	o.dryRun, err = cmdutil.ParseDryRun(o.DryRun, o.ErrOut, "kubectl mesh app delete", cmdutil.DryRunNone, cmdutil.DryRunServer)
	return err
}

// Validate has nothing to check.
func (o *AppDeleteOptions) Validate() error { return nil }

// Run deletes the app's apply set.
func (o *AppDeleteOptions) Run(ctx context.Context) error {
	client, err := o.factory.ApplyClient()
	if err != nil {
		return err
	}
	set := apply.Set{Kind: apply.KindApp, Name: o.app.Name(), Namespace: o.namespace}
	report, err := client.Delete(ctx, set, apply.DeleteOptions{DryRun: o.dryRun == cmdutil.DryRunServer, Workers: apply.DefaultWorkers})
	if errors.Is(err, apply.ErrNotFound) {
		return fmt.Errorf("%s is not deployed in namespace %s: kubectl mesh app status -A shows where it is", o.app.Name(), o.namespace)
	}
	if report != nil {
		for _, line := range report.Lines() {
			fmt.Fprintln(o.Out, line)
		}
	}
	return err
}

// defaultNamespace is -n, else the app's own namespace: apps are deployed
// into namespaces of their own, as the meshes' tutorials do.
func defaultNamespace(f cmdutil.Factory, a app.App) string {
	return cmp.Or(cmdutil.NamespaceOverride(f), a.Name())
}

// marksOf are the marks that enrol a namespace for m's injection.
func marksOf(m mesh.Mesh) mesh.Marks {
	if m == nil {
		return mesh.Marks{}
	}
	return m.InjectionMarks(true, "")
}

func meshName(m mesh.Mesh) string {
	if m == nil {
		return app.MeshNone
	}
	return m.Name()
}
