package lifecycle

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"
)

// kube-apiserver's CRD cleanup can stall for minutes: a CRD deleted while
// its storage is being rebuilt (right after an update changed its spec, as
// an upgrade does) fails its first list of instances with "storage is
// (re)initializing"; the retry then conflicts with the finalizer's own
// status write and is dropped, and nothing requeues the CRD until the
// informer's resync five minutes later (seen on 1.37, and by others:
// operator-framework/operator-controller#1437). An annotation change is an
// update the finalizer does not ignore, so touching a stalled CRD requeues
// its cleanup at once. Nothing else reads the annotation.
const finalizerRetryAnnotation = "kubectl-mesh.io/crd-cleanup-retry"

// crdCleanupFailed is the Terminating condition's reason after the
// finalizer could not list a CRD's instances.
const crdCleanupFailed = "InstanceDeletionFailed"

// crdStallGrace is how long a failed cleanup may wait for the apiserver's
// own retry before it is nudged.
const crdStallGrace = 2 * time.Second

// crdNudgeInterval is how often a wait for CRDs to go looks at them: GETs
// by name, since a list of every CRD can be megabytes.
const crdNudgeInterval = 500 * time.Millisecond

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// crdCleanupNudger requeues the apiserver's cleanup of named CRDs whenever
// it has stalled.
type crdCleanupNudger struct {
	crds  dynamic.ResourceInterface
	names []string
	now   func() time.Time
	// warn says which CRD was requeued; nil says nothing.
	warn func(msg string)
}

func newCRDCleanupNudger(client dynamic.Interface, names []string, warn func(string)) *crdCleanupNudger {
	return &crdCleanupNudger{crds: client.Resource(crdResource), names: names, now: time.Now, warn: warn}
}

// WaitCRDsDeleted waits until none of the named CRDs exists, requeueing
// their cleanup whenever it stalls; it fails after timeout, naming the
// CRDs still there. warn, when not nil, hears of every requeue.
func WaitCRDsDeleted(ctx context.Context, client dynamic.Interface, names []string, timeout time.Duration, warn func(string)) error {
	return newCRDCleanupNudger(client, names, warn).waitGone(ctx, timeout, crdNudgeInterval)
}

func (n *crdCleanupNudger) waitGone(ctx context.Context, timeout, interval time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		left, _, err := n.pass(ctx)
		if err == nil && len(left) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = fmt.Errorf("%s still being deleted", strings.Join(left, ", "))
			}
			return fmt.Errorf("waiting %s for CustomResourceDefinitions to be deleted: %w", timeout, err)
		case <-t.C:
		}
	}
}

// nudgeCRDCleanup keeps the cleanup of crds from stalling (see
// finalizerRetryAnnotation) until the returned stop is called.
func (c *Client) nudgeCRDCleanup(ctx context.Context, crds []string) (stop func(), err error) {
	dyn, err := c.dynamic()
	if err != nil {
		return nil, err
	}
	log := slog.New(c.logger)
	n := newCRDCleanupNudger(dyn, crds, func(msg string) { log.Warn(msg) })
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		n.run(ctx, crdNudgeInterval)
	}()
	return func() { cancel(); <-done }, nil
}

// run nudges every interval until ctx is done.
func (n *crdCleanupNudger) run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			// A failed pass is retried on the next tick; the wait it
			// helps reports what is left when it gives up.
			_, _, _ = n.pass(ctx)
		}
	}
}

// pass touches each named CRD whose cleanup has stalled. It returns the
// CRDs that still exist, which are all the next pass reads, and those it
// touched; CRDs not being deleted, or still being cleaned up, are left
// alone.
func (n *crdCleanupNudger) pass(ctx context.Context) (left, nudged []string, err error) {
	for _, name := range n.names {
		crd, err := n.crds.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return left, nudged, fmt.Errorf("reading CustomResourceDefinition %s: %w", name, err)
		}
		left = append(left, name)
		if !n.stalled(crd) {
			continue
		}
		patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, finalizerRetryAnnotation, n.now().UTC().Format(time.RFC3339Nano))
		_, err = n.crds.Patch(ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return left, nudged, fmt.Errorf("requeueing the cleanup of CustomResourceDefinition %s: %w", name, err)
		}
		nudged = append(nudged, name)
		if n.warn != nil {
			n.warn(fmt.Sprintf("the apiserver's cleanup of CustomResourceDefinition %s stalled (%s); requeued it", name, terminating(crd)["message"]))
		}
	}
	n.names = left
	return left, nudged, nil
}

// stalled is true for a CRD being deleted for longer than the grace whose
// cleanup last failed to list its instances.
func (n *crdCleanupNudger) stalled(crd *unstructured.Unstructured) bool {
	deleted := crd.GetDeletionTimestamp()
	if deleted == nil || n.now().Sub(deleted.Time) < crdStallGrace {
		return false
	}
	cond := terminating(crd)
	return cond["status"] == "True" && cond["reason"] == crdCleanupFailed
}

// terminating is the CRD's Terminating condition (nil without one).
func terminating(crd *unstructured.Unstructured) map[string]any {
	conditions, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conditions {
		if cond, _ := c.(map[string]any); cond["type"] == "Terminating" {
			return cond
		}
	}
	return nil
}

// manifestCRDs returns the names of the CustomResourceDefinitions in a
// release's manifest, sorted.
func manifestCRDs(manifest string) []string {
	var names []string
	for _, doc := range releaseutil.SplitManifests(manifest) {
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if yaml.Unmarshal([]byte(doc), &head) != nil {
			continue // Helm rendered it; it would not have installed either
		}
		if head.Kind == "CustomResourceDefinition" && head.APIVersion == "apiextensions.k8s.io/v1" && head.Metadata.Name != "" {
			names = append(names, head.Metadata.Name)
		}
	}
	slices.Sort(names)
	return names
}
