// Package soak is the sustained admission load of issue 20: CREATE and
// UPDATE of Services, DestinationRules and VirtualServices through the real
// apiserver, a share of them violating a deny policy, each with the verdict
// it must get. The reliability end-to-end tests (test/e2e/reliability) run
// it for correctness, the soak benchmark (test/soakbench, `make soak`) for
// figures. The rate comes from fortio's periodic runner, as the webhook
// benchmark's does (test/webhookbench).
package soak

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"fortio.org/fortio/periodic"
	"fortio.org/log"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// DenyPolicy is the policy that denies the violating share: a VirtualService
// whose route destinations all have weight 0 (MESH1115).
const DenyPolicy = "MESH1115"

// Resources the load writes and the webhook must review.
var (
	services         = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	destinationRules = schema.GroupVersionResource{Group: "networking.istio.io", Version: "v1", Resource: "destinationrules"}
	virtualServices  = schema.GroupVersionResource{Group: "networking.istio.io", Version: "v1", Resource: "virtualservices"}
)

// Config of a load.
type Config struct {
	// RESTConfig reaches the apiserver; the load lifts its client-side
	// rate limit.
	RESTConfig *rest.Config
	// Namespace the objects are written in; it must exist.
	Namespace string
	// Threads are the concurrent clients (default 8), each writing its own
	// objects.
	Threads int
	// SetsPerThread are the Service, DestinationRule and VirtualService
	// sets each thread cycles through: created once, then updated (default 10).
	SetsPerThread int
	// ViolatingEvery makes every Nth request an UPDATE of a VirtualService
	// to weights of 0, which must be denied (default 10: a tenth).
	ViolatingEvery int
}

// Load is a running mixed load; Run may be called repeatedly, each call
// continuing where the last one stopped.
type Load struct {
	cfg     Config
	runners []*runner
}

// New prepares a load: one client per thread, each recording the warnings
// of its own requests.
func New(cfg Config) (*Load, error) {
	if cfg.Threads == 0 {
		cfg.Threads = 8
	}
	if cfg.SetsPerThread == 0 {
		cfg.SetsPerThread = 10
	}
	if cfg.ViolatingEvery == 0 {
		cfg.ViolatingEvery = 10
	}
	log.SetLogLevel(log.Error)
	l := &Load{cfg: cfg}
	for i := range cfg.Threads {
		r := &runner{cfg: cfg, thread: i, objects: map[string]*unstructured.Unstructured{}}
		rc := rest.CopyConfig(cfg.RESTConfig)
		rc.QPS, rc.Burst = -1, 0 // the load sets the rate, not client-go
		rc.WarningHandler = &r.warnings
		client, err := dynamic.NewForConfig(rc)
		if err != nil {
			return nil, fmt.Errorf("creating the load's client: %w", err)
		}
		r.client = client
		l.runners = append(l.runners, r)
	}
	return l, nil
}

// Window is what one Run saw.
type Window struct {
	Duration time.Duration
	QPS      float64 // achieved
	// Requests = Admitted + Denied + Failed + Wrong.
	Requests int
	Admitted int // compliant, admitted without a warning
	Denied   int // violating, denied by DenyPolicy
	// Failed requests got no verdict: the webhook could not be called
	// ("failed calling webhook"), or the apiserver failed otherwise.
	Failed int
	// Wrong verdicts: a compliant object denied or warned about, a
	// violating one admitted or denied for another reason.
	Wrong int
	// Examples holds the first failures and wrong verdicts, for the log.
	Examples []string
	// Latency percentiles of a request through the apiserver, seconds.
	P50, P90, P99, Max float64
}

func (w Window) String() string {
	return fmt.Sprintf("%d requests in %s (%.1f/s): %d admitted, %d denied, %d failed, %d wrong; p50 %.1fms p90 %.1fms p99 %.1fms max %.1fms",
		w.Requests, w.Duration.Round(time.Millisecond), w.QPS, w.Admitted, w.Denied, w.Failed, w.Wrong, w.P50*1e3, w.P90*1e3, w.P99*1e3, w.Max*1e3)
}

// Run sends the load for d at qps requests per second over all threads
// (qps < 0: as fast as the threads go), without catching up on requests a
// slow apiserver delayed.
func (l *Load) Run(ctx context.Context, qps float64, d time.Duration) Window {
	stop := periodic.NewAborter()
	stopped := stop.StopChan // Abort closes it, then clears the field
	go func() {
		select {
		case <-ctx.Done():
			stop.Abort(false)
		case <-stopped:
		}
	}()
	pr := periodic.NewPeriodicRunner(&periodic.RunnerOptions{
		RunType: "soak", QPS: qps, Duration: d, NumThreads: len(l.runners),
		Percentiles: []float64{50, 90, 99}, Resolution: 0.0001, NoCatchUp: true, Out: io.Discard, Stop: stop,
	})
	// After the runner is made: making it clears the Runnables it was given.
	for i, r := range l.runners {
		pr.Options().Runners[i] = r
	}
	res := pr.Run()
	stop.Abort(false)
	w := Window{Duration: res.ActualDuration, QPS: res.ActualQPS, Max: res.DurationHistogram.Max}
	for _, p := range res.DurationHistogram.Percentiles {
		switch p.Percentile {
		case 50:
			w.P50 = p.Value
		case 90:
			w.P90 = p.Value
		case 99:
			w.P99 = p.Value
		}
	}
	var wrong, failed []string
	for _, r := range l.runners {
		w.Admitted += r.admitted
		w.Denied += r.denied
		w.Failed += r.failed
		w.Wrong += r.wrong
		wrong = append(wrong, r.wrongExamples...)
		failed = append(failed, r.examples...)
		r.admitted, r.denied, r.failed, r.wrong, r.examples, r.wrongExamples = 0, 0, 0, 0, nil, nil
	}
	// Wrong verdicts first: they say more than failures.
	w.Examples = append(wrong, failed...)[:min(10, len(wrong)+len(failed))]
	w.Requests = w.Admitted + w.Denied + w.Failed + w.Wrong
	return w
}

// Register registers the webhook at clientConfig for CREATE and UPDATE of
// the load's kinds in namespace, failing closed, as the chart does; the
// returned func removes the registration.
func Register(ctx context.Context, rc *rest.Config, name, namespace string, clientConfig admissionregistrationv1.WebhookClientConfig) (func(), error) {
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	fail := admissionregistrationv1.Fail
	none := admissionregistrationv1.SideEffectClassNone
	timeout := int32(10)
	cfg := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:         "validate.kubectl-mesh.io",
			ClientConfig: clientConfig,
			Rules: []admissionregistrationv1.RuleWithOperations{
				{Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
					Rule: admissionregistrationv1.Rule{APIGroups: []string{"networking.istio.io"}, APIVersions: []string{"*"}, Resources: []string{"virtualservices", "destinationrules"}}},
				{Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
					Rule: admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"services"}}},
			},
			NamespaceSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": namespace}},
			FailurePolicy:           &fail,
			SideEffects:             &none,
			TimeoutSeconds:          &timeout,
			AdmissionReviewVersions: []string{"v1"},
		}},
	}
	vwcs := client.AdmissionregistrationV1().ValidatingWebhookConfigurations()
	if _, err := vwcs.Create(ctx, cfg, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("registering the webhook: %w", err)
	}
	return func() { _ = vwcs.Delete(context.Background(), name, metav1.DeleteOptions{}) }, nil
}

// WaitCalled creates a violating VirtualService (server dry run) until the
// apiserver calls the webhook, which it picks up asynchronously.
func WaitCalled(ctx context.Context, rc *rest.Config, namespace string, timeout time.Duration) error {
	rc = rest.CopyConfig(rc)
	rc.WarningHandler = rest.NoWarnings{} // the probe draws MESH1101 too
	client, err := dynamic.NewForConfig(rc)
	if err != nil {
		return err
	}
	vs := virtualService(namespace, "soak-probe", "soak-probe", "0", true)
	deadline := time.Now().Add(timeout)
	for {
		_, err := client.Resource(virtualServices).Namespace(namespace).Create(ctx, vs, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil && strings.Contains(err.Error(), DenyPolicy) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the apiserver never called the webhook within %s: last answer %v", timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// runner is one thread of the load: it cycles through its sets, creating
// each object once and updating it afterwards, and every ViolatingEvery
// requests tries to set a VirtualService's weights to 0.
type runner struct {
	cfg      Config
	thread   int
	client   dynamic.Interface
	warnings warnings
	// objects are this thread's objects as last written, by kind/name.
	objects map[string]*unstructured.Unstructured
	next    int // requests sent
	step    int // compliant requests sent: the place in the cycle

	admitted, denied, failed, wrong int
	examples, wrongExamples         []string
}

// warnings records the warnings of one thread's requests: the thread sends
// one request at a time, so they are its last request's.
type warnings struct {
	mu   sync.Mutex
	list []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	w.list = append(w.list, text)
	w.mu.Unlock()
}

func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.list
	w.list = nil
	return out
}

func (r *runner) Run(ctx context.Context, _ periodic.ThreadID) (bool, string) {
	n, step := r.next, r.step
	r.next++
	set := fmt.Sprintf("t%02d-s%02d", r.thread, step/3%r.cfg.SetsPerThread)
	violating := n%r.cfg.ViolatingEvery == r.cfg.ViolatingEvery-1 && r.objects["vs/"+set] != nil
	if !violating {
		r.step++ // a violating request leaves the cycle where it was
	}
	gvr, key, obj := r.request(set, step%3, violating, n)
	ns := r.client.Resource(gvr).Namespace(r.cfg.Namespace)
	var (
		got *unstructured.Unstructured
		err error
	)
	if obj.GetResourceVersion() == "" {
		got, err = ns.Create(ctx, obj, metav1.CreateOptions{})
	} else {
		got, err = ns.Update(ctx, obj, metav1.UpdateOptions{})
	}
	return r.judge(key, gvr.Resource, violating, got, err, r.warnings.take())
}

// request is the nth request: the object to write and under which key it
// is kept.
func (r *runner) request(set string, kind int, violating bool, n int) (schema.GroupVersionResource, string, *unstructured.Unstructured) {
	if violating {
		vs := virtualService(r.cfg.Namespace, "vs-"+set, "svc-"+set, fmt.Sprint(n), true)
		vs.SetResourceVersion(r.objects["vs/"+set].GetResourceVersion())
		return virtualServices, "vs/" + set, vs
	}
	var (
		gvr schema.GroupVersionResource
		key string
		obj *unstructured.Unstructured
	)
	if r.objects["svc/"+set] == nil {
		// Routes are compliant only to a Service that exists: one whose
		// creation failed is created first.
		kind = 0
	}
	switch kind {
	case 0:
		gvr, key, obj = services, "svc/"+set, service(r.cfg.Namespace, "svc-"+set, fmt.Sprint(n))
	case 1:
		gvr, key, obj = destinationRules, "dr/"+set, destinationRule(r.cfg.Namespace, "dr-"+set, "svc-"+set, fmt.Sprint(n))
	default:
		gvr, key, obj = virtualServices, "vs/"+set, virtualService(r.cfg.Namespace, "vs-"+set, "svc-"+set, fmt.Sprint(n), false)
	}
	if last := r.objects[key]; last != nil {
		obj.SetResourceVersion(last.GetResourceVersion())
		if gvr == services { // immutable once allocated
			_ = unstructured.SetNestedField(obj.Object, last.Object["spec"].(map[string]any)["clusterIP"], "spec", "clusterIP")
		}
	}
	return gvr, key, obj
}

// judge sorts one answer; a wrong verdict or a failure returns false,
// which fortio counts as an error.
func (r *runner) judge(key, resource string, violating bool, got *unstructured.Unstructured, err error, warns []string) (bool, string) {
	bad := func(counter *int, format string, args ...any) (bool, string) {
		*counter++
		msg := fmt.Sprintf("%s %s: ", resource, key) + fmt.Sprintf(format, args...)
		switch {
		case counter == &r.wrong && len(r.wrongExamples) < 3:
			r.wrongExamples = append(r.wrongExamples, "wrong: "+msg)
		case counter == &r.failed && len(r.examples) < 3:
			r.examples = append(r.examples, "failed: "+msg)
		}
		return false, msg
	}
	var status apierrors.APIStatus
	switch {
	case err != nil && strings.Contains(err.Error(), "failed calling webhook"):
		return bad(&r.failed, "no verdict: %v", err)
	case errors.As(err, &status) && status.Status().Code >= http.StatusInternalServerError:
		// The webhook answered that it could not judge (a replica not
		// synced yet, an overload): a failure, not a verdict.
		return bad(&r.failed, "no verdict: %v", err)
	case violating && err != nil && strings.Contains(err.Error(), "denied the request: "+DenyPolicy):
		r.denied++
		return true, ""
	case violating && err == nil:
		return bad(&r.wrong, "a VirtualService with weights 0 was admitted")
	case err != nil && strings.Contains(err.Error(), "denied the request"):
		return bad(&r.wrong, "wrongly denied: %v", err)
	case err != nil:
		return bad(&r.failed, "%v", err)
	case len(warns) > 0:
		r.objects[key] = got
		return bad(&r.wrong, "warned about a compliant object: %q", warns)
	}
	r.objects[key] = got
	r.admitted++
	return true, ""
}

func service(namespace, name, gen string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": name, "namespace": namespace, "labels": map[string]any{"app": name, "soak-gen": gen}},
		"spec": map[string]any{
			"selector": map[string]any{"app": name},
			"ports":    []any{map[string]any{"name": "http", "port": int64(8080)}},
		},
	}}
}

func destinationRule(namespace, name, host, gen string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
		"metadata": map[string]any{"name": name, "namespace": namespace, "labels": map[string]any{"soak-gen": gen}},
		"spec": map[string]any{
			"host":          host,
			"trafficPolicy": map[string]any{"connectionPool": map[string]any{"tcp": map[string]any{"maxConnections": int64(100)}}},
		},
	}}
}

// virtualService routes host to its Service; violating gives two
// destinations weight 0, which MESH1115 denies.
func virtualService(namespace, name, host, gen string, violating bool) *unstructured.Unstructured {
	dest := map[string]any{"host": host, "port": map[string]any{"number": int64(8080)}}
	route := []any{map[string]any{"destination": dest}}
	if violating {
		route = []any{map[string]any{"destination": dest, "weight": int64(0)}, map[string]any{"destination": dest, "weight": int64(0)}}
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
		"metadata": map[string]any{"name": name, "namespace": namespace, "labels": map[string]any{"soak-gen": gen}},
		"spec": map[string]any{
			"hosts": []any{host},
			"http":  []any{map[string]any{"timeout": "5s", "route": route}},
		},
	}}
}
