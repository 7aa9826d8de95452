package istio

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
)

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
