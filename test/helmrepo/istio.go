package helmrepo

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"istio.io/istio/manifests"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
)

// IstioReleases stands in for Istio's Helm repository: every chart of
// istio.io/istio/manifests (a development build of Istio's master branch,
// the charts kubectl mesh embeds) at each of versions, shaped as Istio's
// release builder publishes a release: Chart.yaml's version and appVersion
// set to it, and the images' defaults moved from the test registry to the
// release's (hub docker.io/istio, tag the version). Nothing else differs
// from the embedded charts.
func IstioReleases(versions ...string) ([]Chart, error) {
	var dirs []string
	for _, pattern := range []string{"charts/*/Chart.yaml", "charts/*/*/Chart.yaml"} {
		m, err := fs.Glob(manifests.FS, pattern)
		if err != nil {
			return nil, err
		}
		for _, f := range m {
			dirs = append(dirs, path.Dir(f))
		}
	}
	var out []Chart
	for _, v := range versions {
		for _, dir := range dirs {
			ch, err := lifecycle.LoadChartFS(manifests.FS, dir)
			if err != nil {
				return nil, err
			}
			for _, f := range ch.Raw {
				if f.Name != chartutil.ValuesfileName {
					continue
				}
				f.Data = bytes.ReplaceAll(f.Data, []byte("hub: registry.istio.io/testing"), []byte("hub: docker.io/istio"))
				f.Data = bytes.ReplaceAll(f.Data, []byte("tag: latest"), []byte("tag: "+v))
				if ch.Values, err = loader.LoadValues(bytes.NewReader(f.Data)); err != nil {
					return nil, fmt.Errorf("reading %s/values.yaml: %w", dir, err)
				}
			}
			out = append(out, Chart{Loaded: ch, Version: v, AppVersion: v})
		}
	}
	return out, nil
}
