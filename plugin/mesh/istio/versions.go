package istio

import (
	"fmt"

	"github.com/Masterminds/semver/v3"
)

// The Istio releases this kubectl mesh installs by default and was tested
// with; the only place they are recorded.
//
// 1.31 is the minor of istio.io/api and istio.io/client-go in go.mod, the
// API this binary is built against: the default is its newest patch
// release (istio.io/api v1.31.4), and the tested range adds 1.30, the minor
// an in-place upgrade to it starts from. 1.32 is untested until go.mod
// moves to istio.io/api v1.32.
const (
	// ReleaseRepo is Istio's official Helm repository.
	ReleaseRepo = "https://istio-release.storage.googleapis.com/charts"
	// DefaultVersion is what install and upgrade take without --version.
	DefaultVersion = "1.31.4"
	// TestedVersions is a semver range, as --version accepts it.
	TestedVersions = "1.30 - 1.31"
)

// Releases is what `kubectl mesh version` prints of the Istio releases.
type Releases struct {
	Repository string `json:"repository"`
	Default    string `json:"default"`
	Tested     string `json:"tested"`
}

// TestedReleases returns the recorded releases.
func TestedReleases() Releases {
	return Releases{Repository: ReleaseRepo, Default: DefaultVersion, Tested: TestedVersions}
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
