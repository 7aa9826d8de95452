package cmdutil

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

// UnknownValue is the one wording for a value a flag (or argument) does not
// take: `--output: unknown format "xml" (allowed: json, yaml)`. flag is empty
// for an argument.
func UnknownValue(flag, noun, value string, allowed ...string) error {
	msg := fmt.Sprintf("unknown %s %q (allowed: %s)", noun, value, strings.Join(allowed, ", "))
	if flag != "" {
		msg = "--" + flag + ": " + msg
	}
	return errors.New(msg)
}

// DryRunStrategy is a value of --dry-run, as kubectl names them.
type DryRunStrategy string

const (
	DryRunNone   DryRunStrategy = "none"
	DryRunClient DryRunStrategy = "client"
	DryRunServer DryRunStrategy = "server"

	// DryRunBare is what a bare --dry-run parses to, as in kubectl
	// (cmdutil.AddDryRunFlag): it means client, with a deprecation warning.
	DryRunBare = "unchanged"
)

// AddDryRunFlag adds kubectl's --dry-run (cmdutil.AddDryRunFlag): none,
// client or server, default none; a bare --dry-run means client. usage says
// what each strategy does for this command; strategies the command cannot do
// are refused by ParseDryRun.
func AddDryRunFlag(cmd *cobra.Command, p *string, usage string) {
	*p = string(DryRunNone)
	cmd.Flags().StringVar(p, "dry-run", *p, usage)
	cmd.Flags().Lookup("dry-run").NoOptDefVal = DryRunBare
}

// ParseDryRun reads a --dry-run value as kubectl's GetDryRunStrategy does,
// and writes kubectl's deprecation warnings for a bare --dry-run and for the
// boolean spellings to errOut (kubectl logs them with klog, which a plugin's
// stderr would only show in klog's format). A strategy that is not in
// supported is refused, naming the flag and the command.
func ParseDryRun(value string, errOut io.Writer, command string, supported ...DryRunStrategy) (DryRunStrategy, error) {
	var s DryRunStrategy
	if b, err := strconv.ParseBool(value); err == nil {
		s = DryRunNone
		if b {
			s = DryRunClient
		}
		fmt.Fprintf(errOut, "Warning: --dry-run=%s is deprecated (boolean value) and can be replaced with --dry-run=%s.\n", value, s)
	} else {
		switch value {
		case DryRunBare:
			fmt.Fprintln(errOut, "Warning: --dry-run is deprecated and can be replaced with --dry-run=client.")
			s = DryRunClient
		case string(DryRunNone), string(DryRunClient), string(DryRunServer):
			s = DryRunStrategy(value)
		default:
			return DryRunNone, UnknownValue("dry-run", "strategy", value, "none", "server", "client")
		}
	}
	if !slices.Contains(supported, s) {
		names := make([]string, len(supported))
		for i, v := range supported {
			names[i] = string(v)
		}
		return DryRunNone, fmt.Errorf("--dry-run=%s: %s has no %s dry run (allowed: %s)", s, command, s, strings.Join(names, ", "))
	}
	return s, nil
}

// AddMeshFlag adds --mesh, taking one of names: its help lists them and
// completion offers them. ValidateMeshFlag checks the value.
func AddMeshFlag(cmd *cobra.Command, p *string, names []string, usage string) {
	cmd.Flags().StringVar(p, "mesh", "", usage+"; one of "+strings.Join(names, ", "))
	_ = cmd.RegisterFlagCompletionFunc("mesh", cobra.FixedCompletions(names, cobra.ShellCompDirectiveNoFileComp))
}

// ValidateMeshFlag checks a --mesh value ("" is none) against names.
func ValidateMeshFlag(value string, names ...string) error {
	if value == "" || slices.Contains(names, value) {
		return nil
	}
	return UnknownValue("mesh", "mesh", value, names...)
}
