// Package translatetest holds what the translators' golden tests share:
// loading a testdata pattern, printing a translation, comparing goldens.
package translatetest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
)

// Load reads and validates the first pattern of a testdata file.
func Load(t *testing.T, path string) *pattern.Pattern {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	patterns, err := pattern.Load(bytes.NewReader(data), path, pattern.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := pattern.Validate(patterns[0]); err != nil {
		t.Fatalf("%s is not a valid pattern: %v", path, err)
	}
	return patterns[0]
}

// Render prints a translation as kubectl mesh render would: warnings as
// comments, then the objects as YAML documents (shared ones marked); or
// the error.
func Render(res *translate.Result, err error) string {
	var b strings.Builder
	if err != nil {
		var gapsErr *translate.GapsError
		fmt.Fprintf(&b, "error (gaps: %v): %v\n", errors.As(err, &gapsErr), err)
		return b.String()
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(&b, "# warning: %s\n", w)
	}
	for _, o := range res.Objects {
		data, err := yaml.Marshal(o.Object)
		if err != nil {
			return "error: " + err.Error()
		}
		b.WriteString("---\n")
		if o.Shared {
			b.WriteString("# shared\n")
		}
		b.Write(data)
	}
	return b.String()
}

// Golden compares got with the golden file at path, or rewrites it when
// update is set (each test package's -update flag).
func Golden(t *testing.T, path, got string, update bool) {
	t.Helper()
	if update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test with -run %s -update to create it)", err, t.Name())
	}
	if string(want) != got {
		t.Errorf("%s is stale; diff it against the output below and run go test with -run %s -update if the change is intended.\ngot:\n%s", path, t.Name(), got)
	}
}
