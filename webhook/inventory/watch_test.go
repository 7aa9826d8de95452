package inventory

import (
	"errors"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestKeepWatching(t *testing.T) {
	vs := schema.GroupVersionKind{Group: "networking.istio.io", Version: "v1", Kind: "VirtualService"}
	vsBeta := schema.GroupVersionKind{Group: "networking.istio.io", Version: "v1beta1", Kind: "VirtualService"}
	tests := []struct {
		name         string
		served       map[schema.GroupKind]schema.GroupVersionKind
		undiscovered map[schema.GroupVersion]error
		want         bool
	}{
		{name: "still served at the same version", served: map[schema.GroupKind]schema.GroupVersionKind{vs.GroupKind(): vs}, want: true},
		{name: "served at another version: watched again at that one", served: map[schema.GroupKind]schema.GroupVersionKind{vs.GroupKind(): vsBeta}, want: false},
		{name: "no longer served (the CRD was removed)", want: false},
		{
			name:         "its group did not answer discovery (apiserver restarting, aggregated API down)",
			undiscovered: map[schema.GroupVersion]error{vs.GroupVersion(): errors.New("the server is currently unable to handle the request")},
			want:         true,
		},
		{
			name:         "another group did not answer",
			undiscovered: map[schema.GroupVersion]error{{Group: "metrics.k8s.io", Version: "v1beta1"}: errors.New("unavailable")},
			want:         false,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := keepWatching(vs, tc.served, tc.undiscovered); got != tc.want {
				t.Errorf("keepWatching = %v, want %v", got, tc.want)
			}
		})
	}
}
