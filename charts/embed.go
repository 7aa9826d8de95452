// Package charts embeds the Helm charts of kubectl-mesh, so that the plugin
// installs them without a chart repository.
package charts

import (
	"embed"
	"io/fs"
)

// The all: prefix keeps .helmignore; crds/ is copied in by `make chart-crds`.
//
//go:embed all:mesh-webhook
var meshWebhook embed.FS

// MeshWebhookName is the directory of the webhook chart in MeshWebhook.
const MeshWebhookName = "mesh-webhook"

// MeshWebhook returns the files of the mesh-webhook chart, rooted at the
// chart directory (Chart.yaml, values.yaml, templates/, crds/).
func MeshWebhook() fs.FS {
	sub, err := fs.Sub(meshWebhook, MeshWebhookName)
	if err != nil {
		// fs.Sub fails only on an invalid path, and the path is a constant.
		return meshWebhook
	}
	return sub
}
