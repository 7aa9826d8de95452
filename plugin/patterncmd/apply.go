package plugin

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/apply"
)

var (
	applyLong = templates.LongDesc(`
		Translate patterns for the mesh and apply the resources with server-side
		apply (field manager kubectl-mesh). The objects of a pattern form an
		apply set (KEP-3659): a ConfigMap kubectl-mesh-pattern-NAME in the
		pattern's namespace records them, and each is labelled part of it, so
		--prune can delete what the pattern no longer produces.

		Every pattern is loaded, validated and translated before anything is
		sent: a bad pattern changes nothing. When some objects fail, the others
		are applied and each failure is reported; running apply again converges.

		The mesh is --mesh, else spec.mesh, else the one mesh installed in the
		cluster; --dry-run=client never contacts a cluster, so it needs --mesh
		or spec.mesh.`)

	applyExample = templates.Examples(`
		# Apply a canary pattern; the mesh is detected from the cluster
		kubectl mesh apply -f canary.yaml

		# Ask the apiserver (and admission webhooks) without changing anything
		kubectl mesh apply -f canary.yaml --dry-run=server

		# Apply and delete the objects the pattern no longer produces
		kubectl mesh apply -f canary.yaml --prune

		# Import and apply a Meshery pattern file
		kubectl mesh apply -f meshery-bookinfo.yaml`)
)

// ApplyOptions holds the flags of kubectl mesh apply.
type ApplyOptions struct {
	patternSource
	DryRun string

	dryRun         dryRunStrategy
	Prune          bool
	ForceConflicts bool
	Concurrency    int
	genericiooptions.IOStreams
}

// NewCmdApply creates `kubectl mesh apply -f PATTERN`.
func NewCmdApply(streams genericiooptions.IOStreams, configFlags *genericclioptions.ConfigFlags) *cobra.Command {
	o := &ApplyOptions{IOStreams: streams}
	o.configFlags, o.stdin, o.warnings = configFlags, streams.In, streams.ErrOut
	cmd := &cobra.Command{
		Use:     "apply -f PATTERN",
		Short:   "Translate patterns and apply them to the cluster with server-side apply",
		Long:    applyLong,
		Example: applyExample,
		Args:    cobra.NoArgs,
		RunE:    runOptions(o),
	}
	o.addFlags(cmd, "apply")
	addDryRunFlag(cmd, &o.DryRun, `Must be "none", "server" (the apiserver checks everything and persists nothing) or "client" (print the objects, send nothing)`)
	cmd.Flags().BoolVar(&o.Prune, "prune", false, "Delete the objects of the pattern's apply set that it no longer produces")
	cmd.Flags().BoolVar(&o.ForceConflicts, "force-conflicts", false, "Take over fields that another field manager owns")
	cmd.Flags().IntVar(&o.Concurrency, "concurrency", apply.DefaultWorkers, "Requests in flight at once")
	return cmd
}

// Complete reads --dry-run.
func (o *ApplyOptions) Complete(_ *cobra.Command, _ []string) error {
	var err error
	o.dryRun, err = parseDryRun(o.DryRun, o.ErrOut, "kubectl mesh apply", dryRunNone, dryRunServer, dryRunClient)
	return err
}

// Validate checks the flags.
func (o *ApplyOptions) Validate() error {
	if o.Concurrency < 1 {
		return fmt.Errorf("--concurrency: must be at least 1, not %d", o.Concurrency)
	}
	return o.validate()
}

// Run renders every pattern, then applies them one after the other.
func (o *ApplyOptions) Run(ctx context.Context) error {
	rendered, err := o.render(ctx, o.dryRun != dryRunClient)
	if err != nil {
		return err
	}
	if o.dryRun == dryRunClient {
		for _, r := range rendered {
			for _, obj := range r.Objects {
				fmt.Fprintf(o.Out, "%s (dry run)\n", apply.RefOf(obj.Unstructured).Resource())
			}
		}
		return nil
	}
	cfg, err := o.configFlags.ToRESTConfig()
	if err != nil {
		return fmt.Errorf("loading the kubeconfig: %w", err)
	}
	client, err := apply.New(cfg)
	if err != nil {
		return err
	}
	var failures []error
	for _, r := range rendered {
		set, err := applySet(r)
		if err != nil {
			return err
		}
		report, err := client.Apply(ctx, set, r.Objects, apply.Options{
			DryRun: o.dryRun == dryRunServer, Prune: o.Prune, ForceConflicts: o.ForceConflicts, Workers: o.Concurrency,
		})
		if report != nil {
			for _, line := range report.Lines() {
				fmt.Fprintln(o.Out, line)
			}
		}
		if err != nil {
			failures = append(failures, err)
		}
	}
	return errors.Join(failures...)
}

// applySet is the apply set of a rendered pattern; the parent keeps the
// pattern as list shows it.
func applySet(r renderedPattern) (apply.Set, error) {
	source, err := yaml.Marshal(r.Pattern)
	if err != nil {
		return apply.Set{}, fmt.Errorf("encoding pattern %q: %w", r.Pattern.Metadata.Name, err)
	}
	return apply.Set{Pattern: r.Pattern.Metadata.Name, Namespace: r.Pattern.Metadata.Namespace, Mesh: r.Mesh, Source: source}, nil
}
