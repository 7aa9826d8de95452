package istio

import (
	"context"
	"maps"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
)

func TestInjectionMarks(t *testing.T) {
	tests := []struct {
		name     string
		enable   bool
		revision string
		want     map[string]string // "-" removes
	}{
		{"default revision", true, "", map[string]string{"istio-injection": "enabled", "istio.io/rev": "-"}},
		{"revision or tag", true, "canary", map[string]string{"istio-injection": "-", "istio.io/rev": "canary"}},
		{"disable", false, "", map[string]string{"istio-injection": "-", "istio.io/rev": "-"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			marks := New(Config{}).InjectionMarks(tt.enable, tt.revision)
			got := map[string]string{}
			for k, v := range marks.Labels {
				got[k] = "-"
				if v != nil {
					got[k] = *v
				}
			}
			if len(marks.Annotations) != 0 || !maps.Equal(got, tt.want) {
				t.Errorf("marks %v and annotations %v, want labels %v only", got, marks.Annotations, tt.want)
			}
		})
	}
}

func TestDetect(t *testing.T) {
	istiod := func(ns string) runtime.Object {
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "istiod-canary", Namespace: ns, Labels: map[string]string{"app": "istiod"}}}
	}
	for name, tt := range map[string]struct {
		objects []runtime.Object
		want    bool
	}{
		"none":                   {nil, false},
		"in istio-system":        {[]runtime.Object{istiod("istio-system")}, true},
		"in a custom namespace":  {[]runtime.Object{istiod("mesh")}, true},
		"another app's workload": {[]runtime.Object{&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "istiod", Namespace: "x"}}}, false},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := New(Config{}).Detect(context.Background(), mesh.Cluster{Clientset: fake.NewClientset(tt.objects...)})
			if err != nil || got != tt.want {
				t.Errorf("Detect() = %v, %v, want %v", got, err, tt.want)
			}
		})
	}
}
