package inventory

import (
	"context"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	clocktesting "k8s.io/utils/clock/testing"
)

// A burst of changes within one window costs one rebuild, and a change
// after it opens a new window.
func TestThrottleRebuildsAtOnceThenFoldsABurst(t *testing.T) {
	ctx := t.Context()
	clk := clocktesting.NewFakeClock(time.Now())
	trigger := make(chan struct{}, 1)
	calls := make(chan int, 10) // pending triggers seen by each call
	go throttle(ctx, clk, time.Second, trigger, func() { calls <- len(trigger) })

	waitForWindow := func() {
		t.Helper()
		if err := wait.PollUntilContextTimeout(ctx, time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
			return clk.HasWaiters(), nil
		}); err != nil {
			t.Fatal("no throttle window opened")
		}
	}

	// A change after a quiet spell is rebuilt without waiting.
	signal(trigger)
	<-calls

	// A burst right after waits for the interval and costs one rebuild.
	signal(trigger)
	waitForWindow()
	for range 100 {
		signal(trigger)
	}
	clk.Step(999 * time.Millisecond)
	if len(calls) != 0 || !clk.HasWaiters() {
		t.Fatal("rebuilt again within the interval")
	}
	clk.Step(time.Millisecond)
	if pending := <-calls; pending != 0 {
		t.Errorf("%d changes of the burst left pending: they would cost another rebuild", pending)
	}

	// After a quiet interval, at once again.
	clk.Step(2 * time.Second)
	signal(trigger)
	<-calls
	if len(calls) != 0 {
		t.Errorf("%d extra rebuilds", len(calls))
	}
}

// A rebuild that takes long widens the window after it, so that rebuilds
// under a burst of writes take a bounded share of the time.
func TestThrottleWidensAfterASlowRebuild(t *testing.T) {
	ctx := t.Context()
	clk := clocktesting.NewFakeClock(time.Now())
	trigger := make(chan struct{}, 1)
	calls := make(chan struct{}, 10)
	const took = 300 * time.Millisecond // rebuildShare * took = 3s > 1s
	go throttle(ctx, clk, time.Second, trigger, func() {
		clk.Step(took)
		calls <- struct{}{}
	})

	signal(trigger)
	<-calls // at once: nothing was rebuilt before
	signal(trigger)
	if err := wait.PollUntilContextTimeout(ctx, time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		return clk.HasWaiters(), nil
	}); err != nil {
		t.Fatal("no throttle window opened")
	}
	clk.Step(rebuildShare*took - time.Millisecond)
	select {
	case <-calls:
		t.Fatalf("rebuilt within %s of a rebuild that took %s", rebuildShare*took, took)
	case <-time.After(50 * time.Millisecond):
	}
	clk.Step(time.Millisecond)
	select {
	case <-calls:
	case <-time.After(10 * time.Second):
		t.Fatal("not rebuilt once the widened window passed")
	}
}
