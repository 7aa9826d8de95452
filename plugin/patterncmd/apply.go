package patterncmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
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

	dryRun         cmdutil.DryRunStrategy
	Prune          bool
	ForceConflicts bool
	Concurrency    int
	genericiooptions.IOStreams
}

// NewCmdApply creates `kubectl mesh apply -f PATTERN`.
func NewCmdApply(streams genericiooptions.IOStreams, f cmdutil.Factory) *cobra.Command {
	o := &ApplyOptions{IOStreams: streams}
	o.stdin, o.warnings = streams.In, streams.ErrOut
	cmd := &cobra.Command{
		Use:     "apply -f PATTERN",
		Short:   "Translate patterns and apply them to the cluster with server-side apply",
		Long:    applyLong,
		Example: applyExample,
		Args:    cobra.NoArgs,
		RunE:    cmdutil.RunOptions(f, o),
	}
	o.addFlags(cmd, "apply")
	cmdutil.AddDryRunFlag(cmd, &o.DryRun, `Must be "none", "server" (the apiserver checks everything and persists nothing) or "client" (print the objects, send nothing)`)
	cmd.Flags().BoolVar(&o.Prune, "prune", false, "Delete the objects of the pattern's apply set that it no longer produces")
	cmd.Flags().BoolVar(&o.ForceConflicts, "force-conflicts", false, "Take over fields that another field manager owns")
	cmd.Flags().IntVar(&o.Concurrency, "concurrency", apply.DefaultWorkers, "Requests in flight at once")
	return cmd
}

// Complete reads the namespace and --dry-run.
func (o *ApplyOptions) Complete(f cmdutil.Factory, cmd *cobra.Command, args []string) error {
	if err := o.patternSource.Complete(f, cmd, args); err != nil {
		return err
	}
	var err error
	o.dryRun, err = cmdutil.ParseDryRun(o.DryRun, o.ErrOut, "kubectl mesh apply", cmdutil.DryRunNone, cmdutil.DryRunServer, cmdutil.DryRunClient)
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
	rendered, err := o.render(ctx, o.dryRun != cmdutil.DryRunClient)
	if err != nil {
		return err
	}
	if o.dryRun == cmdutil.DryRunClient {
		for _, r := range rendered {
			for _, obj := range r.Objects {
				fmt.Fprintf(o.Out, "%s (dry run)\n", apply.RefOf(obj.Unstructured).Resource())
			}
		}
		return nil
	}
	client, err := o.factory.ApplyClient()
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
			DryRun: o.dryRun == cmdutil.DryRunServer, Prune: o.Prune, ForceConflicts: o.ForceConflicts, Workers: o.Concurrency,
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
	return apply.Set{Name: r.Pattern.Metadata.Name, Namespace: r.Pattern.Metadata.Namespace, Mesh: r.Mesh, Source: source}, nil
}
