package patterncmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/apply"
)

var (
	deleteLong = templates.LongDesc(`
		Delete the resources of patterns: every object of the pattern's apply
		set, then the set's ConfigMap. Fields the pattern set on objects that
		are not its own (a Namespace's injection label, a Service's annotations)
		are given back; those objects stay.

		Name the patterns by their files (-f) or by name in the namespace (-n).`)

	deleteExample = templates.Examples(`
		# Delete what a pattern file applied
		kubectl mesh delete -f canary.yaml

		# Delete the pattern reviews-canary in namespace shop
		kubectl mesh delete reviews-canary -n shop`)
)

// DeleteOptions holds the flags of kubectl mesh delete.
type DeleteOptions struct {
	Filenames []string
	Recursive bool
	DryRun    string

	dryRun      cmdutil.DryRunStrategy
	Concurrency int

	names     []string
	namespace string
	factory   cmdutil.Factory
	genericiooptions.IOStreams
}

// NewCmdDelete creates `kubectl mesh delete (-f PATTERN | NAME...)`.
func NewCmdDelete(streams genericiooptions.IOStreams, f cmdutil.Factory) *cobra.Command {
	o := &DeleteOptions{IOStreams: streams}
	cmd := &cobra.Command{
		Use:     "delete (-f PATTERN | NAME...)",
		Short:   "Delete the resources a pattern applied",
		Long:    deleteLong,
		Example: deleteExample,
		RunE:    cmdutil.RunOptions(f, o),
	}
	cmd.Flags().StringSliceVarP(&o.Filenames, "filename", "f", nil, "Pattern files or directories whose patterns to delete (- for standard input)")
	cmd.Flags().BoolVarP(&o.Recursive, "recursive", "R", false, "Process the directories given with -f recursively")
	cmdutil.AddDryRunFlag(cmd, &o.DryRun, `Must be "none" or "server" (the apiserver checks the deletions and persists nothing); delete has no client dry run`)
	cmd.Flags().IntVar(&o.Concurrency, "concurrency", apply.DefaultWorkers, "Requests in flight at once")
	return cmd
}

// Complete reads the namespace and --dry-run.
func (o *DeleteOptions) Complete(f cmdutil.Factory, _ *cobra.Command, args []string) error {
	o.names, o.factory = args, f
	var err error
	if o.namespace, _, err = f.Namespace(); err != nil {
		return err
	}
	o.dryRun, err = cmdutil.ParseDryRun(o.DryRun, o.ErrOut, "kubectl mesh delete", cmdutil.DryRunNone, cmdutil.DryRunServer)
	return err
}

// Validate checks that patterns are named one way.
func (o *DeleteOptions) Validate() error {
	if len(o.Filenames) == 0 && len(o.names) == 0 {
		return errors.New("name the patterns to delete: -f FILE or NAME")
	}
	if len(o.Filenames) > 0 && len(o.names) > 0 {
		return errors.New("name the patterns either with -f or by NAME, not both")
	}
	if o.Concurrency < 1 {
		return fmt.Errorf("--concurrency: must be at least 1, not %d", o.Concurrency)
	}
	return nil
}

// Run deletes each pattern's apply set.
func (o *DeleteOptions) Run(ctx context.Context) error {
	sets, err := o.sets()
	if err != nil {
		return err
	}
	client, err := o.factory.ApplyClient()
	if err != nil {
		return err
	}
	var failures []error
	for _, set := range sets {
		report, err := client.Delete(ctx, set, apply.DeleteOptions{DryRun: o.dryRun == cmdutil.DryRunServer, Workers: o.Concurrency})
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

// sets are the apply sets named by files or by name.
func (o *DeleteOptions) sets() ([]apply.Set, error) {
	namespace := o.namespace
	var sets []apply.Set
	for _, name := range o.names {
		sets = append(sets, apply.Set{Name: name, Namespace: namespace})
	}
	if len(o.Filenames) == 0 {
		return sets, nil
	}
	patterns, err := pattern.LoadPaths(o.Filenames, o.Recursive, o.In, pattern.LoadOptions{DefaultNamespace: namespace})
	if err != nil {
		return nil, err
	}
	for _, p := range patterns {
		sets = append(sets, apply.Set{Name: p.Metadata.Name, Namespace: p.Metadata.Namespace})
	}
	return sets, nil
}
