package plugin

import (
	"bytes"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/report"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"
)

// NewCmdPerfReport creates `kubectl mesh perf report`.
func NewCmdPerfReport(streams genericiooptions.IOStreams, results *resultsDir) *cobra.Command {
	var output, title string
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
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := results.open()
			if err != nil {
				return err
			}
			list := make([]*smp.Result, 0, len(args))
			for _, name := range args {
				r, err := st.Find(name)
				if err != nil {
					return err
				}
				list = append(list, r)
			}
			var page bytes.Buffer
			if err := report.HTML(&page, list, report.Options{Title: title}); err != nil {
				return err
			}
			if output == "-" {
				_, err := streams.Out.Write(page.Bytes())
				return err
			}
			if err := os.WriteFile(output, page.Bytes(), 0o644); err != nil {
				return fmt.Errorf("writing the report: %w", err)
			}
			fmt.Fprintf(streams.ErrOut, "Report of %d result(s) written to %s\n", len(list), output)
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "perf-report.html", "File to write the report to (- for stdout)")
	cmd.Flags().StringVar(&title, "title", "", "Title of the report")
	return cmd
}
