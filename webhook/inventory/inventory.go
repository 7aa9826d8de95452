// Package inventory keeps the cluster objects policies look up in an
// informer-backed cache (controller-runtime's) and hands them to the policy
// engine as data.inventory. The inventory is updated off the request path,
// throttled, whenever a cached object changes (only the changed objects
// and the index entries they touch); admission reviews read the
// engine's current copy, and only a review with a finding that rests on
// looked-up objects has the inventory caught up with the apiserver first
// (CatchUp).
package inventory

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
)

// Options configure an Inventory.
type Options struct {
	// Config reaches the apiserver. Required.
	Config *rest.Config
	// HTTPClient and Mapper are shared with the manager when set
	// (mgr.GetHTTPClient(), mgr.GetRESTMapper()); nil builds new ones.
	HTTPClient *http.Client
	Mapper     meta.RESTMapper
	// Reader reads from the apiserver, uncached, to confirm what a
	// referential finding rests on (CatchUp); mgr.GetAPIReader() shares
	// the manager's client. Nil builds one from Config.
	Reader client.Reader
	// Engine receives the inventory. Required.
	Engine *policies.Engine
	Log    logr.Logger
	// Debounce is the least time between two rebuilds: a burst of changes
	// costs one rebuild. Default 500ms.
	Debounce time.Duration
	// Rediscover is how often the served kinds are checked again, so that
	// kinds whose CRD is installed later, or that a newly loaded custom
	// policy asks for, are picked up. Default 30s.
	Rediscover time.Duration
	// SyncTimeout bounds the wait for a kind's first list. A kind that has
	// not synced by then (forbidden by RBAC, for example) is dropped,
	// logged, and tried again at the next rediscovery. Default 1m.
	SyncTimeout time.Duration
	// ExcludeNamespaces leaves the objects of these namespaces out of the
	// inventory and of Objects(). Lookups cross namespaces (a route to a
	// Service in istio-system), so exclude only namespaces no policy needs.
	ExcludeNamespaces []string
	// Secrets are the only Secrets cached when a policy asks for Secrets:
	// never every Secret of the cluster. Default linkerd/linkerd-identity-issuer.
	Secrets []types.NamespacedName

	clock clock.WithTicker // tests replace it
}

// DefaultSecrets is the Linkerd identity issuer, the only Secret the
// policy library reads.
var DefaultSecrets = []types.NamespacedName{{Namespace: "linkerd", Name: "linkerd-identity-issuer"}}

func (o *Options) defaults() error {
	if o.Config == nil {
		return errors.New("creating the inventory: no rest config")
	}
	if o.Engine == nil {
		return errors.New("creating the inventory: no policy engine")
	}
	if o.Debounce <= 0 {
		o.Debounce = 500 * time.Millisecond
	}
	if o.Rediscover <= 0 {
		o.Rediscover = 30 * time.Second
	}
	if o.SyncTimeout <= 0 {
		o.SyncTimeout = time.Minute
	}
	if len(o.Secrets) == 0 {
		o.Secrets = DefaultSecrets
	}
	if o.clock == nil {
		o.clock = clock.RealClock{}
	}
	return nil
}

// Inventory is a manager.Runnable that runs on every replica (no leader
// election): each replica's engine needs its own inventory.
type Inventory struct {
	opts Options
	log  logr.Logger

	dirty  chan struct{} // a cached object changed; cap 1, coalescing
	resync chan struct{} // check the served kinds now; cap 1
	lag    chan struct{} // lagKinds has kinds to list again; cap 1

	lagMu sync.Mutex
	// lagKinds are kinds whose cache CatchUp found behind the apiserver
	// for longer than lagPatience; relisted the last time each was listed
	// again for that reason. Only the rediscovery loop relists.
	lagKinds map[schema.GroupKind]bool
	relisted map[schema.GroupKind]time.Time

	mu      sync.Mutex // guards watched
	cache   cache.Cache
	watched map[schema.GroupKind]*watch
	// notServed are the wanted kinds the cluster did not serve at the last
	// discovery; only syncKinds, never concurrently, uses it.
	notServed map[policies.Kind]bool

	current atomic.Pointer[snapshot]
	synced  atomic.Bool

	// changedKinds are the kinds informers reported changes of since the
	// last rebuild; needFull asks for every kind to be listed again.
	changesMu    sync.Mutex
	changedKinds map[schema.GroupKind]bool
	needFull     bool

	// rebuilding is held by the one rebuild running (cap 1), and guards
	// held and listed. Rebuilds are numbered as they start.
	rebuilding     chan struct{}
	rebuildStarted atomic.Uint64
	// held are the objects in the engine's inventory, nil before the
	// first rebuild and after a failed one.
	held map[schema.GroupKind]map[types.NamespacedName]map[string]any
	// listed is the number of the last rebuild that compared a kind with the cache.
	listed map[schema.GroupKind]uint64
	// handed counts the objects handed to the engine, added, changed or
	// deleted: the work rebuilds do.
	handed atomic.Uint64

	subsMu sync.Mutex
	subs   []chan struct{}
}

// New checks the options; nothing reaches the apiserver before Start.
func New(opts Options) (*Inventory, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	return &Inventory{
		opts:       opts,
		log:        opts.Log,
		dirty:      make(chan struct{}, 1),
		resync:     make(chan struct{}, 1),
		lag:        make(chan struct{}, 1),
		lagKinds:   map[schema.GroupKind]bool{},
		relisted:   map[schema.GroupKind]time.Time{},
		rebuilding: make(chan struct{}, 1),
		watched:    map[schema.GroupKind]*watch{},

		changedKinds: map[schema.GroupKind]bool{},
		listed:       map[schema.GroupKind]uint64{},
	}, nil
}

// NeedLeaderElection is false: every replica keeps its own inventory.
func (inv *Inventory) NeedLeaderElection() bool { return false }

// Start watches the kinds the policies need until ctx ends. The first
// inventory is handed to the engine before Synced reports true.
func (inv *Inventory) Start(ctx context.Context) error {
	c, err := inv.newCache()
	if err != nil {
		return err
	}
	lister, err := inv.newResourceLister()
	if err != nil {
		return err
	}
	inv.mu.Lock()
	inv.cache = c
	inv.mu.Unlock()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cacheDone := make(chan error, 1)
	go func() { cacheDone <- c.Start(ctx) }()

	inv.syncKinds(ctx, lister)
	select {
	case <-inv.dirty: // the initial adds: the first rebuild below covers them
	default:
	}
	for !inv.synced.Load() {
		if err := inv.rebuild(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			inv.log.Error(err, "building the first inventory; retrying")
			select {
			case <-ctx.Done():
				return nil
			case <-inv.opts.clock.After(inv.opts.Debounce):
			}
			continue
		}
		inv.synced.Store(true)
	}
	inv.log.Info("inventory synced", "kinds", len(inv.watchedKinds()), "objects", len(inv.Objects()))

	var wg sync.WaitGroup
	wg.Go(func() { inv.rebuildLoop(ctx) })
	wg.Go(func() { inv.rediscoverLoop(ctx, lister) })
	defer func() {
		cancel()
		wg.Wait()
	}()
	select {
	case <-ctx.Done():
		return nil
	case err := <-cacheDone:
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("running the inventory cache: %w", err)
		}
		return nil
	}
}

// Synced reports whether the first inventory has reached the engine.
func (inv *Inventory) Synced() bool { return inv.synced.Load() }

// ReadyCheck is a readiness check for the manager (mgr.AddReadyzCheck):
// a replica admits nothing before its policies can look objects up.
func (inv *Inventory) ReadyCheck() healthz.Checker {
	return func(*http.Request) error {
		if !inv.Synced() {
			return errors.New("the inventory has not synced yet")
		}
		return nil
	}
}

// Objects returns every object of the last inventory handed to the engine,
// reviewed kinds included, for the background audit. The objects are
// shared with the cache: read them, never modify them.
func (inv *Inventory) Objects() []map[string]any {
	cur := inv.current.Load()
	if cur == nil {
		return nil
	}
	return slices.Clone(cur.objects)
}

// Subscribe returns a channel that receives a signal after each inventory
// handed to the engine. Signals coalesce: a slow reader gets one signal for
// several rebuilds, never a stale backlog.
func (inv *Inventory) Subscribe() <-chan struct{} {
	ch := make(chan struct{}, 1)
	inv.subsMu.Lock()
	inv.subs = append(inv.subs, ch)
	inv.subsMu.Unlock()
	return ch
}

// Resync asks for the served kinds to be checked now rather than at the
// next Rediscover tick, for example after custom policies were loaded.
func (inv *Inventory) Resync() { signal(inv.resync) }

func (inv *Inventory) notify() {
	inv.subsMu.Lock()
	defer inv.subsMu.Unlock()
	for _, ch := range inv.subs {
		signal(ch)
	}
}

// signal sends without blocking; a pending signal already says it all.
func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
