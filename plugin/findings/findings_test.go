package findings

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"
	"github.com/xeipuuv/gojsonschema"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
	"github.com/kubectl-mesh/kubectl-mesh/policies/scan"
	"github.com/kubectl-mesh/kubectl-mesh/test/golden"
)

func sampleReport(withFindings bool) *Report {
	vsHost := policies.Metadata{ID: "MESH1101", Title: "VirtualService host has no Service or ServiceEntry",
		Description: "A VirtualService routes a host nothing defines.", Severity: policies.SeverityError,
		Enforcement: policies.EnforcementWarn, Aliases: []string{"IST0101", "KIA1101"}, Remediation: "Create the Service."}
	timeout := policies.Metadata{ID: "MESH1113", Title: "HTTP route without timeout",
		Description: "Requests hang as long as the upstream does.", Severity: policies.SeverityWarning,
		Enforcement: policies.EnforcementAudit}
	vs := policies.Resource{APIVersion: "networking.istio.io/v1", Kind: "VirtualService", Namespace: "shop", Name: "ratings"}
	svc := policies.Resource{APIVersion: "v1", Kind: "Service", Namespace: "shop", Name: "reviews"}
	r := &Report{
		Checked: []scan.Checked{
			{Resource: svc, Source: &policies.Location{File: "manifests/app.yaml", Line: 1}},
			{Resource: vs, Source: &policies.Location{File: "manifests/app.yaml", Line: 12}},
		},
		Policies:    []policies.Metadata{vsHost, timeout},
		Threshold:   policies.SeverityWarning,
		ToolVersion: "v0.1.0",
	}
	if withFindings {
		r.Findings = []policies.Finding{
			{PolicyID: vsHost.ID, Title: vsHost.Title, Severity: vsHost.Severity, Enforcement: vsHost.Enforcement, Aliases: vsHost.Aliases,
				Message: `host "ratings" matches no Service or ServiceEntry`, Resource: vs, Source: &policies.Location{File: "manifests/app.yaml", Line: 12}},
			{PolicyID: timeout.ID, Title: timeout.Title, Severity: timeout.Severity, Enforcement: timeout.Enforcement,
				Message: "spec.http[0] has no timeout", Resource: vs, Source: &policies.Location{File: "manifests/app.yaml", Line: 12}},
		}
		r.Errors = []error{errors.New("manifests/bad.yaml:3: malformed YAML: did not find expected key")}
	}
	return r
}

func TestPrintGolden(t *testing.T) {
	for _, format := range Formats {
		for _, withFindings := range []bool{true, false} {
			name := format
			if !withFindings {
				name += "-clean"
			}
			t.Run(name, func(t *testing.T) {
				var out bytes.Buffer
				if err := Print(&out, format, sampleReport(withFindings)); err != nil {
					t.Fatal(err)
				}
				golden.Assert(t, filepath.Join("testdata", name+".golden"), out.Bytes())
			})
		}
	}
}

// TestSARIFIsValid checks the SARIF output against the OASIS SARIF 2.1.0
// JSON schema, the copy the go-sarif module carries.
func TestSARIFIsValid(t *testing.T) {
	schema := gojsonschema.NewStringLoader(sarifSchemaText(t))
	for _, withFindings := range []bool{true, false} {
		var out bytes.Buffer
		if err := Print(&out, "sarif", sampleReport(withFindings)); err != nil {
			t.Fatal(err)
		}
		result, err := gojsonschema.Validate(schema, gojsonschema.NewBytesLoader(out.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range result.Errors() {
			t.Errorf("SARIF schema: %s", e)
		}
		// Negative control: the schema check rejects a level SARIF does not have.
		broken := bytes.Replace(out.Bytes(), []byte(`"level": "error"`), []byte(`"level": "fatal"`), 1)
		if r, err := gojsonschema.Validate(schema, gojsonschema.NewBytesLoader(broken)); err != nil || r.Valid() {
			t.Errorf("the schema check accepted level fatal (err %v)", err)
		}
		var report sarif.Report
		if err := json.Unmarshal(out.Bytes(), &report); err != nil {
			t.Fatal(err)
		}
		results := report.Runs[0].Results
		if withFindings && (len(results) != 2 || *results[0].RuleID != "MESH1101" || *results[0].Locations[0].PhysicalLocation.Region.StartLine != 12) {
			t.Errorf("results do not carry the findings: %s", out.String())
		}
		if !withFindings && len(results) != 0 {
			t.Errorf("a clean report has results: %s", out.String())
		}
	}
}

// sarifSchemaText reads the schema constant from go-sarif's source in the
// module cache (it is not exported).
func sarifSchemaText(t *testing.T) string {
	t.Helper()
	dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/owenrumney/go-sarif/v3").Output()
	if err != nil {
		t.Fatalf("locating go-sarif: %v", err)
	}
	src, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(dir)), "pkg/report/v210/sarif/schema.go"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(src), "const schema = `")
	text, _, ok2 := strings.Cut(rest, "`")
	if !ok || !ok2 || !strings.Contains(text, "Static Analysis Results Format (SARIF) Version 2.1.0") {
		t.Fatal("go-sarif's schema.go no longer holds the SARIF 2.1.0 schema as expected")
	}
	return text
}

func TestJUnitCounts(t *testing.T) {
	var out bytes.Buffer
	if err := Print(&out, "junit", sampleReport(true)); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("JUnit output is not XML: %v", err)
	}
	// Two objects (one failing) and one input error.
	if doc.Tests != 3 || doc.Failures != 1 || doc.Errors != 1 {
		t.Errorf("tests=%d failures=%d errors=%d, want 3, 1, 1", doc.Tests, doc.Failures, doc.Errors)
	}
}
