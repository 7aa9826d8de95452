package webhookinstall

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/action"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/kube"
	"helm.sh/helm/v4/pkg/storage/driver"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
)

// UninstallOptions are the settings of an uninstall.
type UninstallOptions struct {
	// Purge also deletes the OpenReports CRDs (and with them every report)
	// and the certificate Secret the webhook created at run time.
	Purge bool
	// Wait until the release's objects (with Purge, also the CRDs) are gone.
	Wait    bool
	Timeout time.Duration
}

// UninstallResult is what an uninstall did.
type UninstallResult struct {
	// Installed is false when there was no release: nothing was done but
	// the purge.
	Installed bool
	// Purged names what Purge deleted.
	Purged []string
}

// Uninstall removes the release. Without a release it does nothing and
// succeeds, so that scripts can run it unconditionally.
func (c *Client) Uninstall(ctx context.Context, ch *chart.Chart, o UninstallOptions) (*UninstallResult, error) {
	res := &UninstallResult{}
	// Read the certificate Secret's name before the Deployment that carries it is gone.
	certSecret := ""
	if o.Purge {
		if rel, err := c.lastRelease(); err == nil {
			certSecret = certSecretName(rel.Manifest)
		}
	}

	un := action.NewUninstall(c.helm)
	un.IgnoreNotFound = true
	un.Timeout = o.Timeout
	un.WaitStrategy = kube.HookOnlyStrategy
	if o.Wait {
		un.WaitStrategy = kube.StatusWatcherStrategy
	}
	resp, err := un.Run(ReleaseName)
	switch {
	case errors.Is(err, driver.ErrReleaseNotFound):
	case err != nil:
		return nil, fmt.Errorf("uninstalling %s from namespace %s: %w", ReleaseName, c.namespace, err)
	default:
		res.Installed = resp != nil && resp.Release != nil
	}

	if !o.Purge {
		return res, nil
	}
	if certSecret != "" {
		err := c.kube.CoreV1().Secrets(c.namespace).Delete(ctx, certSecret, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return res, fmt.Errorf("deleting the certificate Secret %s/%s: %w", c.namespace, certSecret, err)
		}
		if err == nil {
			res.Purged = append(res.Purged, "secret/"+certSecret)
		}
	}
	crds, err := CRDs(ch)
	if err != nil {
		return res, err
	}
	var deleted []string
	for _, crd := range crds {
		err := c.dynamic.Resource(crdResource).Delete(ctx, crd.GetName(), metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return res, fmt.Errorf("deleting CustomResourceDefinition %s: %w", crd.GetName(), err)
		}
		if err == nil {
			res.Purged = append(res.Purged, "customresourcedefinition/"+crd.GetName())
			deleted = append(deleted, crd.GetName())
		}
	}
	if o.Wait && len(deleted) > 0 {
		if err := lifecycle.WaitCRDsDeleted(ctx, c.dynamic, deleted, o.Timeout, c.warn); err != nil {
			return res, err
		}
	}
	return res, nil
}

// certSecretName reads --cert-secret-name from the Deployment in a release
// manifest; the Secret itself is created by the webhook, not by Helm.
func certSecretName(manifest string) string {
	for _, doc := range strings.Split(manifest, "\n---") {
		var d appsv1.Deployment
		if err := yaml.Unmarshal([]byte(doc), &d); err != nil || d.Kind != "Deployment" {
			continue
		}
		for _, c := range d.Spec.Template.Spec.Containers {
			for _, arg := range c.Args {
				if name, ok := strings.CutPrefix(arg, "--cert-secret-name="); ok {
					return name
				}
			}
		}
	}
	return ""
}
