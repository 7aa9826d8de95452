package policies

import (
	"fmt"
	"strings"
)

var meshTitles = []struct{ key, title string }{
	{"istio", "Istio"}, {"linkerd", "Linkerd"}, {"smi", "SMI"}, {"gamma", "Gateway API mesh routes (GAMMA)"}, {"any", "Any mesh"}, {"custom", "Custom"},
}

// Markdown renders the policy reference (docs/policies.md) from METADATA.
func Markdown(metas []Metadata) string {
	var b strings.Builder
	b.WriteString("# Policy reference\n\n")
	b.WriteString("Generated from each policy's METADATA by `make docs`; do not edit by hand.\n")
	b.WriteString("`kubectl mesh policies list` and `kubectl mesh policies describe ID` print the same.\n\n")
	fmt.Fprintf(&b, "%d policies. Severity orders findings (`--severity`); enforcement is what the admission webhook does: deny rejects, warn admits with a warning, audit only records.\n\n", len(metas))
	b.WriteString("| ID | Mesh | Severity | Enforcement | Aliases | Title |\n|---|---|---|---|---|---|\n")
	for _, m := range metas {
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s | %s | %s | %s |\n", m.ID, strings.ToLower(m.ID), m.Mesh(), m.Severity,
			m.Enforcement, strings.Join(m.Aliases, ", "), escapeCell(m.Title))
	}
	for _, mesh := range meshTitles {
		first := true
		for _, m := range metas {
			if m.Mesh() != mesh.key {
				continue
			}
			if first {
				fmt.Fprintf(&b, "\n## %s\n", mesh.title)
				first = false
			}
			fmt.Fprintf(&b, "\n### %s\n\n**%s**\n\n%s\n\n", m.ID, m.Title, strings.TrimSpace(m.Description))
			fmt.Fprintf(&b, "- Severity: %s; enforcement: %s\n", m.Severity, m.Enforcement)
			fmt.Fprintf(&b, "- Reviews: %s", codeList(m.Kinds))
			if len(m.Inventory) > 0 {
				fmt.Fprintf(&b, "; looks up: %s", codeList(m.Inventory))
			}
			fmt.Fprintf(&b, "\n- Operations: %s\n", strings.Join(m.Operations, ", "))
			if len(m.Needs) > 0 {
				fmt.Fprintf(&b, "- Judged only when the input holds %s (a cluster does; files may not)\n", m.NeedsString())
			}
			if q := m.Requires; !q.IsZero() {
				fmt.Fprintf(&b, "- Runs only on objects (or old objects) with: %s\n", q)
			}
			if len(m.Aliases) > 0 {
				fmt.Fprintf(&b, "- Aliases: %s\n", strings.Join(m.Aliases, ", "))
			}
			if m.Builtin {
				fmt.Fprintf(&b, "- Source: [%s](../%s)\n", m.File, m.File)
			}
			if m.Remediation != "" {
				fmt.Fprintf(&b, "\n**Remediation.** %s\n", strings.Join(strings.Fields(m.Remediation), " "))
			}
		}
	}
	return b.String()
}

func codeList(kinds []Kind) string {
	s := make([]string, len(kinds))
	for i, k := range kinds {
		s[i] = "`" + k.String() + "`"
	}
	return strings.Join(s, ", ")
}

func escapeCell(s string) string {
	return strings.ReplaceAll(s, "|", `\|`)
}
