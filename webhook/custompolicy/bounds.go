package custompolicy

import (
	"fmt"
	"slices"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
)

// The custom policies the webhook compiles at once, static ones included.
// Compiling costs memory in proportion to the Rego: 1,000 small policies
// (450 KB) allocate about 70 MB, 512 KiB of dense rules about 100 MB,
// 1 MiB 200 MB and 2 MiB 415 MB (a peak heap of 330 MB, past the chart's
// 256 MiB limit). At these bounds a process with the library peaks at
// 170-210 MB (TestLoaderPeakMemory holds it under 230 MiB). A ConfigMap
// is capped at 1 MiB by the apiserver, but many of them are not: beyond
// these bounds a ConfigMap is refused before anything is parsed.
const (
	MaxRegoBytes = 512 << 10
	MaxRegoFiles = 1000
)

// tally counts Rego against the bounds.
type tally struct{ bytes, files int }

func (t *tally) add(sources []policies.Source) {
	for _, s := range sources {
		t.bytes += len(s.Text)
	}
	t.files += len(sources)
}

func (t tally) fits() bool { return t.bytes <= MaxRegoBytes && t.files <= MaxRegoFiles }

func (t tally) String() string {
	return fmt.Sprintf("%d bytes of Rego in %d files", t.bytes, t.files)
}

// overBoundsError is a ConfigMap that would take the custom policies past
// MaxRegoBytes or MaxRegoFiles.
type overBoundsError struct {
	name  string
	total tally // with it
}

func (e *overBoundsError) Error() string {
	return fmt.Sprintf("%s: with it the custom policies would hold %s, over the webhook's bound of %d KiB and %d files: remove policies; splitting them among more ConfigMaps does not help",
		SourceName(e.name, ""), e.total, MaxRegoBytes>>10, MaxRegoFiles)
}

// withinBounds keeps the sources of each ConfigMap while all of them,
// static ones first, stay within the bounds: first those unchanged from
// their version in fallback (the one in force), so that a ConfigMap that
// grows cannot push out one that did not change, then the others in the
// order of names. A ConfigMap that does not fit is over; its version in
// fallback, when that fits, is kept instead.
func withinBounds(static []policies.Source, names []string, sources, fallback map[string][]policies.Source) (kept map[string][]policies.Source, over []*overBoundsError) {
	var total tally
	total.add(static)
	kept = make(map[string][]policies.Source, len(names))
	unchanged := func(name string) bool {
		good, ok := fallback[name]
		return ok && slices.Equal(good, sources[name])
	}
	order := slices.Concat(
		slices.DeleteFunc(slices.Clone(names), func(n string) bool { return !unchanged(n) }),
		slices.DeleteFunc(slices.Clone(names), unchanged))
	for _, name := range order {
		src, ok := sources[name]
		if !ok {
			continue
		}
		with := total
		with.add(src)
		if with.fits() {
			kept[name], total = src, with
			continue
		}
		over = append(over, &overBoundsError{name: name, total: with})
		if good, ok := fallback[name]; ok {
			with = total
			with.add(good)
			if with.fits() {
				kept[name], total = good, with
			}
		}
	}
	return kept, over
}
