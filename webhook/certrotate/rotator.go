package certrotate

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// retryAfterError is the pause before another check when one failed, if
// the check interval is longer.
const retryAfterError = 5 * time.Second

// Rotator keeps the serving certificate, its files and the caBundle valid.
// It is a manager.Runnable that runs on every replica.
type Rotator struct {
	cfg     Config
	trigger chan struct{}
	// syncMu runs one check at a time: Start and EnsureCertFiles may overlap.
	syncMu sync.Mutex

	ready     chan struct{}
	readyOnce sync.Once
	errMu     sync.Mutex
	lastErr   error
}

var _ manager.Runnable = (*Rotator)(nil)
var _ manager.LeaderElectionRunnable = (*Rotator)(nil)

// New checks cfg, fills in its defaults and returns a Rotator that does
// nothing until Start or EnsureCertFiles.
func New(cfg Config) (*Rotator, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Rotator{cfg: cfg, trigger: make(chan struct{}, 1), ready: make(chan struct{})}, nil
}

// NeedLeaderElection is false: every replica writes its own files. Replicas
// agree through optimistic concurrency on the Secret instead.
func (r *Rotator) NeedLeaderElection() bool { return false }

// Start checks at once, then every CheckInterval and whenever the Secret or
// the webhook configuration changes, until ctx ends. A failed check is
// logged and retried; it does not stop the manager.
func (r *Rotator) Start(ctx context.Context) error {
	// The watches end with ctx; Start returns after them so that nothing
	// logs once it has returned.
	var watches sync.WaitGroup
	defer watches.Wait()
	watches.Go(func() { r.watchSecret(ctx) })
	watches.Go(func() { r.watchWebhookConfig(ctx) })
	for {
		wait := r.cfg.CheckInterval
		if err := r.sync(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			r.cfg.Log.Error(err, "checking the webhook certificates")
			wait = min(wait, retryAfterError)
		}
		timer := r.cfg.Clock.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C():
		case <-r.trigger:
			timer.Stop()
		}
	}
}

// EnsureCertFiles makes the Secret valid and writes the serving files,
// retrying until it succeeds or ctx ends. Call it before the manager starts:
// controller-runtime's webhook server starts before other runnables and
// fails when its certificate files are missing.
func (r *Rotator) EnsureCertFiles(ctx context.Context) error {
	delay := 500 * time.Millisecond
	for {
		err := r.syncFiles(ctx)
		if err == nil {
			return nil
		}
		r.setErr(err)
		r.cfg.Log.Error(err, "writing the webhook certificates, retrying", "after", delay)
		timer := r.cfg.Clock.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("writing the webhook certificates: %w", err)
		case <-timer.C():
		}
		delay = min(2*delay, retryAfterError)
	}
}

// Ready is closed once the certificate files are written and the caBundle
// is patched for the first time.
func (r *Rotator) Ready() <-chan struct{} { return r.ready }

// ReadyChecker fails until Ready, and later when the certificate files are
// gone, so that a replica is not Ready before it can serve.
func (r *Rotator) ReadyChecker() healthz.Checker {
	return func(*http.Request) error {
		select {
		case <-r.ready:
		default:
			if err := r.err(); err != nil {
				return fmt.Errorf("webhook certificates not ready: %w", err)
			}
			return errors.New("webhook certificates not ready yet")
		}
		for _, name := range []string{r.cfg.CertName, r.cfg.KeyName} {
			if _, err := os.Stat(filepath.Join(r.cfg.CertDir, name)); err != nil {
				return fmt.Errorf("webhook certificates: %w", err)
			}
		}
		return nil
	}
}

// sync is one check: Secret, files, caBundle.
func (r *Rotator) sync(ctx context.Context) error {
	r.syncMu.Lock()
	defer r.syncMu.Unlock()
	m, err := r.syncSecretAndFiles(ctx)
	if err == nil {
		var patched bool
		patched, err = r.patchCABundle(ctx, m.data()[keyCACert])
		if patched {
			r.cfg.Log.Info("patched the caBundle", "validatingWebhookConfiguration", r.cfg.WebhookConfigName, "cas", len(m.trusted))
		}
	}
	r.setErr(err)
	if err == nil {
		r.readyOnce.Do(func() { close(r.ready) })
	}
	return err
}

func (r *Rotator) syncFiles(ctx context.Context) error {
	r.syncMu.Lock()
	defer r.syncMu.Unlock()
	_, err := r.syncSecretAndFiles(ctx)
	return err
}

func (r *Rotator) syncSecretAndFiles(ctx context.Context) (material, error) {
	m, err := r.syncSecret(ctx)
	if err != nil {
		return material{}, err
	}
	changed, err := r.writeFiles(m.serving)
	if err != nil {
		return material{}, err
	}
	if changed {
		r.cfg.Log.Info("wrote the serving certificate", "dir", r.cfg.CertDir)
	}
	return m, nil
}

// poke asks Start for a check; pokes that arrive during one merge into one.
func (r *Rotator) poke() {
	select {
	case r.trigger <- struct{}{}:
	default:
	}
}

func (r *Rotator) setErr(err error) {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	r.lastErr = err
}

func (r *Rotator) err() error {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	return r.lastErr
}
