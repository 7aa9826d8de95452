package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"
)

// Text writes the summary of each result, kubectl describe style, then,
// for more than one result, a table of them side by side.
func Text(w io.Writer, results []*smp.Result) error {
	if err := checkResults(results); err != nil {
		return err
	}
	sums := summaries(results)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for i, s := range sums {
		if i > 0 {
			fmt.Fprintln(tw)
		}
		fmt.Fprintf(tw, "Name:\t%s\n", s.Name)
		for _, f := range s.Fields {
			fmt.Fprintf(tw, "%s:\t%s\n", f.Label, f.Value)
		}
		for _, m := range s.Missing {
			fmt.Fprintf(tw, "Missing:\t%s\n", m)
		}
		// The latency table gets its own column widths.
		if err := tw.Flush(); err != nil {
			return fmt.Errorf("writing summary: %w", err)
		}
		if s.Empty {
			fmt.Fprintln(tw, "Latency (ms):\tno requests")
			continue
		}
		fmt.Fprintln(tw, "Latency (ms):")
		var head, vals []string
		for _, f := range s.Latency {
			head = append(head, strings.ToUpper(f.Label))
			vals = append(vals, f.Value)
		}
		fmt.Fprintf(tw, "  %s\n  %s\n", strings.Join(head, "\t"), strings.Join(vals, "\t"))
		if err := tw.Flush(); err != nil {
			return fmt.Errorf("writing summary: %w", err)
		}
	}
	if len(sums) > 1 {
		fmt.Fprintln(tw)
		writeComparison(tw, sums)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing summary: %w", err)
	}
	return nil
}

// writeComparison prints one row per figure, one column per result.
func writeComparison(w io.Writer, sums []summary) {
	for _, row := range comparisonRows(sums) {
		fmt.Fprintln(w, strings.Join(row, "\t"))
	}
}

// comparisonRows is the side-by-side table, header row first.
func comparisonRows(sums []summary) [][]string {
	head := []string{"METRIC"}
	for _, s := range sums {
		head = append(head, s.Name)
	}
	rows := [][]string{head}
	for i, f := range sums[0].Fields {
		row := []string{f.Label}
		for _, s := range sums {
			row = append(row, s.Fields[i].Value)
		}
		rows = append(rows, row)
	}
	for i, f := range sums[0].Latency {
		row := []string{f.Label + " (ms)"}
		for _, s := range sums {
			row = append(row, s.Latency[i].Value)
		}
		rows = append(rows, row)
	}
	return rows
}
