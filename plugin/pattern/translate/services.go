package translate

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
)

// VersionServices returns the Services that select one version's pods
// each, for meshes that route to Services rather than to label subsets
// (linkerd, smi, gamma). Versions that name their own Service get none.
// A version without a Service needs the service's ports; svcPath is the
// service's field path for the error.
func VersionServices(p *pattern.Pattern, s *pattern.Service, svcPath string) ([]Object, error) {
	var out []Object
	for i := range s.Versions {
		v := &s.Versions[i]
		if v.Service != "" {
			continue
		}
		if len(s.Ports) == 0 {
			return nil, fmt.Errorf("%s.versions[%d]: version %q needs a Service of its own: set its service, or the ports of %s so that %s can be generated",
				svcPath, i, v.Name, s.Name, s.VersionServiceName(v))
		}
		svc := &corev1.Service{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
			ObjectMeta: metav1.ObjectMeta{Name: s.VersionServiceName(v), Namespace: p.Metadata.Namespace},
			Spec:       corev1.ServiceSpec{Selector: s.VersionSelector(v)},
		}
		for _, port := range s.Ports {
			// Without a targetPort the apiserver defaults it to the port.
			targetPort := port.TargetPort
			if targetPort == 0 {
				targetPort = port.Port
			}
			sp := corev1.ServicePort{Name: port.Name, Port: port.Port, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(targetPort)}
			svc.Spec.Ports = append(svc.Spec.Ports, sp)
		}
		u, err := ToUnstructured(svc)
		if err != nil {
			return nil, err
		}
		out = append(out, Object{Unstructured: u})
	}
	return out, nil
}

// ToUnstructured converts a typed object (istio.io/client-go, gateway-api,
// smi-sdk-go, core) into the unstructured form apply sends, dropping the
// empty creationTimestamp and the status that typed structs carry.
func ToUnstructured(obj runtime.Object) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, fmt.Errorf("converting %T: %w", obj, err)
	}
	if meta, ok := m["metadata"].(map[string]any); ok {
		delete(meta, "creationTimestamp")
	}
	// Status is the server's to write; apply must not send it.
	delete(m, "status")
	return &unstructured.Unstructured{Object: m}, nil
}
