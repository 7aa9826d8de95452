package apply

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func entry(manager, op, subresource, fields string, at time.Time) metav1.ManagedFieldsEntry {
	e := metav1.ManagedFieldsEntry{
		Manager: manager, Operation: metav1.ManagedFieldsOperationType(op), Subresource: subresource,
		FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(fields),
	}
	if !at.IsZero() {
		e.Time = &metav1.Time{Time: at}
	}
	return e
}

func TestDrift(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ours := `{"f:metadata":{"f:labels":{".":{},"f:kubectl-mesh.io/pattern":{}}},"f:spec":{".":{},"f:hosts":{},"f:http":{}}}`
	tests := []struct {
		name    string
		entries []metav1.ManagedFieldsEntry
		want    map[string]bool // shared object's fields; nil for a member
		lines   string
	}{
		{
			name:    "only kubectl mesh: no drift",
			entries: []metav1.ManagedFieldsEntry{entry("kubectl-mesh", "Apply", "", ours, at)},
		},
		{
			name: "kubectl edit, patch and label are drift; status writers and the apiserver are not",
			entries: []metav1.ManagedFieldsEntry{
				entry("kubectl-mesh", "Apply", "", ours, at),
				entry("kubectl-edit", "Update", "", `{"f:spec":{"f:http":{}}}`, at),
				entry("kubectl-label", "Update", "", `{"f:metadata":{"f:labels":{"f:team":{}}}}`, at.Add(time.Hour)),
				entry("kubectl-patch", "Update", "", `{"f:metadata":{"f:annotations":{".":{},"f:note":{}}},"f:spec":{"f:gateways":{},"f:hosts":{}}}`, time.Time{}),
				entry("pilot-discovery", "Update", "status", `{"f:status":{"f:conditions":{}}}`, at),
				entry("kube-apiserver", "Update", "", `{"f:metadata":{"f:labels":{"f:x":{}}}}`, at),
				entry("helm", "Apply", "", `{"f:status":{"f:x":{}},"f:data":{"f:y":{}}}`, at),
			},
			lines: `VirtualService reviews: spec.http changed by kubectl-edit at 2026-01-02T03:04:05Z
VirtualService reviews: metadata.labels.team changed by kubectl-label at 2026-01-02T04:04:05Z
VirtualService reviews: metadata.annotations.note, spec.gateways, spec.hosts changed by kubectl-patch
`,
		},
		{
			name: "a shared object: only the fields kubectl mesh sets count",
			entries: []metav1.ManagedFieldsEntry{
				entry("kubectl-create", "Update", "", `{"f:metadata":{"f:labels":{"f:app":{},"f:istio-injection":{}}},"f:spec":{"f:ports":{}}}`, at),
			},
			want:  map[string]bool{"metadata.labels.istio-injection": true},
			lines: "VirtualService reviews: metadata.labels.istio-injection changed by kubectl-create at 2026-01-02T03:04:05Z\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := obj("networking.istio.io/v1", "VirtualService", "bookinfo", "reviews")
			u.SetManagedFields(tt.entries)
			drift, err := driftOf(u, tt.want)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, d := range drift {
				b.WriteString(d.String() + "\n")
			}
			if b.String() != tt.lines {
				t.Errorf("drift:\n%s\nwant:\n%s", b.String(), tt.lines)
			}
		})
	}
}

func TestTopLevelPathsRejectsBadJSON(t *testing.T) {
	if _, err := topLevelPaths([]byte(`{not json`)); err == nil {
		t.Fatal("topLevelPaths accepted bad JSON")
	}
}

func TestPathsOf(t *testing.T) {
	u := obj("v1", "Service", "bookinfo", "reviews")
	u.SetLabels(map[string]string{"a": "1"})
	u.SetAnnotations(map[string]string{"b": "2"})
	u.Object["spec"] = map[string]any{"selector": map[string]any{"app": "x"}}
	got := pathsOf(u)
	want := map[string]bool{"metadata.labels.a": true, "metadata.annotations.b": true, "spec.selector": true}
	if len(got) != len(want) {
		t.Fatalf("pathsOf = %v, want %v", got, want)
	}
	for k := range want {
		if !got[k] {
			t.Errorf("pathsOf lacks %s: %v", k, got)
		}
	}
}
