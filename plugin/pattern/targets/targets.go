// Package targets lists the translators a pattern can be rendered with.
package targets

import (
	"fmt"
	"strings"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate/gamma"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate/istio"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate/linkerd"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate/smi"
)

// All returns every translator, in the order the capability matrix shows them.
func All() []translate.Translator {
	return []translate.Translator{istio.New(), linkerd.New(), smi.New(), gamma.New()}
}

// Names are the spec.mesh values.
func Names() []string {
	var names []string
	for _, t := range All() {
		names = append(names, t.Name())
	}
	return names
}

// Get returns the translator for a spec.mesh value.
func Get(name string) (translate.Translator, error) {
	for _, t := range All() {
		if t.Name() == name {
			return t, nil
		}
	}
	return nil, fmt.Errorf("unknown mesh %q (allowed: %s)", name, strings.Join(Names(), ", "))
}
