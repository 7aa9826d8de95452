package mesh

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// DeploymentReadiness is kstatus's rule for a Deployment: the controller
// saw the latest spec, and every wanted replica is updated and available.
// replicas is "ready/wanted"; message says what is missing when not ready.
func DeploymentReadiness(d *appsv1.Deployment) (ready bool, replicas, message string) {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	s := d.Status
	replicas = fmt.Sprintf("%d/%d", s.ReadyReplicas, want)
	// Why pods cannot be made (an admission webhook refusing them, a
	// quota) says more than the counts.
	for _, c := range s.Conditions {
		if c.Type == appsv1.DeploymentReplicaFailure && c.Status == corev1.ConditionTrue {
			return false, replicas, c.Reason + ": " + c.Message
		}
	}
	switch {
	case s.ObservedGeneration < d.Generation:
		return false, replicas, "rollout not yet observed"
	case s.UpdatedReplicas < want:
		return false, replicas, fmt.Sprintf("%d of %d replicas updated", s.UpdatedReplicas, want)
	case s.AvailableReplicas < want:
		return false, replicas, fmt.Sprintf("%d of %d replicas available", s.AvailableReplicas, want)
	case s.Replicas != s.UpdatedReplicas:
		return false, replicas, fmt.Sprintf("%d old replicas still running", s.Replicas-s.UpdatedReplicas)
	}
	return true, replicas, ""
}

// StatefulSetReadiness is kstatus's rule for a StatefulSet, as
// DeploymentReadiness is for a Deployment.
func StatefulSetReadiness(s *appsv1.StatefulSet) (ready bool, replicas, message string) {
	want := int32(1)
	if s.Spec.Replicas != nil {
		want = *s.Spec.Replicas
	}
	st := s.Status
	replicas = fmt.Sprintf("%d/%d", st.ReadyReplicas, want)
	switch {
	case st.ObservedGeneration < s.Generation:
		return false, replicas, "rollout not yet observed"
	case st.ReadyReplicas < want:
		return false, replicas, fmt.Sprintf("%d of %d replicas ready", st.ReadyReplicas, want)
	case st.UpdatedReplicas < want:
		return false, replicas, fmt.Sprintf("%d of %d replicas updated", st.UpdatedReplicas, want)
	}
	return true, replicas, ""
}
