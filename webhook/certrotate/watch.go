package certrotate

import (
	"context"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// rewatchDelay keeps a watch that the apiserver keeps closing from spinning.
const rewatchDelay = time.Second

// watchSecret checks again when another replica renews the Secret, or
// someone deletes or edits it.
func (r *Rotator) watchSecret(ctx context.Context) {
	r.watchLoop(ctx, &corev1.SecretList{}, r.cfg.SecretName,
		client.InNamespace(r.cfg.Namespace), client.MatchingFields{"metadata.name": r.cfg.SecretName})
}

// watchWebhookConfig checks again when the configuration is created or its
// caBundle reset, for example by a Helm upgrade.
func (r *Rotator) watchWebhookConfig(ctx context.Context) {
	r.watchLoop(ctx, &admissionregistrationv1.ValidatingWebhookConfigurationList{}, r.cfg.WebhookConfigName,
		client.MatchingFields{"metadata.name": r.cfg.WebhookConfigName})
}

// watchLoop pokes Start on every event of the named object and watches
// again when the watch ends. Without a watch (say, no RBAC for it), the
// periodic check still runs.
func (r *Rotator) watchLoop(ctx context.Context, list client.ObjectList, name string, opts ...client.ListOption) {
	for {
		delay := rewatchDelay
		w, err := r.cfg.Client.Watch(ctx, list, opts...)
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil:
			r.cfg.Log.Error(err, "watching, falling back to periodic checks", "name", name, "retryAfter", r.cfg.CheckInterval)
			delay = r.cfg.CheckInterval
		default:
			r.forward(ctx, w, name)
		}
		timer := r.cfg.Clock.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C():
		}
	}
}

func (r *Rotator) forward(ctx context.Context, w watch.Interface, name string) {
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.ResultChan():
			if !ok || ev.Type == watch.Error {
				return
			}
			if obj, ok := ev.Object.(client.Object); ok && obj.GetName() == name {
				r.poke()
			}
		}
	}
}
