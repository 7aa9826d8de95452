package targets

import (
	"path/filepath"
	"testing"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
	"github.com/kubectl-mesh/kubectl-mesh/test/golden"
)

const matrixHeader = `# Pattern capability matrix

What each translation target can express of a pattern
(kubectl-mesh.io/v1alpha1, see [patterns.md](patterns.md)). A feature marked
"no" is an error naming the field and the mesh when a pattern asks for it;
` + "`--allow-partial`" + ` renders the rest and warns. "partial" means some of the
feature's settings are expressed and the others are reported the same way.

Generated from the translators' declared capabilities by
` + "`go test ./plugin/pattern/targets/ -run TestCapabilityMatrixUpToDate -update`" + `.

`

// TestCapabilityMatrixUpToDate fails when docs/capabilities.md no longer
// matches what the translators declare.
func TestCapabilityMatrixUpToDate(t *testing.T) {
	got := matrixHeader + translate.Matrix(All())
	path := filepath.Join("..", "..", "..", "docs", "capabilities.md")
	golden.Assert(t, path, got)
}

// TestEveryTranslatorDeclaresEveryFeature keeps the matrix complete: a
// feature added to the schema must be declared by every translator, so
// that none of them drops it silently.
func TestEveryTranslatorDeclaresEveryFeature(t *testing.T) {
	for _, tr := range All() {
		caps := tr.Capabilities()
		for _, f := range pattern.Features {
			c, ok := caps[f]
			if !ok {
				t.Errorf("%s does not declare %s", tr.Name(), f)
				continue
			}
			if c.Note == "" {
				t.Errorf("%s: %s has no note for the matrix", tr.Name(), f)
			}
		}
	}
}

func TestGet(t *testing.T) {
	for _, name := range []string{"istio", "linkerd", "smi", "gamma"} {
		if tr, err := Get(name); err != nil || tr.Name() != name {
			t.Errorf("Get(%q) = %v, %v", name, tr, err)
		}
	}
	if _, err := Get("consul"); err == nil || err.Error() != `unknown mesh "consul" (allowed: istio, linkerd, smi, gamma)` {
		t.Errorf("Get(consul) error = %v", err)
	}
}
