// Package golden compares test output with golden files: one helper and
// one -update flag for every test package of this module.
//
//	golden.Assert(t, filepath.Join("testdata", "table.golden"), out.String())
//
// On a difference the test fails with a unified diff from the file to the
// output, and the command that accepts the output:
//
//	go test ./plugin/findings/ -run '^TestPrint$' -update
//
// With -update, Assert writes got to the file instead (creating it and its
// directory) and the test passes. Review the rewritten files with git diff.
package golden

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pmezard/go-difflib/difflib"
)

// The flag lives here and only here: a test binary that defined a second
// -update flag would panic when it starts.
var update = flag.Bool("update", false, "rewrite golden files (and other generated files the tests check) with the output of this run")

// Update reports whether the test binary runs with -update, for tests that
// regenerate something other than a file Assert compares (a recorded run,
// for example).
func Update() bool { return *update }

// Assert fails t when the file at path does not hold got, with a unified
// diff from the file's content to got. With -update it writes got to path.
func Assert[T ~string | ~[]byte](t testing.TB, path string, got T) {
	t.Helper()
	gotBytes := []byte(got)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatalf("updating golden file: %v", err)
		}
		if err := os.WriteFile(path, gotBytes, 0o644); err != nil {
			t.Fatalf("updating golden file: %v", err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("golden file %s does not exist; to create it, run\n\t%s", path, updateCommand(t.Name()))
	}
	if err != nil {
		t.Fatalf("reading golden file: %v", err)
	}
	if bytes.Equal(want, gotBytes) {
		return
	}
	t.Errorf("output differs from golden file %s (- golden, + got):\n%s\nif the change is intended, run\n\t%s",
		path, Diff(path, "got", string(want), string(gotBytes)), updateCommand(t.Name()))
}

// Diff returns a unified diff (three lines of context) from a to b, whose
// names head the diff; "" when they are equal. A last line without a
// newline is marked as diff(1) marks it.
func Diff(aName, bName, a, b string) string {
	if a == b {
		return ""
	}
	text, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A:        lines(a),
		B:        lines(b),
		FromFile: aName,
		ToFile:   bName,
		Context:  3,
	})
	if err != nil {
		// difflib only fails writing to its buffer, which does not fail.
		return fmt.Sprintf("diffing: %v\n--- %s\n%s\n+++ %s\n%s", err, aName, a, bName, b)
	}
	return text
}

// lines splits s after each newline; a last line without one carries the
// marker, so that "x" and "x\n" differ in the diff as they do in the file.
func lines(s string) []string {
	if s == "" {
		return nil
	}
	l := strings.SplitAfter(s, "\n")
	if last := len(l) - 1; l[last] == "" {
		l = l[:last]
	} else {
		l[last] += "\n\\ No newline at end of file\n"
	}
	return l
}

// updateCommand is the go test command that rewrites the golden files of
// the test named name (t.Name(): subtests after slashes).
func updateCommand(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return fmt.Sprintf("go test %s -run '%s' -update", packageDir(), strings.Join(parts, "/"))
}

// packageDir is the test's package directory (go test runs a test binary
// in it) relative to the module root, as go test wants it: ./plugin/findings/.
func packageDir() string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			rel, err := filepath.Rel(dir, wd)
			if err != nil || rel == "." {
				return "."
			}
			return "./" + filepath.ToSlash(rel) + "/"
		}
		if filepath.Dir(dir) == dir {
			return "."
		}
	}
}
