// Package meshcmd tests the lifecycle commands through the kubectl-mesh
// binary against a sandbox cluster of its own: installing Istio's CRDs
// would collide with the stand-in CRDs other end-to-end tests create.
package meshcmd

import (
	"os"
	"testing"

	"github.com/go-logr/logr"
	crlog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
)

func TestMain(m *testing.M) {
	// The stand-in injector (test/injector) answers through
	// controller-runtime's admission webhook, which logs through its
	// global logger; the tests read their own output.
	crlog.SetLogger(logr.Discard())
	os.Exit(harness.Main(m, harness.Options{}))
}
