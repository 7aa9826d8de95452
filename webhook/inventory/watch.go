package inventory

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
)

// watch is one cached kind.
type watch struct {
	gvk          schema.GroupVersionKind
	informer     cache.Informer
	registration toolscache.ResourceEventHandlerRegistration
	// restarting: relistLagging replaces the informer; guarded by inv.mu.
	restarting bool
}

// resourceLister returns the server's preferred resources.
type resourceLister func(ctx context.Context) ([]*metav1.APIResourceList, error)

func (inv *Inventory) newCache() (cache.Cache, error) {
	c, err := cache.New(inv.opts.Config, cache.Options{
		HTTPClient:       inv.opts.HTTPClient,
		Mapper:           inv.opts.Mapper,
		DefaultTransform: trim,
		// Objects are read, never modified: listing them for a rebuild must
		// not copy the whole cluster each time.
		DefaultUnsafeDisableDeepCopy: ptr.To(true),
		DefaultWatchErrorHandler:     inv.watchError,
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}: {Namespaces: secretNamespaces(inv.opts.Secrets)},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("creating the inventory cache: %w", err)
	}
	return c, nil
}

// watchError logs, in the webhook's log rather than client-go's, why a
// kind's list and watch failed; the informer retries with a backoff (and
// lists again at once after a watch expired, 410 Gone, without calling
// this).
func (inv *Inventory) watchError(_ context.Context, r *toolscache.Reflector, err error) {
	if errors.Is(err, io.EOF) {
		return
	}
	inv.log.V(1).Info("list and watch failed; retrying", "reflector", r.TypeDescription(), "error", err.Error())
}

// secretNamespaces restricts the Secret informers to the named Secrets: one
// informer per namespace, by name when the namespace has just one.
func secretNamespaces(secrets []types.NamespacedName) map[string]cache.Config {
	names := map[string][]string{}
	for _, s := range secrets {
		names[s.Namespace] = append(names[s.Namespace], s.Name)
	}
	out := make(map[string]cache.Config, len(names))
	for ns, n := range names {
		cfg := cache.Config{}
		if len(n) == 1 {
			cfg.FieldSelector = fields.OneTermEqualSelector("metadata.name", n[0])
		}
		out[ns] = cfg
	}
	return out
}

func (inv *Inventory) newResourceLister() (resourceLister, error) {
	httpClient := inv.opts.HTTPClient
	if httpClient == nil {
		var err error
		if httpClient, err = rest.HTTPClientFor(inv.opts.Config); err != nil {
			return nil, fmt.Errorf("creating the discovery client: %w", err)
		}
	}
	dc, err := discovery.NewDiscoveryClientForConfigAndClient(inv.opts.Config, httpClient)
	if err != nil {
		return nil, fmt.Errorf("creating the discovery client: %w", err)
	}
	withCtx := discovery.ToDiscoveryInterfaceWithContext(dc)
	return func(ctx context.Context) ([]*metav1.APIResourceList, error) {
		return discovery.ServerPreferredResourcesWithContext(ctx, withCtx)
	}, nil
}

func (inv *Inventory) rediscoverLoop(ctx context.Context, list resourceLister) {
	ticker := inv.opts.clock.NewTicker(inv.opts.Rediscover)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C():
		case <-inv.resync:
		case <-inv.lag:
			inv.relistLagging(ctx)
			continue
		}
		inv.syncKinds(ctx, list)
	}
}

// relistEvery is the least time between two relists of one kind for lag.
const relistEvery = 5 * time.Second

// lagged asks for kinds to be listed again: their cache is behind the
// apiserver that answered a list just now.
func (inv *Inventory) lagged(kinds []schema.GroupKind) {
	inv.lagMu.Lock()
	for _, gk := range kinds {
		inv.lagKinds[gk] = true
	}
	inv.lagMu.Unlock()
	signal(inv.lag)
}

// relistLagging starts again the informers of the kinds whose cache lags
// (lagged): a new informer lists at once, where the old one may sleep in
// its backoff for a minute after an apiserver outage. It runs in the
// rediscovery loop, never beside syncKinds.
func (inv *Inventory) relistLagging(ctx context.Context) {
	now := inv.opts.clock.Now()
	inv.lagMu.Lock()
	var gks []schema.GroupKind
	for gk := range inv.lagKinds {
		if now.Sub(inv.relisted[gk]) >= relistEvery {
			gks = append(gks, gk)
			inv.relisted[gk] = now
		}
	}
	clear(inv.lagKinds)
	inv.lagMu.Unlock()

	// No rebuild may run while a kind is between its two informers: it
	// would hand the engine an inventory without the kind's objects.
	select {
	case inv.rebuilding <- struct{}{}:
	case <-ctx.Done():
		return
	}
	defer func() { <-inv.rebuilding }()
	// The kinds stay listed as watched, restarting, so that CatchUp keeps
	// confirming against them (and waits for the new informer) rather
	// than skip them.
	inv.mu.Lock()
	var stale []*watch
	for _, gk := range gks {
		if w, ok := inv.watched[gk]; ok {
			stale = append(stale, w)
			w.restarting = true
		}
	}
	inv.mu.Unlock()
	if len(stale) == 0 {
		return
	}
	gvks := make([]schema.GroupVersionKind, len(stale))
	for i, w := range stale {
		inv.stop(ctx, w)
		gvks[i] = w.gvk
	}
	inv.log.Info("the cache lags behind the apiserver (a watch backing off after an outage?); listing again", "kinds", fmt.Sprint(gvks))
	started := inv.start(ctx, gvks)
	inv.mu.Lock()
	for _, w := range stale {
		delete(inv.watched, w.gvk.GroupKind()) // one that did not sync is tried again at the next discovery
	}
	for _, w := range started {
		inv.watched[w.gvk.GroupKind()] = w
	}
	inv.mu.Unlock()
	inv.changesMu.Lock()
	for _, w := range started {
		inv.changedKinds[w.gvk.GroupKind()] = true
	}
	inv.changesMu.Unlock()
	signal(inv.dirty)
}

// syncKinds starts informers for the wanted kinds the cluster now serves
// and stops those of kinds it no longer serves (a CRD was removed) or no
// policy needs any more.
func (inv *Inventory) syncKinds(ctx context.Context, list resourceLister) {
	lists, err := list(ctx)
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		inv.log.Error(err, "discovering the served kinds; keeping the kinds watched so far")
		return
	}
	var undiscovered map[schema.GroupVersion]error
	if failed := (*discovery.ErrGroupDiscoveryFailed)(nil); errors.As(err, &failed) {
		// Some API group did not answer (an aggregated API down, or the
		// apiserver still starting after a restart); what was discovered is
		// still good, and the kinds of the others are kept, not dropped.
		undiscovered = failed.Groups
		inv.log.V(1).Info("some API groups could not be discovered", "error", err.Error())
	}
	served, missing := resolveKinds(lists, wantedKinds(inv.opts.Engine.Policies()))
	// Logged once per kind, not at every rediscovery.
	notServed := map[policies.Kind]bool{}
	for _, k := range missing {
		notServed[k] = true
		if !inv.notServed[k] {
			inv.log.V(1).Info("kind not served by the cluster; looked for again later", "kind", k.String())
		}
	}
	inv.notServed = notServed

	inv.mu.Lock()
	var stale []*watch
	for gk, w := range inv.watched {
		if !keepWatching(w.gvk, served, undiscovered) {
			stale = append(stale, w)
			delete(inv.watched, gk)
		}
	}
	var added []schema.GroupVersionKind
	for gk, gvk := range served {
		if _, ok := inv.watched[gk]; !ok {
			added = append(added, gvk)
		}
	}
	inv.mu.Unlock()
	slices.SortFunc(added, func(a, b schema.GroupVersionKind) int { return strings.Compare(a.String(), b.String()) })

	for _, w := range stale {
		inv.stop(ctx, w)
		inv.log.Info("stopped watching a kind", "kind", w.gvk.String())
	}
	started := inv.start(ctx, added)
	inv.mu.Lock()
	for _, w := range started {
		inv.watched[w.gvk.GroupKind()] = w
	}
	inv.mu.Unlock()
	if len(stale) > 0 || len(started) > 0 {
		inv.rebuildEverything()
	}
}

// keepWatching tells whether a watched kind stays watched after a
// discovery: it is still served at the same version, or its group version
// could not be discovered this time. Dropping a kind whose group did not
// answer would empty its part of the inventory, and every policy that
// looks it up would report objects that exist as missing.
func keepWatching(gvk schema.GroupVersionKind, served map[schema.GroupKind]schema.GroupVersionKind, undiscovered map[schema.GroupVersion]error) bool {
	if now, ok := served[gvk.GroupKind()]; ok {
		return now == gvk
	}
	_, unknown := undiscovered[gvk.GroupVersion()]
	return unknown
}

// start creates the informers of gvks and waits, within SyncTimeout, for
// their first list. Kinds that do not sync are stopped and logged.
func (inv *Inventory) start(ctx context.Context, gvks []schema.GroupVersionKind) []*watch {
	var pending []*watch
	for _, gvk := range gvks {
		informer, err := inv.cache.GetInformer(ctx, unstructuredOf(gvk), cache.BlockUntilSynced(false))
		if err != nil {
			inv.log.Error(err, "watching a kind; tried again later", "kind", gvk.String())
			continue
		}
		gk := gvk.GroupKind()
		reg, err := informer.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			AddFunc: func(any) { inv.changed(gk) },
			UpdateFunc: func(oldObj, newObj any) {
				// Periodic resyncs change nothing.
				o, ok1 := oldObj.(client.Object)
				n, ok2 := newObj.(client.Object)
				if !ok1 || !ok2 || o.GetResourceVersion() != n.GetResourceVersion() {
					inv.changed(gk)
				}
			},
			DeleteFunc: func(any) { inv.changed(gk) },
		})
		if err != nil {
			inv.log.Error(err, "watching a kind; tried again later", "kind", gvk.String())
			inv.removeInformer(ctx, gvk)
			continue
		}
		pending = append(pending, &watch{gvk: gvk, informer: informer, registration: reg})
	}
	syncCtx, cancel := context.WithTimeout(ctx, inv.opts.SyncTimeout)
	defer cancel()
	var started []*watch
	for _, w := range pending {
		if toolscache.WaitForCacheSync(syncCtx.Done(), w.informer.HasSynced) {
			started = append(started, w)
			inv.log.V(1).Info("watching a kind", "kind", w.gvk.String())
			continue
		}
		if ctx.Err() == nil {
			inv.log.Error(fmt.Errorf("not synced within %s", inv.opts.SyncTimeout), "watching a kind; is list and watch allowed? tried again later", "kind", w.gvk.String())
		}
		inv.stop(ctx, w)
	}
	return started
}

func (inv *Inventory) stop(ctx context.Context, w *watch) {
	if w.registration != nil {
		_ = w.informer.RemoveEventHandler(w.registration) // idempotent; the informer goes next
	}
	inv.removeInformer(ctx, w.gvk)
}

func (inv *Inventory) removeInformer(ctx context.Context, gvk schema.GroupVersionKind) {
	if err := inv.cache.RemoveInformer(ctx, unstructuredOf(gvk)); err != nil {
		inv.log.Error(err, "stopping the informer of a kind", "kind", gvk.String())
	}
}

// watchedKinds lists the cached kinds in a stable order.
func (inv *Inventory) watchedKinds() []schema.GroupVersionKind {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	out := make([]schema.GroupVersionKind, 0, len(inv.watched))
	for _, w := range inv.watched {
		out = append(out, w.gvk)
	}
	slices.SortFunc(out, func(a, b schema.GroupVersionKind) int { return strings.Compare(a.String(), b.String()) })
	return out
}

func unstructuredOf(gvk schema.GroupVersionKind) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	return u
}
