package meshery

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"go.yaml.in/yaml/v3"
)

// FuzzConvert imports any Meshery-looking document: every problem names
// the file, a line and a column, and what converts is a mapping that
// marshals back to YAML.
func FuzzConvert(f *testing.F) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("name: x\nservices:\n  a:\n    type: VirtualService\n    settings: 3\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var doc yaml.Node
		if yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc) != nil || len(doc.Content) == 0 {
			return
		}
		root := doc.Content[0]
		if !IsMeshery(root) {
			return
		}
		out, err := Convert(root, "m.yaml")
		if err != nil {
			var list Errors
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("%v (%T): want Errors", err, err)
			}
			for _, e := range list {
				if e.File != "m.yaml" || e.Line < 1 || e.Column < 1 {
					t.Errorf("%q: want m.yaml:LINE:COL", e.Error())
				}
			}
			return
		}
		if out == nil || out.Kind != yaml.MappingNode {
			t.Fatalf("converted to %v, want a mapping", out)
		}
		if _, err := yaml.Marshal(out); err != nil {
			t.Fatalf("the converted pattern does not marshal: %v", err)
		}
	})
}
