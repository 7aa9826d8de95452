package cmdutil

import (
	"fmt"
	"strings"
)

// Plural is one when n is 1, else many: "1 policy", "2 policies".
func Plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Summarize lists up to n items and counts the rest: "a, b and 3 more".
func Summarize(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:n], ", "), len(items)-n)
}
