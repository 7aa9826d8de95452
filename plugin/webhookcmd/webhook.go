package webhookcmd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/cli/values"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/kubectl-mesh/kubectl-mesh/charts"
	"github.com/kubectl-mesh/kubectl-mesh/internal/buildinfo"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/webhookinstall"
)

var (
	webhookLong = templates.LongDesc(`
		Install, upgrade, uninstall and inspect the kubectl-mesh admission webhook.

		The webhook runs in the cluster from the mesh-webhook Helm chart built
		into kubectl mesh. It is a Helm release named mesh-webhook, stored as Helm
		releases are, so helm list, helm history and helm rollback work on it too.
		The namespace is -n, or kubectl-mesh-system.`)

	webhookExample = templates.Examples(`
		# Install the webhook, then see what it reports
		kubectl mesh webhook install
		kubectl mesh webhook status`)

	webhookInstallLong = templates.LongDesc(`
		Install the admission webhook, or upgrade it when it is installed, as
		helm upgrade --install does. The OpenReports CRDs the background audit
		writes into are applied first.

		Values come from the chart's values.yaml (documented in the chart,
		charts/mesh-webhook/values.yaml in the kubectl-mesh repository), then -f
		files, then --set and --set-string, the last one winning. On upgrade
		without any value, the values of the installed release are kept.

		With --wait (the default) the command returns once the webhook's Deployment
		is available; if it is not within --timeout, the install is uninstalled
		again, or the upgrade rolled back, so a broken webhook never stays in the
		path of the apiserver.

		--dry-run=client renders the manifests, CRDs first, without touching the
		cluster, for review or for GitOps; --dry-run=server sends the install to
		the apiserver, which checks it and persists nothing.`)

	webhookInstallExample = templates.Examples(`
		# Install the webhook into kubectl-mesh-system, or upgrade it
		kubectl mesh webhook install

		# Admit requests while the webhook is unreachable, and use cert-manager certificates
		kubectl mesh webhook install --set webhook.failurePolicy=Ignore --set certificates.mode=cert-manager

		# Install with a values file into another namespace, without waiting
		kubectl mesh webhook install -n mesh-policy -f values.yaml --wait=false

		# Render the manifests without touching the cluster
		kubectl mesh webhook install --dry-run=client -o yaml > mesh-webhook.yaml`)

	webhookUninstallLong = templates.LongDesc(`
		Uninstall the admission webhook. Nothing happens, successfully, when it is
		not installed.

		The OpenReports CRDs, and the reports in them, are kept unless --purge is
		given; --purge also deletes the certificate Secret the webhook created.`)

	webhookUninstallExample = templates.Examples(`
		# Uninstall the webhook, keeping the reports
		kubectl mesh webhook uninstall

		# Uninstall and delete the OpenReports CRDs and every report
		kubectl mesh webhook uninstall --purge`)

	webhookStatusLong = templates.LongDesc(`
		Show the webhook's release (status, revision, chart and app version), the
		readiness of its Deployment and its ValidatingWebhookConfiguration: the
		failurePolicy of each webhook and whether its caBundle is set.

		Exits 1 when the webhook is not installed.`)

	webhookStatusExample = templates.Examples(`
		# Show the status of the webhook in kubectl-mesh-system
		kubectl mesh webhook status

		# The same, as JSON for scripts
		kubectl mesh webhook status -o json`)
)

// webhookTarget is shared by the webhook subcommands: where the release
// lives and how to reach it.
type webhookTarget struct {
	chartFS   fs.FS
	namespace string
	factory   cmdutil.Factory
	genericiooptions.IOStreams
}

func newWebhookTarget(streams genericiooptions.IOStreams) *webhookTarget {
	return &webhookTarget{chartFS: charts.MeshWebhook(), IOStreams: streams}
}

// complete picks -n, or the webhook's own default namespace rather than the
// kubeconfig context's: the webhook is cluster infrastructure, as
// istio-system is for istioctl.
func (t *webhookTarget) complete(f cmdutil.Factory) {
	t.factory = f
	t.namespace = cmp.Or(cmdutil.NamespaceOverride(f), webhookinstall.DefaultNamespace)
}

// releases is the webhook's release in the namespace.
func (t *webhookTarget) releases() (cmdutil.WebhookReleases, error) {
	return t.factory.Webhook(t.namespace, t.ErrOut)
}

func (t *webhookTarget) loadChart() (*chart.Chart, error) {
	return webhookinstall.LoadChart(t.chartFS, buildinfo.Get().Version)
}

// NewCmdWebhook returns `kubectl mesh webhook` and its subcommands.
func NewCmdWebhook(streams genericiooptions.IOStreams, f cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "webhook",
		Short:   "Install, uninstall and inspect the admission webhook",
		Long:    webhookLong,
		Example: webhookExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(
		newCmdWebhookInstall(f, newWebhookTarget(streams)),
		newCmdWebhookUninstall(f, newWebhookTarget(streams)),
		newCmdWebhookStatus(f, newWebhookTarget(streams)),
	)
	return cmd
}

// WebhookInstallOptions holds the flags of `kubectl mesh webhook install`.
type WebhookInstallOptions struct {
	Values          values.Options
	Wait            bool
	Timeout         time.Duration
	CreateNamespace bool
	DryRun          string
	Output          string
	KubeVersion     string

	dryRun cmdutil.DryRunStrategy
	vals   map[string]any
	*webhookTarget
}

func newCmdWebhookInstall(factory cmdutil.Factory, t *webhookTarget) *cobra.Command {
	o := &WebhookInstallOptions{webhookTarget: t, Wait: true, Timeout: 5 * time.Minute, CreateNamespace: true}
	cmd := &cobra.Command{
		Use:     "install [-f VALUES] [--set KEY=VALUE] [--dry-run=none|client|server]",
		Short:   "Install or upgrade the admission webhook",
		Long:    webhookInstallLong,
		Example: webhookInstallExample,
		Args:    cobra.NoArgs,
		RunE:    cmdutil.RunOptions(factory, o),
	}
	f := cmd.Flags()
	f.StringSliceVarP(&o.Values.ValueFiles, "values", "f", nil, "Values files (YAML) applied over the chart's values; repeat for several, the last wins")
	f.StringArrayVar(&o.Values.Values, "set", nil, "Set a value, as KEY=VALUE (dots for nesting: webhook.failurePolicy=Ignore); repeat for several")
	f.StringArrayVar(&o.Values.StringValues, "set-string", nil, "Set a STRING value, as KEY=VALUE; repeat for several")
	f.BoolVar(&o.Wait, "wait", o.Wait, "Wait until the webhook's Deployment is available; on failure roll the release back")
	f.DurationVar(&o.Timeout, "timeout", o.Timeout, "How long to wait for the webhook to become available")
	f.BoolVar(&o.CreateNamespace, "create-namespace", o.CreateNamespace, "Create the namespace when it does not exist, labelled for the restricted Pod Security Standard")
	cmdutil.AddDryRunFlag(cmd, &o.DryRun, `Must be "none" (install), "client" (render the manifests without a cluster) or "server" (also check them against the cluster, persisting nothing)`)
	f.StringVar(&o.KubeVersion, "kube-version", "", "Kubernetes version the templates see with --dry-run=client, as helm template's --kube-version (default: the version kubectl mesh is built for)")
	f.StringVarP(&o.Output, "output", "o", "", "Output format: yaml prints the manifests. Empty prints a summary and the chart's notes")
	return cmd
}

// Complete reads the namespace and the values.
func (o *WebhookInstallOptions) Complete(f cmdutil.Factory, _ *cobra.Command, _ []string) error {
	o.complete(f)
	var err error
	if o.dryRun, err = cmdutil.ParseDryRun(o.DryRun, o.ErrOut, "kubectl mesh webhook install", cmdutil.DryRunNone, cmdutil.DryRunClient, cmdutil.DryRunServer); err != nil {
		return err
	}
	vals, err := cmdutil.ReadValues(&o.Values)
	if err != nil {
		return err
	}
	o.vals = vals
	if o.Output == "" && o.dryRun != cmdutil.DryRunNone {
		o.Output = "yaml"
	}
	return nil
}

// Validate checks the flags against each other.
func (o *WebhookInstallOptions) Validate() error {
	if o.Output != "" {
		if err := cmdutil.ValidateOutputFormat(o.Output, "yaml"); err != nil {
			return err
		}
	}
	if o.Timeout <= 0 {
		return fmt.Errorf("--timeout: %s is not a positive duration", o.Timeout)
	}
	if o.KubeVersion != "" && o.dryRun != cmdutil.DryRunClient {
		return errors.New("--kube-version applies to --dry-run=client only: otherwise the cluster's version is used")
	}
	return nil
}

// Run renders, or installs or upgrades the release, and prints the outcome.
func (o *WebhookInstallOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ch, err := o.loadChart()
	if err != nil {
		return err
	}
	if err := webhookinstall.CheckCRDs(ch); err != nil {
		return err
	}
	if o.dryRun == cmdutil.DryRunClient {
		rel, err := webhookinstall.Render(ctx, ch, webhookinstall.RenderOptions{Namespace: o.namespace, Values: o.vals, IncludeCRDs: true, KubeVersion: o.KubeVersion})
		if err != nil {
			return oneLine(err)
		}
		_, err = io.WriteString(o.Out, strings.TrimPrefix(rel.Manifest, "\n"))
		return err
	}

	releases, err := o.releases()
	if err != nil {
		return err
	}
	res, err := releases.Install(ctx, ch, webhookinstall.InstallOptions{
		Values:          o.vals,
		Wait:            o.Wait,
		Timeout:         o.Timeout,
		CreateNamespace: o.CreateNamespace,
		ServerDryRun:    o.dryRun == cmdutil.DryRunServer,
	})
	if err != nil {
		return webhookHint(err, o.namespace)
	}
	if o.Output == "yaml" {
		_, err = io.WriteString(o.Out, strings.TrimPrefix(res.Manifest, "\n"))
		return err
	}
	fmt.Fprintf(o.Out, "Release %q %s in namespace %s: revision %d, chart %s-%s, app version %s.\n",
		res.Release, res.Action, res.Namespace, res.Revision, res.Chart, res.ChartVersion, res.AppVersion)
	if !o.Wait {
		fmt.Fprintf(o.Out, "Not waiting for the webhook to become available: check with kubectl mesh webhook status -n %s\n", o.namespace)
	}
	if res.Notes != "" {
		fmt.Fprintf(o.Out, "\n%s\n", strings.TrimSpace(res.Notes))
	}
	return nil
}

// WebhookUninstallOptions holds the flags of `kubectl mesh webhook uninstall`.
type WebhookUninstallOptions struct {
	Purge   bool
	Wait    bool
	Timeout time.Duration
	*webhookTarget
}

func newCmdWebhookUninstall(factory cmdutil.Factory, t *webhookTarget) *cobra.Command {
	o := &WebhookUninstallOptions{webhookTarget: t, Timeout: 5 * time.Minute}
	cmd := &cobra.Command{
		Use:     "uninstall [--purge]",
		Short:   "Uninstall the admission webhook",
		Long:    webhookUninstallLong,
		Example: webhookUninstallExample,
		Args:    cobra.NoArgs,
		RunE:    cmdutil.RunOptions(factory, o),
	}
	f := cmd.Flags()
	f.BoolVar(&o.Purge, "purge", false, "Also delete the OpenReports CRDs, every report in them, and the webhook's certificate Secret")
	f.BoolVar(&o.Wait, "wait", false, "Wait until the webhook's objects (with --purge, also the CRDs) are deleted")
	f.DurationVar(&o.Timeout, "timeout", o.Timeout, "How long to wait for the deletion")
	return cmd
}

// Complete reads the namespace.
func (o *WebhookUninstallOptions) Complete(f cmdutil.Factory, _ *cobra.Command, _ []string) error {
	o.complete(f)
	return nil
}

// Validate checks the flags.
func (o *WebhookUninstallOptions) Validate() error {
	if o.Timeout <= 0 {
		return fmt.Errorf("--timeout: %s is not a positive duration", o.Timeout)
	}
	return nil
}

// Run uninstalls the release and, with --purge, what the release leaves behind.
func (o *WebhookUninstallOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	var ch *chart.Chart
	if o.Purge {
		var err error
		if ch, err = o.loadChart(); err != nil {
			return err
		}
		// --purge deletes the CRDs the chart names.
		if err := webhookinstall.CheckCRDs(ch); err != nil {
			return err
		}
	}
	releases, err := o.releases()
	if err != nil {
		return err
	}
	res, err := releases.Uninstall(ctx, ch, webhookinstall.UninstallOptions{Purge: o.Purge, Wait: o.Wait, Timeout: o.Timeout})
	if err != nil {
		return webhookHint(err, o.namespace)
	}
	if res.Installed {
		fmt.Fprintf(o.Out, "Release %q uninstalled from namespace %s.\n", webhookinstall.ReleaseName, o.namespace)
	} else {
		fmt.Fprintf(o.Out, "Release %q is not installed in namespace %s: nothing to uninstall.\n", webhookinstall.ReleaseName, o.namespace)
	}
	for _, p := range res.Purged {
		fmt.Fprintf(o.Out, "%s deleted\n", p)
	}
	if !o.Purge && res.Installed {
		fmt.Fprintln(o.Out, "The OpenReports CRDs and the reports are kept: --purge deletes them.")
	}
	return nil
}

// WebhookStatusOptions holds the flags of `kubectl mesh webhook status`.
type WebhookStatusOptions struct {
	Output string
	*webhookTarget
}

func newCmdWebhookStatus(factory cmdutil.Factory, t *webhookTarget) *cobra.Command {
	o := &WebhookStatusOptions{webhookTarget: t}
	cmd := &cobra.Command{
		Use:     "status [-o json|yaml]",
		Short:   "Show the admission webhook's release, readiness and configuration",
		Long:    webhookStatusLong,
		Example: webhookStatusExample,
		Args:    cobra.NoArgs,
		RunE:    cmdutil.RunOptions(factory, o),
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "Output format: json or yaml. Empty prints a summary")
	return cmd
}

// Complete reads the namespace.
func (o *WebhookStatusOptions) Complete(f cmdutil.Factory, _ *cobra.Command, _ []string) error {
	o.complete(f)
	return nil
}

// Validate checks the flags.
func (o *WebhookStatusOptions) Validate() error {
	if o.Output == "" {
		return nil
	}
	return cmdutil.ValidateOutputFormat(o.Output, "json", "yaml")
}

// Run reads and prints the status.
func (o *WebhookStatusOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	releases, err := o.releases()
	if err != nil {
		return err
	}
	st, err := releases.Status(ctx)
	if err != nil {
		return webhookHint(err, o.namespace)
	}
	if o.Output != "" {
		return cmdutil.PrintStructured(o.Out, o.Output, st)
	}
	return printWebhookStatus(o.Out, st)
}

func printWebhookStatus(w io.Writer, st *webhookinstall.Status) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "RELEASE:\t%s\n", st.Release)
	fmt.Fprintf(tw, "NAMESPACE:\t%s\n", st.Namespace)
	status := fmt.Sprintf("%s (revision %d", st.Status, st.Revision)
	if !st.LastDeployed.IsZero() {
		status += ", " + st.LastDeployed.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(tw, "STATUS:\t%s)\n", status)
	if st.Status != "deployed" && st.Description != "" {
		fmt.Fprintf(tw, "DESCRIPTION:\t%s\n", st.Description)
	}
	fmt.Fprintf(tw, "CHART:\t%s-%s\n", st.Chart, st.ChartVersion)
	fmt.Fprintf(tw, "APP VERSION:\t%s\n", st.AppVersion)
	if d := st.Deployment; d != nil {
		if d.Found {
			fmt.Fprintf(tw, "DEPLOYMENT:\t%s: %d/%d ready, %d up-to-date, %d available\n", d.Name, d.ReadyReplicas, d.Replicas, d.UpdatedReplicas, d.AvailableReplicas)
		} else {
			fmt.Fprintf(tw, "DEPLOYMENT:\t%s: not found\n", d.Name)
		}
	}
	if wc := st.WebhookConfiguration; wc != nil {
		if !wc.Found {
			fmt.Fprintf(tw, "WEBHOOK CONFIGURATION:\t%s: not found\n", wc.Name)
		} else {
			fmt.Fprintf(tw, "WEBHOOK CONFIGURATION:\t%s\n", wc.Name)
			for _, h := range wc.Webhooks {
				ca := "caBundle set"
				if !h.CABundle {
					ca = "caBundle NOT set (the apiserver cannot call the webhook yet)"
				}
				fmt.Fprintf(tw, "  %s:\tfailurePolicy %s, timeout %ds, %s\n", h.Name, h.FailurePolicy, h.TimeoutSeconds, ca)
			}
		}
	}
	ready := "yes"
	if !st.Ready() {
		ready = "no"
	}
	fmt.Fprintf(tw, "READY:\t%s\n", ready)
	return tw.Flush()
}

// webhookHint turns the errors users can act on into one line with the fix.
func webhookHint(err error, namespace string) error {
	switch {
	case errors.Is(err, webhookinstall.ErrNotInstalled):
		return fmt.Errorf("the webhook is not installed in namespace %s: install it with kubectl mesh webhook install -n %s", namespace, namespace)
	case strings.Contains(err.Error(), "another operation (install/upgrade/rollback) is in progress"):
		return oneLine(fmt.Errorf("%w: wait for it to finish, or if it was interrupted, roll back with helm rollback %s -n %s", err, webhookinstall.ReleaseName, namespace))
	case strings.Contains(err.Error(), "not ready"):
		return oneLine(fmt.Errorf("%w: see why with kubectl get events -n %s --field-selector type=Warning", err, namespace))
	}
	return oneLine(err)
}

// oneLine folds Helm's multi-line errors (schema violations, for one) into
// the single line kubectl users expect; errors.Is still sees the cause.
func oneLine(err error) error {
	if !strings.Contains(err.Error(), "\n") {
		return err
	}
	return &foldedError{msg: strings.Join(strings.Fields(err.Error()), " "), err: err}
}

type foldedError struct {
	msg string
	err error
}

func (e *foldedError) Error() string { return e.msg }
func (e *foldedError) Unwrap() error { return e.err }
