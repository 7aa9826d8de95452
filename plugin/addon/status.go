package addon

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
)

// Status is one installed add-on as status prints it.
type Status struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	Mesh      string `json:"mesh"`
	// Chart, Version and AppVersion are the installed chart's.
	Chart      string `json:"chart"`
	Version    string `json:"version"`
	AppVersion string `json:"appVersion,omitempty"`
	// Release is Helm's status of the release: deployed, failed, ...
	Release   string     `json:"release"`
	Ready     bool       `json:"ready"`
	Workloads []Workload `json:"workloads"`
	URL       string     `json:"url,omitempty"`
}

// Workload is one Deployment or StatefulSet of the release.
type Workload struct {
	Kind     string `json:"kind"`
	Name     string `json:"name"`
	Ready    bool   `json:"ready"`
	Replicas string `json:"replicas"`
	Message  string `json:"message,omitempty"`
}

// IsAddon reports whether the release is an add-on kubectl mesh installed.
func IsAddon(rel lifecycle.ReleaseInfo) bool { return rel.Labels[LabelAddon] != "" }

// ReadStatus reads the readiness of the release's Deployments and
// StatefulSets.
func ReadStatus(ctx context.Context, cs kubernetes.Interface, rel lifecycle.ReleaseInfo) (*Status, error) {
	st := &Status{Name: rel.Labels[LabelAddon], Namespace: rel.Namespace, Mesh: rel.Labels[LabelMesh],
		Chart: rel.Chart, Version: rel.ChartVersion, AppVersion: rel.AppVersion, Release: rel.Status, Ready: rel.Status == "deployed"}
	if a, err := Get(st.Name); err == nil {
		st.URL = a.URL(rel.Namespace)
	}
	for _, ref := range workloads(rel.Manifest) {
		w := Workload{Kind: ref.kind, Name: ref.name}
		ns := cmp.Or(ref.namespace, rel.Namespace)
		var err error
		switch ref.kind {
		case "Deployment":
			var d *appsv1.Deployment
			if d, err = cs.AppsV1().Deployments(ns).Get(ctx, ref.name, metav1.GetOptions{}); err == nil {
				w.Ready, w.Replicas, w.Message = mesh.DeploymentReadiness(d)
			}
		case "StatefulSet":
			var s *appsv1.StatefulSet
			if s, err = cs.AppsV1().StatefulSets(ns).Get(ctx, ref.name, metav1.GetOptions{}); err == nil {
				w.Ready, w.Replicas, w.Message = mesh.StatefulSetReadiness(s)
			}
		}
		switch {
		case apierrors.IsNotFound(err):
			w.Message = "not found"
		case err != nil:
			return nil, fmt.Errorf("reading %s %s/%s: %w", strings.ToLower(ref.kind), ns, ref.name, err)
		}
		st.Ready = st.Ready && w.Ready
		st.Workloads = append(st.Workloads, w)
	}
	return st, nil
}

type workloadRef struct{ kind, name, namespace string }

// workloads are the Deployments and StatefulSets of a release manifest.
func workloads(manifest string) []workloadRef {
	var out []workloadRef
	for _, doc := range strings.Split(manifest, "\n---") {
		var obj struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
		}
		if yaml.Unmarshal([]byte(doc), &obj) != nil {
			continue
		}
		if obj.Kind == "Deployment" || obj.Kind == "StatefulSet" {
			out = append(out, workloadRef{obj.Kind, obj.Metadata.Name, obj.Metadata.Namespace})
		}
	}
	return out
}
