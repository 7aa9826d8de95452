package plugin

import (
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh/istio"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh/linkerd"
)

// meshAdapters are the meshes kubectl mesh manages, in the order status
// shows them.
func meshAdapters() []mesh.Mesh {
	return []mesh.Mesh{istio.New(istio.Config{}), linkerd.New()}
}
