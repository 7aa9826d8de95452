package inventory

import (
	"maps"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
)

func TestTrim(t *testing.T) {
	tests := []struct {
		name     string
		obj      map[string]any
		wantMeta map[string]any
		wantData []string // Secret data keys kept; nil when not a Secret
	}{
		{"managed fields and last-applied dropped, other annotations kept",
			map[string]any{"apiVersion": "v1", "kind": "Service", "metadata": map[string]any{
				"name": "a", "managedFields": []any{map[string]any{"manager": "kubectl"}},
				"annotations": map[string]any{lastAppliedAnnotation: "{...}", "team": "shop"},
			}},
			map[string]any{"name": "a", "annotations": map[string]any{"team": "shop"}}, nil},
		{"annotations left empty are dropped",
			map[string]any{"apiVersion": "v1", "kind": "Service", "metadata": map[string]any{
				"name": "a", "annotations": map[string]any{lastAppliedAnnotation: "{...}"},
			}},
			map[string]any{"name": "a"}, nil},
		{"Secret keeps certificates only",
			map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "linkerd-identity-issuer"},
				"data":       map[string]any{"tls.crt": "Y3J0", "tls.key": "a2V5", "ca.crt": "Y2E=", "crt.pem": "cGVt", "key.pem": "a2V5", "token": "dA=="},
				"stringData": map[string]any{"password": "x"}},
			map[string]any{"name": "linkerd-identity-issuer"}, []string{"ca.crt", "crt.pem", "tls.crt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := trim(&unstructured.Unstructured{Object: tt.obj})
			if err != nil {
				t.Fatal(err)
			}
			u := out.(*unstructured.Unstructured)
			meta := u.Object["metadata"].(map[string]any)
			if meta["managedFields"] != nil || len(meta) != len(tt.wantMeta) || meta["name"] != tt.wantMeta["name"] {
				t.Errorf("metadata %v, want %v", meta, tt.wantMeta)
			}
			if want, ok := tt.wantMeta["annotations"].(map[string]any); ok {
				if got, _ := meta["annotations"].(map[string]any); !maps.Equal(got, want) {
					t.Errorf("annotations %v, want %v", got, want)
				}
			}
			if tt.wantData == nil {
				return
			}
			data := u.Object["data"].(map[string]any)
			if got := slices.Sorted(maps.Keys(data)); !slices.Equal(got, tt.wantData) {
				t.Errorf("Secret data keys %q, want %q", got, tt.wantData)
			}
			if _, ok := u.Object["stringData"]; ok {
				t.Errorf("stringData kept")
			}
		})
	}
	tombstone := toolscache.DeletedFinalStateUnknown{Key: "ns/a"}
	if out, err := trim(tombstone); err != nil || out != tombstone {
		t.Errorf("a tombstone was changed: %v, %v", out, err)
	}
}

func TestSecretNamespaces(t *testing.T) {
	got := secretNamespaces([]types.NamespacedName{
		{Namespace: "linkerd", Name: "linkerd-identity-issuer"},
		{Namespace: "istio-system", Name: "cacerts"}, {Namespace: "istio-system", Name: "istio-ca-secret"},
	})
	if len(got) != 2 {
		t.Fatalf("namespaces %v, want linkerd and istio-system only", got)
	}
	if sel := got["linkerd"].FieldSelector; sel == nil || sel.String() != fields.OneTermEqualSelector("metadata.name", "linkerd-identity-issuer").String() {
		t.Errorf("linkerd selector %v, want the issuer by name", sel)
	}
	if sel := got["istio-system"].FieldSelector; sel != nil {
		t.Errorf("istio-system selector %v, want none: a field selector cannot name two Secrets", sel)
	}
}
