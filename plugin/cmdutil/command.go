package cmdutil

import (
	"context"

	"github.com/spf13/cobra"
)

// Options is kubectl's command pattern, which every command with
// flags follows: Complete fills in what the flags and arguments imply,
// Validate checks them against each other, Run does the work. Complete
// takes the clients it needs from the Factory.
type Options interface {
	Complete(f Factory, cmd *cobra.Command, args []string) error
	Validate() error
	Run(ctx context.Context) error
}

// RunOptions is the RunE of a command: Complete, Validate, then Run.
func RunOptions(f Factory, o Options) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := o.Complete(f, cmd, args); err != nil {
			return err
		}
		if err := o.Validate(); err != nil {
			return err
		}
		ctx := cmd.Context()
		if ctx == nil {
			ctx = context.Background()
		}
		return o.Run(ctx)
	}
}
