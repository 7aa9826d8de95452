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
func TestDebounceFoldsABurst(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clk := clocktesting.NewFakeClock(time.Now())
	trigger := make(chan struct{}, 1)
	calls := make(chan int, 10) // pending triggers seen by each call
	go debounce(ctx, clk, time.Second, trigger, func() { calls <- len(trigger) })

	waitForWindow := func() {
		t.Helper()
		if err := wait.PollUntilContextTimeout(ctx, time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
			return clk.HasWaiters(), nil
		}); err != nil {
			t.Fatal("no debounce window opened")
		}
	}

	signal(trigger)
	waitForWindow()
	for range 100 {
		signal(trigger) // within the window
	}
	if len(calls) != 0 {
		t.Fatal("rebuilt before the window closed")
	}
	clk.Step(999 * time.Millisecond)
	if len(calls) != 0 || !clk.HasWaiters() {
		t.Fatal("rebuilt before the window closed")
	}
	clk.Step(time.Millisecond)
	if pending := <-calls; pending != 0 {
		t.Errorf("%d changes of the window left pending: they would cost a second rebuild", pending)
	}

	signal(trigger)
	waitForWindow()
	clk.Step(time.Second)
	<-calls
	if len(calls) != 0 {
		t.Errorf("%d extra rebuilds", len(calls))
	}
}
