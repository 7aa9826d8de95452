package webhookinstall

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// ErrNotInstalled means the namespace has no mesh-webhook release.
var ErrNotInstalled = errors.New("not installed")

// Status is what `kubectl mesh webhook status` reports.
type Status struct {
	Release      string    `json:"release"`
	Namespace    string    `json:"namespace"`
	Revision     int       `json:"revision"`
	Status       string    `json:"status"`
	Description  string    `json:"description,omitempty"`
	LastDeployed time.Time `json:"lastDeployed,omitzero"`
	Chart        string    `json:"chart"`
	ChartVersion string    `json:"chartVersion"`
	AppVersion   string    `json:"appVersion"`
	// Deployment is nil when the release has none (never, with this chart).
	Deployment *DeploymentStatus `json:"deployment,omitempty"`
	// WebhookConfiguration is nil when the release has none.
	WebhookConfiguration *WebhookConfigurationStatus `json:"webhookConfiguration,omitempty"`
}

// DeploymentStatus is the readiness of the webhook's Deployment.
type DeploymentStatus struct {
	Name              string `json:"name"`
	Found             bool   `json:"found"`
	Replicas          int32  `json:"replicas"`
	ReadyReplicas     int32  `json:"readyReplicas"`
	UpdatedReplicas   int32  `json:"updatedReplicas"`
	AvailableReplicas int32  `json:"availableReplicas"`
}

// WebhookConfigurationStatus is the state of the ValidatingWebhookConfiguration.
type WebhookConfigurationStatus struct {
	Name     string          `json:"name"`
	Found    bool            `json:"found"`
	Webhooks []WebhookStatus `json:"webhooks,omitempty"`
}

// WebhookStatus is one webhook entry of the configuration.
type WebhookStatus struct {
	Name           string `json:"name"`
	FailurePolicy  string `json:"failurePolicy"`
	TimeoutSeconds int32  `json:"timeoutSeconds"`
	// CABundle is true once the caBundle is set: until then the apiserver
	// cannot verify the webhook and every call fails.
	CABundle bool `json:"caBundle"`
}

// Ready reports whether the webhook can answer: the release is deployed,
// every replica is ready and every webhook entry has its caBundle.
func (s *Status) Ready() bool {
	if s.Status != "deployed" || s.Deployment == nil || !s.Deployment.Found || s.WebhookConfiguration == nil || !s.WebhookConfiguration.Found {
		return false
	}
	if s.Deployment.Replicas == 0 || s.Deployment.ReadyReplicas < s.Deployment.Replicas {
		return false
	}
	for _, w := range s.WebhookConfiguration.Webhooks {
		if !w.CABundle {
			return false
		}
	}
	return true
}

// Status reads the release and the live state of its Deployment and
// webhook configuration. It wraps ErrNotInstalled when there is no release.
func (c *Client) Status(ctx context.Context) (*Status, error) {
	rel, err := c.helm.Get(ctx, ReleaseName, c.namespace)
	if err != nil {
		return nil, err
	}
	// The newest revision, deployed or not (a failed upgrade shows as
	// failed), as helm status shows it.
	if rel == nil || rel.Status == "uninstalled" {
		return nil, fmt.Errorf("%s in namespace %s: %w", ReleaseName, c.namespace, ErrNotInstalled)
	}
	s := &Status{
		Release:      rel.Name,
		Namespace:    rel.Namespace,
		Revision:     rel.Revision,
		Status:       rel.Status,
		Description:  rel.Description,
		LastDeployed: rel.Updated,
		Chart:        rel.Chart,
		ChartVersion: rel.ChartVersion,
		AppVersion:   rel.AppVersion,
	}
	for _, obj := range manifestObjects(rel.Manifest) {
		switch obj.Kind {
		case "Deployment":
			if s.Deployment, err = c.deploymentStatus(ctx, obj); err != nil {
				return nil, err
			}
		case "ValidatingWebhookConfiguration":
			if s.WebhookConfiguration, err = c.webhookStatus(ctx, obj.Metadata.Name); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

type manifestObject struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
}

func manifestObjects(manifest string) []manifestObject {
	var out []manifestObject
	for _, doc := range strings.Split(manifest, "\n---") {
		var obj manifestObject
		if err := yaml.Unmarshal([]byte(doc), &obj); err == nil && obj.Kind != "" {
			out = append(out, obj)
		}
	}
	return out
}

func (c *Client) deploymentStatus(ctx context.Context, obj manifestObject) (*DeploymentStatus, error) {
	ns := obj.Metadata.Namespace
	if ns == "" {
		ns = c.namespace
	}
	ds := &DeploymentStatus{Name: obj.Metadata.Name}
	d, err := c.kube.AppsV1().Deployments(ns).Get(ctx, obj.Metadata.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return ds, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading Deployment %s/%s: %w", ns, obj.Metadata.Name, err)
	}
	ds.Found = true
	if d.Spec.Replicas != nil {
		ds.Replicas = *d.Spec.Replicas
	}
	ds.ReadyReplicas = d.Status.ReadyReplicas
	ds.UpdatedReplicas = d.Status.UpdatedReplicas
	ds.AvailableReplicas = d.Status.AvailableReplicas
	return ds, nil
}

func (c *Client) webhookStatus(ctx context.Context, name string) (*WebhookConfigurationStatus, error) {
	ws := &WebhookConfigurationStatus{Name: name}
	vwc, err := c.kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return ws, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading ValidatingWebhookConfiguration %s: %w", name, err)
	}
	ws.Found = true
	for _, w := range vwc.Webhooks {
		entry := WebhookStatus{Name: w.Name, CABundle: len(w.ClientConfig.CABundle) > 0}
		if w.FailurePolicy != nil {
			entry.FailurePolicy = string(*w.FailurePolicy)
		}
		if w.TimeoutSeconds != nil {
			entry.TimeoutSeconds = *w.TimeoutSeconds
		}
		ws.Webhooks = append(ws.Webhooks, entry)
	}
	return ws, nil
}
