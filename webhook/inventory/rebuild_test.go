package inventory

import (
	"context"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
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

// An informer event costs the objects that changed, not the inventory:
// only they are handed to the engine, and a resync that changed nothing
// hands nothing and keeps the generation.
func TestRebuildHandsOnlyChangedObjects(t *testing.T) {
	engine, err := policies.New(t.Context(), policies.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := newFakeCluster()
	for i := range 500 {
		svc := reviewsService()
		svc["metadata"].(map[string]any)["name"] = fmt.Sprintf("svc-%d", i)
		c.create(serviceGVK, svc)
	}
	c.create(serviceGVK, reviewsService())
	c.sync()
	f := newConfirmFixture(t, engine, c, time.Second)
	if got := f.inv.handed.Load(); got != 501 {
		t.Fatalf("the first rebuild handed %d objects, want 501", got)
	}
	reviewsRoute := reviewsRoute(t)
	warnings := func() int { return subsetWarnings(f.handler.Handle(t.Context(), reviewsRoute)) }

	steps := []struct {
		name       string
		change     func()
		kind       schema.GroupVersionKind
		wantHanded uint64
		wantNewGen bool
	}{
		{"a DestinationRule is created", func() { c.create(ruleGVK, reviewsRule()); c.sync() }, ruleGVK, 1, true},
		{"a resync changes nothing", func() {}, serviceGVK, 0, false},
		{"a Service changes", func() {
			c.mu.Lock()
			c.rv++
			svc := reviewsService()
			svc["metadata"].(map[string]any)["uid"], svc["metadata"].(map[string]any)["resourceVersion"] = "uid-501", fmt.Sprint(c.rv)
			c.live[serviceGVK][500] = svc
			c.mu.Unlock()
			c.sync()
		}, serviceGVK, 1, true},
		{"the DestinationRule is deleted", func() {
			c.mu.Lock()
			delete(c.live, ruleGVK)
			c.cached[ruleGVK] = nil
			c.mu.Unlock()
		}, ruleGVK, 1, true},
	}
	for _, step := range steps {
		handed, gen := f.inv.handed.Load(), f.inv.Generation()
		step.change()
		f.inv.changed(step.kind.GroupKind())
		if err := f.inv.rebuild(t.Context()); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if got := f.inv.handed.Load() - handed; got != step.wantHanded {
			t.Errorf("%s: %d objects handed to the engine, want %d", step.name, got, step.wantHanded)
		}
		if newGen := f.inv.Generation() != gen; newGen != step.wantNewGen {
			t.Errorf("%s: new generation %v, want %v", step.name, newGen, step.wantNewGen)
		}
		if got, want := len(f.inv.Objects()), len(c.cached[serviceGVK])+len(c.cached[ruleGVK]); got != want {
			t.Errorf("%s: %d objects for the audit, want %d", step.name, got, want)
		}
	}
	// The engine saw the rule come and go: the subsets are missing again.
	if got := warnings(); got != 2 {
		t.Errorf("%d MESH1102 warnings after the rule was deleted, want 2", got)
	}
}
