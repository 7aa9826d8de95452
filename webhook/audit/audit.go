// Package audit reviews the objects already in the cluster with the policy
// engine, in the background, and writes what it finds as OpenReports
// reports: a Report per namespace and a ClusterReport for cluster-scoped
// objects. It also counts violations in the webhook's metrics and emits
// rate-limited Warning Events on the violating objects.
//
// Each (policy, object) pair counts once in its report's summary: pass,
// fail or warn (by the policy's severity, see resultOf), error when the
// policy could not be evaluated, skip when the object's
// kubectl-mesh.io/suppress annotation silences the policy. Results list the
// fail, warn and error pairs only, one per pair with every message of the
// policy joined. Every namespace with an audited object gets a Report, so
// clean namespaces show their passes; the audit deletes its reports of
// namespaces with nothing left to audit.
//
// Objects are reviewed as a CREATE of the object as it stands, the same
// review `kubectl mesh check` builds from the live cluster, so the audit and
// check agree. Policies that only review UPDATE or DELETE (transitions) have
// no transition to judge in an audit and are not run.
package audit

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
	"github.com/kubectl-mesh/kubectl-mesh/webhook/metrics"
)

// Source hands the auditor the objects to review. The informer-backed
// inventory (webhook/inventory.Inventory) implements it.
type Source interface {
	// Objects returns the objects held now, as unstructured maps with
	// apiVersion, kind and metadata (uid included). The auditor only reads
	// them. Objects of kinds no policy reviews are skipped.
	Objects() []map[string]any
	// Subscribe returns a channel that receives a value after objects were
	// added, updated or deleted; the auditor calls it once. Sends should
	// not block (a buffer of one coalesces bursts). A nil channel means
	// changes are only seen at the next interval.
	Subscribe() <-chan struct{}
}

// Syncer is optionally implemented by a Source whose objects come from
// informers. The first audit waits until Synced is true: an audit of a
// half-filled cache would delete the reports of namespaces not listed yet.
type Syncer interface {
	Synced() bool
}

// Config configures an Auditor. Engine, Source and Client are required.
type Config struct {
	Engine *policies.Engine
	Source Source
	// Client writes reports. Its scheme must know openreports.io/v1alpha1
	// (see AddToScheme).
	Client client.Client
	// Reader reads reports; nil means Client. mgr.GetAPIReader() reads
	// from the apiserver and spares an informer on every Report.
	Reader client.Reader
	// Recorder emits Events on violating objects; nil emits none.
	// mgr.GetEventRecorder("kubectl-mesh-audit") fits.
	Recorder events.EventRecorder
	// Metrics are updated after each audit; nil updates none.
	Metrics *metrics.Metrics
	Log     logr.Logger

	// Interval between audits; 0 means DefaultInterval.
	Interval time.Duration
	// Debounce is how long the auditor collects changes before auditing
	// them; 0 means DefaultDebounce.
	Debounce time.Duration
	// ExcludedNamespaces are not audited: neither their objects nor the
	// Namespace objects themselves. Their reports are deleted.
	ExcludedNamespaces []string
	// NamespaceSelector, when set, limits the audit to namespaces whose
	// labels match, as the webhook's namespaceSelector does on admission.
	// Namespace labels are read from the Namespace objects of the Source.
	NamespaceSelector labels.Selector
	// EventInterval is the least time between two Events for the same
	// object and policy; 0 means DefaultEventInterval.
	EventInterval time.Duration
	// MaxEventsPerRun caps the Events of one audit; 0 means
	// DefaultMaxEventsPerRun, negative means none.
	MaxEventsPerRun int
	// MaxResultsPerReport caps the results listed in one report (the
	// summary still counts all of them), keeping reports far below the
	// apiserver's object size limit; 0 means DefaultMaxResultsPerReport.
	MaxResultsPerReport int
}

// Defaults for the zero values of Config.
const (
	DefaultInterval            = 60 * time.Second
	DefaultDebounce            = 10 * time.Second
	DefaultEventInterval       = time.Hour
	DefaultMaxEventsPerRun     = 20
	DefaultMaxResultsPerReport = 1000
)

// Auditor runs the background audit. It is a controller-runtime
// manager.Runnable that runs only on the elected leader, so that one replica
// writes the reports.
type Auditor struct {
	cfg     Config
	reader  client.Reader
	trigger chan struct{}
	now     func() time.Time

	// mu serializes audits; the fields below belong to the running audit.
	mu     sync.Mutex
	events eventLimiter
	// found are the violations of the last audit, so that the violations
	// counter counts each one once, when it is first found.
	found map[string]struct{}
}

// New checks cfg, fills in defaults and returns an Auditor. Add it to the
// manager with mgr.Add.
func New(cfg Config) (*Auditor, error) {
	var missing []string
	if cfg.Engine == nil {
		missing = append(missing, "Engine")
	}
	if cfg.Source == nil {
		missing = append(missing, "Source")
	}
	if cfg.Client == nil {
		missing = append(missing, "Client")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("configuring the audit: %v required", missing)
	}
	if !cfg.Client.Scheme().Recognizes(v1alpha1.SchemeGroupVersion.WithKind("Report")) {
		return nil, errors.New("configuring the audit: the client's scheme does not know openreports.io/v1alpha1; call audit.AddToScheme on it")
	}
	if cfg.Interval < 0 || cfg.Debounce < 0 || cfg.EventInterval < 0 || cfg.MaxResultsPerReport < 0 {
		return nil, errors.New("configuring the audit: intervals and limits must not be negative")
	}
	cfg.Interval = cmp.Or(cfg.Interval, DefaultInterval)
	cfg.Debounce = cmp.Or(cfg.Debounce, DefaultDebounce)
	cfg.EventInterval = cmp.Or(cfg.EventInterval, DefaultEventInterval)
	cfg.MaxEventsPerRun = cmp.Or(cfg.MaxEventsPerRun, DefaultMaxEventsPerRun)
	cfg.MaxResultsPerReport = cmp.Or(cfg.MaxResultsPerReport, DefaultMaxResultsPerReport)
	cfg.ExcludedNamespaces = slices.Clone(cfg.ExcludedNamespaces)
	reader := cfg.Reader
	if reader == nil {
		reader = cfg.Client
	}
	return &Auditor{
		cfg:     cfg,
		reader:  reader,
		trigger: make(chan struct{}, 1),
		now:     time.Now,
		events:  eventLimiter{every: cfg.EventInterval, sent: map[eventKey]time.Time{}},
	}, nil
}

// NeedLeaderElection makes the manager run the audit on the leader only.
func (a *Auditor) NeedLeaderElection() bool { return true }

// Trigger asks for an audit soon (after the debounce), for example after
// the custom policies changed. It never blocks.
func (a *Auditor) Trigger() {
	select {
	case a.trigger <- struct{}{}:
	default:
	}
}

// Start audits at once, then every Interval and Debounce after a change,
// until ctx is done. A failed audit is logged and retried at the next one:
// it never stops the manager.
func (a *Auditor) Start(ctx context.Context) error {
	log := a.cfg.Log
	if !a.waitForSync(ctx) {
		return nil
	}
	log.Info("audit started", "interval", a.cfg.Interval, "debounce", a.cfg.Debounce)
	periodic := time.NewTimer(0)
	defer periodic.Stop()
	var debounce <-chan time.Time
	changed := a.cfg.Source.Subscribe()
	for {
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-changed:
			if !ok {
				changed = nil // a closed channel would spin the loop
			}
			if debounce == nil {
				debounce = time.After(a.cfg.Debounce)
			}
			continue
		case <-a.trigger:
			if debounce == nil {
				debounce = time.After(a.cfg.Debounce)
			}
			continue
		case <-periodic.C:
		case <-debounce:
		}
		if err := a.RunOnce(ctx); err != nil && ctx.Err() == nil {
			log.Error(err, "audit failed")
		}
		debounce = nil
		periodic.Reset(a.cfg.Interval)
	}
}

// syncPoll is how often Start checks whether a Syncer source has synced.
const syncPoll = 200 * time.Millisecond

// waitForSync waits until the source has synced, or ctx ends (false).
func (a *Auditor) waitForSync(ctx context.Context) bool {
	s, ok := a.cfg.Source.(Syncer)
	if !ok {
		return true
	}
	tick := time.NewTicker(syncPoll)
	defer tick.Stop()
	for !s.Synced() {
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
	return true
}
