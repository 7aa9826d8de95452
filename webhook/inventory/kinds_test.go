package inventory

import (
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
)

func kinds(t *testing.T, ss ...string) []policies.Kind {
	t.Helper()
	var out []policies.Kind
	for _, s := range ss {
		k, err := policies.ParseKind(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, k)
	}
	return out
}

func TestWantedKinds(t *testing.T) {
	metas := []policies.Metadata{
		{Kinds: kinds(t, "networking.istio.io/VirtualService"), Inventory: kinds(t, "Service", "networking.istio.io/ServiceEntry")},
		{Kinds: kinds(t, "Service"), Inventory: kinds(t, "Pod", "apps/Deployment")},
		{Kinds: kinds(t, "Namespace")},
	}
	got := wantedKinds(metas)
	want := kinds(t, "Namespace", "Pod", "Service", "apps/Deployment", "networking.istio.io/ServiceEntry", "networking.istio.io/VirtualService")
	if !slices.Equal(got, want) {
		t.Errorf("wanted %v, want %v", got, want)
	}
	if got := wantedKinds(nil); !slices.Equal(got, kinds(t, "Namespace")) {
		t.Errorf("without policies %v, want Namespace alone", got)
	}
}

// discovered is what ServerPreferredResources returns for a small cluster
// with Istio's networking CRDs and no Linkerd.
var discovered = []*metav1.APIResourceList{
	{GroupVersion: "v1", APIResources: []metav1.APIResource{
		{Name: "services", Kind: "Service", Namespaced: true, Verbs: []string{"get", "list", "watch"}},
		{Name: "services/status", Kind: "Service", Namespaced: true, Verbs: []string{"get", "patch"}},
		{Name: "pods", Kind: "Pod", Namespaced: true, Verbs: []string{"get", "list", "watch"}},
		{Name: "events", Kind: "Event", Namespaced: true, Verbs: []string{"get", "list", "watch"}},
		{Name: "namespaces", Kind: "Namespace", Verbs: []string{"get", "list", "watch"}},
		{Name: "bindings", Kind: "Binding", Namespaced: true, Verbs: []string{"create"}},
	}},
	{GroupVersion: "networking.istio.io/v1", APIResources: []metav1.APIResource{
		{Name: "virtualservices", Kind: "VirtualService", Namespaced: true, Verbs: []string{"get", "list", "watch"}},
		{Name: "gateways", Kind: "Gateway", Namespaced: true, Verbs: []string{"get", "list", "watch"}},
	}},
	{GroupVersion: "coordination.k8s.io/v1", APIResources: []metav1.APIResource{
		{Name: "leases", Kind: "Lease", Namespaced: true, Verbs: []string{"get", "list", "watch"}},
	}},
	{GroupVersion: "apps/v1", APIResources: []metav1.APIResource{
		// The group and version may be given per resource.
		{Name: "deployments", Group: "apps", Version: "v1", Kind: "Deployment", Namespaced: true, Verbs: []string{"list", "watch"}},
	}},
}

func TestResolveKinds(t *testing.T) {
	tests := []struct {
		name        string
		wanted      []string
		wantServed  []string
		wantMissing []string
	}{
		{"explicit kinds; CRDs not installed are missing",
			[]string{"Service", "apps/Deployment", "policy.linkerd.io/Server"},
			[]string{"/v1, Kind=Service", "apps/v1, Kind=Deployment"},
			[]string{"policy.linkerd.io/Server"}},
		{"group wildcard: every served kind of the group",
			[]string{"networking.istio.io/*"},
			[]string{"networking.istio.io/v1, Kind=Gateway", "networking.istio.io/v1, Kind=VirtualService"}, nil},
		{"wildcard of a group not served is not missing", []string{"policy.linkerd.io/*"}, nil, nil},
		{"everything: only kinds that can be listed and watched, without the noisy ones",
			[]string{"*"},
			[]string{"/v1, Kind=Namespace", "/v1, Kind=Pod", "/v1, Kind=Service", "apps/v1, Kind=Deployment",
				"networking.istio.io/v1, Kind=Gateway", "networking.istio.io/v1, Kind=VirtualService"}, nil},
		{"a noisy kind named explicitly", []string{"Event"}, []string{"/v1, Kind=Event"}, nil},
		{"a kind that cannot be watched is missing", []string{"Binding"}, nil, []string{"Binding"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			served, missing := resolveKinds(discovered, kinds(t, tt.wanted...))
			var got []string
			for gk, gvk := range served {
				if gvk.GroupKind() != gk {
					t.Errorf("%v filed under %v", gvk, gk)
				}
				got = append(got, gvk.String())
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.wantServed) {
				t.Errorf("served %q, want %q", got, tt.wantServed)
			}
			var gotMissing []string
			for _, k := range missing {
				gotMissing = append(gotMissing, k.String())
			}
			if !slices.Equal(gotMissing, tt.wantMissing) {
				t.Errorf("missing %q, want %q", gotMissing, tt.wantMissing)
			}
		})
	}
}
