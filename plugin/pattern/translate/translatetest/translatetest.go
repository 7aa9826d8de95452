// Package translatetest holds what the translators' golden tests share:
// loading a testdata pattern, printing a translation, the golden grid.
package translatetest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
	"github.com/kubectl-mesh/kubectl-mesh/test/golden"
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

// Case is one row of a translator's golden grid: the pattern in
// testdata/<Name>.yaml, translated with AllowPartial or without, against
// testdata/<Name>.golden (<Name>-partial.golden with AllowPartial).
type Case struct {
	Name         string
	AllowPartial bool
}

// Grid translates each case's pattern with tr and compares what
// kubectl mesh render would print (Render) with the case's golden file
// (-update rewrites it). check, when not nil, runs on every translation
// that succeeded, for what a translator's objects must also satisfy.
func Grid(t *testing.T, tr translate.Translator, cases []Case, check func(t *testing.T, res *translate.Result)) {
	t.Helper()
	for _, tc := range cases {
		name := tc.Name
		if tc.AllowPartial {
			name += "-partial"
		}
		t.Run(name, func(t *testing.T) {
			p := Load(t, filepath.Join("testdata", tc.Name+".yaml"))
			res, err := translate.Run(tr, p, translate.Options{AllowPartial: tc.AllowPartial})
			golden.Assert(t, filepath.Join("testdata", name+".golden"), Render(res, err))
			if err == nil && check != nil {
				check(t, res)
			}
		})
	}
}
