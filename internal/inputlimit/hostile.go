package inputlimit

import (
	"fmt"
	"strings"
)

// BillionLaughs is a hostile input for the readers' tests: a 1 KB
// ConfigMap whose aliases expand to 10^9 strings.
func BillionLaughs() []byte {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lol\ndata:\n  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	prev := "a"
	for _, c := range "bcdefghi" {
		refs := strings.TrimSuffix(strings.Repeat("*"+prev+", ", 10), ", ")
		fmt.Fprintf(&b, "  %c: &%c [%s]\n", c, c, refs)
		prev = string(c)
	}
	return []byte(b.String())
}

// Deep is a hostile input for the readers' tests: a mapping whose one
// value nests levels flow sequences.
func Deep(levels int) []byte {
	return []byte("a: " + strings.Repeat("[", levels) + strings.Repeat("]", levels) + "\n")
}
