package webhookinstall

import (
	"context"
	"fmt"
	"strings"
	"time"

	chart "helm.sh/helm/v4/pkg/chart/v2"
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
		if rel, err := c.helm.Get(ctx, ReleaseName, c.namespace); err == nil && rel != nil {
			certSecret = certSecretName(rel.Manifest)
		}
	}
	var wait time.Duration
	if o.Wait {
		wait = o.Timeout
	}
	installed, err := c.helm.Uninstall(ctx, ReleaseName, c.namespace, wait)
	if err != nil {
		return nil, err
	}
	res.Installed = installed
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
	crds, err := lifecycle.ChartCRDs(ch)
	if err != nil {
		return res, err
	}
	names := make([]string, 0, len(crds))
	for _, crd := range crds {
		names = append(names, crd.GetName())
	}
	deleted, err := c.helm.DeleteCRDs(ctx, names, wait, c.warn)
	for _, name := range deleted {
		res.Purged = append(res.Purged, "customresourcedefinition/"+name)
	}
	return res, err
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
