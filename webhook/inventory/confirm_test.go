package inventory

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	cradmission "sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
	"github.com/kubectl-mesh/kubectl-mesh/webhook/admission"
	"github.com/kubectl-mesh/kubectl-mesh/webhook/metrics"
)

var (
	serviceGVK = schema.GroupVersionKind{Version: "v1", Kind: "Service"}
	ruleGVK    = schema.GroupVersionKind{Group: "networking.istio.io", Version: "v1", Kind: "DestinationRule"}
)

// fakeCluster is the apiserver (live) and the inventory's cache, which
// trails it until sync: what an informer does, made explicit.
type fakeCluster struct {
	mu      sync.Mutex
	rv      int
	live    map[schema.GroupVersionKind][]map[string]any
	cached  map[schema.GroupVersionKind][]map[string]any
	reads   atomic.Int64 // uncached lists
	listErr error
}

func newFakeCluster() *fakeCluster {
	return &fakeCluster{live: map[schema.GroupVersionKind][]map[string]any{}, cached: map[schema.GroupVersionKind][]map[string]any{}}
}

// create stores obj in the apiserver with a new uid and resourceVersion.
func (c *fakeCluster) create(gvk schema.GroupVersionKind, obj map[string]any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rv++
	meta := obj["metadata"].(map[string]any)
	meta["uid"] = fmt.Sprintf("uid-%d", c.rv)
	meta["resourceVersion"] = strconv.Itoa(c.rv)
	c.live[gvk] = append(c.live[gvk], obj)
}

// sync makes the cache hold what the apiserver holds.
func (c *fakeCluster) sync() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for gvk, objs := range c.live {
		c.cached[gvk] = append([]map[string]any(nil), objs...)
	}
}

// reader is the uncached client: it counts the lists.
type fakeReader struct {
	client.Reader
	c *fakeCluster
}

func (r fakeReader) List(ctx context.Context, list client.ObjectList, _ ...client.ListOption) error {
	r.c.reads.Add(1)
	if err := ctx.Err(); err != nil {
		return err
	}
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	if r.c.listErr != nil {
		return r.c.listErr
	}
	l, ok := list.(*metav1.PartialObjectMetadataList)
	if !ok {
		return fmt.Errorf("listing %T: want metadata only", list)
	}
	gvk := l.GroupVersionKind()
	gvk.Kind = strings.TrimSuffix(gvk.Kind, "List")
	for _, obj := range r.c.live[gvk] {
		u := unstructured.Unstructured{Object: obj}
		l.Items = append(l.Items, metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{
			Name: u.GetName(), Namespace: u.GetNamespace(), UID: u.GetUID(), ResourceVersion: u.GetResourceVersion(),
		}})
	}
	l.ResourceVersion = strconv.Itoa(r.c.rv)
	return nil
}

// fakeCache serves List from the cluster's cache; nothing else is used.
type fakeCache struct {
	cache.Cache
	c *fakeCluster
}

func (f fakeCache) List(_ context.Context, list client.ObjectList, _ ...client.ListOption) error {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	l := list.(*unstructured.UnstructuredList)
	gvk := l.GroupVersionKind()
	gvk.Kind = strings.TrimSuffix(gvk.Kind, "List")
	for _, obj := range f.c.cached[gvk] {
		l.Items = append(l.Items, unstructured.Unstructured{Object: obj})
	}
	return nil
}

// confirmFixture is an inventory over a fake cluster, built once, and an
// admission handler that confirms through it.
type confirmFixture struct {
	cluster *fakeCluster
	inv     *Inventory
	handler *admission.Handler
	metrics *metrics.Metrics
}

func newConfirmFixture(t *testing.T, engine *policies.Engine, c *fakeCluster, timeout time.Duration) *confirmFixture {
	t.Helper()
	inv, err := New(Options{Config: &rest.Config{Host: "https://127.0.0.1:1"}, Reader: fakeReader{c: c}, Engine: engine})
	if err != nil {
		t.Fatal(err)
	}
	inv.cache = fakeCache{c: c}
	for _, gvk := range []schema.GroupVersionKind{serviceGVK, ruleGVK} {
		inv.watched[gvk.GroupKind()] = &watch{gvk: gvk}
	}
	if err := inv.rebuild(t.Context()); err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	h, err := admission.New(admission.Config{Engine: engine, Confirmer: inv, Metrics: m, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return &confirmFixture{cluster: c, inv: inv, handler: h, metrics: m}
}

func reviewsService() map[string]any {
	return map[string]any{"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": "reviews", "namespace": "shop"},
		"spec":     map[string]any{"selector": map[string]any{"app": "reviews"}, "ports": []any{map[string]any{"name": "http", "port": 9080}}}}
}

func reviewsRule() map[string]any {
	return map[string]any{"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
		"metadata": map[string]any{"name": "reviews", "namespace": "shop"},
		"spec": map[string]any{"host": "reviews", "subsets": []any{
			map[string]any{"name": "v1", "labels": map[string]any{"version": "v1"}},
			map[string]any{"name": "v2", "labels": map[string]any{"version": "v2"}},
		}}}
}

// reviewsRoute is a CREATE of a VirtualService splitting reviews between
// subsets v1 and v2: clean when the Service and the rule exist.
func reviewsRoute(t *testing.T) cradmission.Request {
	t.Helper()
	vs := map[string]any{"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
		"metadata": map[string]any{"name": "reviews", "namespace": "shop"},
		"spec": map[string]any{"hosts": []any{"reviews"}, "http": []any{map[string]any{
			"timeout": "5s",
			"route": []any{
				map[string]any{"destination": map[string]any{"host": "reviews", "subset": "v1"}, "weight": 90},
				map[string]any{"destination": map[string]any{"host": "reviews", "subset": "v2"}, "weight": 10},
			},
		}}}}
	raw, err := json.Marshal(vs)
	if err != nil {
		t.Fatal(err)
	}
	return cradmission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID:       "1",
		Kind:      metav1.GroupVersionKind{Group: "networking.istio.io", Version: "v1", Kind: "VirtualService"},
		Resource:  metav1.GroupVersionResource{Group: "networking.istio.io", Version: "v1", Resource: "virtualservices"},
		Name:      "reviews",
		Namespace: "shop",
		Operation: admissionv1.Create,
		Object:    runtime.RawExtension{Raw: raw},
	}}
}

func subsetWarnings(resp cradmission.Response) int {
	n := 0
	for _, w := range resp.Warnings {
		if strings.HasPrefix(w, "MESH1102:") {
			n++
		}
	}
	return n
}

// The webhook never warns because of an object its inventory has not seen
// yet, confirms a finding only when there is one, and keeps a finding the
// apiserver bears out.
func TestCatchUpConfirmsReferentialFindings(t *testing.T) {
	engine, err := policies.New(t.Context(), policies.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const timeout = 3 * time.Second
	tests := []struct {
		name string
		// setup prepares the cluster; the inventory is built after it.
		setup func(c *fakeCluster)
		// after changes the cluster once the inventory was built.
		after        func(c *fakeCluster)
		wantWarnings int
		wantReads    int64
		wantRebuilds uint64
		wantResult   string // the confirmation counted, if any
	}{
		{
			name: "no finding: no uncached read",
			setup: func(c *fakeCluster) {
				c.create(serviceGVK, reviewsService())
				c.create(ruleGVK, reviewsRule())
				c.sync()
			},
		},
		{
			name: "inventory behind the cache: the finding is withdrawn after one rebuild",
			setup: func(c *fakeCluster) {
				c.create(serviceGVK, reviewsService())
				c.sync()
			},
			after: func(c *fakeCluster) {
				c.create(ruleGVK, reviewsRule())
				c.sync()
			},
			wantReads: 1, wantRebuilds: 1, wantResult: "caught-up",
		},
		{
			name: "cache behind the apiserver: waits for it, then withdraws the finding",
			setup: func(c *fakeCluster) {
				c.create(serviceGVK, reviewsService())
				c.sync()
			},
			after: func(c *fakeCluster) {
				c.create(ruleGVK, reviewsRule())
				go func() {
					time.Sleep(100 * time.Millisecond)
					c.sync()
				}()
			},
			wantReads: 1, wantRebuilds: 1, wantResult: "caught-up",
		},
		{
			name: "subsets really missing: the warnings stay, nothing is rebuilt",
			setup: func(c *fakeCluster) {
				c.create(serviceGVK, reviewsService())
				c.sync()
			},
			wantWarnings: 2, wantReads: 1, wantResult: "current",
		},
		{
			name: "the apiserver cannot be read: the warnings stay",
			setup: func(c *fakeCluster) {
				c.create(serviceGVK, reviewsService())
				c.sync()
			},
			after: func(c *fakeCluster) {
				c.listErr = fmt.Errorf("connection refused")
			},
			wantWarnings: 2, wantReads: 1, wantResult: "failed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newFakeCluster()
			tt.setup(c)
			f := newConfirmFixture(t, engine, c, timeout)
			if tt.after != nil {
				tt.after(c)
			}
			rebuilds := f.inv.rebuildStarted.Load()
			resp := f.handler.Handle(t.Context(), reviewsRoute(t))
			if !resp.Allowed {
				t.Fatalf("denied: %v", resp.Result)
			}
			if got := subsetWarnings(resp); got != tt.wantWarnings {
				t.Errorf("%d MESH1102 warnings, want %d: %q", got, tt.wantWarnings, resp.Warnings)
			}
			if got := c.reads.Load(); got != tt.wantReads {
				t.Errorf("%d uncached reads, want %d", got, tt.wantReads)
			}
			if got := f.inv.rebuildStarted.Load() - rebuilds; got != tt.wantRebuilds {
				t.Errorf("%d rebuilds, want %d", got, tt.wantRebuilds)
			}
			for _, result := range []string{"current", "caught-up", "failed"} {
				want := 0.0
				if result == tt.wantResult {
					want = 1
				}
				if got := testutil.ToFloat64(f.metrics.AdmissionConfirmations.WithLabelValues(result)); got != want {
					t.Errorf("confirmations %s = %v, want %v", result, got, want)
				}
			}
		})
	}
}

// A cache that never catches up costs the request at most half its
// deadline, and the finding then stands: the webhook answers in time.
func TestCatchUpRespectsTheDeadline(t *testing.T) {
	engine, err := policies.New(t.Context(), policies.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := newFakeCluster()
	c.create(serviceGVK, reviewsService())
	c.sync()
	const timeout = 400 * time.Millisecond
	f := newConfirmFixture(t, engine, c, timeout)
	c.create(ruleGVK, reviewsRule()) // never synced

	start := time.Now()
	resp := f.handler.Handle(t.Context(), reviewsRoute(t))
	took := time.Since(start)
	if !resp.Allowed || subsetWarnings(resp) != 2 {
		t.Errorf("got %v %q, want the first verdict: allowed with 2 MESH1102 warnings", resp.Result, resp.Warnings)
	}
	if took < timeout/2-50*time.Millisecond || took > timeout {
		t.Errorf("answered after %s, want about half the %s deadline", took, timeout)
	}
	if got := testutil.ToFloat64(f.metrics.AdmissionConfirmations.WithLabelValues("failed")); got != 1 {
		t.Errorf("failed confirmations = %v, want 1", got)
	}
}

// Requests that find the inventory behind at the same time share a
// rebuild: a burst of them costs one or two, not one each.
func TestCatchUpCoalescesRebuilds(t *testing.T) {
	engine, err := policies.New(t.Context(), policies.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := newFakeCluster()
	c.create(serviceGVK, reviewsService())
	c.sync()
	f := newConfirmFixture(t, engine, c, 3*time.Second)
	c.create(ruleGVK, reviewsRule())
	c.sync()

	rebuilds := f.inv.rebuildStarted.Load()
	var wg sync.WaitGroup
	behind := make([]bool, 16)
	for i := range behind {
		wg.Go(func() {
			var err error
			if behind[i], err = f.inv.CatchUp(t.Context(), f.inv.Generation(), []string{"MESH1102"}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := f.inv.rebuildStarted.Load() - rebuilds; got > 2 {
		t.Errorf("%d rebuilds for 16 concurrent requests, want at most 2", got)
	}
	// Behind or not, each caller now sees the rule.
	if behind, err := f.inv.CatchUp(t.Context(), f.inv.Generation(), []string{"MESH1102"}); err != nil || behind {
		t.Errorf("CatchUp after the burst: %v %v, want the inventory current", behind, err)
	}
}

// Policies that look nothing up are never confirmed: no read.
func TestCatchUpSkipsPoliciesWithoutInventory(t *testing.T) {
	engine, err := policies.New(t.Context(), policies.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := newFakeCluster()
	f := newConfirmFixture(t, engine, c, time.Second)
	// MESH1115 (route weights) reads only the object under review.
	if behind, err := f.inv.CatchUp(t.Context(), f.inv.Generation(), []string{"MESH1115"}); err != nil || behind {
		t.Errorf("CatchUp(MESH1115) = %v, %v; want false, nil", behind, err)
	}
	if n := c.reads.Load(); n != 0 {
		t.Errorf("%d uncached reads for a policy that looks nothing up", n)
	}
}

func TestLiveCovers(t *testing.T) {
	l := live{versions: versions{"a": "10", "b": "12"}, resourceVersion: "15"}
	tests := []struct {
		name string
		have versions
		want bool
	}{
		{"the same", versions{"a": "10", "b": "12"}, true},
		{"newer versions", versions{"a": "11", "b": "16"}, true},
		{"an object created after the list", versions{"a": "10", "b": "12", "c": "16"}, true},
		{"an object missing", versions{"a": "10"}, false},
		{"an older version", versions{"a": "9", "b": "12"}, false},
		{"an object deleted before the list", versions{"a": "10", "b": "12", "c": "14"}, false},
		{"nothing", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := l.covers(tt.have); got != tt.want {
				t.Errorf("covers(%v) = %v, want %v", tt.have, got, tt.want)
			}
		})
	}
	// Versions that do not compare count only when equal.
	opaque := live{versions: versions{"a": "x1"}, resourceVersion: "x2"}
	if !opaque.covers(versions{"a": "x1"}) || opaque.covers(versions{"a": "x3"}) || opaque.covers(versions{"a": "x1", "b": "x4"}) {
		t.Error("opaque versions: want only the same objects at the same versions to cover")
	}
}

// A rebuild that lands between the evaluation and the check leaves the
// inventory current but the findings stale: they are evaluated again.
func TestCatchUpAfterARebuildSinceTheEvaluation(t *testing.T) {
	engine, err := policies.New(t.Context(), policies.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := newFakeCluster()
	c.create(serviceGVK, reviewsService())
	c.sync()
	f := newConfirmFixture(t, engine, c, time.Second)
	evaluated := f.inv.Generation()
	c.create(ruleGVK, reviewsRule())
	c.sync()
	f.inv.changed(ruleGVK.GroupKind())                 // what the informer reports
	if err := f.inv.rebuild(t.Context()); err != nil { // the background rebuild
		t.Fatal(err)
	}
	rebuilds := f.inv.rebuildStarted.Load()
	if again, err := f.inv.CatchUp(t.Context(), evaluated, []string{"MESH1102"}); err != nil || !again {
		t.Errorf("CatchUp = %v, %v; want true: the findings came from the inventory before the rebuild", again, err)
	}
	if again, err := f.inv.CatchUp(t.Context(), f.inv.Generation(), []string{"MESH1102"}); err != nil || again {
		t.Errorf("CatchUp = %v, %v; want false: the inventory in force is current", again, err)
	}
	if n := f.inv.rebuildStarted.Load() - rebuilds; n != 0 {
		t.Errorf("%d rebuilds, want none: the inventory was current", n)
	}
}

// A cache that stays behind the apiserver (an informer whose watch backs
// off after an apiserver outage) is asked to list again once CatchUp has
// waited half its time; one that catches up before is not.
func TestCatchUpReportsALaggingKind(t *testing.T) {
	engine, err := policies.New(t.Context(), policies.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := newFakeCluster()
	c.create(serviceGVK, reviewsService())
	c.sync()
	f := newConfirmFixture(t, engine, c, time.Second) // CatchUp gets about 500ms, and waits 250ms
	c.create(ruleGVK, reviewsRule())                  // never synced: the informer is stuck

	f.handler.Handle(t.Context(), reviewsRoute(t))
	select {
	case <-f.inv.lag:
	default:
		t.Fatal("a cache behind for the whole review was not reported as lagging")
	}
	f.inv.lagMu.Lock()
	got := f.inv.lagKinds
	f.inv.lagMu.Unlock()
	if len(got) != 1 || !got[ruleGVK.GroupKind()] {
		t.Errorf("lagging kinds %v, want only %s", got, ruleGVK.GroupKind())
	}

	c.sync()
	f.inv.lagMu.Lock()
	clear(f.inv.lagKinds)
	f.inv.lagMu.Unlock()
	c.create(ruleGVK, map[string]any{"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
		"metadata": map[string]any{"name": "other", "namespace": "bookinfo"}, "spec": map[string]any{"host": "other"}})
	go func() { time.Sleep(50 * time.Millisecond); c.sync() }() // catches up in time
	f.handler.Handle(t.Context(), reviewsRoute(t))
	select {
	case <-f.inv.lag:
		t.Error("a cache that caught up within lagPatience was reported as lagging")
	default:
	}
}
