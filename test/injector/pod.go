package injector

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// workload names the controller of a pod at admission, as both injectors
// label it: a ReplicaSet's pod carries pod-template-hash, and the
// ReplicaSet's name less that hash is its Deployment's (Linkerd asks the
// apiserver; the name is the same). Kind is "" for a bare pod.
func workload(pod *corev1.Pod) (kind, name string) {
	for _, o := range pod.OwnerReferences {
		if o.Controller == nil || !*o.Controller {
			continue
		}
		switch o.Kind {
		case "ReplicaSet":
			if h := pod.Labels["pod-template-hash"]; h != "" && strings.HasSuffix(o.Name, "-"+h) {
				return "deployment", strings.TrimSuffix(o.Name, "-"+h)
			}
			return "replicaset", o.Name
		case "StatefulSet", "DaemonSet", "Job", "ReplicationController":
			return strings.ToLower(o.Kind), o.Name
		}
	}
	return "", ""
}

// workloadName is istiod's DeploymentMeta name: the workload, else the pod.
func workloadName(pod *corev1.Pod) string {
	if _, name := workload(pod); name != "" {
		return name
	}
	if pod.Name != "" {
		return pod.Name
	}
	return strings.TrimSuffix(pod.GenerateName, "-")
}

// firstOf is the first non-empty value of keys in m.
func firstOf(m map[string]string, keys ...string) string {
	for _, k := range keys {
		if v := m[k]; v != "" {
			return v
		}
	}
	return ""
}

// setDefault sets m[k] unless the pod set it already.
func setDefault(m map[string]string, k, v string) {
	if _, ok := m[k]; !ok {
		m[k] = v
	}
}

func intOrString(port int) intstr.IntOrString { return intstr.FromInt32(int32(port)) }
