// Package mesh is the contract between the lifecycle commands and the
// service meshes they manage (DESIGN.md: plugin/* -> plugin/mesh). An
// adapter knows a mesh's charts, profiles, values and health; the commands
// and plugin/lifecycle do the Helm work, the same for every mesh.
package mesh

import (
	"context"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
)

// Mesh is implemented by each adapter (plugin/mesh/istio, plugin/mesh/linkerd).
type Mesh interface {
	// Name is how users name the mesh: "istio", "linkerd".
	Name() string
	// Plan returns the Helm releases that install or upgrade the mesh as
	// opts ask, in the order they must be applied (CRDs and base first).
	// It reads nothing from the cluster, so --dry-run works without one;
	// errors name the flag at fault (unknown profile, version, bad values).
	Plan(ctx context.Context, opts InstallOptions) ([]lifecycle.Release, error)
	// Status reads the installed mesh from the cluster: control plane
	// components and their readiness, versions and revisions, data-plane
	// proxies and their version skew, and mesh-specific facts (Linkerd's
	// certificate expiry). Installed is false when nothing is found.
	Status(ctx context.Context, c Cluster) (*Status, error)
}

// InstallOptions are what install and upgrade were asked for.
type InstallOptions struct {
	// Profile selects a preset (Istio: default, demo, minimal, ambient).
	Profile string
	// Revision installs a revisioned control plane (Istio canary upgrades).
	Revision string
	// Version of the mesh's charts, exact or a semver range; empty means
	// the adapter's default (Istio: the newest release tested; Linkerd:
	// the repository's latest).
	Version string
	// Repo is a Helm repository URL (or an OCI registry, oci://host/path)
	// to take the charts from instead of the mesh's official one.
	Repo string
	// Pull says how to reach Repo: credentials, TLS, provenance.
	Pull lifecycle.PullOptions
	// Offline installs the charts embedded in kubectl mesh (Istio's, a
	// development build) instead of pulling them; Repo and Version are
	// then empty.
	Offline bool
	// Namespace of the control plane; empty means the mesh's default
	// (istio-system, linkerd).
	Namespace string
	// Values are the user's values (-f files, then --set), merged over the
	// adapter's; for a mesh of several charts they apply to every chart.
	Values map[string]any
	// Linkerd identity: PEM files given by the user; empty means generate.
	TrustAnchorsFile, IssuerCertFile, IssuerKeyFile string
	// IssuerValidity is the validity of a generated issuer certificate.
	IssuerValidity time.Duration
	// Upgrade is true for kubectl mesh upgrade: adapters keep what must not
	// change (Linkerd's trust anchor) from the installed release.
	Upgrade bool
	// Warn receives the warnings of planning, one line each, without a
	// "warning: " prefix (a version outside the tested range, the offline
	// charts' notice); nil discards them.
	Warn func(msg string)
	// Cluster is set when a cluster is reachable (nil on --dry-run), for
	// the few values an upgrade must read back.
	Cluster *Cluster
}

// Cluster gives adapters read access to the cluster.
type Cluster struct {
	Config    *rest.Config
	Clientset kubernetes.Interface
	Helm      *lifecycle.Client
}

// Status is what kubectl mesh status prints (-o json|yaml uses the tags).
type Status struct {
	Mesh      string      `json:"mesh"`
	Installed bool        `json:"installed"`
	Namespace string      `json:"namespace,omitempty"`
	Version   string      `json:"version,omitempty"`
	Revisions []Revision  `json:"revisions,omitempty"`
	Proxies   []ProxyInfo `json:"proxies,omitempty"`
	// Certificates are Linkerd's trust anchor and issuer.
	Certificates []Certificate `json:"certificates,omitempty"`
	// Warnings are facts the user should act on (skew, expiry, not ready).
	Warnings []string `json:"warnings,omitempty"`
}

// Revision is one control plane (Istio revisions; Linkerd has one).
type Revision struct {
	Name       string      `json:"name"` // "default" when unrevisioned
	Version    string      `json:"version"`
	Tags       []string    `json:"tags,omitempty"`
	Components []Component `json:"components"`
}

// Component is one Helm release or workload of a control plane.
type Component struct {
	Name     string `json:"name"`
	Release  string `json:"release,omitempty"`
	Chart    string `json:"chart,omitempty"`
	Ready    bool   `json:"ready"`
	Replicas string `json:"replicas,omitempty"` // "2/2"
	Message  string `json:"message,omitempty"`
}

// ProxyInfo counts the data-plane proxies of one version and revision.
type ProxyInfo struct {
	Version  string `json:"version"`
	Revision string `json:"revision,omitempty"`
	Pods     int    `json:"pods"`
	// Skew is true when the proxies' version differs from their control plane's.
	Skew bool `json:"skew"`
}

// Certificate is an identity certificate's public facts; never key material.
type Certificate struct {
	Name     string    `json:"name"` // "trust anchor", "issuer"
	Subject  string    `json:"subject"`
	NotAfter time.Time `json:"notAfter"`
	// Expiring is true when it expires within 60 days (linkerd check's window).
	Expiring bool `json:"expiring"`
}
