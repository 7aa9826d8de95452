package report

import (
	"bufio"
	"fmt"
	"html/template"
	"io"
	"time"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"
)

// page is what the HTML template renders.
type page struct {
	Title        string
	Generated    string
	Summaries    []summary
	Compare      [][]string
	Distribution *plot
	Percentiles  *plot
	// MeshLatency and MeshCPU are nil when no result has the mesh's figures.
	MeshLatency *plot
	MeshCPU     *plot
}

// HTML writes one self-contained page: inline CSS and SVG, no script and
// no external reference, so it can be attached to a CI run or mailed and
// still open offline. Everything from the results is HTML-escaped.
func HTML(w io.Writer, results []*smp.Result, opts Options) error {
	if err := checkResults(results); err != nil {
		return err
	}
	tmpl, err := template.New("page").Funcs(template.FuncMap{"n": num, "dec": func(i int) int { return i - 1 }}).Parse(pageTemplate)
	if err != nil {
		return fmt.Errorf("parsing report template: %w", err)
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	title := opts.Title
	if title == "" {
		title = DefaultTitle
	}
	sums := summaries(results)
	names := make([]string, len(sums))
	colours := make([]string, len(sums))
	for i, s := range sums {
		names[i], colours[i] = s.Name, s.Colour
	}
	pg := page{
		Title:        title,
		Generated:    now.UTC().Format(time.RFC3339),
		Summaries:    sums,
		Compare:      comparisonRows(sums),
		Distribution: distributionPlot(results, names, colours),
		Percentiles:  percentilePlot(results, names, colours),
		MeshLatency:  meshLatencyPlot(results, names, colours),
		MeshCPU:      meshCPUPlot(results, names, colours),
	}
	bw := bufio.NewWriter(w)
	if err := tmpl.Execute(bw, pg); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	return nil
}
