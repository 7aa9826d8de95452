package pattern_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/kubectl-mesh/kubectl-mesh/internal/inputlimit"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/targets"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
)

// FuzzLoadValidateTranslate runs any file through what render does: load
// (Meshery files converted), validate, translate for every mesh. Errors
// name the file and a line; a pattern that validates translates for every
// mesh, refusing only the features a mesh cannot express (*GapsError), and
// renders the rest with --allow-partial.
func FuzzLoadValidateTranslate(f *testing.F) {
	for _, glob := range []string{"testdata/valid/*.yaml", "testdata/invalid/*.yaml", "meshery/testdata/*.yaml", "../../examples/*.yaml", "../../examples/*/*.yaml"} {
		files, err := filepath.Glob(glob)
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
	}
	f.Add([]byte("apiVersion: mesh.kubectl.io/v1alpha1\nkind: Pattern\nmetadata: {name: a}\nspec: {services: [{name: \x01}]}\n"))
	f.Add(inputlimit.BillionLaughs())
	f.Fuzz(func(t *testing.T, data []byte) {
		patterns, err := pattern.Load(bytes.NewReader(data), "p.yaml", pattern.LoadOptions{})
		if err != nil {
			checkLocated(t, err)
			return
		}
		for _, p := range patterns {
			if err := pattern.Validate(p); err != nil {
				checkLocated(t, err)
				continue
			}
			for _, target := range targets.All() {
				if _, err := translate.Run(target, p, translate.Options{}); err != nil {
					if _, gaps := errors.AsType[*translate.GapsError](err); !gaps {
						t.Errorf("a valid pattern does not translate for %s: %v", target.Name(), err)
					}
				}
				if _, err := translate.Run(target, p, translate.Options{AllowPartial: true}); err != nil {
					t.Errorf("a valid pattern does not translate for %s with --allow-partial: %v", target.Name(), err)
				}
			}
		}
	})
}

// checkLocated fails unless every problem in err names p.yaml and a line.
func checkLocated(t *testing.T, err error) {
	t.Helper()
	var list pattern.Errors
	if le, ok := errors.AsType[*inputlimit.Error](err); ok {
		if le.File != "p.yaml" || le.Line < 1 {
			t.Errorf("%v: want p.yaml:LINE", err)
		}
		return
	}
	if !errors.As(err, &list) {
		if fe, ok := errors.AsType[*pattern.FieldError](err); ok {
			list = pattern.Errors{fe}
		} else {
			t.Errorf("%v (%T): not a located error", err, err)
			return
		}
	}
	for _, fe := range list {
		if fe.File != "p.yaml" || fe.Pos.Line < 1 {
			t.Errorf("%q: want p.yaml:LINE", fe.Error())
		}
	}
}
