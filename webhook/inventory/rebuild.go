package inventory

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
)

// rebuildLoop rebuilds at most once per Debounce. A change after a quiet
// spell is rebuilt at once, so that `kubectl apply` of a Service and then a
// VirtualService routing to it finds the Service; changes during a burst
// are folded into one rebuild when the interval since the last has passed.
func (inv *Inventory) rebuildLoop(ctx context.Context) {
	throttle(ctx, inv.opts.clock, inv.opts.Debounce, inv.dirty, func() {
		if err := inv.rebuild(ctx); err != nil && ctx.Err() == nil {
			inv.log.Error(err, "rebuilding the inventory; the previous one stays in force")
			signal(inv.dirty) // try again after the next interval
		}
	})
}

// rebuildShare bounds the time rebuilds take under a burst of writes to
// 1/rebuildShare of the time: a rebuild that took 80ms is not followed by
// another within 800ms. A large apply (1,000 objects) otherwise spends a
// core on rebuilds that compete with the apiserver it is writing to.
const rebuildShare = 10

// throttle calls fn on each signal on trigger, at most once per interval,
// or per rebuildShare times fn's last duration when that is longer, until
// ctx ends: signals within an interval of the last call wait for its end
// and are folded into one call.
func throttle(ctx context.Context, clk clock.Clock, interval time.Duration, trigger <-chan struct{}, fn func()) {
	var last time.Time
	var took time.Duration
	for {
		select {
		case <-ctx.Done():
			return
		case <-trigger:
		}
		if wait := max(interval, rebuildShare*took) - clk.Since(last); !last.IsZero() && wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-clk.After(wait):
			}
		}
		select {
		case <-trigger: // folded into this call
		default:
		}
		start := clk.Now()
		fn()
		last = clk.Now()
		took = last.Sub(start)
	}
}

// rebuild brings the engine's inventory up to the cache: the kinds whose
// informers reported a change are compared with the cache and only their
// changed objects reach the engine (Engine.UpdateInventory); after the
// watched kinds changed, or an update failed, every kind is listed again
// and the inventory replaced (SetInventory). The subscribers are told when
// something changed. Rebuilds run one at a time.
func (inv *Inventory) rebuild(ctx context.Context) error {
	select {
	case inv.rebuilding <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-inv.rebuilding }()
	inv.changesMu.Lock()
	kinds, full := inv.changedKinds, inv.needFull
	inv.changedKinds, inv.needFull = map[schema.GroupKind]bool{}, false
	inv.changesMu.Unlock()
	if full || inv.held == nil {
		return inv.rebuildLocked(ctx)
	}
	if len(kinds) == 0 {
		return nil // an earlier rebuild took the changes
	}
	return inv.refreshLocked(ctx, slices.SortedFunc(maps.Keys(kinds), compareGroupKind))
}

// changed records that an informer saw a change of kind gk.
func (inv *Inventory) changed(gk schema.GroupKind) {
	inv.changesMu.Lock()
	inv.changedKinds[gk] = true
	inv.changesMu.Unlock()
	signal(inv.dirty)
}

// rebuildEverything makes the next rebuild list every kind again.
func (inv *Inventory) rebuildEverything() {
	inv.changesMu.Lock()
	inv.needFull = true
	inv.changesMu.Unlock()
	signal(inv.dirty)
}

// rebuildSince makes sure that the inventory holds what the cache held of
// kinds when rebuild number since had started (rebuildStarted at the
// caller's moment): the kinds no rebuild has compared with the cache since
// then are compared now. Callers that wait together share the work.
func (inv *Inventory) rebuildSince(ctx context.Context, since uint64, kinds []schema.GroupKind) error {
	select {
	case inv.rebuilding <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-inv.rebuilding }()
	stale := slices.DeleteFunc(slices.Clone(kinds), func(gk schema.GroupKind) bool { return inv.listed[gk] > since })
	if len(stale) == 0 {
		return nil
	}
	if inv.held == nil {
		return inv.rebuildLocked(ctx)
	}
	return inv.refreshLocked(ctx, stale)
}

// rebuildLocked lists every cached kind and hands the engine a whole new
// inventory in one swap. The caller holds inv.rebuilding.
func (inv *Inventory) rebuildLocked(ctx context.Context) error {
	gen := inv.rebuildStarted.Add(1)
	inv.mu.Lock()
	defer inv.mu.Unlock()
	doc := policies.NewInventory()
	held := map[schema.GroupKind]map[types.NamespacedName]map[string]any{}
	for _, gk := range slices.SortedFunc(maps.Keys(inv.watched), compareGroupKind) {
		objects, err := inv.listCached(ctx, inv.watched[gk].gvk)
		if err != nil {
			return err
		}
		held[gk] = objects
		for _, obj := range objects {
			doc.Add(obj)
		}
	}
	if err := inv.opts.Engine.SetInventory(ctx, doc); err != nil {
		inv.held = nil
		return fmt.Errorf("handing the inventory to the engine: %w", err)
	}
	inv.held = held
	inv.handed.Add(uint64(doc.Len()))
	for gk := range held {
		inv.listed[gk] = gen
	}
	inv.publish(gen, slices.Collect(maps.Keys(held)))
	inv.log.V(1).Info("inventory rebuilt", "objects", doc.Len())
	return nil
}

// refreshLocked compares kinds with the cache and hands the engine the
// objects added, changed (another resourceVersion) and deleted. The caller
// holds inv.rebuilding.
func (inv *Inventory) refreshLocked(ctx context.Context, kinds []schema.GroupKind) error {
	gen := inv.rebuildStarted.Add(1)
	inv.mu.Lock()
	defer inv.mu.Unlock()
	var changes policies.InventoryChanges
	var changedKinds []schema.GroupKind
	next := map[schema.GroupKind]map[types.NamespacedName]map[string]any{}
	for _, gk := range kinds {
		w, ok := inv.watched[gk]
		if !ok {
			continue // stopped: the full rebuild that follows removes its objects
		}
		objects, err := inv.listCached(ctx, w.gvk)
		if err != nil {
			return err
		}
		held := inv.held[gk]
		n := len(changes.Put) + len(changes.Removed)
		for key, obj := range objects {
			if old, ok := held[key]; !ok || resourceVersion(old) != resourceVersion(obj) || resourceVersion(obj) == "" {
				changes.Put = append(changes.Put, obj)
			}
		}
		for key := range held {
			if _, ok := objects[key]; !ok {
				changes.Removed = append(changes.Removed, policies.Resource{
					APIVersion: w.gvk.GroupVersion().String(), Kind: w.gvk.Kind, Namespace: key.Namespace, Name: key.Name})
			}
		}
		if len(changes.Put)+len(changes.Removed) > n {
			next[gk] = objects
			changedKinds = append(changedKinds, gk)
		}
	}
	if len(changedKinds) > 0 {
		if err := inv.opts.Engine.UpdateInventory(ctx, changes); err != nil {
			inv.held = nil // start again from a whole inventory
			return fmt.Errorf("handing the changed objects to the engine: %w", err)
		}
		maps.Copy(inv.held, next)
		inv.handed.Add(uint64(len(changes.Put) + len(changes.Removed)))
		inv.publish(gen, changedKinds)
		inv.log.V(2).Info("inventory updated", "changed", len(changes.Put), "deleted", len(changes.Removed))
	}
	for _, gk := range kinds {
		inv.listed[gk] = gen
	}
	return nil
}

// listCached lists the objects of gvk the inventory holds from the cache,
// by namespace and name, each with the apiVersion and kind it is watched as.
func (inv *Inventory) listCached(ctx context.Context, gvk schema.GroupVersionKind) (map[types.NamespacedName]map[string]any, error) {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	if err := inv.cache.List(ctx, list); err != nil {
		return nil, fmt.Errorf("listing %s from the cache: %w", gvk.String(), err)
	}
	apiVersion := gvk.GroupVersion().String()
	out := make(map[types.NamespacedName]map[string]any, len(list.Items))
	for i := range list.Items {
		obj := list.Items[i].Object
		if inv.excluded(obj) {
			continue
		}
		if obj["apiVersion"] != apiVersion || obj["kind"] != gvk.Kind {
			// Never modify a cached object: copy the top level.
			obj = maps.Clone(obj)
			obj["apiVersion"], obj["kind"] = apiVersion, gvk.Kind
		}
		out[types.NamespacedName{Namespace: list.Items[i].GetNamespace(), Name: list.Items[i].GetName()}] = obj
	}
	return out, nil
}

func resourceVersion(obj map[string]any) string {
	meta, _ := obj["metadata"].(map[string]any)
	rv, _ := meta["resourceVersion"].(string)
	return rv
}

// publish makes the held objects the snapshot of generation gen, with new
// versions for the changed kinds, and tells the subscribers.
func (inv *Inventory) publish(gen uint64, changed []schema.GroupKind) {
	seen := map[schema.GroupKind]versions{}
	if cur := inv.current.Load(); cur != nil {
		maps.Copy(seen, cur.versions)
	}
	for gk := range seen {
		if _, ok := inv.held[gk]; !ok {
			delete(seen, gk)
		}
	}
	var objects []map[string]any
	for _, gk := range slices.SortedFunc(maps.Keys(inv.held), compareGroupKind) {
		if _, ok := seen[gk]; !ok || slices.Contains(changed, gk) {
			seen[gk] = make(versions, len(inv.held[gk]))
			for _, obj := range inv.held[gk] {
				seen[gk].add(obj)
			}
		}
		for _, obj := range inv.held[gk] {
			objects = append(objects, obj)
		}
	}
	inv.current.Store(&snapshot{generation: gen, objects: objects, versions: seen})
	inv.notify()
}

func (inv *Inventory) excluded(obj map[string]any) bool {
	if len(inv.opts.ExcludeNamespaces) == 0 {
		return false
	}
	meta, _ := obj["metadata"].(map[string]any)
	ns, _ := meta["namespace"].(string)
	return inv.excludedNamespace(ns)
}

func (inv *Inventory) excludedNamespace(ns string) bool {
	return ns != "" && slices.Contains(inv.opts.ExcludeNamespaces, ns)
}
