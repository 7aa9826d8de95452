package apply

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
)

// listTarget is one list request for members.
type listTarget struct {
	mapping   *meta.RESTMapping
	namespace string
}

// members lists the objects labelled part of set s, across the kinds and
// namespaces st records, sorted by ref. Kinds the cluster no longer serves
// have no members left.
func (c *Client) members(ctx context.Context, s Set, st parentState, workers int) ([]*unstructured.Unstructured, error) {
	var targets []listTarget
	for _, gk := range sortedKinds(st.kinds) {
		m, err := c.groupKindMapping(gk)
		if err != nil {
			continue
		}
		if m.Scope.Name() == meta.RESTScopeNameRoot {
			targets = append(targets, listTarget{mapping: m})
			continue
		}
		for _, ns := range sets.List(st.namespaces) {
			targets = append(targets, listTarget{mapping: m, namespace: ns})
		}
	}
	var (
		mu   sync.Mutex
		out  []*unstructured.Unstructured
		errs []error
	)
	selector := metav1.ListOptions{LabelSelector: LabelPartOf + "=" + s.ID()}
	parallel(ctx, workers, len(targets), func(i int) {
		t := targets[i]
		list, err := c.resource(t.mapping, t.namespace).List(ctx, selector)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs = append(errs, fmt.Errorf("listing %s in %q: %w", t.mapping.GroupVersionKind.Kind, t.namespace, err))
			return
		}
		for j := range list.Items {
			out = append(out, &list.Items[j])
		}
	})
	if len(errs) > 0 {
		return nil, errs[0]
	}
	sort.Slice(out, func(i, j int) bool { return RefOf(out[i]).less(RefOf(out[j])) })
	return out, nil
}

func sortedKinds(kinds sets.Set[schema.GroupKind]) []schema.GroupKind {
	out := kinds.UnsortedList()
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// stale returns the members and the shared refs of st that items no
// longer include.
func (c *Client) stale(ctx context.Context, s Set, st parentState, items []item, workers int) ([]*unstructured.Unstructured, []Ref, error) {
	current := map[string]bool{}
	for _, it := range items {
		current[it.ref.key()] = true
	}
	live, err := c.members(ctx, s, st, workers)
	if err != nil {
		return nil, nil, err
	}
	var gone []*unstructured.Unstructured
	for _, u := range live {
		if !current[RefOf(u).key()] {
			gone = append(gone, u)
		}
	}
	var released []Ref
	for _, r := range st.shared {
		if !current[r.key()] {
			released = append(released, r)
		}
	}
	return gone, released, nil
}

// pruneAndRelease deletes stale members and releases stale shared objects.
func (c *Client) pruneAndRelease(ctx context.Context, s Set, st parentState, items []item, opts Options) ([]Result, error) {
	gone, released, err := c.stale(ctx, s, st, items, opts.Workers)
	if err != nil {
		return nil, fmt.Errorf("finding objects to prune: %w", err)
	}
	return c.removeAll(ctx, gone, released, Pruned, opts.DryRun, opts.Workers), nil
}

// removeAll deletes members (reporting action) and releases shared refs,
// tier by tier in the reverse of apply's order: routes before the
// DestinationRules, Servers and Services they name, so that no object
// refers to one already gone and an admission webhook that looks
// references up never sees a route outlive its targets.
func (c *Client) removeAll(ctx context.Context, members []*unstructured.Unstructured, shared []Ref, action Action, dry bool, workers int) []Result {
	refs := make([]Ref, 0, len(members)+len(shared))
	for _, u := range members {
		refs = append(refs, RefOf(u))
	}
	refs = append(refs, shared...)
	results := make([]Result, len(refs))
	for _, tier := range slices.Backward(tiers(refs)) {
		parallel(ctx, workers, len(tier), func(k int) {
			i := tier[k]
			if i < len(members) {
				results[i] = c.deleteMember(ctx, members[i], action, dry)
				return
			}
			results[i] = c.release(ctx, shared[i-len(members)], dry)
		})
	}
	return results
}

// deleteMember deletes a member. A member of a pattern in lock mode is
// released first: the drift policy (MESH5005) refuses its deletion by
// anyone, and a DELETE names no field manager, so kubectl mesh drops its
// own fields (the lock annotation among them) with an apply that it may
// make. In a dry run only that apply is tried: the lock is still there
// for the dry-run DELETE, which the webhook would refuse.
func (c *Client) deleteMember(ctx context.Context, u *unstructured.Unstructured, action Action, dry bool) Result {
	r := RefOf(u)
	if u.GetAnnotations()[pattern.AnnotationDrift] != "lock" {
		return c.deleteOne(ctx, r, action, dry)
	}
	m, err := c.mapping(r.GroupVersionKind())
	if err != nil {
		return Result{Ref: r, Action: Failed, Err: err}
	}
	_, err = c.resource(m, r.Namespace).Apply(ctx, r.Name, identity(r), metav1.ApplyOptions{FieldManager: pattern.FieldManager, Force: true, DryRun: dryRun(dry)})
	if err != nil && !apierrors.IsNotFound(err) {
		return Result{Ref: r, Action: Failed, Err: fmt.Errorf("unlocking before the delete: %w", err)}
	}
	if dry {
		return Result{Ref: r, Action: action}
	}
	return c.deleteOne(ctx, r, action, dry)
}

// deleteOne deletes a member; one already gone counts as deleted.
func (c *Client) deleteOne(ctx context.Context, r Ref, action Action, dry bool) Result {
	res := Result{Ref: r, Action: Failed}
	m, err := c.mapping(r.GroupVersionKind())
	if err != nil {
		res.Err = err
		return res
	}
	policy := metav1.DeletePropagationBackground
	err = c.resource(m, r.Namespace).Delete(ctx, r.Name, metav1.DeleteOptions{PropagationPolicy: &policy, DryRun: dryRun(dry)})
	if err != nil && !apierrors.IsNotFound(err) {
		res.Err = err
		return res
	}
	res.Action = action
	return res
}

// release gives back the fields kubectl mesh owns in a shared object: an
// apply of nothing but its identity drops them from our field manager's
// set, and the apiserver removes the fields no one else owns. An object
// already gone is left alone (an apply would create it).
func (c *Client) release(ctx context.Context, r Ref, dry bool) Result {
	res := Result{Ref: r, Shared: true, Action: Failed}
	m, err := c.mapping(r.GroupVersionKind())
	if err != nil {
		res.Err = err
		return res
	}
	ri := c.resource(m, r.Namespace)
	if _, err := ri.Get(ctx, r.Name, metav1.GetOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			res.Action = Released
			return res
		}
		res.Err = err
		return res
	}
	_, err = ri.Apply(ctx, r.Name, identity(r), metav1.ApplyOptions{FieldManager: pattern.FieldManager, DryRun: dryRun(dry)})
	if err != nil {
		res.Err = err
		return res
	}
	res.Action = Released
	return res
}

// identity is an object with nothing but its type and name.
func identity(r Ref) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{}}
	u.SetGroupVersionKind(r.GroupVersionKind())
	u.SetName(r.Name)
	if r.Namespace != "" {
		u.SetNamespace(r.Namespace)
	}
	return u
}
