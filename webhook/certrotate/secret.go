package certrotate

import (
	"context"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// syncSecret makes the shared Secret hold valid material and returns it.
// Replicas race through optimistic concurrency: a Create that finds the
// Secret already there, or an Update on a stale resourceVersion, re-reads
// the Secret and starts over, usually to find the winner's material valid.
func (r *Rotator) syncSecret(ctx context.Context) (material, error) {
	key := client.ObjectKey{Namespace: r.cfg.Namespace, Name: r.cfg.SecretName}
	var out material
	err := retry.OnError(retry.DefaultRetry, lostRace, func() error {
		secret := &corev1.Secret{}
		err := r.cfg.Client.Get(ctx, key, secret)
		missing := apierrors.IsNotFound(err)
		if err != nil && !missing {
			return fmt.Errorf("reading Secret %s: %w", key, err)
		}
		m, reasons, err := r.plan(secret.Data)
		if err != nil {
			return err
		}
		if len(reasons) == 0 {
			out = m
			return nil
		}
		if missing {
			secret = &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: key.Namespace, Labels: map[string]string{"app.kubernetes.io/managed-by": "mesh-webhook"}},
				Type:       corev1.SecretTypeTLS,
				Data:       m.data(),
			}
			if err := r.cfg.Client.Create(ctx, secret); err != nil {
				return fmt.Errorf("creating Secret %s: %w", key, err)
			}
		} else {
			if secret.Data == nil {
				secret.Data = map[string][]byte{}
			}
			maps.Copy(secret.Data, m.data()) // keys of others stay
			if err := r.cfg.Client.Update(ctx, secret); err != nil {
				return fmt.Errorf("updating Secret %s: %w", key, err)
			}
		}
		r.cfg.Log.Info("stored new webhook certificates", "secret", key.String(), "reasons", reasons)
		out = m
		return nil
	})
	return out, err
}

func lostRace(err error) bool {
	return apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err)
}
