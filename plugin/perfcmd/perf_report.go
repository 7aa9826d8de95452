package perfcmd

import (
	"bytes"
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/report"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"
)

// NewCmdPerfReport creates `kubectl mesh perf report`.
func NewCmdPerfReport(streams genericiooptions.IOStreams, f cmdutil.Factory, results *resultsDir) *cobra.Command {
	o := &PerfReportOptions{IOStreams: streams, results: results}
	cmd := &cobra.Command{
		Use:   "report RESULT...",
		Short: "Write a self-contained HTML report of results, with latency plots",
		Long: templates.LongDesc(`
			Write one HTML page with a summary of each result, a table side by side,
			the latency distribution and the percentile plot (inline SVG: the page
			fetches nothing when it is viewed, so it can be a CI artifact). RESULT is a
			result name, a baseline name or a result file.`),
		Example: templates.Examples(`
			# A report of two runs
			kubectl mesh perf report reviews-before reviews-after -o report.html`),
		Args: cobra.MinimumNArgs(1),
		RunE: cmdutil.RunOptions(f, o),
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "perf-report.html", "File to write the report to (- for stdout)")
	cmd.Flags().StringVar(&o.Title, "title", "", "Title of the report")
	return cmd
}

// PerfReportOptions holds the flags of `kubectl mesh perf report`.
type PerfReportOptions struct {
	Output string
	Title  string

	args    []string
	results *resultsDir
	genericiooptions.IOStreams
}

// Complete reads the arguments.
func (o *PerfReportOptions) Complete(_ cmdutil.Factory, _ *cobra.Command, args []string) error {
	o.args = args
	return nil
}

// Validate has nothing to check.
func (o *PerfReportOptions) Validate() error { return nil }

// Run writes the report.
func (o *PerfReportOptions) Run(_ context.Context) error {
	st, err := o.results.open()
	if err != nil {
		return err
	}
	list := make([]*smp.Result, 0, len(o.args))
	for _, name := range o.args {
		r, err := st.Find(name)
		if err != nil {
			return err
		}
		list = append(list, r)
	}
	var page bytes.Buffer
	if err := report.HTML(&page, list, report.Options{Title: o.Title}); err != nil {
		return err
	}
	if o.Output == "-" {
		_, err := o.Out.Write(page.Bytes())
		return err
	}
	if err := os.WriteFile(o.Output, page.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	fmt.Fprintf(o.ErrOut, "Report of %d result(s) written to %s\n", len(list), o.Output)
	return nil
}
