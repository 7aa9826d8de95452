package certrotate

import (
	"bytes"
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
)

// Two replicas renew at once: the loser's Update conflicts, it re-reads the
// Secret, finds the winner's certificate valid and serves that one.
func TestConflictingSecretUpdateIsRetried(t *testing.T) {
	base := newTestClient()
	clk := clocktesting.NewFakeClock(testStart())
	winner := newTestRotator(t, base, clk)
	mustSync(t, winner)
	clk.Step(300 * 24 * time.Hour) // both are due for renewal

	var conflicts, updates int
	racing := interceptor.NewClient(base, interceptor.Funcs{
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			if _, ok := obj.(*corev1.Secret); !ok {
				return c.Update(ctx, obj, opts...)
			}
			updates++
			if updates == 1 {
				// The other replica renews between our read and our write.
				mustSync(t, winner)
			}
			err := c.Update(ctx, obj, opts...)
			if apierrors.IsConflict(err) {
				conflicts++
			}
			return err
		},
	})
	loser := newTestRotator(t, racing, clk)
	mustSync(t, loser)

	if conflicts != 1 || updates != 1 {
		t.Errorf("%d updates with %d conflicts, want 1 update that conflicts and no second one", updates, conflicts)
	}
	secret := getSecret(t, base)
	for name, r := range map[string]*Rotator{"winner": winner, "loser": loser} {
		certPEM, _ := files(t, r)
		if !bytes.Equal(certPEM, secret.Data["tls.crt"]) {
			t.Errorf("%s serves a certificate that is not in the Secret", name)
		}
	}
	if err := verifies(t, secret.Data["tls.crt"], secret.Data["ca.crt"], clk.Now()); err != nil {
		t.Error(err)
	}
}

// Two replicas start at once: the loser's Create finds the Secret made, and
// it adopts the winner's CA.
func TestConcurrentCreateAdoptsTheWinnersCA(t *testing.T) {
	base := newTestClient()
	clk := clocktesting.NewFakeClock(testStart())
	winner := newTestRotator(t, base, clk)
	var creates, exists int
	racing := interceptor.NewClient(base, interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			creates++
			if creates == 1 {
				mustSync(t, winner)
			}
			err := c.Create(ctx, obj, opts...)
			if apierrors.IsAlreadyExists(err) {
				exists++
			}
			return err
		},
	})
	loser := newTestRotator(t, racing, clk)
	mustSync(t, loser)

	if creates != 1 || exists != 1 {
		t.Errorf("%d creates, %d AlreadyExists, want one of each", creates, exists)
	}
	w, _ := files(t, winner)
	l, _ := files(t, loser)
	if !bytes.Equal(w, l) {
		t.Error("the replicas serve different certificates")
	}
}

// A caBundle update that conflicts with another writer is retried.
func TestConflictingCABundleUpdateIsRetried(t *testing.T) {
	base := newTestClient()
	clk := clocktesting.NewFakeClock(testStart())
	var attempts int
	c := interceptor.NewClient(base, interceptor.Funcs{
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			if _, ok := obj.(*corev1.Secret); ok {
				return c.Update(ctx, obj, opts...)
			}
			attempts++
			if attempts == 1 {
				// Someone else, say Helm, writes the configuration first.
				other := getWebhookConfig(t, base)
				other.Labels = map[string]string{"helm.sh/chart": "mesh-webhook"}
				if err := base.Update(ctx, other); err != nil {
					t.Fatal(err)
				}
			}
			return c.Update(ctx, obj, opts...)
		},
	})
	r := newTestRotator(t, c, clk)
	mustSync(t, r)
	if attempts != 2 {
		t.Errorf("%d caBundle updates, want a conflict then a success", attempts)
	}
	vwc := getWebhookConfig(t, base)
	if vwc.Labels["helm.sh/chart"] == "" {
		t.Error("the other writer's change was lost")
	}
	if !bytes.Equal(vwc.Webhooks[0].ClientConfig.CABundle, getSecret(t, base).Data["ca.crt"]) {
		t.Error("caBundle not patched after the conflict")
	}
}
