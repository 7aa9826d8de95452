// Package findings prints the result of kubectl mesh check: a table for
// people, JSON and YAML for scripts, SARIF for code-scanning dashboards and
// JUnit for CI test reports.
package findings

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
	"github.com/kubectl-mesh/kubectl-mesh/policies/scan"
)

// Formats are the values -o accepts.
var Formats = []string{"table", "wide", "json", "yaml", "sarif", "junit"}

// Report is what a check found, ready to print.
type Report struct {
	// Findings at or above Threshold, sorted.
	Findings []policies.Finding
	// Checked are the objects reviewed.
	Checked []scan.Checked
	// Policies are the policies evaluated.
	Policies []policies.Metadata
	// Unjudged are the policies the input lacked the cluster state for.
	Unjudged  []policies.Unjudged
	Errors    []error
	Threshold policies.Severity
	// ToolVersion is kubectl-mesh's version, for SARIF.
	ToolVersion string
}

// Print writes the report in format.
func Print(w io.Writer, format string, r *Report) error {
	switch format {
	case "", "table":
		return printTable(w, r, false)
	case "wide":
		return printTable(w, r, true)
	case "json", "yaml":
		return printStructured(w, format, r)
	case "sarif":
		return printSARIF(w, r)
	case "junit":
		return printJUnit(w, r)
	}
	return fmt.Errorf("--output: unknown format %q (allowed: %s)", format, strings.Join(Formats, ", "))
}

// Summary counts findings by severity.
type Summary struct {
	Objects   int    `json:"objects"`
	Policies  int    `json:"policies"`
	Findings  int    `json:"findings"`
	Errors    int    `json:"error"`
	Warnings  int    `json:"warning"`
	Infos     int    `json:"info"`
	Threshold string `json:"threshold"`
	Passed    bool   `json:"passed"`
}

func (r *Report) Summary() Summary {
	s := Summary{Objects: len(r.Checked), Policies: len(r.Policies), Findings: len(r.Findings), Threshold: r.Threshold.String()}
	for _, f := range r.Findings {
		switch f.Severity {
		case policies.SeverityError:
			s.Errors++
		case policies.SeverityWarning:
			s.Warnings++
		default:
			s.Infos++
		}
	}
	s.Passed = s.Findings == 0 && len(r.Errors) == 0
	return s
}

// policy returns the metadata of a policy by ID.
func (r *Report) policy(id string) (policies.Metadata, int) {
	i := slices.IndexFunc(r.Policies, func(m policies.Metadata) bool { return m.ID == id })
	if i < 0 {
		return policies.Metadata{ID: id}, -1
	}
	return r.Policies[i], i
}
