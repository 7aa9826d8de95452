package lifecycle

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
)

var testNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// crd is a CRD deleted ago before testNow (never when ago < 0) whose
// Terminating condition has reason (none when "").
func crd(name string, ago time.Duration, reason string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		"metadata":   map[string]any{"name": name},
	}}
	if ago >= 0 {
		u.SetDeletionTimestamp(&metav1.Time{Time: testNow.Add(-ago)})
		u.SetFinalizers([]string{"customresourcecleanup.apiextensions.k8s.io"})
	}
	if reason != "" {
		u.Object["status"] = map[string]any{"conditions": []any{
			map[string]any{"type": "Established", "status": "True", "reason": "InitialNamesAccepted"},
			map[string]any{"type": "Terminating", "status": "True", "reason": reason, "message": "could not list instances: storage is (re)initializing"},
		}}
	}
	return u
}

func nudgerFor(names []string, objs ...runtime.Object) *crdCleanupNudger {
	client := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{crdResource: "CustomResourceDefinitionList"}, objs...)
	return &crdCleanupNudger{crds: client.Resource(crdResource), names: names, now: func() time.Time { return testNow }}
}

// Only a CRD whose cleanup failed to list its instances, and has had time
// to be retried by the apiserver, is touched; nothing outside the names is
// read.
func TestCRDCleanupNudgerTouchesOnlyStalledCleanups(t *testing.T) {
	n := nudgerFor(
		[]string{"stalled.x.io", "just-failed.x.io", "in-progress.x.io", "live.x.io", "gone.x.io"},
		crd("stalled.x.io", 10*time.Second, crdCleanupFailed),
		crd("just-failed.x.io", time.Second, crdCleanupFailed),
		crd("in-progress.x.io", time.Minute, "InstanceDeletionInProgress"),
		crd("live.x.io", -1, ""),
		crd("other.y.io", time.Minute, crdCleanupFailed),
	)
	var warnings []string
	n.warn = func(msg string) { warnings = append(warnings, msg) }
	left, nudged, err := n.pass(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"stalled.x.io", "just-failed.x.io", "in-progress.x.io", "live.x.io"}; !slices.Equal(left, want) {
		t.Errorf("left %v, want %v", left, want)
	}
	if want := []string{"stalled.x.io"}; !slices.Equal(nudged, want) {
		t.Errorf("nudged %v, want %v", nudged, want)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "stalled.x.io stalled (could not list instances: storage is (re)initializing)") {
		t.Errorf("warnings %q, want one naming stalled.x.io and why", warnings)
	}
	for name, want := range map[string]string{"stalled.x.io": testNow.Format(time.RFC3339Nano), "just-failed.x.io": "", "other.y.io": ""} {
		got, err := n.crds.Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if a := got.GetAnnotations()[finalizerRetryAnnotation]; a != want {
			t.Errorf("%s: annotation %q, want %q", name, a, want)
		}
	}
}

func TestWaitGone(t *testing.T) {
	if err := nudgerFor([]string{"gone.x.io"}).waitGone(context.Background(), time.Second, 10*time.Millisecond); err != nil {
		t.Errorf("nothing left: %v", err)
	}
	n := nudgerFor([]string{"stuck.x.io", "gone.x.io"}, crd("stuck.x.io", time.Second, "InstanceDeletionInProgress"))
	err := n.waitGone(context.Background(), 50*time.Millisecond, 10*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "stuck.x.io still being deleted") || strings.Contains(err.Error(), "gone.x.io") {
		t.Errorf("want an error naming stuck.x.io only, got %v", err)
	}
}

func TestManifestCRDs(t *testing.T) {
	manifest := `---
# Source: linkerd-crds/templates/policy/server.yaml
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: servers.policy.linkerd.io
---
# Source: linkerd-crds/templates/serviceprofile.yaml
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: serviceprofiles.linkerd.io
---
# Source: linkerd-control-plane/templates/namespace.yaml
apiVersion: v1
kind: Namespace
metadata:
  name: linkerd
`
	if got, want := manifestCRDs(manifest), []string{"servers.policy.linkerd.io", "serviceprofiles.linkerd.io"}; !slices.Equal(got, want) {
		t.Errorf("manifestCRDs = %v, want %v", got, want)
	}
	if got := manifestCRDs(""); len(got) != 0 {
		t.Errorf("empty manifest: %v", got)
	}
}
