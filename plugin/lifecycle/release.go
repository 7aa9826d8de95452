package lifecycle

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/kube"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	release "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
	"k8s.io/apimachinery/pkg/labels"
)

// Get returns the latest revision of the release; (nil, nil) when there is
// no such release.
func (c *Client) Get(ctx context.Context, name, namespace string) (*ReleaseInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cfg, err := c.config(namespace)
	if err != nil {
		return nil, err
	}
	revs, err := history(cfg, name)
	if err != nil {
		return nil, fmt.Errorf("reading release %s in %s: %w", name, namespace, err)
	}
	last := latest(revs)
	if last == nil {
		return nil, nil
	}
	return info(last), nil
}

// List returns the latest revision of every release, in all namespaces,
// whose release labels include sel (nil: every release).
func (c *Client) List(ctx context.Context, sel map[string]string) ([]ReleaseInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cfg, err := c.config("")
	if err != nil {
		return nil, err
	}
	l := action.NewList(cfg)
	l.AllNamespaces = true
	l.All = true
	l.StateMask = action.ListAll
	l.Selector = labels.SelectorFromSet(sel).String()
	out, err := l.Run()
	if err != nil {
		return nil, fmt.Errorf("listing Helm releases: %w", err)
	}
	infos := make([]ReleaseInfo, 0, len(out))
	for _, o := range out {
		r, err := asRelease(o)
		if err != nil {
			return nil, err
		}
		infos = append(infos, *info(r))
	}
	slices.SortFunc(infos, func(a, b ReleaseInfo) int {
		return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
	return infos, nil
}

// Uninstall removes the release (never the CRDs of its crds/ directory,
// which Helm does not own) and, when timeout > 0, waits until its objects
// are gone. existed is false when there was nothing to remove.
func (c *Client) Uninstall(ctx context.Context, name, namespace string, timeout time.Duration) (bool, error) {
	cfg, err := c.config(namespace)
	if err != nil {
		return false, err
	}
	revs, err := history(cfg, name)
	if err != nil {
		return false, fmt.Errorf("uninstalling %s from %s: %w", name, namespace, err)
	}
	if len(revs) == 0 {
		return false, nil
	}
	un := action.NewUninstall(cfg)
	un.IgnoreNotFound = true
	un.Timeout = timeout
	un.WaitStrategy = kube.HookOnlyStrategy
	if timeout > 0 {
		un.WaitStrategy = kube.StatusWatcherStrategy
	}
	un.WaitOptions = waitOptions(ctx)
	if crds := manifestCRDs(latest(revs).Manifest); timeout > 0 && len(crds) > 0 {
		stop, err := c.nudgeCRDCleanup(ctx, crds)
		if err != nil {
			return false, fmt.Errorf("uninstalling %s from %s: %w", name, namespace, err)
		}
		defer stop()
	}
	if _, err := un.Run(name); err != nil {
		return false, fmt.Errorf("uninstalling %s from %s: %s", name, namespace, oneLine(err))
	}
	// A history kept by helm uninstall --keep-history was purged, but the
	// release itself was already gone.
	return status(latest(revs)) != rcommon.StatusUninstalled, nil
}

// Rollback restores an earlier revision of the release: revision 0 means
// the newest one, older than the current revision, that was deployed
// successfully and is not what the current revision already restores. A
// release left pending by an interrupted run is marked failed first.
func (c *Client) Rollback(ctx context.Context, name, namespace string, revision int, opts Options) error {
	cfg, err := c.config(namespace)
	if err != nil {
		return err
	}
	revs, err := history(cfg, name)
	if err != nil {
		return fmt.Errorf("rolling back %s in %s: %w", name, namespace, err)
	}
	cur := latest(revs)
	if cur == nil {
		return fmt.Errorf("rolling back %s in %s: %w", name, namespace, driver.ErrReleaseNotFound)
	}
	target, err := rollbackTarget(revs, revision)
	if err != nil {
		return fmt.Errorf("rolling back %s in %s: %w", name, namespace, err)
	}
	s := newStep(c, Release{Name: name, Namespace: namespace}, opts)
	if status(cur).IsPending() {
		if err := markFailed(cfg, cur); err != nil {
			return fmt.Errorf("rolling back %s in %s: %w", name, namespace, err)
		}
	}
	s.p.say("rolling back to revision %d", target)
	start := time.Now()
	if err := s.rollback(ctx, cfg, target); err != nil {
		return s.errorf("rolling back", "to revision %d: %w", target, s.cause(ctx, err))
	}
	s.p.done(fmt.Sprintf("rolled back to revision %d", target), s.wait, time.Since(start))
	return nil
}

func rollbackTarget(revs []*release.Release, revision int) (int, error) {
	cur := latest(revs)
	if revision > 0 {
		for _, r := range revs {
			if r.Version == revision {
				return revision, nil
			}
		}
		return 0, fmt.Errorf("revision %d not found; revisions: %s", revision, versions(revs))
	}
	good := lastGood(revs, cur.Version)
	if good != nil && cur.Info != nil && cur.Info.RollbackRevision == good.Version {
		good = lastGood(revs, good.Version)
	}
	if good == nil {
		return 0, fmt.Errorf("no earlier successful revision to roll back to; revisions: %s", versions(revs))
	}
	return good.Version, nil
}

func versions(revs []*release.Release) string {
	s := make([]string, 0, len(revs))
	for _, r := range revs {
		s = append(s, strconv.Itoa(r.Version)+" ("+status(r).String()+")")
	}
	return strings.Join(s, ", ")
}

func info(r *release.Release) *ReleaseInfo {
	in := &ReleaseInfo{
		Name:      r.Name,
		Namespace: r.Namespace,
		Revision:  r.Version,
		Status:    status(r).String(),
		Labels:    userLabels(r.Labels),
		Values:    r.Config,
	}
	if r.Chart != nil && r.Chart.Metadata != nil {
		in.Chart = r.Chart.Metadata.Name
		in.ChartVersion = r.Chart.Metadata.Version
		in.AppVersion = r.Chart.Metadata.AppVersion
	}
	if r.Info != nil {
		in.Updated = r.Info.LastDeployed
		in.Description = r.Info.Description
	}
	in.Manifest = r.Manifest
	return in
}

// userLabels leaves out the labels Helm's storage adds (owner, name, ...).
func userLabels(l map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range l {
		if !slices.Contains(driver.GetSystemLabels(), k) {
			out[k] = v
		}
	}
	return out
}

func oneLine(err error) string {
	return strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; ")
}
