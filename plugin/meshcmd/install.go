package meshcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"k8s.io/kubectl/pkg/util/templates"

	"github.com/spf13/cobra"
	"helm.sh/helm/v4/pkg/cli/values"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
)

var installLong = templates.LongDesc(`Install a service mesh with Helm releases stored in the cluster, so helm list
shows them. Istio comes from Istio's Helm repository, at the newest release
this kubectl mesh was tested with unless --version says otherwise (kubectl
mesh version shows the repository, that release and the tested range);
--repo points at a mirror. For air-gapped clusters, --offline installs the charts embedded in
kubectl mesh instead: a development build of Istio's master branch, not for
production. Linkerd comes from Linkerd's edge Helm repository (or --repo),
with a trust anchor and issuer generated for it unless you give your own.

Components are installed in order (Istio: base, istiod, then the gateway, CNI
and ztunnel as the profile says; Linkerd: linkerd-crds, then
linkerd-control-plane), each waited for until ready. A component that fails is
rolled back and the install stops there; running the command again resumes,
repairing a release an interrupted run left pending.`)

var installExample = templates.Examples(`  # Istio's default profile, the default release from Istio's Helm repository
  kubectl mesh install istio

  # Another release, from a mirror of Istio's repository
  kubectl mesh install istio --version 1.30.8 --repo https://charts.example.com/istio

  # A revisioned control plane for a canary upgrade, with values
  kubectl mesh install istio --revision canary -f values.yaml --set pilot.resources.requests.cpu=100m

  # Ambient mode
  kubectl mesh install istio --profile ambient

  # Print the manifests instead of installing (no cluster needed)
  kubectl mesh install istio --dry-run=client -o yaml

  # Air-gapped: the development build embedded in kubectl mesh, not for production
  kubectl mesh install istio --offline --profile minimal

  # Linkerd with your own identity certificates
  kubectl mesh install linkerd --identity-trust-anchors-file ca.crt --identity-issuer-certificate-file issuer.crt --identity-issuer-key-file issuer.key`)

// MeshInstallOptions holds the flags of kubectl mesh install and upgrade.
type MeshInstallOptions struct {
	Profile, Revision, Version, Repo string
	Offline                          bool
	Values                           values.Options
	TrustAnchorsFile                 string
	IssuerCertFile, IssuerKeyFile    string
	IssuerValidity                   time.Duration
	Wait                             bool
	Timeout                          time.Duration
	DryRun                           string
	Output                           string
	KubeVersion                      string
	Pull                             lifecycle.PullOptions

	upgrade   bool
	dryRun    cmdutil.DryRunStrategy
	mesh      mesh.Mesh
	namespace string
	vals      map[string]any
	factory   cmdutil.Factory
	genericiooptions.IOStreams
}

// NewCmdInstall creates `kubectl mesh install istio|linkerd`.
func NewCmdInstall(streams genericiooptions.IOStreams, f cmdutil.Factory) *cobra.Command {
	return newCmdMeshInstall(streams, f, false)
}

func newCmdMeshInstall(streams genericiooptions.IOStreams, factory cmdutil.Factory, upgrade bool) *cobra.Command {
	o := &MeshInstallOptions{IOStreams: streams, upgrade: upgrade,
		Wait: true, Timeout: 5 * time.Minute, IssuerValidity: 365 * 24 * time.Hour}
	cmd := &cobra.Command{
		Use:       "install istio|linkerd",
		Short:     "Install Istio or Linkerd through Helm",
		Long:      installLong,
		Example:   installExample,
		Args:      cobra.ExactArgs(1),
		ValidArgs: factory.Meshes().Names(),
		RunE:      cmdutil.RunOptions(factory, o),
	}
	if upgrade {
		cmd.Use = "upgrade istio|linkerd"
		cmd.Short = "Upgrade Istio or Linkerd in place, or install an Istio canary revision"
		cmd.Long = upgradeLong
		cmd.Example = upgradeExample
	}
	f := cmd.Flags()
	f.StringVar(&o.Profile, "profile", "", "Istio profile: default, demo, minimal or ambient (default \"default\")")
	f.StringVar(&o.Revision, "revision", "", "Istio control plane revision, for canary upgrades (istiod-REVISION)")
	f.StringVar(&o.Version, "version", "", "Chart version or semver range (default: Istio the newest tested release, see kubectl mesh version; Linkerd the repository's latest)")
	f.StringVar(&o.Repo, "repo", "", "Helm repository URL to take the charts from (default: the mesh's official repository)")
	f.BoolVar(&o.Offline, "offline", false, "Istio: install the charts embedded in kubectl mesh, a development build of Istio's master branch for air-gapped clusters, not for production")
	f.StringSliceVarP(&o.Values.ValueFiles, "values", "f", nil, "Values files (YAML) applied over the profile's values; repeat for several, the last wins")
	f.StringArrayVar(&o.Values.Values, "set", nil, "Set a value, as KEY=VALUE (dots for nesting); repeat for several")
	f.StringArrayVar(&o.Values.StringValues, "set-string", nil, "Set a STRING value, as KEY=VALUE; repeat for several")
	f.StringVar(&o.TrustAnchorsFile, "identity-trust-anchors-file", "", "Linkerd: PEM trust anchor(s); default generates an ECDSA P-256 anchor")
	f.StringVar(&o.IssuerCertFile, "identity-issuer-certificate-file", "", "Linkerd: PEM issuer certificate, signed by a trust anchor")
	f.StringVar(&o.IssuerKeyFile, "identity-issuer-key-file", "", "Linkerd: PEM issuer private key")
	f.DurationVar(&o.IssuerValidity, "identity-issuer-validity", o.IssuerValidity, "Linkerd: validity of a generated issuer certificate")
	f.BoolVar(&o.Wait, "wait", o.Wait, "Wait until each component is ready before the next; a component that fails is rolled back")
	f.DurationVar(&o.Timeout, "timeout", o.Timeout, "How long to wait for each component")
	cmdutil.AddDryRunFlag(cmd, &o.DryRun, `Must be "none" or "client" (print the manifests instead of installing; no cluster needed). There is no server dry run: each component needs the CRDs of the one before it in the cluster`)
	f.StringVarP(&o.Output, "output", "o", "", "With --dry-run=client: yaml (the default)")
	f.StringVar(&o.KubeVersion, "kube-version", "", "Kubernetes version the templates see with --dry-run=client (default: the version kubectl mesh is built for)")
	cmdutil.AddChartPullFlags(cmd, &o.Pull)
	return cmd
}

// Complete picks the mesh and reads the values.
func (o *MeshInstallOptions) Complete(f cmdutil.Factory, _ *cobra.Command, args []string) error {
	m, err := f.Meshes().Get(args[0])
	if err != nil {
		return err
	}
	verb := "install"
	if o.upgrade {
		verb = "upgrade"
	}
	if o.dryRun, err = cmdutil.ParseDryRun(o.DryRun, o.ErrOut, "kubectl mesh "+verb, cmdutil.DryRunNone, cmdutil.DryRunClient); err != nil {
		return err
	}
	o.mesh, o.factory = m, f
	o.namespace = cmdutil.NamespaceOverride(f)
	vals, err := cmdutil.ReadValues(&o.Values)
	if err != nil {
		return err
	}
	o.vals = vals
	if o.dryRun == cmdutil.DryRunClient && o.Output == "" {
		o.Output = "yaml"
	}
	return nil
}

// Validate checks the flags against the mesh and each other.
func (o *MeshInstallOptions) Validate() error {
	if err := o.mesh.ValidateInstall(o.installOptions()); err != nil {
		return err
	}
	if o.Output != "" {
		if o.dryRun != cmdutil.DryRunClient {
			return errors.New("-o/--output applies to --dry-run=client only")
		}
		if err := cmdutil.ValidateOutputFormat(o.Output, "yaml"); err != nil {
			return err
		}
	}
	if o.Timeout <= 0 {
		return fmt.Errorf("--timeout: %s is not a positive duration", o.Timeout)
	}
	if o.IssuerValidity <= 0 {
		return fmt.Errorf("--identity-issuer-validity: %s is not a positive duration", o.IssuerValidity)
	}
	return nil
}

func (o *MeshInstallOptions) installOptions() mesh.InstallOptions {
	return mesh.InstallOptions{
		Profile: o.Profile, Revision: o.Revision, Version: o.Version, Repo: o.Repo, Pull: o.Pull, Offline: o.Offline,
		Namespace: o.namespace, Values: o.vals,
		Warn:             func(msg string) { fmt.Fprintln(o.ErrOut, "warning: "+msg) },
		TrustAnchorsFile: o.TrustAnchorsFile, IssuerCertFile: o.IssuerCertFile, IssuerKeyFile: o.IssuerKeyFile,
		IssuerValidity: o.IssuerValidity, Upgrade: o.upgrade,
	}
}

// Run renders, or applies the mesh's releases in order, and prints them.
func (o *MeshInstallOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	opts := o.installOptions()
	if o.dryRun == cmdutil.DryRunClient {
		rels, err := o.mesh.Plan(ctx, opts)
		if err != nil {
			return err
		}
		manifests, err := lifecycle.Render(rels, o.KubeVersion)
		if err != nil {
			return err
		}
		if w := o.mesh.RenderWarning(); w != "" {
			fmt.Fprintln(o.ErrOut, w)
		}
		_, err = io.WriteString(o.Out, manifests)
		return err
	}

	cluster, helm, err := o.factory.MeshCluster(o.ErrOut)
	if err != nil {
		return err
	}
	opts.Cluster = cluster
	if o.upgrade {
		st, err := o.mesh.Status(ctx, *cluster)
		if err != nil {
			return err
		}
		if !st.Installed {
			return fmt.Errorf("%[1]s is not installed: run kubectl mesh install %[1]s", o.mesh.Name())
		}
	}
	rels, err := o.mesh.Plan(ctx, opts)
	if err != nil {
		return err
	}
	results, err := helm.Apply(ctx, rels, lifecycle.Options{Wait: o.Wait, Timeout: o.Timeout, Progress: o.ErrOut})
	printResults(o.Out, results)
	if err != nil {
		return err
	}
	if !o.Wait {
		fmt.Fprintf(o.Out, "Not waiting for readiness: check with kubectl mesh status\n")
	}
	return nil
}

func printResults(out io.Writer, results []lifecycle.Result) {
	if len(results) == 0 {
		return
	}
	w := tabwriter.NewWriter(out, 0, 4, 3, ' ', 0)
	fmt.Fprintln(w, "COMPONENT\tRELEASE\tNAMESPACE\tREVISION\tACTION")
	for _, r := range results {
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\n", r.Component, r.Release, r.Namespace, r.Revision, r.Action)
	}
	_ = w.Flush()
}
