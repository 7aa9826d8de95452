package istio

import (
	"fmt"

	"github.com/Masterminds/semver/v3"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
)

// The Istio releases this kubectl mesh installs by default and was tested
// with; the only place they are recorded. The default is the newest patch
// of 1.31 (istio.io/api v1.31.4 on the module proxy), the minor of the
// istio.io/api and istio.io/client-go this binary is built against; the
// tested range adds 1.30, the minor an upgrade to it starts from, and the
// end-to-end tests install both (release charts served on loopback). 1.32
// stays untested until go.mod moves to istio.io/api v1.32.
const (
	// ReleaseRepo is Istio's official Helm repository.
	ReleaseRepo = "https://istio-release.storage.googleapis.com/charts"
	// DefaultVersion is what install and upgrade take without --version.
	DefaultVersion = "1.31.4"
	// TestedVersions is a semver range, as --version accepts it.
	TestedVersions = "1.30 - 1.31"
)

// PinnedRelease is what `kubectl mesh version` prints of Istio's releases.
func (*Istio) PinnedRelease() mesh.PinnedRelease {
	return mesh.PinnedRelease{Repository: ReleaseRepo, Default: DefaultVersion, Tested: TestedVersions}
}

// untestedWarning is the one line a chart version outside TestedVersions
// gets; "" for a tested one.
func untestedWarning(version string) string {
	tested, err := semver.NewConstraint(TestedVersions)
	v, verr := semver.NewVersion(version)
	if err == nil && verr == nil && tested.Check(v) {
		return ""
	}
	return fmt.Sprintf("Istio %s is outside the versions this kubectl mesh was tested with (%s); %s is the default", version, TestedVersions, DefaultVersion)
}
