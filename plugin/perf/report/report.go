// Package report turns load test results into a self-contained HTML page
// (summary, comparison table, latency distribution and percentile plots as
// inline SVG) or a text summary for a terminal.
package report

import (
	"errors"
	"fmt"
	"time"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"
)

// DefaultTitle is the page title when Options.Title is empty.
const DefaultTitle = "kubectl mesh perf report"

// Options shape the HTML page.
type Options struct {
	// Title heads the page; DefaultTitle when empty.
	Title string
	// Now is the time printed on the "generated" line; the current time
	// when zero. Tests set it so that the page is reproducible.
	Now time.Time
}

// palette holds distinct colours that stay apart for colour-blind readers
// (Okabe-Ito, then Tableau); results beyond it cycle.
var palette = [...]string{"#0072b2", "#e69f00", "#009e73", "#cc79a7", "#d55e00", "#56b4e9", "#7f7f7f", "#8c564b", "#bcbd22", "#000000"}

func colour(i int) string { return palette[i%len(palette)] }

func checkResults(results []*smp.Result) error {
	if len(results) == 0 {
		return errors.New("no results to report")
	}
	for i, r := range results {
		if r == nil {
			return fmt.Errorf("result %d is missing", i+1)
		}
	}
	return nil
}

// displayNames names each result for legends and tables: its name, else its
// ID, else its position; names used twice get their start time appended.
func displayNames(results []*smp.Result) []string {
	names := make([]string, len(results))
	seen := map[string]int{}
	for i, r := range results {
		switch {
		case r.Name != "":
			names[i] = r.Name
		case r.ID != "":
			names[i] = r.ID
		default:
			names[i] = fmt.Sprintf("result %d", i+1)
		}
		seen[names[i]]++
	}
	for i, r := range results {
		if seen[names[i]] > 1 {
			names[i] = fmt.Sprintf("%s @ %s", names[i], r.StartTime.UTC().Format(time.RFC3339))
		}
	}
	// Still equal (same name and start): number them.
	again := map[string]int{}
	for _, n := range names {
		again[n]++
	}
	for i, n := range names {
		if again[n] > 1 {
			names[i] = fmt.Sprintf("%s #%d", n, i+1)
		}
	}
	return names
}
