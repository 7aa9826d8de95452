package plugin

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// Flag helpers shared by every command, so a flag reads, parses and fails the
// same way wherever it appears.

// unknownValue is the one wording for a value a flag (or argument) does not
// take: `--output: unknown format "xml" (allowed: json, yaml)`. flag is empty
// for an argument.
func unknownValue(flag, noun, value string, allowed ...string) error {
	msg := fmt.Sprintf("unknown %s %q (allowed: %s)", noun, value, strings.Join(allowed, ", "))
	if flag != "" {
		msg = "--" + flag + ": " + msg
	}
	return errors.New(msg)
}

// dryRunStrategy is a value of --dry-run, as kubectl names them.
type dryRunStrategy string

const (
	dryRunNone   dryRunStrategy = "none"
	dryRunClient dryRunStrategy = "client"
	dryRunServer dryRunStrategy = "server"

	// dryRunBare is what a bare --dry-run parses to, as in kubectl
	// (cmdutil.AddDryRunFlag): it means client, with a deprecation warning.
	dryRunBare = "unchanged"
)

// addDryRunFlag adds kubectl's --dry-run (cmdutil.AddDryRunFlag): none,
// client or server, default none; a bare --dry-run means client. usage says
// what each strategy does for this command; strategies the command cannot do
// are refused by parseDryRun.
func addDryRunFlag(cmd *cobra.Command, p *string, usage string) {
	*p = string(dryRunNone)
	cmd.Flags().StringVar(p, "dry-run", *p, usage)
	cmd.Flags().Lookup("dry-run").NoOptDefVal = dryRunBare
}

// parseDryRun reads a --dry-run value as kubectl's GetDryRunStrategy does,
// and writes kubectl's deprecation warnings for a bare --dry-run and for the
// boolean spellings to errOut (kubectl logs them with klog, which a plugin's
// stderr would only show in klog's format). A strategy that is not in
// supported is refused, naming the flag and the command.
func parseDryRun(value string, errOut io.Writer, command string, supported ...dryRunStrategy) (dryRunStrategy, error) {
	var s dryRunStrategy
	if b, err := strconv.ParseBool(value); err == nil {
		s = dryRunNone
		if b {
			s = dryRunClient
		}
		fmt.Fprintf(errOut, "Warning: --dry-run=%s is deprecated (boolean value) and can be replaced with --dry-run=%s.\n", value, s)
	} else {
		switch value {
		case dryRunBare:
			fmt.Fprintln(errOut, "Warning: --dry-run is deprecated and can be replaced with --dry-run=client.")
			s = dryRunClient
		case string(dryRunNone), string(dryRunClient), string(dryRunServer):
			s = dryRunStrategy(value)
		default:
			return dryRunNone, unknownValue("dry-run", "strategy", value, "none", "server", "client")
		}
	}
	if !slices.Contains(supported, s) {
		names := make([]string, len(supported))
		for i, v := range supported {
			names[i] = string(v)
		}
		return dryRunNone, fmt.Errorf("--dry-run=%s: %s has no %s dry run (allowed: %s)", s, command, s, strings.Join(names, ", "))
	}
	return s, nil
}

// addMeshFlag adds --mesh, taking one of names: its help lists them and
// completion offers them. validateMeshFlag checks the value.
func addMeshFlag(cmd *cobra.Command, p *string, names []string, usage string) {
	cmd.Flags().StringVar(p, "mesh", "", usage+"; one of "+strings.Join(names, ", "))
	_ = cmd.RegisterFlagCompletionFunc("mesh", cobra.FixedCompletions(names, cobra.ShellCompDirectiveNoFileComp))
}

// validateMeshFlag checks a --mesh value ("" is none) against names.
func validateMeshFlag(value string, names ...string) error {
	if value == "" || slices.Contains(names, value) {
		return nil
	}
	return unknownValue("mesh", "mesh", value, names...)
}
