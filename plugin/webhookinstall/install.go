package webhookinstall

import (
	"context"
	"fmt"
	"time"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
)

// InstallOptions are the settings of an install or upgrade.
type InstallOptions struct {
	// Values override the chart's values.yaml; none keeps the installed
	// release's values on upgrade, as helm upgrade does.
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

// Release is the webhook's one-release plan. The OpenReports CRDs are
// applied before every install and upgrade, since Helm never upgrades CRDs.
func Release(ch *chart.Chart, namespace string, values map[string]any) lifecycle.Release {
	return lifecycle.Release{Name: ReleaseName, Namespace: namespace, Component: "webhook", Chart: ch, Values: values, ApplyCRDs: true, KeepValues: true}
}

// Install installs the chart, or upgrades the release when it exists, as
// `helm upgrade --install` does, through the lifecycle engine.
func (c *Client) Install(ctx context.Context, ch *chart.Chart, o InstallOptions) (*lifecycle.Result, error) {
	if err := CheckCRDs(ch); err != nil {
		return nil, err
	}
	if !o.ServerDryRun {
		if err := c.ensureNamespace(ctx, o.CreateNamespace); err != nil {
			return nil, err
		}
	}
	res, err := c.helm.Apply(ctx, []lifecycle.Release{Release(ch, c.namespace, o.Values)},
		lifecycle.Options{Wait: o.Wait, Timeout: o.Timeout, DryRunServer: o.ServerDryRun})
	if err != nil {
		return nil, err
	}
	return &res[0], nil
}

// ensureNamespace creates the namespace labelled for the restricted Pod
// Security Standard, which Helm's --create-namespace cannot label.
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
			"app.kubernetes.io/managed-by":       lifecycle.FieldManager,
			"pod-security.kubernetes.io/enforce": "restricted",
		},
	}}
	if _, err := c.kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{FieldManager: lifecycle.FieldManager}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", c.namespace, err)
	}
	return nil
}
