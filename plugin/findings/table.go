package findings

import (
	"fmt"
	"io"
	"strings"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/table"
	"github.com/kubectl-mesh/kubectl-mesh/policies"
)

// printTable prints one finding a row, as kubectl get does, and a summary.
func printTable(out io.Writer, r *Report, wide bool) error {
	s := r.Summary()
	if len(r.Findings) == 0 {
		_, err := fmt.Fprintf(out, "No findings at or above %s: %d objects checked against %d policies.\n", r.Threshold, s.Objects, s.Policies)
		return err
	}
	withLocation := false
	for _, f := range r.Findings {
		withLocation = withLocation || f.Source != nil
	}
	header := []string{"SEVERITY", "POLICY", "RESOURCE"}
	if withLocation {
		header = append(header, "LOCATION")
	}
	if wide {
		header = append(header, "ENFORCEMENT", "ALIASES")
	}
	header = append(header, "MESSAGE")

	var rows [][]string
	for _, f := range r.Findings {
		row := []string{f.Severity.String(), f.PolicyID, f.Resource.String()}
		if withLocation {
			row = append(row, location(f.Source))
		}
		if wide {
			row = append(row, string(f.Enforcement), orNone(strings.Join(f.Aliases, ",")))
		}
		rows = append(rows, append(row, oneLine(f.Message)))
	}
	width := table.Width
	if wide {
		width = 0
	}
	if err := table.Print(out, header, rows, width); err != nil {
		return err
	}
	_, err := fmt.Fprintf(out, "\n%d %s (%d error, %d warning, %d info) in %d objects checked against %d policies.\n",
		s.Findings, plural(s.Findings, "finding", "findings"), s.Errors, s.Warnings, s.Infos, s.Objects, s.Policies)
	return err
}

func location(l *policies.Location) string {
	if l == nil {
		return "<none>"
	}
	return fmt.Sprintf("%s:%d", l.File, l.Line)
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

// oneLine keeps a row a row: tabs and newlines in messages would break it.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
