package apply

import (
	"context"
	"fmt"
	"sort"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
)

// DiffOptions of Diff.
type DiffOptions struct {
	// Prune shows the members apply --prune would delete as removed and
	// the shared objects it would release.
	Prune          bool
	ForceConflicts bool
	Workers        int
}

// ObjectDiff is one object as it is and as apply would make it; Live is
// nil for a new object, Merged nil for one prune would delete. Both are
// stripped of metadata noise.
type ObjectDiff struct {
	Ref    Ref
	Shared bool
	Live   *unstructured.Unstructured
	Merged *unstructured.Unstructured
	Err    error
}

// Changed reports whether apply would change the object.
func (d ObjectDiff) Changed() bool {
	if d.Live == nil || d.Merged == nil {
		return d.Live != d.Merged
	}
	return !equalContent(d.Live, d.Merged)
}

// DiffResult is what Diff found.
type DiffResult struct {
	Objects []ObjectDiff
	// Drift of every live member and shared object, by ref then manager.
	Drift []Drift
}

// Changed reports whether apply would change anything.
func (r *DiffResult) Changed() bool {
	for _, d := range r.Objects {
		if d.Changed() {
			return true
		}
	}
	return false
}

// Diff compares each object with the result of a server-side dry-run
// apply, and reports drift. Objects the dry run rejects are in the result
// with Err set and in the returned *ObjectsError.
func (c *Client) Diff(ctx context.Context, s Set, objs []translate.Object, opts DiffOptions) (*DiffResult, error) {
	op := "diffing " + s.String()
	items, err := c.prepare(s, objs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	parent, err := c.getParent(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	prev, err := stateOf(parent, s.Namespace)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	res := &DiffResult{Objects: make([]ObjectDiff, len(items))}
	drift := make([][]Drift, len(items))
	parallel(ctx, opts.Workers, len(items), func(i int) {
		res.Objects[i], drift[i] = c.diffOne(ctx, items[i], opts.ForceConflicts)
	})
	for _, d := range drift {
		res.Drift = append(res.Drift, d...)
	}
	var gone []*unstructured.Unstructured
	var released []Ref
	if parent != nil {
		gone, released, err = c.stale(ctx, s, prev, items, opts.Workers)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
	}
	for _, u := range gone {
		d, err := driftOf(u, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		res.Drift = append(res.Drift, d...)
		if opts.Prune {
			res.Objects = append(res.Objects, ObjectDiff{Ref: RefOf(u), Live: stripped(u)})
		}
	}
	if opts.Prune {
		for _, r := range released {
			res.Objects = append(res.Objects, c.diffRelease(ctx, r))
		}
	}
	sort.SliceStable(res.Drift, func(i, j int) bool {
		a, b := res.Drift[i], res.Drift[j]
		if a.Ref != b.Ref {
			return a.Ref.less(b.Ref)
		}
		return a.Manager < b.Manager
	})
	report := &Report{}
	for _, d := range res.Objects {
		report.Results = append(report.Results, Result{Ref: d.Ref, Shared: d.Shared, Err: d.Err})
	}
	return res, errorOf(op, report)
}

// diffOne reads the live object and dry-runs the apply of it.
func (c *Client) diffOne(ctx context.Context, it item, force bool) (ObjectDiff, []Drift) {
	d := ObjectDiff{Ref: it.ref, Shared: it.shared}
	ri := c.resource(it.mapping, it.ref.Namespace)
	live, err := ri.Get(ctx, it.ref.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		live, err = nil, nil
	}
	if err != nil {
		d.Err = err
		return d, nil
	}
	merged, err := ri.Apply(ctx, it.ref.Name, it.obj, metav1.ApplyOptions{
		FieldManager: pattern.FieldManager, Force: force, DryRun: dryRun(true),
	})
	if err != nil {
		d.Err = err
		return d, nil
	}
	d.Live, d.Merged = stripped(live), stripped(merged)
	if live == nil {
		return d, nil
	}
	var want map[string]bool
	if it.shared {
		want = pathsOf(it.obj)
	}
	drift, err := driftOf(live, want)
	if err != nil {
		d.Err = err
	}
	return d, drift
}

// diffRelease shows what releasing a shared object would remove.
func (c *Client) diffRelease(ctx context.Context, r Ref) ObjectDiff {
	d := ObjectDiff{Ref: r, Shared: true}
	m, err := c.mapping(r.GroupVersionKind())
	if err != nil {
		d.Err = err
		return d
	}
	ri := c.resource(m, r.Namespace)
	live, err := ri.Get(ctx, r.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return d
	}
	if err != nil {
		d.Err = err
		return d
	}
	merged, err := ri.Apply(ctx, r.Name, identity(r), metav1.ApplyOptions{FieldManager: pattern.FieldManager, DryRun: dryRun(true)})
	if err != nil {
		d.Err = err
		return d
	}
	d.Live, d.Merged = stripped(live), stripped(merged)
	return d
}
