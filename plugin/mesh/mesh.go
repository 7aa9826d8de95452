// Package mesh is the contract between the commands and the service meshes
// they manage. An adapter knows every fact of its mesh: charts, profiles,
// values and health, injection marks and proxies, detection, what uses it
// and what an uninstall removes; the commands and plugin/lifecycle do the
// Helm and Kubernetes work, the same for every mesh. Adding a mesh is an
// adapter package and a line in plugin/mesh/all.
package mesh

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
)

// Mesh is implemented by each adapter (plugin/mesh/istio, plugin/mesh/linkerd).
// Commands know a mesh only through it, name no adapter type and hold no
// list of meshes (plugin/mesh/all builds the Registry); only Istio's own
// commands (revision tags, istioctl's) call its package directly.
type Mesh interface {
	// Name is how users name the mesh: "istio", "linkerd".
	Name() string
	// ValidateInstall refuses the install and upgrade flags the mesh has no
	// use for, naming the flag (--profile for Linkerd, --identity-* for Istio).
	ValidateInstall(opts InstallOptions) error
	// Plan returns the Helm releases that install or upgrade the mesh as
	// opts ask, in the order they must be applied (CRDs and base first).
	// It reads nothing from the cluster, so --dry-run=client works without one;
	// errors name the flag at fault (unknown profile, version, bad values).
	Plan(ctx context.Context, opts InstallOptions) ([]lifecycle.Release, error)
	// RenderWarning is printed on stderr before the manifests of a
	// --dry-run=client ("" for none): Linkerd's hold the issuer's private key.
	RenderWarning() string
	// Status reads the installed mesh from the cluster: control plane
	// components and their readiness, versions and revisions, data-plane
	// proxies and their version skew, and mesh-specific facts (Linkerd's
	// certificate expiry). Installed is false when nothing is found.
	Status(ctx context.Context, c Cluster) (*Status, error)
	// Detect reports whether the mesh's control plane runs in the cluster,
	// reading less than Status: commands pick the mesh with it when the
	// user names none.
	Detect(ctx context.Context, c Cluster) (bool, error)
	// ControlPlaneSelector is the label selector of the control plane's
	// pods in its namespace (perf run reads their CPU and memory).
	ControlPlaneSelector() string

	Injector
	Uninstaller
}

// Injector is how a mesh enrols namespaces for proxy injection.
type Injector interface {
	// ValidateInjection refuses a revision the mesh cannot inject, naming
	// --revision; "" is always valid.
	ValidateInjection(revision string) error
	// InjectionMarks are the namespace labels and annotations that enable
	// injection (enable) or stop it: a value sets a key, nil removes it.
	InjectionMarks(enable bool, revision string) Marks
	// MissingInjector describes the injector webhook that would inject
	// pods for revision when none is installed ("" when one is), so that
	// enabling a namespace can warn that nothing gets injected yet.
	MissingInjector(ctx context.Context, c Cluster, revision string) (string, error)
	// HasProxy reports whether the pod runs the mesh's proxy, as a
	// container or a native sidecar.
	HasProxy(pod *corev1.Pod) bool
	// ProxyContainer is the proxy's container name, as cAdvisor's series
	// label it.
	ProxyContainer() string
	// JobPodMarks are the pod labels and annotations that mesh a Job's pod
	// (kubectl mesh perf's load generator): the proxy is a native sidecar,
	// ready before the job's container starts and stopped once it exits,
	// or the Job would never complete.
	JobPodMarks() (labels, annotations map[string]string)
}

// Uninstaller is what kubectl mesh uninstall asks of a mesh.
type Uninstaller interface {
	// ValidateUninstall refuses the uninstall flags the mesh has no use
	// for, naming the flag.
	ValidateUninstall(opts UninstallOptions) error
	// InUse lists what would lose its control plane ("namespace shop",
	// "pod shop/web-1 runs linkerd-proxy"): uninstall refuses without --force.
	InUse(ctx context.Context, c Cluster, opts UninstallOptions) ([]string, error)
	// UninstallPlan returns the installed releases to remove, dependents
	// first; empty when nothing is installed, so a second run is harmless.
	UninstallPlan(ctx context.Context, c Cluster, opts UninstallOptions) ([]lifecycle.Release, error)
	// Purge removes, after the releases and with --purge only, what they
	// leave behind (Istio's CRDs, kept by its base chart). It returns a line
	// for the user ("" when nothing was left).
	Purge(ctx context.Context, c Cluster, opts UninstallOptions) (string, error)
}

// UninstallOptions are what uninstall was asked for.
type UninstallOptions struct {
	// Revision of the control plane to remove (Istio); empty means default.
	Revision string
	// Namespace of the control plane; empty means the mesh's default.
	Namespace string
	// Purge removes the CRDs, and with them every mesh resource.
	Purge bool
	// Timeout bounds each wait for deletions.
	Timeout time.Duration
	// Warn receives warnings, one line each, without a "warning: " prefix;
	// nil discards them.
	Warn func(msg string)
}

// Marks are namespace labels and annotations to set (a value) or remove (nil).
type Marks struct {
	Labels, Annotations map[string]*string
}

// Enabled is the value most meshes' injection marks take.
func Enabled() *string {
	v := "enabled"
	return &v
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
	// Cluster is set when a cluster is reachable (nil on --dry-run=client), for
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
