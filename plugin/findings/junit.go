package findings

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
)

// JUnit XML as CI systems (Jenkins, GitLab, GitHub test reporters) read it:
// one test case per object checked, failed when it has findings.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Error     *junitFailure `xml:"error,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

func printJUnit(w io.Writer, r *Report) error {
	byResource := map[string][]policies.Finding{}
	for _, f := range r.Findings {
		byResource[resourceKey(f.Resource, f.Source)] = append(byResource[resourceKey(f.Resource, f.Source)], f)
	}
	suite := junitSuite{Name: "kubectl mesh check"}
	for _, c := range r.Checked {
		tc := junitCase{Name: c.Resource.String(), Classname: classname(c.Resource)}
		if c.Source != nil {
			tc.File, tc.Line = c.Source.File, c.Source.Line
		}
		if found := byResource[resourceKey(c.Resource, c.Source)]; len(found) > 0 {
			var text strings.Builder
			for _, f := range found {
				fmt.Fprintf(&text, "%s %s: %s\n", f.Severity, f.PolicyID, f.Message)
			}
			tc.Failure = &junitFailure{
				Message: fmt.Sprintf("%d %s, first %s: %s", len(found), plural(len(found), "finding", "findings"), found[0].PolicyID, found[0].Message),
				Type:    found[0].Severity.String(),
				Text:    text.String(),
			}
			suite.Failures++
		}
		suite.Cases = append(suite.Cases, tc)
	}
	for _, err := range r.Errors {
		suite.Cases = append(suite.Cases, junitCase{Name: "input", Classname: "kubectl-mesh.input",
			Error: &junitFailure{Message: err.Error(), Type: "error"}})
		suite.Errors++
	}
	suite.Tests = len(suite.Cases)
	doc := junitSuites{Name: suite.Name, Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("encoding JUnit XML: %w", err)
	}
	_, err := fmt.Fprintln(w)
	return err
}

func resourceKey(r policies.Resource, src *policies.Location) string {
	return location(src) + " " + r.APIVersion + " " + r.String()
}

// classname groups test cases the way JUnit viewers nest them: by namespace and kind.
func classname(r policies.Resource) string {
	ns := r.Namespace
	if ns == "" {
		ns = "cluster"
	}
	return ns + "." + r.Kind
}
