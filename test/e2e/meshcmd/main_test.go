// Package meshcmd tests the lifecycle commands through the kubectl-mesh
// binary against a sandbox cluster of its own: installing Istio's CRDs
// would collide with the stand-in CRDs other end-to-end tests create.
package meshcmd

import (
	"os"
	"testing"

	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
)

func TestMain(m *testing.M) {
	os.Exit(harness.Main(m, harness.Options{}))
}
