package perfcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/compare"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/load"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/report"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/store"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/table"
)

// NewCmdPerfList creates `kubectl mesh perf list`.
func NewCmdPerfList(streams genericiooptions.IOStreams, f cmdutil.Factory, results *resultsDir) *cobra.Command {
	o := &PerfListOptions{IOStreams: streams, results: results}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the stored results",
		Long: templates.LongDesc(`
			List the stored results, oldest first: their target, when they ran,
			achieved QPS and latency percentiles; -l selects them by label.`),
		Example: templates.Examples(`
			# Every result, oldest first
			kubectl mesh perf list

			# The results of one branch, with their labels
			kubectl mesh perf list -l branch=main -o wide`),
		Args: cobra.NoArgs,
		RunE: cmdutil.RunOptions(f, o),
	}
	cmd.Flags().StringVarP(&o.Selector, "selector", "l", "", "Label selector (key=value, key!=value, key in (a,b))")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "Output format: wide, json, yaml or name")
	return cmd
}

// PerfListOptions holds the flags of `kubectl mesh perf list`.
type PerfListOptions struct {
	Selector string
	Output   string

	args    []string
	results *resultsDir
	genericiooptions.IOStreams
}

// Complete reads the arguments.
func (o *PerfListOptions) Complete(_ cmdutil.Factory, _ *cobra.Command, args []string) error {
	o.args = args
	return nil
}

// Validate checks -o.
func (o *PerfListOptions) Validate() error {
	if o.Output != "" {
		if err := cmdutil.ValidateOutputFormat(o.Output, "wide", "json", "yaml", "name"); err != nil {
			return err
		}
	}
	return nil
}

// Run lists the stored results.
func (o *PerfListOptions) Run(_ context.Context) error {
	sel, err := labels.Parse(o.Selector)
	if err != nil {
		return fmt.Errorf("--selector: %w", err)
	}
	st, err := o.results.open()
	if err != nil {
		return err
	}
	list, err := st.List(sel)
	var partial *store.ListWarning
	if errors.As(err, &partial) {
		fmt.Fprintf(o.ErrOut, "Warning: %v\n", err)
	} else if err != nil {
		return err
	}
	switch o.Output {
	case "json", "yaml":
		if list == nil {
			list = []*smp.Result{}
		}
		return cmdutil.PrintStructured(o.Out, o.Output, list)
	case "name":
		for _, r := range list {
			fmt.Fprintln(o.Out, r.Name)
		}
		return nil
	}
	if len(list) == 0 {
		fmt.Fprintf(o.ErrOut, "No results found in %s.\n", st.Dir())
		return nil
	}
	return printResultTable(o.Out, list, o.Output == "wide", time.Now())
}

// printResultTable prints perf list. The default table fits table.Width
// as far as names allow: a long target is shortened in the middle, as
// -o wide shows it whole.
func printResultTable(out io.Writer, list []*smp.Result, wide bool, now time.Time) error {
	header := []string{"NAME", "AGE", "TARGET", "QPS", "P50", "P99", "ERRORS"}
	width := table.Width
	if wide {
		header = append(header, "MESH", "DURATION", "LABELS")
		width = 0
	}
	var rows [][]string
	for _, r := range list {
		name := r.Name
		if r.Interrupted {
			name += " (interrupted)"
		}
		target := r.Target()
		if !wide {
			target = table.Shorten(target, maxTargetColumn)
		}
		row := []string{name, duration.HumanDuration(now.Sub(r.StartTime)), target,
			fmt.Sprintf("%s/%.1f", r.RequestedQPS(), r.ActualQPS),
			compare.Millis(r.Latencies.P50), compare.Millis(r.Latencies.P99), strconv.FormatInt(r.Errors, 10)}
		if wide {
			mesh := "<none>"
			if r.Mesh != nil && r.Mesh.Type != "" {
				mesh = r.Mesh.Type
				if r.Mesh.Build != "" {
					mesh += " " + r.Mesh.Build
				}
			}
			row = append(row, mesh, r.EndTime.Sub(r.StartTime).Round(time.Millisecond).String(), table.OrNone(load.SortedLabels(r.Labels)))
		}
		rows = append(rows, row)
	}
	return table.Print(out, header, rows, width)
}

// maxTargetColumn leaves the default perf list room for a generated name
// (<host>-<yyyymmdd-hhmmss>) and the figures within table.Width.
const maxTargetColumn = 32

// NewCmdPerfShow creates `kubectl mesh perf show`.
func NewCmdPerfShow(streams genericiooptions.IOStreams, f cmdutil.Factory, results *resultsDir) *cobra.Command {
	o := &PerfShowOptions{IOStreams: streams, results: results}
	cmd := &cobra.Command{
		Use:   "show RESULT",
		Short: "Show a stored result (by name, or a result file)",
		Long: templates.LongDesc(`
			Show a stored result: its summary, or with -o json|yaml the whole Service
			Mesh Performance (SMP) document. RESULT is a result name or a result file.`),
		Example: templates.Examples(`
			# The summary of a result
			kubectl mesh perf show reviews-20261123-101500

			# The whole SMP document, histogram included
			kubectl mesh perf show reviews-20261123-101500 -o yaml`),
		Args: cobra.ExactArgs(1),
		RunE: cmdutil.RunOptions(f, o),
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "Output format: json or yaml (the SMP document)")
	return cmd
}

// PerfShowOptions holds the flags of `kubectl mesh perf show`.
type PerfShowOptions struct {
	Output string

	args    []string
	results *resultsDir
	genericiooptions.IOStreams
}

// Complete reads the arguments.
func (o *PerfShowOptions) Complete(_ cmdutil.Factory, _ *cobra.Command, args []string) error {
	o.args = args
	return nil
}

// Validate checks -o.
func (o *PerfShowOptions) Validate() error {
	if o.Output != "" {
		if err := cmdutil.ValidateOutputFormat(o.Output, "json", "yaml"); err != nil {
			return err
		}
	}
	return nil
}

// Run prints the result.
func (o *PerfShowOptions) Run(_ context.Context) error {
	st, err := o.results.open()
	if err != nil {
		return err
	}
	r, err := st.Find(o.args[0])
	if err != nil {
		return err
	}
	if o.Output != "" {
		return cmdutil.PrintStructured(o.Out, o.Output, r)
	}
	return report.Text(o.Out, []*smp.Result{r})
}

// NewCmdPerfDelete creates `kubectl mesh perf delete`.
func NewCmdPerfDelete(streams genericiooptions.IOStreams, f cmdutil.Factory, results *resultsDir) *cobra.Command {
	o := &PerfDeleteOptions{IOStreams: streams, results: results}
	return &cobra.Command{
		Use:   "delete RESULT...",
		Short: "Delete stored results (baselines keep their own copy)",
		Long: templates.LongDesc(`
			Delete stored results by name. A baseline set from a result keeps its own
			copy, so deleting the result does not change the baseline.`),
		Example: templates.Examples(`
			# Delete two results
			kubectl mesh perf delete reviews-20261123-101500 reviews-20261123-103000`),
		Args: cobra.MinimumNArgs(1),
		RunE: cmdutil.RunOptions(f, o),
	}
}

// PerfDeleteOptions holds the flags of `kubectl mesh perf delete`.
type PerfDeleteOptions struct {
	args    []string
	results *resultsDir
	genericiooptions.IOStreams
}

// Complete reads the arguments.
func (o *PerfDeleteOptions) Complete(_ cmdutil.Factory, _ *cobra.Command, args []string) error {
	o.args = args
	return nil
}

// Validate has nothing to check.
func (o *PerfDeleteOptions) Validate() error { return nil }

// Run deletes the results.
func (o *PerfDeleteOptions) Run(_ context.Context) error {
	st, err := o.results.open()
	if err != nil {
		return err
	}
	return deleteEach(o.Out, "result", o.args, st.Delete)
}

// NewCmdPerfCompare creates `kubectl mesh perf compare`.
func NewCmdPerfCompare(streams genericiooptions.IOStreams, f cmdutil.Factory, results *resultsDir) *cobra.Command {
	o := &PerfCompareOptions{IOStreams: streams, results: results}
	cmd := &cobra.Command{
		Use:   "compare A B",
		Short: "Compare two results; exit code 3 when B regressed beyond --max-regression",
		Long: templates.LongDesc(`
			Compare result B (the new run) with result A (the baseline): latency
			percentiles, achieved QPS and error rate, with their deltas. A and B are
			baseline names, result names, or result files.

			With --max-regression, exit code 3 when a metric of B is worse than A's by
			more than its limit: a percentage of A (p99=10%, qps=5%), an absolute
			latency (p99=2ms), or percentage points of errors (errors=0.5%).`),
		Example: templates.Examples(`
			# What changed between two runs
			kubectl mesh perf compare reviews-before reviews-after

			# Gate CI: p99 may grow 10%, QPS may drop 5%
			kubectl mesh perf compare main reviews-pr-123 --max-regression p99=10%,qps=5%`),
		Args: cobra.ExactArgs(2),
		RunE: cmdutil.RunOptions(f, o),
	}
	cmd.Flags().StringVar(&o.MaxRegression, "max-regression", "", "Regression limits, e.g. p99=10%,qps=5%,errors=0.5%")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "Output format: json or yaml")
	return cmd
}

// PerfCompareOptions holds the flags of `kubectl mesh perf compare`.
type PerfCompareOptions struct {
	MaxRegression string
	Output        string

	args    []string
	results *resultsDir
	genericiooptions.IOStreams
}

// Complete reads the arguments.
func (o *PerfCompareOptions) Complete(_ cmdutil.Factory, _ *cobra.Command, args []string) error {
	o.args = args
	return nil
}

// Validate checks -o.
func (o *PerfCompareOptions) Validate() error {
	if o.Output != "" {
		if err := cmdutil.ValidateOutputFormat(o.Output, "json", "yaml"); err != nil {
			return err
		}
	}
	return nil
}

// Run compares A with B; a regression beyond the limits exits 3.
func (o *PerfCompareOptions) Run(_ context.Context) error {
	thresholds, err := compare.ParseThresholds(o.MaxRegression)
	if err != nil {
		return err
	}
	st, err := o.results.open()
	if err != nil {
		return err
	}
	a, err := st.Find(o.args[0])
	if err != nil {
		return err
	}
	b, err := st.Find(o.args[1])
	if err != nil {
		return err
	}
	c := compare.Compare(a, b, thresholds)
	if o.Output != "" {
		err = cmdutil.PrintStructured(o.Out, o.Output, c)
	} else {
		err = c.PrintTable(o.Out)
	}
	if err != nil {
		return err
	}
	if err := c.PrintNotes(o.ErrOut); err != nil {
		return err
	}
	if c.Regressed() {
		return &cmdutil.ExitCodeError{Code: cmdutil.ExitViolation, Err: fmt.Errorf("performance regression: %s", strings.Join(regressedMetrics(c), ", "))}
	}
	return nil
}

// NewCmdPerfBaseline creates `kubectl mesh perf baseline set|list|delete`.
func NewCmdPerfBaseline(streams genericiooptions.IOStreams, f cmdutil.Factory, results *resultsDir) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "baseline",
		Short: "Name results as baselines for perf run --compare-to",
		Long: templates.LongDesc(`
			Name results as baselines. A baseline keeps a copy of its result, so
			perf run --compare-to NAME and perf compare NAME B gate new runs against
			it however many results come and go.`),
		Example: templates.Examples(`
			# The latest run becomes the baseline of the main branch
			kubectl mesh perf baseline set main

			# The baselines and the results they were set from
			kubectl mesh perf baseline list`),
	}
	set := &cobra.Command{
		Use:   "set NAME [RESULT]",
		Short: "Make RESULT (default: the latest result) the baseline NAME",
		Long: templates.LongDesc(`
			Make RESULT, or the latest result, the baseline NAME, replacing a baseline
			of that name.`),
		Example: templates.Examples(`
			# The latest run becomes the baseline of the main branch
			kubectl mesh perf baseline set main

			# Then, in CI
			kubectl mesh perf run svc/reviews -n bookinfo --compare-to main --max-regression p99=10%`),
		Args: cobra.RangeArgs(1, 2),
		RunE: cmdutil.RunOptions(f, &PerfBaselineSetOptions{IOStreams: streams, results: results}),
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the baselines",
		Long: templates.LongDesc(`
			List the baselines, the result each was set from and when.`),
		Example: templates.Examples(`
			# Every baseline
			kubectl mesh perf baseline list`),
		Args: cobra.NoArgs,
		RunE: cmdutil.RunOptions(f, &PerfBaselineListOptions{IOStreams: streams, results: results}),
	}
	del := &cobra.Command{
		Use:   "delete NAME...",
		Short: "Delete baselines",
		Long: templates.LongDesc(`
			Delete baselines by name; the results they were set from stay.`),
		Example: templates.Examples(`
			# Delete the baseline of a merged branch
			kubectl mesh perf baseline delete feature-x`),
		Args: cobra.MinimumNArgs(1),
		RunE: cmdutil.RunOptions(f, &PerfBaselineDeleteOptions{IOStreams: streams, results: results}),
	}
	cmd.AddCommand(set, list, del)
	return cmd
}

// PerfBaselineSetOptions holds the arguments of `kubectl mesh perf baseline set`.
type PerfBaselineSetOptions struct {
	args    []string
	results *resultsDir
	genericiooptions.IOStreams
}

// Complete reads the arguments.
func (o *PerfBaselineSetOptions) Complete(_ cmdutil.Factory, _ *cobra.Command, args []string) error {
	o.args = args
	return nil
}

// Validate has nothing to check.
func (o *PerfBaselineSetOptions) Validate() error { return nil }

// Run sets the baseline.
func (o *PerfBaselineSetOptions) Run(_ context.Context) error {
	st, err := o.results.open()
	if err != nil {
		return err
	}
	var from string
	if len(o.args) == 2 {
		from = o.args[1]
	} else {
		latest, err := st.Latest()
		if err != nil {
			return err
		}
		from = latest.Name
	}
	if err := st.SetBaseline(o.args[0], from); err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "baseline %q set from result %q\n", o.args[0], from)
	return nil
}

// PerfBaselineListOptions holds the arguments of `kubectl mesh perf baseline list`.
type PerfBaselineListOptions struct {
	args    []string
	results *resultsDir
	genericiooptions.IOStreams
}

// Complete reads the arguments.
func (o *PerfBaselineListOptions) Complete(_ cmdutil.Factory, _ *cobra.Command, args []string) error {
	o.args = args
	return nil
}

// Validate has nothing to check.
func (o *PerfBaselineListOptions) Validate() error { return nil }

// Run lists the baselines.
func (o *PerfBaselineListOptions) Run(_ context.Context) error {
	st, err := o.results.open()
	if err != nil {
		return err
	}
	baselines, err := st.Baselines()
	if err != nil {
		return err
	}
	if len(baselines) == 0 {
		fmt.Fprintln(o.ErrOut, "No baselines set.")
		return nil
	}
	w := tabwriter.NewWriter(o.Out, 0, 8, 3, ' ', 0)
	fmt.Fprintln(w, "BASELINE\tRESULT\tSET")
	for _, b := range baselines {
		fmt.Fprintf(w, "%s\t%s\t%s\n", b.Name, b.Result, duration.HumanDuration(time.Since(b.SetAt)))
	}
	return w.Flush()
}

// PerfBaselineDeleteOptions holds the arguments of `kubectl mesh perf baseline delete`.
type PerfBaselineDeleteOptions struct {
	args    []string
	results *resultsDir
	genericiooptions.IOStreams
}

// Complete reads the arguments.
func (o *PerfBaselineDeleteOptions) Complete(_ cmdutil.Factory, _ *cobra.Command, args []string) error {
	o.args = args
	return nil
}

// Validate has nothing to check.
func (o *PerfBaselineDeleteOptions) Validate() error { return nil }

// Run deletes the baselines.
func (o *PerfBaselineDeleteOptions) Run(_ context.Context) error {
	st, err := o.results.open()
	if err != nil {
		return err
	}
	return deleteEach(o.Out, "baseline", o.args, st.DeleteBaseline)
}

// deleteEach deletes every name, says so for each as kubectl does, and
// returns the errors of those it could not delete.
func deleteEach(out io.Writer, kind string, names []string, del func(string) error) error {
	var errs []error
	for _, name := range names {
		if err := del(name); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(out, "%s %q deleted\n", kind, name)
	}
	return errors.Join(errs...)
}
