// Package lifecycle installs, upgrades, rolls back and uninstalls Helm
// releases through the Helm v4 SDK, with releases stored in the cluster
// (Secrets, as helm does) so that `helm list` shows them. It is mesh-agnostic:
// plugin/mesh adapters say which charts and values, this package applies them.
package lifecycle

import (
	"io"
	"time"

	chart "helm.sh/helm/v4/pkg/chart/v2"
)

// Release is one Helm release to apply.
type Release struct {
	// Name of the Helm release, e.g. "istio-base", "istiod-canary".
	Name      string
	Namespace string
	// Component is what status and progress call it: "base", "istiod".
	Component string
	// Chart is the loaded chart (LoadChartFS, PullChart).
	Chart  *chart.Chart
	Values map[string]any
	// Labels are stored on the release (Helm 4 release labels), e.g.
	// kubectl-mesh.io/mesh=istio, so status can find its releases.
	Labels map[string]string
	// Wait overrides Options.Wait for this release (nil: inherit), for
	// releases with nothing to wait for such as CRD-only charts.
	Wait *bool
	// ApplyCRDs server-side applies the chart's crds/ before every install
	// and upgrade, instead of Helm's install-only handling: Helm never
	// upgrades them, so a new chart's CRDs would otherwise never land.
	ApplyCRDs bool
	// KeepValues makes an upgrade without Values keep the installed
	// release's values, as helm upgrade does; otherwise Values are the
	// whole truth (a plan computes them all).
	KeepValues bool
}

// Options control how Apply and Rollback wait.
type Options struct {
	// Wait for every object of a release to be ready (kstatus) before the
	// next release starts; a release that is not ready within Timeout fails.
	Wait bool
	// Timeout per release; zero means DefaultTimeout.
	Timeout time.Duration
	// Progress gets one line per step ("istiod: installing istiod 1.27.0");
	// nil prints nothing.
	Progress io.Writer
	// DryRunServer renders each release against the cluster and changes
	// nothing: no repair, no CRDs applied, nothing to undo.
	DryRunServer bool
}

// DefaultTimeout is helm's default --timeout.
const DefaultTimeout = 5 * time.Minute

// Result is what Apply did to one release.
type Result struct {
	Release, Namespace, Component string
	// Revision is the release's revision after the action.
	Revision int
	// Action is "installed" or "upgraded".
	Action string
	// Chart is the chart's name, version and appVersion as installed.
	Chart, ChartVersion, AppVersion string
	// Manifest and Notes are the release's, as helm get manifest|notes print them.
	Manifest, Notes string
}

// ReleaseInfo describes the latest revision of an installed release.
type ReleaseInfo struct {
	Name, Namespace                 string
	Chart, ChartVersion, AppVersion string
	// Status is Helm's: deployed, failed, pending-upgrade, ...; Description
	// says why ("Upgrade \"x\" failed: ...").
	Status, Description string
	Revision            int
	// Labels are the release labels (Helm's own labels left out).
	Labels map[string]string
	// Values are the user-supplied values of the revision.
	Values  map[string]any
	Updated time.Time
	// Manifest is the rendered manifest of the revision.
	Manifest string
}
