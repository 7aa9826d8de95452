package certrotate

import (
	"bytes"
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// startRotator runs r.Start until the test ends and waits until it is Ready.
func startRotator(t *testing.T, r *Rotator) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Start returned %v after the context ended", err)
		}
	})
	select {
	case <-r.Ready():
	case err := <-done:
		t.Fatalf("Start returned before Ready: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatalf("not Ready: %v", r.err())
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		return cond(), nil
	})
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// The fake clock never moves here, so no periodic check runs: the watches
// alone bring the caBundle and the Secret back.
func TestStartRepairsThroughWatches(t *testing.T) {
	c := newTestClient()
	clk := clocktesting.NewFakeClock(testStart())
	r := newTestRotator(t, c, clk)
	startRotator(t, r)
	ctx := context.Background()

	vwc := getWebhookConfig(t, c)
	vwc.Webhooks[0].ClientConfig.CABundle = []byte("reset by helm")
	if err := c.Update(ctx, vwc); err != nil {
		t.Fatal(err)
	}
	want := getSecret(t, c).Data["ca.crt"]
	eventually(t, "caBundle patched again after a reset", func() bool {
		return bytes.Equal(getWebhookConfig(t, c).Webhooks[0].ClientConfig.CABundle, want)
	})

	oldCert, _ := files(t, r)
	secret := getSecret(t, c)
	if err := c.Delete(ctx, secret); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Secret recreated and files rewritten after a delete", func() bool {
		s := &corev1.Secret{}
		if err := c.Get(ctx, client.ObjectKeyFromObject(secret), s); err != nil {
			return false
		}
		certPEM, _ := files(t, r)
		return !bytes.Equal(certPEM, oldCert) && bytes.Equal(certPEM, s.Data["tls.crt"]) &&
			bytes.Equal(getWebhookConfig(t, c).Webhooks[1].ClientConfig.CABundle, s.Data["ca.crt"])
	})
}

func TestStartRenewsOnThePeriodicCheck(t *testing.T) {
	c := newTestClient()
	clk := clocktesting.NewFakeClock(testStart())
	r := newTestRotator(t, c, clk)
	startRotator(t, r)
	before, _ := files(t, r)

	eventually(t, "Start waits for its next check", clk.HasWaiters)
	clk.Step(250 * 24 * time.Hour)
	eventually(t, "serving certificate renewed by the periodic check", func() bool {
		after, _ := files(t, r)
		return !bytes.Equal(after, before)
	})
}
