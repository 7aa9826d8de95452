// Package pattern is the mesh-agnostic Pattern: its schema
// (kubectl-mesh.io/v1alpha1), loading with file:line:column errors,
// validation, and the features a pattern uses, which the translators check
// against what each mesh can express.
package pattern

// APIVersion and Kind identify a Pattern document.
const (
	APIVersion = "kubectl-mesh.io/v1alpha1"
	Kind       = "Pattern"
)

// Labels and annotations that tie cluster objects to their pattern.
const (
	// LabelPattern holds the name of the pattern that produced an object.
	LabelPattern = "kubectl-mesh.io/pattern"
	// AnnotationDrift is "lock" on objects of a pattern with spec.drift: lock;
	// the drift policy then denies changes from other field managers.
	AnnotationDrift = "kubectl-mesh.io/drift"
	// FieldManager is the server-side apply field manager of kubectl mesh.
	FieldManager = "kubectl-mesh"
)

// Mesh targets a pattern translates to.
const (
	MeshIstio   = "istio"
	MeshLinkerd = "linkerd"
	MeshSMI     = "smi"
	MeshGAMMA   = "gamma"
)

// Pattern is one file of traffic, resilience and security intent for a set
// of services, translated into the resources of one mesh.
type Pattern struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Metadata   Metadata `json:"metadata"`
	Spec       Spec     `json:"spec"`

	// src is where the pattern was loaded from (file and field positions),
	// so that validation errors name file:line:column. Nil when the
	// pattern was built in code.
	src *source
}

// Metadata names the pattern; the namespace is where its objects go
// (default: the -n namespace, then "default").
type Metadata struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Spec is the intent.
type Spec struct {
	// Mesh is the translation target: istio, linkerd, smi or gamma (Gateway
	// API HTTPRoutes with Service parentRefs). Empty: detected from the
	// cluster (istio or linkerd).
	Mesh string `json:"mesh,omitempty"`
	// Drift is what happens when a managed object is changed by anyone but
	// kubectl mesh: warn (default) or lock (the webhook denies the change).
	Drift string `json:"drift,omitempty"`
	// MTLS is the namespace-wide mTLS mode: STRICT, PERMISSIVE or DISABLE.
	MTLS string `json:"mtls,omitempty"`
	// Injection enables sidecar injection in these namespaces.
	Injection *Injection `json:"injection,omitempty"`
	Services  []Service  `json:"services,omitempty"`
	// Raw objects are applied as they are (EnvoyFilter, WasmPlugin, any
	// kind); the policies still validate them.
	Raw []map[string]any `json:"raw,omitempty"`
}

// Injection names the namespaces whose pods get the mesh's proxy.
type Injection struct {
	Namespaces []string `json:"namespaces"`
}

// Service is the intent for one Kubernetes Service.
type Service struct {
	// Name of the Service the intent is for (in the pattern's namespace).
	Name string `json:"name"`
	// Selector of the service's pods; default {app: <name>}.
	Selector map[string]string `json:"selector,omitempty"`
	// Ports of the Service. Needed when per-version Services must be
	// generated (linkerd, smi, gamma) and for Linkerd Servers.
	Ports []Port `json:"ports,omitempty"`
	// ServiceAccount the service's pods run as; default <name>. Used as
	// the destination identity of allow rules (SMI TrafficTarget).
	ServiceAccount string `json:"serviceAccount,omitempty"`
	// Versions are the subsets traffic is split between.
	Versions   []Version   `json:"versions,omitempty"`
	Traffic    *Traffic    `json:"traffic,omitempty"`
	Resilience *Resilience `json:"resilience,omitempty"`
	Security   *Security   `json:"security,omitempty"`
}

// Port of a Service.
type Port struct {
	Name       string `json:"name,omitempty"`
	Port       int32  `json:"port"`
	TargetPort int32  `json:"targetPort,omitempty"`
	// Protocol is the application protocol: HTTP (default), HTTP2, GRPC or TCP.
	Protocol string `json:"protocol,omitempty"`
}

// Version is a subset of a service's pods, selected by labels.
type Version struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels"`
	// Service names an existing Service that selects only this version's
	// pods. Meshes that route to Services (linkerd, smi, gamma) use it;
	// when empty they get a generated Service <service>-<version>.
	Service string `json:"service,omitempty"`
}

// Traffic is how requests to the service are routed.
type Traffic struct {
	// Routes are tried in order; the first whose match fits takes the
	// request. A route without match takes everything left.
	Routes []Route `json:"routes"`
}

// Route is one routing rule.
type Route struct {
	Name  string `json:"name,omitempty"`
	Match *Match `json:"match,omitempty"`
	// Split sends the matched requests to versions by weight (summing to
	// 100). Empty: the service as a whole.
	Split []Backend `json:"split,omitempty"`
	// Timeout of the whole request, as a Go duration ("2s", "250ms").
	Timeout string   `json:"timeout,omitempty"`
	Retries *Retries `json:"retries,omitempty"`
	Fault   *Fault   `json:"fault,omitempty"`
	Mirror  *Mirror  `json:"mirror,omitempty"`
}

// Match selects requests. All given conditions must hold.
type Match struct {
	// Headers by name; each with exactly one of exact, prefix, regex.
	Headers map[string]StringMatch `json:"headers,omitempty"`
	Path    *StringMatch           `json:"path,omitempty"`
}

// StringMatch holds exactly one of its fields.
type StringMatch struct {
	Exact  string `json:"exact,omitempty"`
	Prefix string `json:"prefix,omitempty"`
	Regex  string `json:"regex,omitempty"`
}

// Backend is a version and its share of the traffic in percent.
type Backend struct {
	Version string `json:"version"`
	Weight  int32  `json:"weight"`
}

// Retries of a failed request.
type Retries struct {
	Attempts      int32  `json:"attempts"`
	PerTryTimeout string `json:"perTryTimeout,omitempty"`
	// On are the retry conditions, in Envoy's vocabulary: 5xx,
	// gateway-error, reset, connect-failure, retriable-4xx, ...
	On []string `json:"on,omitempty"`
	// Budget limits retries to this percentage of the original requests
	// (Linkerd's retry budget). Istio and Gateway API cannot express it.
	Budget *RetryBudget `json:"budget,omitempty"`
}

// RetryBudget is Linkerd's ServiceProfile retry budget.
type RetryBudget struct {
	RetryRatio          float64 `json:"retryRatio"`
	MinRetriesPerSecond int32   `json:"minRetriesPerSecond,omitempty"`
	TTL                 string  `json:"ttl,omitempty"`
}

// Fault injects failures into a share of the matched requests.
type Fault struct {
	Delay *FaultDelay `json:"delay,omitempty"`
	Abort *FaultAbort `json:"abort,omitempty"`
}

// FaultDelay delays Percent of the requests by Fixed.
type FaultDelay struct {
	Fixed   string  `json:"fixed"`
	Percent float64 `json:"percent"`
}

// FaultAbort answers Percent of the requests with HTTPStatus.
type FaultAbort struct {
	HTTPStatus int32   `json:"httpStatus"`
	Percent    float64 `json:"percent"`
}

// Mirror copies a share of the matched requests to a version.
type Mirror struct {
	Version string  `json:"version"`
	Percent float64 `json:"percent,omitempty"` // default 100
}

// Resilience is how clients treat the service's endpoints.
type Resilience struct {
	CircuitBreaker   *CircuitBreaker   `json:"circuitBreaker,omitempty"`
	OutlierDetection *OutlierDetection `json:"outlierDetection,omitempty"`
	LoadBalancer     *LoadBalancer     `json:"loadBalancer,omitempty"`
	ConnectionPool   *ConnectionPool   `json:"connectionPool,omitempty"`
}

// CircuitBreaker limits what is outstanding towards the service; beyond
// the limits requests fail fast.
type CircuitBreaker struct {
	MaxConnections     int32 `json:"maxConnections,omitempty"`
	MaxPendingRequests int32 `json:"maxPendingRequests,omitempty"`
	MaxRequests        int32 `json:"maxRequests,omitempty"`
	MaxRetries         int32 `json:"maxRetries,omitempty"`
}

// OutlierDetection ejects endpoints that keep failing.
type OutlierDetection struct {
	ConsecutiveErrors  int32  `json:"consecutiveErrors"`
	Interval           string `json:"interval,omitempty"`
	BaseEjectionTime   string `json:"baseEjectionTime,omitempty"`
	MaxEjectionPercent int32  `json:"maxEjectionPercent,omitempty"`
}

// Load balancing algorithms.
const (
	LBRoundRobin     = "round-robin"
	LBLeastRequest   = "least-request"
	LBRandom         = "random"
	LBConsistentHash = "consistent-hash"
)

// LoadBalancer picks an endpoint for each request.
type LoadBalancer struct {
	// Algorithm: round-robin, least-request, random or consistent-hash.
	Algorithm string `json:"algorithm"`
	// HashHeader is the header consistent-hash hashes on; without it,
	// consistent-hash hashes on the client's IP address.
	HashHeader string `json:"hashHeader,omitempty"`
}

// ConnectionPool tunes the connections to the service.
type ConnectionPool struct {
	ConnectTimeout           string `json:"connectTimeout,omitempty"`
	IdleTimeout              string `json:"idleTimeout,omitempty"`
	MaxRequestsPerConnection int32  `json:"maxRequestsPerConnection,omitempty"`
}

// mTLS modes.
const (
	MTLSStrict     = "STRICT"
	MTLSPermissive = "PERMISSIVE"
	MTLSDisable    = "DISABLE"
)

// Security is who may call the service and how.
type Security struct {
	// MTLS is the service's mTLS mode: STRICT, PERMISSIVE or DISABLE.
	MTLS string `json:"mtls,omitempty"`
	// Allow rules: when present, only requests matching one of them are
	// allowed.
	Allow []AllowRule `json:"allow,omitempty"`
}

// AllowRule allows requests from the given sources, optionally only some
// methods and paths.
type AllowRule struct {
	From    Sources  `json:"from"`
	Methods []string `json:"methods,omitempty"`
	// Paths are exact paths, or prefixes ending in "*" ("/api/*").
	Paths []string `json:"paths,omitempty"`
}

// Sources are service accounts ("name" in the pattern's namespace, or
// "namespace/name") and whole namespaces.
type Sources struct {
	ServiceAccounts []string `json:"serviceAccounts,omitempty"`
	Namespaces      []string `json:"namespaces,omitempty"`
}
