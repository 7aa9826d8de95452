package patterncmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/apply"
)

// Exit codes of diff, as kubectl diff has them.
const (
	diffExitDifferent = 1
	diffExitError     = 2
)

var (
	diffLong = templates.LongDesc(`
		Show what apply would change: each object of the pattern as it is in the
		cluster against the apiserver's server-side dry run of the apply, as
		kubectl diff shows it (diff -u -N, or $KUBECTL_EXTERNAL_DIFF). With
		--prune, the objects apply --prune would delete are shown as removed.

		Drift is reported for every object of the pattern: fields that a field
		manager other than kubectl-mesh changed (kubectl edit, patch, label,
		another controller). The diff shows the pattern taking those fields
		back, which apply does with --force-conflicts.

		Exit status, as kubectl diff's: 0 when nothing differs and nothing
		drifted, 1 when something does, 2 when diff failed.`)

	diffExample = templates.Examples(`
		# What applying the pattern would change, and what drifted
		kubectl mesh diff -f canary.yaml

		# Include the objects --prune would delete
		kubectl mesh diff -f canary.yaml --prune`)
)

// DiffOptions holds the flags of kubectl mesh diff.
type DiffOptions struct {
	patternSource
	Prune bool
	genericiooptions.IOStreams
}

// NewCmdDiff creates `kubectl mesh diff -f PATTERN`.
func NewCmdDiff(streams genericiooptions.IOStreams, f cmdutil.Factory) *cobra.Command {
	o := &DiffOptions{IOStreams: streams}
	o.stdin, o.warnings = streams.In, streams.ErrOut
	cmd := &cobra.Command{
		Use:     "diff -f PATTERN",
		Short:   "Diff a pattern's resources against the cluster and report drift",
		Long:    diffLong,
		Example: diffExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// Every error exits 2, as diff(1) and kubectl diff do: 1 is drift.
			if err := cmdutil.RunOptions(f, o)(cmd, args); err != nil {
				if coded := new(cmdutil.ExitCodeError); errors.As(err, &coded) {
					return err
				}
				return &cmdutil.ExitCodeError{Code: diffExitError, Err: err}
			}
			return nil
		},
	}
	o.addFlags(cmd, "diff")
	cmd.Flags().BoolVar(&o.Prune, "prune", false, "Show the objects apply --prune would delete")
	return cmd
}

// Validate checks the flags.
func (o *DiffOptions) Validate() error { return o.validate() }

// Run diffs every pattern; differences or drift exit 1.
func (o *DiffOptions) Run(ctx context.Context) error {
	rendered, err := o.render(ctx, true)
	if err != nil {
		return err
	}
	client, err := o.factory.ApplyClient()
	if err != nil {
		return err
	}
	different := false
	var failures []error
	for _, r := range rendered {
		set, err := applySet(r)
		if err != nil {
			return err
		}
		result, diffErr := client.Diff(ctx, set, r.Objects, apply.DiffOptions{Prune: o.Prune, ForceConflicts: true})
		if result == nil {
			return diffErr
		}
		// Objects the dry run rejected are in diffErr; the others still show.
		differs, err := result.Print(ctx, o.Out, o.ErrOut)
		if err != nil {
			return err
		}
		for _, d := range result.Drift {
			fmt.Fprintf(o.Out, "drift: %s\n", d)
		}
		if diffErr != nil {
			failures = append(failures, diffErr)
		}
		different = different || differs || len(result.Drift) > 0
	}
	if len(failures) > 0 {
		return errors.Join(failures...)
	}
	if different {
		return &cmdutil.ExitCodeError{Code: diffExitDifferent}
	}
	return nil
}
