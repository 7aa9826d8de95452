// Package pattern tests patterns end to end (render, apply, diff, prune,
// delete, list, drift) against a sandbox cluster of its own that holds the
// real CRDs of every target: Istio, installed from the embedded charts, Linkerd's
// from the stand-in charts in test/charts, Gateway API's from its Go module,
// SMI's from testdata (smi-sdk-go ships only v1beta1 CRDs). The other e2e packages use stand-in Istio CRDs that
// would collide with these.
package pattern

import (
	"os"
	"testing"

	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
)

func TestMain(m *testing.M) {
	os.Exit(harness.Main(m, harness.Options{
		Commands: []string{"github.com/kubectl-mesh/kubectl-mesh/cmd/mesh-webhook"},
		Setup:    installCRDs,
	}))
}
