package apply

import (
	"reflect"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
	"github.com/kubectl-mesh/kubectl-mesh/test/golden"
)

func TestApplySetID(t *testing.T) {
	tests := []struct {
		name                         string
		parent, namespace, kind, grp string
		want                         string
	}{
		// kubectl's own fixtures (k8s.io/kubectl pkg/cmd/apply/apply_test.go).
		{"kubectl Secret parent", "my-set", "test", "Secret", "", "applyset-0eFHV8ySqp7XoShsGvyWFQD3s96yqwHmzc4e0HR1dsY-v1"},
		{"kubectl cluster-scoped custom parent", "my-set", "", "ApplySet", "company.com", "applyset-rhp1a-HVAVT_dFgyEygyA1BEB82HPp2o10UiFTpqtAs-v1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ApplySetID(tt.parent, tt.namespace, tt.kind, tt.grp); got != tt.want {
				t.Errorf("ApplySetID = %s, want %s", got, tt.want)
			}
		})
	}
	s := Set{Name: "reviews", Namespace: "bookinfo"}
	if got, want := s.ID(), ApplySetID("kubectl-mesh-pattern-reviews", "bookinfo", "ConfigMap", ""); got != want {
		t.Errorf("Set.ID = %s, want the id of ConfigMap bookinfo/kubectl-mesh-pattern-reviews %s", got, want)
	}
}

func TestTiers(t *testing.T) {
	refs := []Ref{
		{Group: "networking.istio.io", Version: "v1", Kind: "VirtualService", Name: "a"},
		{Version: "v1", Kind: "Service", Name: "b"},
		{Version: "v1", Kind: "Namespace", Name: "c"},
		{Group: "security.istio.io", Version: "v1", Kind: "AuthorizationPolicy", Name: "d"},
		{Version: "v1", Kind: "ServiceAccount", Name: "e"},
		{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition", Name: "f"},
		// Same kind name, other group: not a core Service.
		{Group: "serving.knative.dev", Version: "v1", Kind: "Service", Name: "g"},
		{Group: "networking.istio.io", Version: "v1", Kind: "DestinationRule", Name: "h"},
	}
	items := make([]item, len(refs))
	for i, r := range refs {
		items[i] = item{ref: r}
	}
	got := tiers(refsOf(items))
	want := [][]int{{2, 5}, {1, 4}, {7}, {0, 3, 6}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tiers = %v, want %v", got, want)
	}
}

func TestPrepare(t *testing.T) {
	s := Set{Name: "reviews", Namespace: "bookinfo"}
	tests := []struct {
		name    string
		objs    []translate.Object
		want    string // the prepared objects as YAML, or the error
		wantErr bool
	}{
		{
			name: "members get the part-of label and the set's namespace; shared objects neither",
			objs: []translate.Object{
				{Unstructured: obj("networking.istio.io/v1", "VirtualService", "", "reviews")},
				{Unstructured: obj("v1", "Service", "other", "reviews-v2")},
				{Unstructured: obj("v1", "Namespace", "bookinfo", "bookinfo"), Shared: true},
			},
			want: `- apiVersion: networking.istio.io/v1
  kind: VirtualService
  metadata:
    labels:
      applyset.kubernetes.io/part-of: ` + s.ID() + `
    name: reviews
    namespace: bookinfo
- apiVersion: v1
  kind: Service
  metadata:
    labels:
      applyset.kubernetes.io/part-of: ` + s.ID() + `
    name: reviews-v2
    namespace: other
- apiVersion: v1
  kind: Namespace
  metadata:
    name: bookinfo
`,
		},
		{
			name:    "a kind the cluster does not serve fails before anything is sent",
			objs:    []translate.Object{{Unstructured: obj("split.smi-spec.io/v1alpha4", "TrafficSplit", "", "reviews")}},
			want:    "TrafficSplit reviews: the cluster does not serve split.smi-spec.io/v1alpha4, Kind=TrafficSplit (is the mesh's CRD installed?)",
			wantErr: true,
		},
		{
			name: "the same object twice",
			objs: []translate.Object{
				{Unstructured: obj("networking.istio.io/v1", "VirtualService", "", "reviews")},
				{Unstructured: obj("networking.istio.io/v1", "VirtualService", "bookinfo", "reviews")},
			},
			want:    `VirtualService reviews appears twice in namespace "bookinfo"`,
			wantErr: true,
		},
		{
			name:    "an object without a name",
			objs:    []translate.Object{{Unstructured: obj("v1", "Service", "", "")}},
			want:    "object 0: apiVersion, kind and metadata.name are required",
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, err := testClient().prepare(s, tt.objs)
			if tt.wantErr {
				if err == nil || err.Error() != tt.want {
					t.Fatalf("error = %v, want %s", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var list []map[string]any
			for _, it := range items {
				list = append(list, it.obj.Object)
			}
			b, _ := yaml.Marshal(list)
			if string(b) != tt.want {
				t.Errorf("prepared:\n%s\nwant:\n%s", b, tt.want)
			}
			if tt.objs[0].GetLabels() != nil {
				t.Errorf("prepare changed its input: %v", tt.objs[0].GetLabels())
			}
		})
	}
}

func TestParentObject(t *testing.T) {
	c := testClient()
	s := Set{Name: "reviews", Namespace: "bookinfo", Mesh: "istio", Source: []byte("kind: Pattern\n")}
	items, err := c.prepare(s, []translate.Object{
		{Unstructured: obj("networking.istio.io/v1", "VirtualService", "", "reviews")},
		{Unstructured: obj("networking.istio.io/v1", "DestinationRule", "", "reviews")},
		{Unstructured: obj("v1", "Service", "", "reviews-v2")},
		{Unstructured: obj("v1", "Service", "frontend", "reviews-v3")},
		{Unstructured: obj("v1", "Namespace", "", "bookinfo"), Shared: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	parent := c.parentObject(s, stateFor(s, items))
	b, _ := yaml.Marshal(parent.Object)
	golden.Assert(t, "testdata/parent.golden", string(b))

	// What a parent records reads back as the same state.
	st, err := stateOf(parent, s.Namespace)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := yaml.Marshal(c.parentObject(s, st).Object)
	if string(again) != string(b) {
		t.Errorf("parent after a round trip:\n%s\nwant:\n%s", again, b)
	}
}

func TestParentUnion(t *testing.T) {
	c := testClient()
	s := Set{Name: "reviews", Namespace: "bookinfo", Mesh: "istio"}
	prev, _ := c.prepare(s, []translate.Object{
		{Unstructured: obj("networking.istio.io/v1", "DestinationRule", "", "reviews")},
		{Unstructured: obj("v1", "Service", "old", "reviews-v1")},
		{Unstructured: obj("v1", "Namespace", "", "bookinfo"), Shared: true},
	})
	cur, _ := c.prepare(s, []translate.Object{
		{Unstructured: obj("networking.istio.io/v1", "VirtualService", "", "reviews")},
		{Unstructured: obj("v1", "Namespace", "", "bookinfo"), Shared: true},
		{Unstructured: obj("v1", "Namespace", "", "frontend"), Shared: true},
	})
	u := stateFor(s, prev).union(stateFor(s, cur))
	parent := c.parentObject(s, u)
	ann := parent.GetAnnotations()
	if got, want := ann[AnnotationContainsGroupKinds], "DestinationRule.networking.istio.io,Service,VirtualService.networking.istio.io"; got != want {
		t.Errorf("contains-group-kinds = %q, want %q", got, want)
	}
	if got, want := ann[AnnotationAdditionalNamespaces], "old"; got != want {
		t.Errorf("additional-namespaces = %q, want %q", got, want)
	}
	data, _ := parent.Object["data"].(map[string]any)
	want := `[{"version":"v1","kind":"Namespace","name":"bookinfo"},{"version":"v1","kind":"Namespace","name":"frontend"}]`
	if data[DataShared] != want {
		t.Errorf("shared = %v, want %s", data[DataShared], want)
	}
}
