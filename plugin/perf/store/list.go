package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"
)

// ListWarning is returned by List, with the results it could read, when some
// files could not be read: print the results, then the warning.
type ListWarning struct {
	// Kind is "result" or "baseline".
	Kind string
	// Errs has one error per unreadable file, naming it.
	Errs []error
}

func (w *ListWarning) Error() string {
	msgs := make([]string, len(w.Errs))
	for i, err := range w.Errs {
		msgs[i] = err.Error()
	}
	return fmt.Sprintf("skipped %d unreadable %s file(s): %s", len(w.Errs), w.Kind, strings.Join(msgs, "; "))
}

// Unwrap lets errors.Is and errors.As see each file's error.
func (w *ListWarning) Unwrap() []error { return w.Errs }

// List returns the results whose labels match selector (nil matches all),
// by start time, then name. Unreadable files are skipped: the results that
// could be read come back together with a *ListWarning naming the others.
// Any other error comes back alone.
func (s *Store) List(selector labels.Selector) ([]*smp.Result, error) {
	if selector == nil {
		selector = labels.Everything()
	}
	ns, err := names(filepath.Join(s.dir, resultsDir))
	if err != nil {
		return nil, fmt.Errorf("listing results: %w", err)
	}
	var (
		out  []*smp.Result
		warn = ListWarning{Kind: "result"}
	)
	for _, n := range ns {
		r, err := readResult(s.resultPath(n))
		if err != nil {
			warn.Errs = append(warn.Errs, err)
			continue
		}
		r.Name = n
		if selector.Matches(labels.Set(r.Labels)) {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].StartTime.Equal(out[j].StartTime) {
			return out[i].StartTime.Before(out[j].StartTime)
		}
		return out[i].Name < out[j].Name
	})
	if len(warn.Errs) > 0 {
		return out, &warn
	}
	return out, nil
}

// Latest returns the result that started last; unreadable files are
// skipped.
func (s *Store) Latest() (*smp.Result, error) {
	rs, err := s.List(nil)
	var warn *ListWarning
	if err != nil && !errors.As(err, &warn) {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, &NotFoundError{Kind: "result"}
	}
	return rs[len(rs)-1], nil
}
