package telemetry

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// WorkloadOf is the workload that owns pod as the meshes' metrics name it
// (Istio's destination_workload, Linkerd's deployment/statefulset/daemonset
// labels): a Deployment through its ReplicaSet, less the pod-template-hash;
// a StatefulSet or DaemonSet; else the pod itself. kind is lower case.
func WorkloadOf(pod *corev1.Pod) (kind, name string) {
	for _, ref := range pod.OwnerReferences {
		if ref.Controller == nil || !*ref.Controller {
			continue
		}
		switch ref.Kind {
		case "ReplicaSet":
			if hash := pod.Labels["pod-template-hash"]; hash != "" {
				if deployment, ok := strings.CutSuffix(ref.Name, "-"+hash); ok {
					return "deployment", deployment
				}
			}
			return "replicaset", ref.Name
		case "StatefulSet", "DaemonSet", "Job":
			return strings.ToLower(ref.Kind), ref.Name
		}
	}
	return "pod", pod.Name
}
