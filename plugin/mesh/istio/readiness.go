package istio

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
)

// deploymentReady is kstatus's rule for a Deployment: the controller saw
// the latest spec and every wanted replica is updated and available.
func deploymentReady(d *appsv1.Deployment) (bool, string) {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	s := d.Status
	ready := s.ObservedGeneration >= d.Generation && s.UpdatedReplicas >= want &&
		s.AvailableReplicas >= want && s.Replicas == s.UpdatedReplicas
	return ready, fmt.Sprintf("%d/%d", s.ReadyReplicas, want)
}

// daemonSetReady is the same rule for a DaemonSet.
func daemonSetReady(d *appsv1.DaemonSet) (bool, string) {
	s := d.Status
	want := s.DesiredNumberScheduled
	ready := s.ObservedGeneration >= d.Generation && s.UpdatedNumberScheduled >= want && s.NumberAvailable >= want
	return ready, fmt.Sprintf("%d/%d", s.NumberReady, want)
}

// imageTag is the tag of an image reference ("" when it has none).
func imageTag(image string) string {
	if at := strings.IndexByte(image, '@'); at >= 0 {
		image = image[:at]
	}
	slash := strings.LastIndexByte(image, '/')
	colon := strings.LastIndexByte(image, ':')
	if colon > slash {
		return image[colon+1:]
	}
	return ""
}
