package inventory

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/resourceversion"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
)

// catchUpPoll is how often CatchUp looks whether the cache holds what the
// apiserver listed: informers trail the apiserver by milliseconds.
const catchUpPoll = 5 * time.Millisecond

// lagPatience is the longest CatchUp waits for the cache before it takes
// the kind for stuck, and it waits half its time at most, so that a new
// informer has the other half to list: after an apiserver outage
// client-go's reflector retries its watch with a backoff that grows to
// 30 s (full jitter: up to a minute), and the cache holds nothing new
// meanwhile, though the apiserver answers again. The kind is then listed
// again at once (relistLagging).
const lagPatience = time.Second

// snapshot is the last inventory handed to the engine: its objects, and
// the resourceVersion of each by kind, which CatchUp compares with the
// apiserver's.
type snapshot struct {
	generation uint64 // the rebuild's number
	objects    []map[string]any
	versions   map[schema.GroupKind]versions
}

// versions are the resourceVersions of the objects of one kind, by uid.
type versions map[types.UID]string

func (v versions) add(obj map[string]any) {
	meta, _ := obj["metadata"].(map[string]any)
	uid, _ := meta["uid"].(string)
	rv, _ := meta["resourceVersion"].(string)
	v[types.UID(uid)] = rv
}

// live is what the apiserver listed of one kind.
type live struct {
	gvk      schema.GroupVersionKind
	versions versions
	// resourceVersion is the list's: objects written later are newer.
	resourceVersion string
}

// covers reports whether have (what the inventory or the cache holds of a
// kind) is at least as new as the apiserver's list l: every listed object
// at its version or a later one, and no object the list lacks unless it
// was written after the list (otherwise it was deleted before).
func (l live) covers(have versions) bool {
	for uid, rv := range l.versions {
		if h, ok := have[uid]; !ok || (h != rv && !newer(h, rv)) {
			return false
		}
	}
	for uid, rv := range have {
		if _, ok := l.versions[uid]; !ok && !newer(rv, l.resourceVersion) {
			return false
		}
	}
	return true
}

// newer reports whether resourceVersion a is later than b. Versions that
// do not compare (an apiserver not backed by etcd) are never newer: only
// equal versions then count as caught up.
func newer(a, b string) bool {
	c, err := resourceversion.CompareResourceVersion(a, b)
	return err == nil && c > 0
}

// Generation numbers the inventory in force: a caller reads it before it
// evaluates, and hands it to CatchUp.
func (inv *Inventory) Generation() uint64 {
	if cur := inv.current.Load(); cur != nil {
		return cur.generation
	}
	return 0
}

// CatchUp makes the inventory at least as new as the apiserver for the
// kinds that the policies ids look up (their METADATA's custom.inventory),
// so that a finding resting on the absence of an object is confirmed
// before it is reported. It lists those kinds uncached (metadata only) and
// compares them with the inventory in force; when the inventory is behind
// it waits for the cache to hold what was listed, then hands the engine
// what the cache holds of those kinds that the inventory lacks, sharing
// the work with concurrent callers. It reports whether the caller, who
// evaluated against inventory generation seen, is to evaluate again: the
// inventory was behind, or has changed since. It returns when ctx is done
// at the latest.
func (inv *Inventory) CatchUp(ctx context.Context, seen uint64, ids []string) (bool, error) {
	gvks := inv.watchedMatching(lookedUp(inv.opts.Engine.Policies(), ids))
	if len(gvks) == 0 {
		return false, nil
	}
	listed, err := inv.listLive(ctx, gvks)
	if err != nil {
		return false, fmt.Errorf("confirming against the apiserver: %w", err)
	}
	cur := inv.current.Load()
	if cur == nil {
		cur = &snapshot{}
	}
	have := cur.versions
	var behind []live
	for _, l := range listed {
		if !l.covers(have[l.gvk.GroupKind()]) {
			behind = append(behind, l)
		}
	}
	if len(behind) == 0 {
		// A rebuild may have come between the caller's evaluation and the list.
		return cur.generation != seen, nil
	}
	patient := lagPatience
	if deadline, ok := ctx.Deadline(); ok {
		patient = min(patient, time.Until(deadline)/2)
	}
	patience := time.Now().Add(patient)
	err = wait.PollUntilContextCancel(ctx, catchUpPoll, true, func(ctx context.Context) (bool, error) {
		var lagging []schema.GroupKind
		for _, l := range behind {
			cached, err := inv.cachedVersions(ctx, l.gvk)
			if err != nil || !l.covers(cached) {
				lagging = append(lagging, l.gvk.GroupKind())
			}
		}
		if len(lagging) > 0 && time.Now().After(patience) {
			inv.lagged(lagging)
			patience = time.Now().Add(time.Hour) // asked once per call
		}
		return len(lagging) == 0, nil // a kind may be restarting: look again
	})
	if err != nil {
		return false, fmt.Errorf("waiting for the cache to catch up with the apiserver on %s: %w", kindNames(behind), err)
	}
	// Only a rebuild that starts from now on is sure to see what the cache
	// holds: informers may not have reported it yet.
	kinds := make([]schema.GroupKind, len(behind))
	for i, l := range behind {
		kinds[i] = l.gvk.GroupKind()
	}
	if err := inv.rebuildSince(ctx, inv.rebuildStarted.Load(), kinds); err != nil {
		return false, fmt.Errorf("rebuilding the inventory: %w", err)
	}
	return true, nil
}

// lookedUp are the inventory kinds of the policies ids.
func lookedUp(metas []policies.Metadata, ids []string) []policies.Kind {
	var kinds []policies.Kind
	for _, md := range metas {
		if !slices.Contains(ids, md.ID) {
			continue
		}
		for _, k := range md.Inventory {
			if !slices.Contains(kinds, k) {
				kinds = append(kinds, k)
			}
		}
	}
	return kinds
}

// watchedMatching are the cached kinds that kinds name (wildcards
// included), in a stable order. Kinds the cluster does not serve have
// nothing to confirm.
func (inv *Inventory) watchedMatching(kinds []policies.Kind) []schema.GroupVersionKind {
	if len(kinds) == 0 {
		return nil
	}
	var out []schema.GroupVersionKind
	for _, gvk := range inv.watchedKinds() {
		if slices.ContainsFunc(kinds, func(k policies.Kind) bool { return k.Matches(gvk.Group, gvk.Kind) }) {
			out = append(out, gvk)
		}
	}
	return out
}

// listLive lists gvks from the apiserver, metadata only, concurrently:
// the objects the cache would hold, so Secrets only as the cache selects
// them and nothing of the excluded namespaces.
func (inv *Inventory) listLive(ctx context.Context, gvks []schema.GroupVersionKind) ([]live, error) {
	out := make([]live, len(gvks))
	errs := make([]error, len(gvks))
	var wg sync.WaitGroup
	for i, gvk := range gvks {
		wg.Go(func() {
			out[i] = live{gvk: gvk, versions: versions{}}
			for _, opts := range inv.listOptions(gvk) {
				list := &metav1.PartialObjectMetadataList{}
				list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
				if err := inv.opts.Reader.List(ctx, list, opts...); err != nil {
					errs[i] = fmt.Errorf("listing %s: %w", gvk.String(), err)
					return
				}
				for j := range list.Items {
					m := &list.Items[j].ObjectMeta
					if !inv.excludedNamespace(m.Namespace) {
						out[i].versions[m.UID] = m.ResourceVersion
					}
				}
				// Several lists (Secrets by namespace): objects count as
				// written after the listing when newer than the oldest.
				if rv := list.ResourceVersion; out[i].resourceVersion == "" || newer(out[i].resourceVersion, rv) {
					out[i].resourceVersion = rv
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// listOptions are the lists that read what the cache holds of gvk: one of
// the whole cluster, or for Secrets one per namespace of the named ones.
func (inv *Inventory) listOptions(gvk schema.GroupVersionKind) [][]client.ListOption {
	if gvk.Group != "" || gvk.Kind != "Secret" {
		return [][]client.ListOption{nil}
	}
	var out [][]client.ListOption
	for ns, cfg := range secretNamespaces(inv.opts.Secrets) {
		opts := []client.ListOption{client.InNamespace(ns)}
		if cfg.FieldSelector != nil {
			opts = append(opts, client.MatchingFieldsSelector{Selector: cfg.FieldSelector})
		}
		out = append(out, opts)
	}
	return out
}

// cachedVersions are the versions of gvk's objects in the cache now.
func (inv *Inventory) cachedVersions(ctx context.Context, gvk schema.GroupVersionKind) (versions, error) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	// Listing a kind the cache no longer watches would start its informer again.
	if w, ok := inv.watched[gvk.GroupKind()]; !ok || w.gvk != gvk {
		return nil, fmt.Errorf("%s is no longer watched", gvk.String())
	} else if w.restarting {
		return nil, fmt.Errorf("%s is being listed again", gvk.String())
	}
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	if err := inv.cache.List(ctx, list); err != nil {
		return nil, err
	}
	out := make(versions, len(list.Items))
	for i := range list.Items {
		if obj := list.Items[i].Object; !inv.excluded(obj) {
			out.add(obj)
		}
	}
	return out, nil
}

func kindNames(ls []live) string {
	names := make([]string, len(ls))
	for i, l := range ls {
		names[i] = l.gvk.Kind
	}
	return fmt.Sprint(names)
}
