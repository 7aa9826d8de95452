package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync/atomic"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/kube"
	ri "helm.sh/helm/v4/pkg/release"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	release "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/dynamic"
)

// maxHistory matches the helm CLI's default, so upgrades do not pile up
// release Secrets.
const maxHistory = 10

// statusComputeWorkers is what the helm CLI passes to its waiter, so that
// waits here are as fast as `helm install --wait`.
const statusComputeWorkers = 8

// Client applies releases to the cluster a RESTClientGetter points at
// (kubectl's --kubeconfig, --context, ... flags). Releases are stored as
// Secrets in their own namespace, as the helm CLI stores them.
type Client struct {
	getter genericclioptions.RESTClientGetter
	logger slog.Handler
	// discovered is set once discovery was refreshed and no release has
	// created CRDs since: refreshing costs a full discovery per release.
	discovered atomic.Bool
	// dyn, when set, replaces the dynamic client made from getter (tests).
	dyn dynamic.Interface
}

// New returns a Client; Helm's warnings go to log (nil discards them).
func New(getter genericclioptions.RESTClientGetter, log io.Writer) (*Client, error) {
	if getter == nil {
		return nil, errors.New("creating the Helm client: no cluster configuration")
	}
	h := slog.DiscardHandler
	if log != nil {
		h = WarningHandler(log)
	}
	return &Client{getter: getter, logger: h}, nil
}

// WarningHandler prints Helm's warnings to w as the helm CLI does
// (level=WARN msg=..., no timestamp) and drops the rest.
func WarningHandler(w io.Writer) slog.Handler {
	return slog.NewTextHandler(w, &slog.HandlerOptions{
		Level: slog.LevelWarn,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{}
			}
			return a
		},
	})
}

// config returns a fresh Helm action configuration whose release storage
// and default object namespace are namespace ("" = all namespaces, for
// List). Discovery is refreshed on first use (the disk cache may predate
// CRDs) and after a release created CRDs that the next may use.
func (c *Client) config(namespace string) (*action.Configuration, error) {
	if !c.discovered.Swap(true) {
		if dc, err := c.getter.ToDiscoveryClient(); err == nil && dc != nil {
			dc.Invalidate()
		}
		if m, err := c.getter.ToRESTMapper(); err == nil {
			if r, ok := m.(meta.ResettableRESTMapper); ok {
				r.Reset()
			}
		}
	}
	cfg := action.NewConfiguration(action.ConfigurationSetLogger(c.logger))
	if err := cfg.Init(c.getter, namespace, "secret"); err != nil {
		return nil, fmt.Errorf("setting up Helm: %w", err)
	}
	// Objects without a namespace go to the release namespace, not to the
	// kubeconfig context's.
	if kc, ok := cfg.KubeClient.(*kube.Client); ok && namespace != "" {
		kc.Namespace = namespace
	}
	return cfg, nil
}

// history returns the release's revisions, oldest first; nil when absent.
func history(cfg *action.Configuration, name string) ([]*release.Release, error) {
	h, err := cfg.Releases.History(name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the history of release %s: %w", name, err)
	}
	out := make([]*release.Release, 0, len(h))
	for _, r := range h {
		rel, err := asRelease(r)
		if err != nil {
			return nil, err
		}
		out = append(out, rel)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// lastGood returns the newest revision, older than before (0: any), that
// was deployed successfully (deployed, or superseded by a later one).
func lastGood(revs []*release.Release, before int) *release.Release {
	for i := len(revs) - 1; i >= 0; i-- {
		r := revs[i]
		if before > 0 && r.Version >= before {
			continue
		}
		if st := status(r); st == rcommon.StatusDeployed || st == rcommon.StatusSuperseded {
			return r
		}
	}
	return nil
}

func status(r *release.Release) rcommon.Status {
	if r == nil || r.Info == nil {
		return rcommon.StatusUnknown
	}
	return r.Info.Status
}

func latest(revs []*release.Release) *release.Release {
	if len(revs) == 0 {
		return nil
	}
	return revs[len(revs)-1]
}

// asRelease unwraps the SDK's release interface: v2 charts, the only kind
// this package installs, give v1 releases.
func asRelease(r ri.Releaser) (*release.Release, error) {
	switch rel := r.(type) {
	case *release.Release:
		return rel, nil
	case release.Release:
		return &rel, nil
	default:
		return nil, fmt.Errorf("unexpected Helm release type %T", r)
	}
}

// waitOptions make Helm's waiter stop as soon as ctx is done (Ctrl-C),
// with the helm CLI's status workers.
func waitOptions(ctx context.Context) []kube.WaitOption {
	return []kube.WaitOption{
		kube.WithWaitMethodContext(ctx),
		kube.WithWaitWithJobsMethodContext(ctx),
		kube.WithWatchUntilReadyMethodContext(ctx),
		kube.WithWaitForDeleteMethodContext(ctx),
		kube.WithStatusComputeWorkers(statusComputeWorkers),
	}
}
