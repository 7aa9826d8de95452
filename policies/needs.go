package policies

import (
	"fmt"
	"slices"
	"strings"
)

// Unjudged is a policy that reviewed objects of the input but could not
// judge them: the input lacks the cluster state it needs (custom.needs).
type Unjudged struct {
	PolicyID string `json:"policy"`
	Reason   string `json:"reason"`
}

// UnjudgedPolicies are the policies of metas that reviewed a kind of
// reviewed but whose needs no kind of present meets. Only a check of files
// has them: a cluster's inventory is the cluster's state.
func UnjudgedPolicies(metas []Metadata, reviewed, present []Kind) []Unjudged {
	has := func(kinds []Kind, want Kind) bool {
		return slices.ContainsFunc(kinds, func(k Kind) bool { return want.Matches(k.Group, k.Kind) })
	}
	var out []Unjudged
	for _, m := range metas {
		if len(m.Needs) == 0 || !slices.ContainsFunc(m.Kinds, func(k Kind) bool { return has(reviewed, k) }) {
			continue
		}
		var missing []string
		for _, alternatives := range m.Needs {
			if !slices.ContainsFunc(alternatives, func(k Kind) bool { return has(present, k) }) {
				missing = append(missing, orList(alternatives))
			}
		}
		if len(missing) > 0 {
			out = append(out, Unjudged{PolicyID: m.ID, Reason: fmt.Sprintf("the input holds no %s", strings.Join(missing, ", and no "))})
		}
	}
	return out
}

// NeedsString names what the policy needs, as "a ConfigMap and a Pod or
// Deployment"; "" for nothing.
func (m Metadata) NeedsString() string {
	entries := make([]string, len(m.Needs))
	for i, alternatives := range m.Needs {
		entries[i] = "a " + orList(alternatives)
	}
	return strings.Join(entries, " and ")
}

// orList names kinds as "Pod, Deployment or StatefulSet".
func orList(kinds []Kind) string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = k.Kind
	}
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
