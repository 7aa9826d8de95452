// Package linkerd is the Linkerd adapter of kubectl mesh (plugin/mesh): it
// plans the linkerd-crds and linkerd-control-plane Helm releases from
// Linkerd's Helm repository with the identity (trust anchor and issuer)
// Linkerd requires, reads the installed mesh's status and certificate
// expiry, and says what an uninstall removes and what still uses the mesh.
package linkerd

import (
	"context"
	"errors"
	"fmt"
	"time"

	chart "helm.sh/helm/v4/pkg/chart/v2"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
)

const (
	// MeshName is how users name the mesh.
	MeshName = "linkerd"
	// DefaultRepo is Linkerd's edge Helm repository, where its open-source
	// releases are published.
	DefaultRepo = "https://helm.linkerd.io/edge"
	// DefaultNamespace is where `linkerd install` puts the control plane.
	DefaultNamespace = "linkerd"

	// Chart names in Linkerd's repository; the release names are the same,
	// as in Linkerd's Helm instructions.
	CRDsChart         = "linkerd-crds"
	ControlPlaneChart = "linkerd-control-plane"

	// Release labels shared by every adapter.
	LabelMesh      = "kubectl-mesh.io/mesh"
	LabelComponent = "kubectl-mesh.io/component"
	LabelRevision  = "kubectl-mesh.io/revision"
)

// pullFunc fetches a chart from a Helm repository (lifecycle.PullOptions.Pull).
type pullFunc func(ctx context.Context, repoURL, name, version string) (*chart.Chart, error)

// releaseReader is what the adapter reads of Helm releases
// (lifecycle.Client); tests give a fake.
type releaseReader interface {
	Get(ctx context.Context, name, namespace string) (*lifecycle.ReleaseInfo, error)
	List(ctx context.Context, labels map[string]string) ([]lifecycle.ReleaseInfo, error)
}

// Linkerd implements mesh.Mesh.
type Linkerd struct {
	// pull replaces InstallOptions.Pull in tests.
	pull pullFunc
	now  func() time.Time
	// readerFor replaces the cluster's Helm client in tests.
	readerFor func(*mesh.Cluster) releaseReader
}

var _ mesh.Mesh = (*Linkerd)(nil)

// New returns the Linkerd adapter.
func New() *Linkerd {
	return &Linkerd{now: time.Now}
}

// Name is "linkerd".
func (*Linkerd) Name() string { return MeshName }

// ValidateInstall refuses Istio's flags, and an issuer certificate without
// its key or the reverse.
func (*Linkerd) ValidateInstall(opts mesh.InstallOptions) error {
	switch {
	case opts.Profile != "" || opts.Revision != "":
		return fmt.Errorf("--profile and --revision are Istio flags; %s has neither", MeshName)
	case opts.Offline:
		return fmt.Errorf("--offline is an Istio flag: kubectl mesh embeds no %s charts", MeshName)
	case (opts.IssuerCertFile == "") != (opts.IssuerKeyFile == ""):
		return errors.New("--identity-issuer-certificate-file and --identity-issuer-key-file go together")
	}
	return nil
}

// RenderWarning is what the plugin prints on stderr before it prints the
// manifests of a plan (--dry-run=client -o yaml): they hold the issuer's key.
func (*Linkerd) RenderWarning() string {
	return "warning: these manifests contain the Linkerd identity issuer's private key (Secret linkerd-identity-issuer): keep them out of logs, tickets and version control"
}

// releases returns the Helm release reader of c, nil without one.
func (l *Linkerd) releases(c *mesh.Cluster) releaseReader {
	if l.readerFor != nil {
		return l.readerFor(c)
	}
	if c == nil || c.Helm == nil {
		return nil
	}
	return c.Helm
}

func namespaceOf(opts mesh.InstallOptions) string {
	if opts.Namespace != "" {
		return opts.Namespace
	}
	return DefaultNamespace
}
