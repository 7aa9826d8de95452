package store

import (
	"fmt"
	"sort"
	"strings"
)

// maxSuggestions is how many close names an error lists.
const maxSuggestions = 3

// NotFoundError is returned for an unknown result or baseline name;
// errors.Is(err, ErrNotFound) matches it.
type NotFoundError struct {
	// Kind is "result" or "baseline".
	Kind string
	Name string
	// Suggestions are the close names, closest first.
	Suggestions []string
}

func (e *NotFoundError) Error() string {
	if e.Name == "" {
		if e.Kind == "baseline" {
			return "no baselines yet: kubectl mesh perf baseline set makes one"
		}
		return "no results yet: kubectl mesh perf run makes one"
	}
	list := "kubectl mesh perf list shows the results"
	if e.Kind == "baseline" {
		list = "kubectl mesh perf baseline list shows the baselines"
	}
	if len(e.Suggestions) > 0 {
		return fmt.Sprintf("no %s named %q: did you mean %s? (%s)", e.Kind, e.Name, quoteOr(e.Suggestions), list)
	}
	return fmt.Sprintf("no %s named %q: %s", e.Kind, e.Name, list)
}

// Is makes errors.Is(err, ErrNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

func (s *Store) notFound(kind, name string, known []string) error {
	return &NotFoundError{Kind: kind, Name: name, Suggestions: closeMatches(name, known)}
}

// closeMatches returns the known names that contain name, or are a few
// edits away from it, closest first.
func closeMatches(name string, known []string) []string {
	type match struct {
		name string
		dist int
	}
	var ms []match
	limit := max(2, len(name)/3)
	seen := map[string]bool{}
	for _, k := range known {
		if seen[k] {
			continue
		}
		seen[k] = true
		d := levenshtein(name, k)
		if name != "" && strings.Contains(k, name) {
			d = min(d, 1)
		}
		if d <= limit {
			ms = append(ms, match{k, d})
		}
	}
	sort.SliceStable(ms, func(i, j int) bool {
		if ms[i].dist != ms[j].dist {
			return ms[i].dist < ms[j].dist
		}
		return ms[i].name < ms[j].name
	})
	var out []string
	for i := 0; i < len(ms) && i < maxSuggestions; i++ {
		out = append(out, ms[i].name)
	}
	return out
}

func quoteOr(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
