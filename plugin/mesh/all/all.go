// Package all assembles the registry of every mesh adapter kubectl mesh
// ships. It is the one place that lists them: adding a mesh is an adapter
// package and a line here.
package all

import (
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh/istio"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh/linkerd"
)

// Registry returns the adapters in the order status shows them.
func Registry() mesh.Registry {
	return mesh.Registry{istio.New(istio.Config{}), linkerd.New()}
}
