package linkerd

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
)

func TestInjectionMarks(t *testing.T) {
	l := New()
	if m := l.InjectionMarks(true, ""); len(m.Labels) != 0 || m.Annotations[InjectAnnotation] == nil || *m.Annotations[InjectAnnotation] != "enabled" {
		t.Errorf("enable marks %+v, want %s=enabled", m, InjectAnnotation)
	}
	if m := l.InjectionMarks(false, ""); len(m.Annotations) != 1 || m.Annotations[InjectAnnotation] != nil {
		t.Errorf("disable marks %+v, want %s removed", m, InjectAnnotation)
	}
	if err := l.ValidateInjection("canary"); err == nil {
		t.Error("a revision was accepted: Linkerd has none")
	}
}

func TestDetect(t *testing.T) {
	destination := func(ns string, labels map[string]string) runtime.Object {
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "linkerd-destination", Namespace: ns, Labels: labels}}
	}
	component := map[string]string{"linkerd.io/control-plane-component": "destination"}
	for name, tt := range map[string]struct {
		objects []runtime.Object
		want    bool
	}{
		"none":                  {nil, false},
		"in linkerd":            {[]runtime.Object{destination("linkerd", component)}, true},
		"in a custom namespace": {[]runtime.Object{destination("mesh", component)}, true},
		"a look-alike":          {[]runtime.Object{destination("linkerd", nil)}, false},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := New().Detect(context.Background(), mesh.Cluster{Clientset: fake.NewClientset(tt.objects...)})
			if err != nil || got != tt.want {
				t.Errorf("Detect() = %v, %v, want %v", got, err, tt.want)
			}
		})
	}
}
