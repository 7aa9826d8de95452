package webhookinstall

import (
	"context"
	"errors"
	"fmt"
	"time"

	"helm.sh/helm/v4/pkg/action"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/kube"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	release "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// FieldManager owns what kubectl-mesh applies outside Helm (the CRDs).
const FieldManager = "kubectl-mesh"

// maxHistory matches the helm CLI's default, so upgrades do not pile up
// release Secrets.
const maxHistory = 10

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// InstallOptions are the settings of an install or upgrade.
type InstallOptions struct {
	// Values override the chart's values.yaml.
	Values map[string]any
	// Wait until the Deployment is available. A release that does not get
	// there within Timeout is rolled back (uninstalled when it was new).
	Wait    bool
	Timeout time.Duration
	// CreateNamespace creates the release namespace when it is missing,
	// labelled for the restricted Pod Security Standard the webhook meets.
	CreateNamespace bool
	// ServerDryRun renders against the cluster and changes nothing.
	ServerDryRun bool
}

// InstallResult is what an install or upgrade did.
type InstallResult struct {
	Release  *release.Release
	Upgraded bool
}

// Install installs the chart, or upgrades the release when it exists, as
// `helm upgrade --install` does. The OpenReports CRDs are applied first on
// both paths, since Helm itself never upgrades CRDs.
func (c *Client) Install(ctx context.Context, ch *chart.Chart, o InstallOptions) (*InstallResult, error) {
	if err := CheckCRDs(ch); err != nil {
		return nil, err
	}
	upgrade, replace, err := c.releaseExists()
	if err != nil {
		return nil, err
	}
	if !o.ServerDryRun {
		if err := c.ensureNamespace(ctx, o.CreateNamespace); err != nil {
			return nil, err
		}
		if err := c.applyCRDs(ctx, ch); err != nil {
			return nil, err
		}
	}
	wait := kube.HookOnlyStrategy
	if o.Wait {
		wait = kube.StatusWatcherStrategy
	}
	dryRun := action.DryRunNone
	if o.ServerDryRun {
		dryRun = action.DryRunServer
	}

	var rel any
	if upgrade {
		up := action.NewUpgrade(c.helm)
		up.Namespace = c.namespace
		up.Install = true
		up.SkipCRDs = true
		up.WaitStrategy = wait
		up.Timeout = o.Timeout
		up.RollbackOnFailure = o.Wait
		up.CleanupOnFail = o.Wait
		up.MaxHistory = maxHistory
		up.DryRunStrategy = dryRun
		rel, err = up.RunWithContext(ctx, ReleaseName, ch, o.Values)
		if err != nil {
			return nil, fmt.Errorf("upgrading %s in namespace %s: %w", ReleaseName, c.namespace, err)
		}
	} else {
		in := action.NewInstall(c.helm)
		in.ReleaseName = ReleaseName
		in.Namespace = c.namespace
		in.SkipCRDs = true
		in.Replace = replace
		in.WaitStrategy = wait
		in.Timeout = o.Timeout
		in.RollbackOnFailure = o.Wait
		in.DryRunStrategy = dryRun
		rel, err = in.RunWithContext(ctx, ch, o.Values)
		if err != nil {
			return nil, fmt.Errorf("installing %s in namespace %s: %w", ReleaseName, c.namespace, err)
		}
	}
	r, err := asRelease(rel)
	if err != nil {
		return nil, err
	}
	return &InstallResult{Release: r, Upgraded: upgrade}, nil
}

// releaseExists reports whether the release has a history to upgrade, and
// whether an install must replace an uninstalled release kept in history.
func (c *Client) releaseExists() (upgrade, replace bool, err error) {
	history := action.NewHistory(c.helm)
	history.Max = 1
	versions, err := history.Run(ReleaseName)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("reading the history of %s in namespace %s: %w", ReleaseName, c.namespace, err)
	}
	for _, v := range versions {
		r, err := asRelease(v)
		if err != nil {
			return false, false, err
		}
		if r.Info != nil && r.Info.Status != rcommon.StatusUninstalled {
			return true, false, nil
		}
	}
	return false, len(versions) > 0, nil
}

func (c *Client) ensureNamespace(ctx context.Context, create bool) error {
	_, err := c.kube.CoreV1().Namespaces().Get(ctx, c.namespace, metav1.GetOptions{})
	if err == nil {
		return nil
	}
	if !apierrors.IsNotFound(err) {
		return fmt.Errorf("reading namespace %s: %w", c.namespace, err)
	}
	if !create {
		return fmt.Errorf("namespace %s not found: create it (kubectl create namespace %s) or drop --create-namespace=false", c.namespace, c.namespace)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: c.namespace,
		Labels: map[string]string{
			"app.kubernetes.io/managed-by":       FieldManager,
			"pod-security.kubernetes.io/enforce": "restricted",
		},
	}}
	if _, err := c.kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{FieldManager: FieldManager}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", c.namespace, err)
	}
	return nil
}

// applyCRDs server-side applies the chart's CRDs, so an upgrade of
// kubectl-mesh also upgrades them.
func (c *Client) applyCRDs(ctx context.Context, ch *chart.Chart) error {
	crds, err := CRDs(ch)
	if err != nil {
		return err
	}
	for _, crd := range crds {
		_, err := c.dynamic.Resource(crdResource).Apply(ctx, crd.GetName(), crd, metav1.ApplyOptions{FieldManager: FieldManager, Force: true})
		if err != nil {
			return fmt.Errorf("applying CustomResourceDefinition %s: %w", crd.GetName(), err)
		}
	}
	return nil
}
