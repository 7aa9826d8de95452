package inventory

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
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

// rebuild lists every cached kind, hands the new inventory to the engine in
// one swap, and then tells the subscribers. Rebuilds run one at a time.
func (inv *Inventory) rebuild(ctx context.Context) error {
	select {
	case inv.rebuilding <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-inv.rebuilding }()
	return inv.rebuildLocked(ctx)
}

// rebuildSince makes sure that a rebuild which started after generation
// since (rebuildStarted at the caller's moment) has finished. Callers that
// wait together share one rebuild instead of each running its own.
func (inv *Inventory) rebuildSince(ctx context.Context, since uint64) error {
	select {
	case inv.rebuilding <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-inv.rebuilding }()
	if inv.rebuildFinished > since {
		return nil
	}
	return inv.rebuildLocked(ctx)
}

// rebuildLocked is rebuild for the holder of inv.rebuilding.
func (inv *Inventory) rebuildLocked(ctx context.Context) error {
	gen := inv.rebuildStarted.Add(1)
	inv.mu.Lock()
	defer inv.mu.Unlock()
	doc := policies.NewInventory()
	var objects []map[string]any
	seen := map[schema.GroupKind]versions{}
	for _, gk := range slices.SortedFunc(maps.Keys(inv.watched), compareGroupKind) {
		gvk := inv.watched[gk].gvk
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
		if err := inv.cache.List(ctx, list); err != nil {
			return fmt.Errorf("listing %s from the cache: %w", gvk.String(), err)
		}
		apiVersion := gvk.GroupVersion().String()
		seen[gk] = make(versions, len(list.Items))
		for i := range list.Items {
			obj := list.Items[i].Object
			if inv.excluded(obj) {
				continue
			}
			seen[gk].add(obj)
			if obj["apiVersion"] != apiVersion || obj["kind"] != gvk.Kind {
				// Never modify a cached object: copy the top level.
				obj = maps.Clone(obj)
				obj["apiVersion"], obj["kind"] = apiVersion, gvk.Kind
			}
			doc.Add(obj)
			objects = append(objects, obj)
		}
	}
	if err := inv.opts.Engine.SetInventory(ctx, doc); err != nil {
		return fmt.Errorf("handing the inventory to the engine: %w", err)
	}
	inv.current.Store(&snapshot{generation: gen, objects: objects, versions: seen})
	inv.rebuildFinished = gen
	inv.log.V(1).Info("inventory rebuilt", "objects", len(objects))
	inv.notify()
	return nil
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
