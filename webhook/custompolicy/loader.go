package custompolicy

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
	"github.com/kubectl-mesh/kubectl-mesh/webhook/metrics"
)

// Event reasons, for kubectl get events --field-selector reason=PolicyRefused.
const (
	ReasonLoaded  = "PolicyLoaded"
	ReasonRefused = "PolicyRefused"
)

// Options configure a Loader.
type Options struct {
	// Config reaches the apiserver. Required.
	Config *rest.Config
	// HTTPClient and Mapper are shared with the manager when set
	// (mgr.GetHTTPClient(), mgr.GetRESTMapper()); nil builds new ones.
	HTTPClient *http.Client
	Mapper     meta.RESTMapper
	// Namespace is the webhook's own: only its ConfigMaps are read. Required.
	Namespace string
	// Engine receives the policies. Required.
	Engine *policies.Engine
	// Static are custom policies loaded with the ConfigMaps' every time,
	// for example from files given on the command line: a load replaces the
	// engine's whole custom set.
	Static []policies.Source
	// Recorder records Events on the ConfigMaps (mgr.GetEventRecorder).
	// Required.
	Recorder events.EventRecorder
	// Metrics, when set, count loads and the policies in force.
	Metrics *metrics.Metrics
	Log     logr.Logger
	// OnLoad, when set, runs after each set of policies is swapped in; for
	// example the inventory's Resync, so that kinds a new policy looks up
	// are watched at once.
	OnLoad func()
}

// Loader is a manager.Runnable that keeps the engine's custom policies in
// step with the policy ConfigMaps. It runs on every replica: each has its
// own engine.
type Loader struct {
	opts    Options
	log     logr.Logger
	trigger chan struct{}
	ready   atomic.Bool
	// compiling lets one compile of the custom policies run at a time,
	// load or admission alike: each may take a hundred MB or more
	// (bounds.go), and admission requests arrive concurrently.
	compiling chan struct{}

	mu sync.Mutex
	// inForce are the sources of each ConfigMap in the engine now, by name:
	// its current version, or its last good one while the current is refused.
	inForce map[string][]policies.Source
	// noted is the resourceVersion and reason of the last Event recorded on
	// each ConfigMap, so that a reload for another ConfigMap does not repeat it.
	noted map[string]string
}

// New checks the options; nothing reaches the apiserver before Start.
func New(opts Options) (*Loader, error) {
	switch {
	case opts.Config == nil:
		return nil, errors.New("creating the policy loader: no rest config")
	case opts.Namespace == "":
		return nil, errors.New("creating the policy loader: no namespace")
	case opts.Engine == nil:
		return nil, errors.New("creating the policy loader: no policy engine")
	case opts.Recorder == nil:
		return nil, errors.New("creating the policy loader: no event recorder")
	}
	return newLoader(opts), nil
}

func newLoader(opts Options) *Loader {
	return &Loader{
		opts:      opts,
		log:       opts.Log,
		trigger:   make(chan struct{}, 1),
		compiling: make(chan struct{}, 1),
		inForce:   map[string][]policies.Source{},
		noted:     map[string]string{},
	}
}

// NeedLeaderElection is false: every replica loads the policies into its
// own engine.
func (l *Loader) NeedLeaderElection() bool { return false }

// Start watches the policy ConfigMaps until ctx ends. The first load is
// done before Synced reports true.
func (l *Loader) Start(ctx context.Context) error {
	c, err := cache.New(l.opts.Config, cache.Options{
		HTTPClient:           l.opts.HTTPClient,
		Mapper:               l.opts.Mapper,
		DefaultNamespaces:    map[string]cache.Config{l.opts.Namespace: {}},
		DefaultLabelSelector: labels.SelectorFromSet(labels.Set{PolicyLabel: "true"}),
		DefaultTransform:     cache.TransformStripManagedFields(),
	})
	if err != nil {
		return fmt.Errorf("creating the policy ConfigMap cache: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cacheDone := make(chan error, 1)
	go func() { cacheDone <- c.Start(ctx) }()

	informer, err := c.GetInformer(ctx, &corev1.ConfigMap{})
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("watching the policy ConfigMaps: %w", err)
	}
	notify := func(any) { signal(l.trigger) }
	if _, err := informer.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc: notify, UpdateFunc: func(_, n any) { notify(n) }, DeleteFunc: notify,
	}); err != nil {
		return fmt.Errorf("watching the policy ConfigMaps: %w", err)
	}
	signal(l.trigger)
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-cacheDone:
			if err != nil && ctx.Err() == nil {
				return fmt.Errorf("running the policy ConfigMap cache: %w", err)
			}
			return nil
		case <-l.trigger:
		}
		var list corev1.ConfigMapList
		if err := c.List(ctx, &list, client.InNamespace(l.opts.Namespace)); err != nil {
			l.log.Error(err, "listing the policy ConfigMaps; the policies in force stay")
			continue
		}
		l.Load(ctx, list.Items)
		l.ready.Store(true)
	}
}

// Synced reports whether the policy ConfigMaps were loaded once.
func (l *Loader) Synced() bool { return l.ready.Load() }

// ReadyCheck is a readiness check for the manager (mgr.AddReadyzCheck).
func (l *Loader) ReadyCheck() healthz.Checker {
	return func(*http.Request) error {
		if !l.Synced() {
			return errors.New("the custom policies have not been loaded yet")
		}
		return nil
	}
}

// Validate compiles cm's policies with those of the other policy
// ConfigMaps in force, cm replacing its previous version, without changing
// the engine: for the admission of a ConfigMap. It returns the compile
// errors, each with its configmap/NAME/KEY:LINE, or, without compiling, that
// they would be past MaxRegoBytes or MaxRegoFiles. ConfigMaps the loader
// does not read (another namespace, no label) are not validated.
func (l *Loader) Validate(ctx context.Context, cm *corev1.ConfigMap) error {
	if !IsPolicyConfigMap(cm, l.opts.Namespace) {
		return nil
	}
	l.mu.Lock()
	sources := slices.Clone(l.opts.Static)
	for _, name := range slices.Sorted(maps.Keys(l.inForce)) {
		if name != cm.Name {
			sources = append(sources, l.inForce[name]...)
		}
	}
	l.mu.Unlock()
	sources = append(sources, SourcesFromConfigMap(cm)...)
	var total tally
	if total.add(sources); !total.fits() {
		return &overBoundsError{name: cm.Name, total: total}
	}
	release, err := l.compileSlot(ctx)
	if err != nil {
		return fmt.Errorf("validating %s: %w", SourceName(cm.Name, ""), err)
	}
	defer release()
	return l.opts.Engine.ValidateCustom(ctx, sources)
}

// Load swaps in the policies of cms, the current policy ConfigMaps. A
// ConfigMap whose policies do not compile, or that would take them past
// MaxRegoBytes or MaxRegoFiles (counted in name order), is refused, and its
// last good version stays in force (none if it never compiled, or if that
// does not fit either), so that one bad ConfigMap does not hold back the
// others.
func (l *Loader) Load(ctx context.Context, cms []corev1.ConfigMap) {
	l.mu.Lock()
	defer l.mu.Unlock()
	cms = slices.Clone(cms)
	slices.SortFunc(cms, func(a, b corev1.ConfigMap) int { return strings.Compare(a.Name, b.Name) })
	names := make([]string, len(cms))
	current := make(map[string][]policies.Source, len(cms))
	for i := range cms {
		names[i] = cms[i].Name
		current[cms[i].Name] = SourcesFromConfigMap(&cms[i])
	}
	current, over := withinBounds(l.opts.Static, names, current, l.inForce)
	var overNames []string
	for _, o := range over {
		overNames = append(overNames, o.name)
		l.log.Error(o, "refused a policy ConfigMap before compiling it; its last good version stays in force if it fits", "configMap", o.name)
		i := slices.IndexFunc(cms, func(cm corev1.ConfigMap) bool { return cm.Name == o.name })
		l.note(&cms[i], corev1.EventTypeWarning, ReasonRefused, o.Error())
	}
	if len(over) > 0 {
		l.count("refused")
	}

	err := l.swap(ctx, names, current)
	if err == nil {
		l.loaded(cms, overNames)
		return
	}
	offenders := blame(err, names)
	if len(offenders) == 0 {
		offenders = names // nothing points at one ConfigMap: each may be the cause
	}
	if len(over) == 0 {
		l.count("refused")
	}
	l.log.Error(err, "refused custom policies; their last good version stays in force", "configMaps", offenders)
	for i := range cms {
		if slices.Contains(offenders, cms[i].Name) {
			l.note(&cms[i], corev1.EventTypeWarning, ReasonRefused, linesAbout(err.Error(), cms[i].Name))
		}
	}

	// Retry with the offenders' last good versions, so the others' changes
	// (and deletions) still take effect.
	fallback := make(map[string][]policies.Source, len(cms))
	for _, name := range names {
		if s, ok := current[name]; ok && !slices.Contains(offenders, name) {
			fallback[name] = s
		} else if good, ok := l.inForce[name]; ok && slices.Contains(offenders, name) {
			fallback[name] = good
		}
	}
	// Last good versions may be larger than the current ones: another
	// ConfigMap's change that no longer fits beside them is refused (its
	// own last good version kept when that fits), and said so.
	fallback, crowded := withinBounds(l.opts.Static, names, fallback, l.inForce)
	var crowdedNames []string
	for _, o := range crowded {
		if slices.Contains(offenders, o.name) {
			continue // refused already
		}
		crowdedNames = append(crowdedNames, o.name)
		l.log.Error(o, "refused a policy ConfigMap: it does not fit beside the refused ones' last good versions", "configMap", o.name)
		i := slices.IndexFunc(cms, func(cm corev1.ConfigMap) bool { return cm.Name == o.name })
		l.note(&cms[i], corev1.EventTypeWarning, ReasonRefused, o.Error())
	}
	if err := l.swap(ctx, slices.Sorted(maps.Keys(fallback)), fallback); err != nil {
		l.log.Error(err, "the other custom policies cannot be loaded without the refused ones either; the policies in force stay")
		return
	}
	l.loaded(cms, slices.Concat(offenders, overNames, crowdedNames))
}

// swap loads the sources of the named ConfigMaps into the engine and, on
// success, records them as in force.
func (l *Loader) swap(ctx context.Context, names []string, sources map[string][]policies.Source) error {
	all := slices.Clone(l.opts.Static)
	for _, name := range names {
		all = append(all, sources[name]...)
	}
	release, err := l.compileSlot(ctx)
	if err != nil {
		return err
	}
	defer release()
	if err := l.opts.Engine.LoadCustom(ctx, all); err != nil {
		return err
	}
	l.inForce = map[string][]policies.Source{}
	for _, name := range names {
		if s, ok := sources[name]; ok {
			l.inForce[name] = s
		}
	}
	return nil
}

// loaded reports a successful swap: metrics, and an Event on each
// ConfigMap whose current version is now in force.
func (l *Loader) loaded(cms []corev1.ConfigMap, refused []string) {
	l.count("ok")
	inForce := l.opts.Engine.Policies()
	if l.opts.Metrics != nil {
		l.opts.Metrics.PoliciesLoaded.Set(float64(len(inForce)))
	}
	for name := range l.noted {
		if !slices.ContainsFunc(cms, func(cm corev1.ConfigMap) bool { return cm.Name == name }) {
			delete(l.noted, name) // deleted: a ConfigMap of the same name starts afresh
		}
	}
	for i := range cms {
		if slices.Contains(refused, cms[i].Name) {
			continue
		}
		var ids []string
		prefix := SourceName(cms[i].Name, "")
		for _, p := range inForce {
			if strings.HasPrefix(p.File, prefix) {
				ids = append(ids, p.ID)
			}
		}
		msg := "no policies: no data key ends in .rego"
		if len(ids) > 0 {
			msg = fmt.Sprintf("loaded %d policies: %s", len(ids), strings.Join(ids, ", "))
		}
		l.note(&cms[i], corev1.EventTypeNormal, ReasonLoaded, msg)
	}
	l.log.Info("custom policies loaded", "configMaps", len(cms), "refused", refused, "policies", len(inForce))
	if l.opts.OnLoad != nil {
		l.opts.OnLoad()
	}
}

// note records an Event on cm once per version and reason.
func (l *Loader) note(cm *corev1.ConfigMap, eventType, reason, msg string) {
	key := cm.ResourceVersion + "/" + reason
	if l.noted[cm.Name] == key {
		return
	}
	l.noted[cm.Name] = key
	l.opts.Recorder.Eventf(cm, nil, eventType, reason, "Load", "%s", truncate(msg, maxNoteBytes))
}

func (l *Loader) count(result string) {
	if l.opts.Metrics != nil {
		l.opts.Metrics.PolicyLoads.WithLabelValues(result).Inc()
	}
}

// maxNoteBytes is the apiserver's limit on an events.k8s.io/v1 note.
const maxNoteBytes = 1024

// truncate cuts s to at most n bytes on a character boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = " …"
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

// compileSlot waits for the one compile allowed at a time, until ctx is done.
func (l *Loader) compileSlot(ctx context.Context) (release func(), err error) {
	select {
	case l.compiling <- struct{}{}:
		return func() { <-l.compiling }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("another compile of the custom policies is running: %w; retry", ctx.Err())
	}
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
