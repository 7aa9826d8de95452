package istio

import (
	"context"
	"fmt"
	"strings"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
)

// renderObjects renders a chart client-side, as `helm template` does, and
// decodes its objects. Revision tags are generated this way from istiod's
// own templates, as istioctl does.
func renderObjects(ctx context.Context, ch *chart.Chart, name, namespace string, vals map[string]any) ([]*unstructured.Unstructured, error) {
	rel, err := lifecycle.RenderRelease(ctx, lifecycle.Release{Name: name, Namespace: namespace, Chart: ch, Values: vals}, "", false)
	if err != nil {
		return nil, fmt.Errorf("rendering the %s chart: %w", ch.Metadata.Name, err)
	}
	var out []*unstructured.Unstructured
	for _, doc := range releaseutil.SplitManifests(rel.Manifest) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		obj := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &obj.Object); err != nil {
			return nil, fmt.Errorf("decoding the rendered %s chart: %w", ch.Metadata.Name, err)
		}
		if len(obj.Object) > 0 {
			out = append(out, obj)
		}
	}
	return out, nil
}
