package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/kube"
	ri "helm.sh/helm/v4/pkg/release"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	release "helm.sh/helm/v4/pkg/release/v1"
)

// Apply installs or upgrades each release in order, as `helm upgrade
// --install --rollback-on-failure` would, and stops at the first failure.
// A release an interrupted run left pending is repaired first. A failed
// install is uninstalled and a failed upgrade rolled back, so what was
// running before keeps running; the error names the release, the cause and
// what was undone. Cancelling ctx stops waiting at once and undoes the
// release in progress without waiting for it.
func (c *Client) Apply(ctx context.Context, rels []Release, opts Options) ([]Result, error) {
	for _, r := range rels {
		if err := validateRelease(r); err != nil {
			return nil, err
		}
	}
	results := make([]Result, 0, len(rels))
	for _, r := range rels {
		if err := ctx.Err(); err != nil {
			return results, fmt.Errorf("applying %s in %s: interrupted before it started: %w", r.Name, r.Namespace, err)
		}
		s := newStep(c, r, opts)
		res, err := s.run(ctx)
		if err != nil {
			return results, err
		}
		results = append(results, *res)
	}
	return results, nil
}

func validateRelease(r Release) error {
	switch {
	case r.Name == "":
		return errors.New("a release has no name")
	case r.Namespace == "":
		return fmt.Errorf("release %s has no namespace", r.Name)
	case r.Chart == nil || r.Chart.Metadata == nil:
		return fmt.Errorf("release %s has no chart", r.Name)
	}
	return nil
}

// step applies one release.
type step struct {
	c       *Client
	r       Release
	wait    bool
	timeout time.Duration
	dryRun  bool
	p       progress
}

func newStep(c *Client, r Release, opts Options) *step {
	wait := opts.Wait
	if r.Wait != nil {
		wait = *r.Wait
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &step{c: c, r: r, wait: wait && !opts.DryRunServer, timeout: timeout, dryRun: opts.DryRunServer, p: newProgress(opts.Progress, r)}
}

func (s *step) run(ctx context.Context) (*Result, error) {
	cfg, err := s.c.config(s.r.Namespace)
	if err != nil {
		return nil, err
	}
	revs, err := history(cfg, s.r.Name)
	if err != nil {
		return nil, err
	}
	if s.dryRun {
		return s.dryRunServer(ctx, cfg, revs)
	}
	if repaired, err := s.repair(ctx, cfg, revs); err != nil {
		return nil, err
	} else if repaired {
		if revs, err = history(cfg, s.r.Name); err != nil {
			return nil, err
		}
	}
	if err := s.c.waitTerminatingCRDs(ctx, s.r.Chart, s.timeout, func(msg string) { s.p.say("%s", msg) }); err != nil {
		return nil, s.errorf("waiting for the CRDs of", "%w", err)
	}
	if s.r.ApplyCRDs {
		if err := s.c.applyCRDs(ctx, s.r.Chart); err != nil {
			return nil, s.errorf("applying the CRDs of", "%w", err)
		}
	}
	if current := lastGood(revs, 0); current != nil {
		return s.upgrade(ctx, cfg, current)
	}
	return s.install(ctx, cfg)
}

// repair brings a release that an earlier run left half done (Ctrl-C, a
// killed process, a failed install that was never cleaned up) back to a
// state Helm can install or upgrade from: no history, or a deployed
// revision. helm itself refuses with "another operation is in progress".
func (s *step) repair(ctx context.Context, cfg *action.Configuration, revs []*release.Release) (bool, error) {
	last := latest(revs)
	if last == nil {
		return false, nil
	}
	st := status(last)
	good := lastGood(revs, last.Version)
	switch {
	case st == rcommon.StatusPendingUpgrade || st == rcommon.StatusPendingRollback:
		if good == nil {
			break // nothing to roll back to: uninstall below
		}
		s.p.say("repairing: revision %d was left %s by an interrupted run; rolling back to revision %d", last.Version, st, good.Version)
		if err := markFailed(cfg, last); err != nil {
			return false, s.errorf("repairing", "%w", err)
		}
		if err := s.rollback(ctx, cfg, good.Version); err != nil {
			return false, s.errorf("repairing", "rolling back to revision %d: %w", good.Version, err)
		}
		return true, nil
	case st == rcommon.StatusDeployed || st == rcommon.StatusSuperseded:
		return false, nil
	case st == rcommon.StatusFailed && lastGood(revs, 0) != nil:
		return false, nil // a failed upgrade: the next upgrade starts from the deployed revision
	}
	// pending-install, uninstalling, uninstalled, or only failed revisions.
	s.p.say("repairing: removing revision %d, left %s by an earlier run", last.Version, st)
	if err := s.uninstall(ctx, cfg); err != nil {
		return false, s.errorf("repairing", "removing revision %d (%s): %w", last.Version, st, err)
	}
	return true, nil
}

func (s *step) install(ctx context.Context, cfg *action.Configuration) (*Result, error) {
	s.p.say("installing %s %s", s.r.Chart.Name(), s.r.Chart.Metadata.Version)
	in := s.newInstall(cfg)
	in.CreateNamespace = true
	in.Timeout = s.timeout
	in.WaitStrategy = s.strategy(ctx)
	in.WaitOptions = waitOptions(ctx)
	start := time.Now()
	// Not ctx: Helm would return at once and go on installing in the
	// background. ctx stops its waiter instead, so Helm returns promptly
	// with everything recorded and the undo below does not race it.
	out, err := in.RunWithContext(context.WithoutCancel(ctx), s.r.Chart, s.values())
	if err != nil {
		return nil, s.failInstall(ctx, cfg, err)
	}
	rel, err := asRelease(out)
	if err != nil {
		return nil, err
	}
	s.c.noteCRDs(rel)
	s.p.done(fmt.Sprintf("installed revision %d", rel.Version), s.wait, time.Since(start))
	return s.result(rel, "installed"), nil
}

// failInstall uninstalls what a failed install left, as --rollback-on-failure does.
func (s *step) failInstall(ctx context.Context, cfg *action.Configuration, cause error) error {
	cause = s.cause(ctx, cause)
	revs, err := history(cfg, s.r.Name)
	if err != nil {
		return s.errorf("installing", "%w; reading what it left: %v", cause, err)
	}
	if len(revs) == 0 {
		return s.errorf("installing", "%w; nothing was installed", cause)
	}
	s.p.say("failed, uninstalling")
	if err := s.uninstall(ctx, cfg); err != nil {
		return s.errorf("installing", "%w; uninstalling the failed release failed too: %v; re-run to repair it", cause, err)
	}
	return s.errorf("installing", "%w; the release was uninstalled", cause)
}

func (s *step) upgrade(ctx context.Context, cfg *action.Configuration, current *release.Release) (*Result, error) {
	from := ""
	if current.Chart != nil && current.Chart.Metadata != nil {
		from = current.Chart.Metadata.Version
	}
	s.p.say("upgrading %s %s to %s (from revision %d)", s.r.Chart.Name(), from, s.r.Chart.Metadata.Version, current.Version)
	up := s.newUpgrade(cfg)
	up.Timeout = s.timeout
	up.WaitStrategy = s.strategy(ctx)
	up.WaitOptions = waitOptions(ctx)
	up.MaxHistory = maxHistory
	up.CleanupOnFail = true
	start := time.Now()
	out, err := up.RunWithContext(context.WithoutCancel(ctx), s.r.Name, s.r.Chart, s.values())
	if err != nil {
		return nil, s.failUpgrade(ctx, cfg, current, err)
	}
	rel, err := asRelease(out)
	if err != nil {
		return nil, err
	}
	s.c.noteCRDs(rel)
	s.p.done(fmt.Sprintf("upgraded to revision %d", rel.Version), s.wait, time.Since(start))
	return s.result(rel, "upgraded"), nil
}

// dryRunServer renders the install or upgrade against the cluster, as
// helm upgrade --install --dry-run=server does, and changes nothing.
func (s *step) dryRunServer(ctx context.Context, cfg *action.Configuration, revs []*release.Release) (*Result, error) {
	var out ri.Releaser
	var err error
	did := "installed"
	if current := lastGood(revs, 0); current != nil {
		did = "upgraded"
		up := s.newUpgrade(cfg)
		up.DryRunStrategy = action.DryRunServer
		out, err = up.RunWithContext(ctx, s.r.Name, s.r.Chart, s.values())
	} else {
		in := s.newInstall(cfg)
		in.Replace = latest(revs) != nil // an uninstalled release kept in history
		in.DryRunStrategy = action.DryRunServer
		out, err = in.RunWithContext(ctx, s.r.Chart, s.values())
	}
	if err != nil {
		return nil, s.errorf("rendering", "against the cluster: %w", s.cause(ctx, err))
	}
	rel, err := asRelease(out)
	if err != nil {
		return nil, err
	}
	return s.result(rel, did), nil
}

// newInstall and newUpgrade are Helm's actions for the release, as every
// install, upgrade and dry run of it sets them.
func (s *step) newInstall(cfg *action.Configuration) *action.Install {
	in := action.NewInstall(cfg)
	in.ReleaseName = s.r.Name
	in.Namespace = s.r.Namespace
	in.Labels = s.r.Labels
	in.SkipCRDs = s.r.ApplyCRDs
	return in
}

func (s *step) newUpgrade(cfg *action.Configuration) *action.Upgrade {
	up := action.NewUpgrade(cfg)
	up.Namespace = s.r.Namespace
	up.Labels = s.r.Labels
	// The given values, not merged with the old ones: Plan is the truth.
	up.ResetValues = !s.r.KeepValues
	up.SkipCRDs = s.r.ApplyCRDs
	return up
}

func (s *step) result(rel *release.Release, did string) *Result {
	res := &Result{Release: s.r.Name, Namespace: s.r.Namespace, Component: s.r.Component, Revision: rel.Version, Action: did, Manifest: rel.Manifest}
	if md := s.r.Chart.Metadata; md != nil {
		res.Chart, res.ChartVersion, res.AppVersion = md.Name, md.Version, md.AppVersion
	}
	if rel.Info != nil {
		res.Notes = rel.Info.Notes
	}
	return res
}

// failUpgrade rolls back to the revision that ran before, as
// --rollback-on-failure does.
func (s *step) failUpgrade(ctx context.Context, cfg *action.Configuration, current *release.Release, cause error) error {
	cause = s.cause(ctx, cause)
	revs, err := history(cfg, s.r.Name)
	if err != nil {
		return s.errorf("upgrading", "%w; reading what it left: %v", cause, err)
	}
	if last := latest(revs); last == nil || last.Version <= current.Version {
		return s.errorf("upgrading", "%w; nothing was changed, revision %d is still deployed", cause, current.Version)
	}
	s.p.say("failed, rolling back to revision %d", current.Version)
	if err := s.rollback(ctx, cfg, current.Version); err != nil {
		return s.errorf("upgrading", "%w; rolling back to revision %d failed too: %v", cause, current.Version, err)
	}
	now := current.Version
	if revs, err := history(cfg, s.r.Name); err == nil && latest(revs) != nil {
		now = latest(revs).Version
	}
	return s.errorf("upgrading", "%w; rolled back to revision %d, which is deployed again as revision %d", cause, current.Version, now)
}

// rollback restores revision; it waits (when asked) unless ctx is done.
func (s *step) rollback(ctx context.Context, cfg *action.Configuration, revision int) error {
	rb := action.NewRollback(cfg)
	rb.Version = revision
	rb.Timeout = s.timeout
	rb.WaitStrategy = s.strategy(ctx)
	rb.WaitOptions = waitOptions(ctx)
	rb.CleanupOnFail = true
	rb.MaxHistory = maxHistory
	return rb.Run(s.r.Name)
}

// uninstall removes the release and, unless ctx is done, waits until its
// objects are gone so that an install right after does not trip on them.
func (s *step) uninstall(ctx context.Context, cfg *action.Configuration) error {
	un := action.NewUninstall(cfg)
	un.IgnoreNotFound = true
	un.Timeout = s.timeout
	un.WaitStrategy = kube.StatusWatcherStrategy
	if ctx.Err() != nil {
		un.WaitStrategy = kube.HookOnlyStrategy
	}
	un.WaitOptions = waitOptions(ctx)
	_, err := un.Run(s.r.Name)
	return err
}

// strategy is Helm's kstatus waiter when waiting was asked for and ctx is
// not done yet.
func (s *step) strategy(ctx context.Context) kube.WaitStrategy {
	if s.wait && ctx.Err() == nil {
		return kube.StatusWatcherStrategy
	}
	return kube.HookOnlyStrategy
}

func (s *step) values() map[string]any {
	if s.r.Values == nil {
		return map[string]any{}
	}
	return s.r.Values
}

// cause turns Helm's error into what happened, in one line.
func (s *step) cause(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("interrupted: %w", ctxErr)
	}
	msg := oneLine(err)
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("not ready within %s: %s", s.timeout, strings.TrimSuffix(msg, "; context deadline exceeded"))
	}
	return errors.New(msg)
}

// errorf names the release: "upgrading istiod in istio-system: ...".
func (s *step) errorf(doing, format string, args ...any) error {
	return fmt.Errorf("%s %s in %s: "+format, append([]any{doing, s.r.Name, s.r.Namespace}, args...)...)
}

// markFailed records that an interrupted revision will never finish, so
// that history does not show it pending forever.
func markFailed(cfg *action.Configuration, r *release.Release) error {
	r.SetStatus(rcommon.StatusFailed, fmt.Sprintf("%s, interrupted; repaired by kubectl-mesh", r.Info.Status))
	if err := cfg.Releases.Update(r); err != nil {
		return fmt.Errorf("marking revision %d failed: %w", r.Version, err)
	}
	return nil
}

// noteCRDs makes the next release refresh discovery when rel created or
// changed CRDs: its templates may use their kinds.
func (c *Client) noteCRDs(rel *release.Release) {
	if len(rel.Chart.CRDObjects()) > 0 || strings.Contains(rel.Manifest, "kind: CustomResourceDefinition") {
		c.discovered.Store(false)
	}
}
