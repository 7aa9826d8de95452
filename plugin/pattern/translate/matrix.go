package translate

import (
	"fmt"
	"strings"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
)

// Matrix renders the capability matrix of the translators as Markdown:
// a grid of support per feature and mesh, then each mesh's notes saying
// which resource carries a feature or why it cannot.
func Matrix(translators []Translator) string {
	var b strings.Builder
	b.WriteString("| feature |")
	for _, t := range translators {
		fmt.Fprintf(&b, " %s |", t.Name())
	}
	b.WriteString("\n|---|")
	for range translators {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, f := range pattern.Features {
		fmt.Fprintf(&b, "| `%s` |", f)
		for _, t := range translators {
			fmt.Fprintf(&b, " %s |", t.Capabilities()[f].Support)
		}
		b.WriteString("\n")
	}
	for _, t := range translators {
		fmt.Fprintf(&b, "\n### %s\n\n", t.Name())
		capabilities := t.Capabilities()
		for _, f := range pattern.Features {
			c := capabilities[f]
			note := c.Note
			if note == "" {
				note = "-"
			}
			fmt.Fprintf(&b, "- `%s` (%s): %s\n", f, c.Support, strings.TrimSpace(note))
		}
	}
	return b.String()
}
