package apply

import (
	"context"
	"encoding/json"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
)

// Options of Apply.
type Options struct {
	// DryRun asks the apiserver to check everything and write nothing,
	// not even the parent (kubectl's --dry-run=server).
	DryRun bool
	// Prune deletes members the objects no longer include and releases
	// shared objects no longer produced, after an apply without failures.
	Prune bool
	// ForceConflicts takes fields other managers own (--force-conflicts).
	ForceConflicts bool
	// Workers bounds the requests in flight; 0 means DefaultWorkers.
	Workers int
}

// dryRun is the apiserver's dryRun parameter for a run.
func dryRun(on bool) []string {
	if on {
		return []string{metav1.DryRunAll}
	}
	return nil
}

// Apply server-side applies the objects of set s. The parent is written
// first with the previous and current members, so that a run cut short
// leaves nothing untracked. One object's failure does not stop the
// others: the report has every object and the error (an *ObjectsError)
// names the failed ones; running again converges.
func (c *Client) Apply(ctx context.Context, s Set, objs []translate.Object, opts Options) (*Report, error) {
	op := "applying " + s.String()
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
	cur := stateFor(s, items)
	report := &Report{DryRun: opts.DryRun, Results: make([]Result, len(items))}
	done := make([]bool, len(items))
	before := make([]observed, len(items))
	if !opts.DryRun {
		// One read of what exists, before the parent: a list per kind
		// instead of a get per object (see observe).
		before = c.observe(ctx, items, opts.Workers)
		if err := c.writeParent(ctx, s, prev.union(cur)); err != nil {
			// The pattern may create its own namespace: do that, then
			// the parent, then the rest.
			i := namespaceItem(items, s.Namespace)
			if i < 0 || !apierrors.IsNotFound(err) {
				return nil, fmt.Errorf("%s: %w", op, err)
			}
			report.Results[i], done[i] = c.applyOne(ctx, items[i], before[i], opts), true
			if report.Results[i].Err != nil {
				return report, errorOf(op, report)
			}
			if err := c.writeParent(ctx, s, prev.union(cur)); err != nil {
				return nil, fmt.Errorf("%s: %w", op, err)
			}
		}
	}
	for _, tier := range tiers(refsOf(items)) {
		var todo []int
		for _, i := range tier {
			if !done[i] {
				todo = append(todo, i)
			}
		}
		parallel(ctx, opts.Workers, len(todo), func(k int) {
			i := todo[k]
			report.Results[i] = c.applyOne(ctx, items[i], before[i], opts)
		})
	}
	if err := errorOf(op, report); err != nil || !opts.Prune {
		return report, err
	}
	removed, err := c.pruneAndRelease(ctx, s, prev.union(cur), items, opts)
	if err != nil {
		return report, fmt.Errorf("%s: %w", op, err)
	}
	report.Results = append(report.Results, removed...)
	if err := errorOf(op, report); err != nil || opts.DryRun {
		return report, err
	}
	if err := c.writeParent(ctx, s, cur); err != nil {
		return report, fmt.Errorf("%s: %w", op, err)
	}
	return report, nil
}

// namespaceItem is the index of the Namespace object named ns, or -1.
func namespaceItem(items []item, ns string) int {
	for i, it := range items {
		if it.ref.Group == "" && it.ref.Kind == "Namespace" && it.ref.Name == ns {
			return i
		}
	}
	return -1
}

// applyOne server-side applies one object; before is what observe read of
// it (unused in a dry run).
func (c *Client) applyOne(ctx context.Context, it item, before observed, opts Options) Result {
	res := Result{Ref: it.ref, Shared: it.shared, Action: Failed}
	if err := ctx.Err(); err != nil {
		res.Err = err
		return res
	}
	var err error
	if opts.DryRun {
		res.Action, err = c.dryApply(ctx, it, opts)
	} else {
		res.Action, err = c.applyLive(ctx, it, before, opts)
	}
	if err != nil {
		res.Action, res.Err = Failed, err
	}
	return res
}

// applyLive applies through the metadata client: the body is encoded once
// and the answer is the object's metadata only, whose resourceVersion,
// compared with the one read before, tells what happened.
func (c *Client) applyLive(ctx context.Context, it item, before observed, opts Options) (Action, error) {
	if before.err != nil {
		return Failed, before.err
	}
	body, err := json.Marshal(it.obj.Object)
	if err != nil {
		return Failed, fmt.Errorf("encoding %s: %w", it.ref, err)
	}
	out, err := c.metadataResource(it.mapping, it.ref.Namespace).Patch(ctx, it.ref.Name, types.ApplyPatchType, body,
		metav1.PatchOptions{FieldManager: pattern.FieldManager, Force: &opts.ForceConflicts})
	if err != nil {
		return Failed, err
	}
	return actionAfter(before, out.ResourceVersion), nil
}

// actionAfter tells what an apply answered with version did to an object
// observed as before: an apply that changes nothing writes nothing, so
// the resourceVersion stays.
func actionAfter(before observed, version string) Action {
	switch {
	case !before.exists:
		return Created
	case before.version == version:
		return Unchanged
	}
	return Configured
}

// dryApply asks for a server dry run. A dry run changes no
// resourceVersion, so the content before and after, without metadata
// noise, decides.
func (c *Client) dryApply(ctx context.Context, it item, opts Options) (Action, error) {
	ri := c.resource(it.mapping, it.ref.Namespace)
	live, err := ri.Get(ctx, it.ref.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		live, err = nil, nil
	}
	if err != nil {
		return Failed, err
	}
	out, err := ri.Apply(ctx, it.ref.Name, it.obj, metav1.ApplyOptions{
		FieldManager: pattern.FieldManager,
		Force:        opts.ForceConflicts,
		DryRun:       dryRun(true),
	})
	if err != nil {
		return Failed, err
	}
	switch {
	case live == nil:
		return Created, nil
	case equalContent(live, out):
		return Unchanged, nil
	}
	return Configured, nil
}
