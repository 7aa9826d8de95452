package manifest

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/kubectl-mesh/kubectl-mesh/internal/inputlimit"
	"github.com/kubectl-mesh/kubectl-mesh/policies"
)

const (
	fuzzBefore = "apiVersion: v1\nkind: Service\nmetadata:\n  name: before\n"
	fuzzAfter  = "apiVersion: v1\nkind: Service\nmetadata:\n  name: after\n"
)

// FuzzRead puts any document between two good ones: check still reads
// both, at their lines, and every problem it reports names the file and a
// line of the document in between.
func FuzzRead(f *testing.F) {
	for _, seed := range []string{
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: broken\n",
		"kind: Service\nmetadata:\n  name: no-version\n",
		"apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: a}\n- 3\n",
		"{\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": \"j\"}}",
		"a: \x01",
		"apiVersion: v1\nkind: Secret\ndata: !!binary AAAA\n",
		"- a\n- b\n",
		"",
		string(inputlimit.BillionLaughs()),
		string(inputlimit.Deep(inputlimit.MaxDepth + 1)),
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		stream := fuzzBefore + "---\n" + string(doc) + "\n---\n" + fuzzAfter
		first := strings.Count(fuzzBefore, "\n") + 2 // the fuzzed document's first line
		last := first + bytes.Count(doc, []byte("\n"))
		// YAML also breaks lines at a lone CR, and counts lines inside a
		// document so; documents are cut at LF lines.
		yamlLast := last + bytes.Count(bytes.ReplaceAll(doc, []byte("\r\n"), nil), []byte("\r"))
		objects, errs := Read("in.yaml", strings.NewReader(stream))

		var before, after bool
		for _, o := range objects {
			switch {
			case o.Name() == "before" && o.Source.Line == 1:
				before = true
			case o.Name() == "after" && o.Source.Line == last+2:
				after = true
			}
		}
		if !before || !after {
			t.Errorf("the good documents around the fuzzed one were not both read at lines 1 and %d: %d objects, errors %v", last+2, len(objects), errs)
		}
		for _, err := range errs {
			file, line := location(err)
			if file != "in.yaml" || line < first || line > yamlLast {
				t.Errorf("error %q is at %s:%d, want in.yaml:%d-%d", err, file, line, first, yamlLast)
			}
		}
	})
}

// location is where a reading error points.
func location(err error) (string, int) {
	if le, ok := errors.AsType[*policies.LocatedError](err); ok {
		return le.File, le.Line
	}
	if le, ok := errors.AsType[*inputlimit.Error](err); ok {
		return le.File, le.Line
	}
	return "", 0
}
