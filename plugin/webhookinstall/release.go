package webhookinstall

import (
	"fmt"

	ri "helm.sh/helm/v4/pkg/release"
	release "helm.sh/helm/v4/pkg/release/v1"
)

// asRelease unwraps the Helm SDK's release interface; the SDK returns v1
// releases for v2 charts, the only kind this package installs.
func asRelease(r ri.Releaser) (*release.Release, error) {
	switch rel := r.(type) {
	case *release.Release:
		return rel, nil
	case release.Release:
		return &rel, nil
	default:
		return nil, fmt.Errorf("unexpected Helm release type %T", r)
	}
}
