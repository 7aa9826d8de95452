package certrotate

import (
	"bytes"
	"context"
	"fmt"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// patchCABundle sets caPEM as the caBundle of every webhook of the
// configuration, and reports whether it had to. It runs on every check, so
// a caBundle that Helm or a person resets is put back.
func (r *Rotator) patchCABundle(ctx context.Context, caPEM []byte) (bool, error) {
	key := client.ObjectKey{Name: r.cfg.WebhookConfigName}
	patched := false
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{}
		if err := r.cfg.Client.Get(ctx, key, vwc); err != nil {
			return fmt.Errorf("reading ValidatingWebhookConfiguration %s: %w", key.Name, err)
		}
		changed := false
		for i := range vwc.Webhooks {
			if !bytes.Equal(vwc.Webhooks[i].ClientConfig.CABundle, caPEM) {
				vwc.Webhooks[i].ClientConfig.CABundle = caPEM
				changed = true
			}
		}
		if !changed {
			return nil
		}
		// Update carries the resourceVersion: a concurrent writer makes it
		// conflict instead of losing that writer's change.
		if err := r.cfg.Client.Update(ctx, vwc); err != nil {
			return fmt.Errorf("updating the caBundle of ValidatingWebhookConfiguration %s: %w", key.Name, err)
		}
		patched = true
		return nil
	})
	return patched, err
}
