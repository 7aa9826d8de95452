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
		if _, err := fmt.Fprintf(out, "No findings at or above %s: %d objects checked against %d policies.\n", r.Threshold, s.Objects, s.Policies); err != nil {
			return err
		}
		return printUnjudged(out, r.Unjudged, wide)
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
	if _, err := fmt.Fprintf(out, "\n%d %s (%d error, %d warning, %d info) in %d objects checked against %d policies.\n",
		s.Findings, plural(s.Findings, "finding", "findings"), s.Errors, s.Warnings, s.Infos, s.Objects, s.Policies); err != nil {
		return err
	}
	return printUnjudged(out, r.Unjudged, wide)
}

// printUnjudged says which policies could not judge for want of cluster
// state in the input: one line, or with wide each policy and why.
func printUnjudged(out io.Writer, unjudged []policies.Unjudged, wide bool) error {
	if len(unjudged) == 0 {
		return nil
	}
	if !wide {
		_, err := fmt.Fprintf(out, "%d %s not judged: the input lacks the cluster state %s (-o wide says which).\n",
			len(unjudged), plural(len(unjudged), "policy", "policies"), plural(len(unjudged), "it needs", "they need"))
		return err
	}
	if _, err := fmt.Fprintln(out, "\nNot judged, for want of cluster state in the input (check the cluster, or add the objects to the files):"); err != nil {
		return err
	}
	rows := make([][]string, len(unjudged))
	for i, u := range unjudged {
		rows[i] = []string{u.PolicyID, u.Reason}
	}
	return table.Print(out, []string{"POLICY", "REASON"}, rows, 0)
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
