package pattern

// fieldDoc is what the JSON schema and the reference page say about one
// field. This table is the one place field documentation lives; a test
// fails when a field of the Go types has no entry.
type fieldDoc struct {
	desc    string
	def     string // default, as the reference page shows it
	enum    []string
	min     *float64
	max     *float64
	exclMin bool   // min is exclusive
	pattern string // regular expression the value matches
}

func num(f float64) *float64 { return &f }

var (
	meshes       = []string{MeshIstio, MeshLinkerd, MeshSMI, MeshGAMMA}
	mtlsModes    = []string{MTLSStrict, MTLSPermissive, MTLSDisable}
	protocols    = []string{"HTTP", "HTTP2", "GRPC", "TCP"}
	lbAlgorithms = []string{LBRoundRobin, LBLeastRequest, LBRandom, LBConsistentHash}
)

// typeDocs describe the types, keyed by Go type name.
func typeDocs() map[string]string {
	return map[string]string{
		"Pattern":          "One file of traffic, resilience and security intent for a set of services, translated into the resources of one mesh.",
		"Metadata":         "Names the pattern; the namespace is where its objects go.",
		"Spec":             "The intent.",
		"Injection":        "Namespaces whose pods get the mesh's proxy.",
		"Service":          "The intent for one Kubernetes Service in the pattern's namespace.",
		"Port":             "A port of the Service.",
		"Version":          "A subset of the service's pods, selected by labels.",
		"Traffic":          "How requests to the service are routed.",
		"Route":            "One routing rule: the first route whose match fits takes the request.",
		"Match":            "Selects requests; all given conditions must hold.",
		"StringMatch":      "Exactly one of exact, prefix, regex.",
		"Backend":          "A version and its share of the traffic.",
		"Retries":          "Retries of a failed request.",
		"RetryBudget":      "Linkerd's retry budget: retries as a share of the original requests.",
		"Fault":            "Failures injected into a share of the matched requests.",
		"FaultDelay":       "Delays a share of the requests.",
		"FaultAbort":       "Answers a share of the requests with an error status.",
		"Mirror":           "Copies a share of the matched requests to a version; the copies' answers are dropped.",
		"Resilience":       "How clients treat the service's endpoints.",
		"CircuitBreaker":   "Limits of what is outstanding towards the service; beyond them requests fail fast.",
		"OutlierDetection": "Ejects endpoints that keep failing.",
		"LoadBalancer":     "How an endpoint is picked for each request.",
		"ConnectionPool":   "Tuning of the connections to the service.",
		"Security":         "Who may call the service, and how.",
		"AllowRule":        "Allows requests from the given sources, optionally only some methods and paths.",
		"Sources":          "Callers: service accounts and whole namespaces.",
	}
}

// fieldDocs are keyed by Go type name and JSON field name.
func fieldDocs() map[string]fieldDoc {
	return map[string]fieldDoc{
		"Pattern.apiVersion": {desc: "Always " + APIVersion + ".", enum: []string{APIVersion}},
		"Pattern.kind":       {desc: "Always " + Kind + ".", enum: []string{Kind}},
		"Pattern.metadata":   {desc: "Name and namespace of the pattern."},
		"Pattern.spec":       {desc: "The intent."},

		"Metadata.name":        {desc: "Name of the pattern, a DNS-1123 label. Every object the pattern applies carries it in the label " + LabelPattern + ".", pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"},
		"Metadata.namespace":   {desc: "Namespace of the pattern's objects.", def: "the -n namespace, then default"},
		"Metadata.labels":      {desc: "Labels of the pattern itself."},
		"Metadata.annotations": {desc: "Annotations of the pattern itself."},

		"Spec.mesh":      {desc: "Translation target. gamma is Gateway API HTTPRoutes with Service parentRefs.", def: "detected from the cluster (istio or linkerd)", enum: meshes},
		"Spec.drift":     {desc: "What happens when anyone but kubectl mesh changes a managed object: warn reports it in diff and status; lock has the webhook deny the change.", def: "warn", enum: []string{"warn", "lock"}},
		"Spec.mtls":      {desc: "mTLS mode of the whole namespace.", enum: mtlsModes},
		"Spec.injection": {desc: "Turns on proxy injection in namespaces."},
		"Spec.services":  {desc: "Intent per Service."},
		"Spec.raw":       {desc: "Objects applied as they are (EnvoyFilter, WasmPlugin, any kind); each needs apiVersion, kind and metadata.name, and gets the pattern's namespace unless it names one. The policies still check them."},

		"Injection.namespaces": {desc: "Namespaces to inject, DNS-1123 labels."},

		"Service.name":           {desc: "Name of the Service (a DNS-1035 label) in the pattern's namespace."},
		"Service.selector":       {desc: "Labels of the service's pods.", def: "{app: <name>}"},
		"Service.ports":          {desc: "Ports of the Service. Needed on linkerd, smi and gamma, where per-version Services are generated, and for Linkerd Servers."},
		"Service.serviceAccount": {desc: "Service account of the service's pods: the identity allow rules protect.", def: "<name>"},
		"Service.versions":       {desc: "Subsets that traffic is split between."},
		"Service.traffic":        {desc: "Routing of the requests to the service."},
		"Service.resilience":     {desc: "Circuit breaking, outlier detection, load balancing and connection tuning."},
		"Service.security":       {desc: "mTLS and allow rules."},

		"Port.name":       {desc: "Port name; required when there is more than one port."},
		"Port.port":       {desc: "Service port.", min: num(1), max: num(65535)},
		"Port.targetPort": {desc: "Container port.", def: "port", min: num(1), max: num(65535)},
		"Port.protocol":   {desc: "Application protocol.", def: "HTTP", enum: protocols},

		"Version.name":    {desc: "Version name, a DNS-1123 label (v1, canary)."},
		"Version.labels":  {desc: "Pod labels of this version, added to the service's selector."},
		"Version.service": {desc: "An existing Service that selects only this version's pods; linkerd, smi and gamma route to it.", def: "generated <service>-<version>"},

		"Traffic.routes": {desc: "Routes, tried in order. A route without match takes everything left and must be the last."},

		"Route.name":    {desc: "Route name, a DNS-1123 label, unique in the service."},
		"Route.match":   {desc: "Which requests the route takes.", def: "every request"},
		"Route.split":   {desc: "Versions and weights, summing to 100.", def: "the whole service"},
		"Route.timeout": {desc: "Timeout of the whole request, a Go duration (2s, 250ms)."},
		"Route.retries": {desc: "Retries of failed requests."},
		"Route.fault":   {desc: "Injected delays and errors."},
		"Route.mirror":  {desc: "Traffic mirroring to a version."},

		"Match.headers": {desc: "Header conditions by lower-case header name."},
		"Match.path":    {desc: "Path condition; paths start with /."},

		"StringMatch.exact":  {desc: "The value equals this."},
		"StringMatch.prefix": {desc: "The value starts with this."},
		"StringMatch.regex":  {desc: "The value matches this RE2 regular expression."},

		"Backend.version": {desc: "A version of the service."},
		"Backend.weight":  {desc: "Share of the traffic in percent.", min: num(0), max: num(100)},

		"Retries.attempts":      {desc: "Retries after the first try.", min: num(1)},
		"Retries.perTryTimeout": {desc: "Timeout of each try, a Go duration."},
		"Retries.on":            {desc: "Retry conditions in Envoy's vocabulary (5xx, gateway-error, reset, connect-failure, retriable-4xx, ...) or status codes (\"503\")."},
		"Retries.budget":        {desc: "Linkerd's retry budget. Istio and Gateway API cannot express it."},

		"RetryBudget.retryRatio":          {desc: "Retries allowed per original request.", min: num(0), max: num(1), exclMin: true},
		"RetryBudget.minRetriesPerSecond": {desc: "Retries allowed per second regardless of the ratio.", min: num(0)},
		"RetryBudget.ttl":                 {desc: "Window over which the ratio is computed, a Go duration.", def: "10s"},

		"Fault.delay": {desc: "Delay some requests."},
		"Fault.abort": {desc: "Fail some requests."},

		"FaultDelay.fixed":   {desc: "The delay, a Go duration."},
		"FaultDelay.percent": {desc: "Share of the requests delayed, in percent.", min: num(0), max: num(100)},

		"FaultAbort.httpStatus": {desc: "Status returned.", min: num(200), max: num(599)},
		"FaultAbort.percent":    {desc: "Share of the requests aborted, in percent.", min: num(0), max: num(100)},

		"Mirror.version": {desc: "Version that receives the copies."},
		"Mirror.percent": {desc: "Share of the requests copied, in percent.", def: "100", min: num(0), max: num(100)},

		"Resilience.circuitBreaker":   {desc: "Connection and request limits."},
		"Resilience.outlierDetection": {desc: "Ejection of failing endpoints."},
		"Resilience.loadBalancer":     {desc: "Endpoint selection."},
		"Resilience.connectionPool":   {desc: "Connection tuning."},

		"CircuitBreaker.maxConnections":     {desc: "Most TCP connections to the service.", min: num(0)},
		"CircuitBreaker.maxPendingRequests": {desc: "Most requests waiting for a connection.", min: num(0)},
		"CircuitBreaker.maxRequests":        {desc: "Most requests outstanding.", min: num(0)},
		"CircuitBreaker.maxRetries":         {desc: "Most retries outstanding.", min: num(0)},

		"OutlierDetection.consecutiveErrors":  {desc: "Consecutive errors (5xx, connection failures) that eject an endpoint.", min: num(1)},
		"OutlierDetection.interval":           {desc: "How often endpoints are checked, a Go duration."},
		"OutlierDetection.baseEjectionTime":   {desc: "Minimum ejection time, a Go duration."},
		"OutlierDetection.maxEjectionPercent": {desc: "Most endpoints ejected at once, in percent.", min: num(0), max: num(100)},

		"LoadBalancer.algorithm":  {desc: "Algorithm.", enum: lbAlgorithms},
		"LoadBalancer.hashHeader": {desc: "Header consistent-hash hashes on, and only for it; without it consistent-hash hashes on the client's IP address."},

		"ConnectionPool.connectTimeout":           {desc: "TCP connect timeout, a Go duration."},
		"ConnectionPool.idleTimeout":              {desc: "Idle timeout of connections, a Go duration."},
		"ConnectionPool.maxRequestsPerConnection": {desc: "Requests per connection before it is closed; 0 is unlimited.", min: num(0)},

		"Security.mtls":  {desc: "mTLS mode of the service's workloads.", enum: mtlsModes},
		"Security.allow": {desc: "Allow rules. When present, only requests matching one of them are allowed."},

		"AllowRule.from":    {desc: "Who is allowed."},
		"AllowRule.methods": {desc: "HTTP methods in upper case (GET, POST, ...).", def: "any"},
		"AllowRule.paths":   {desc: "Exact paths, or prefixes ending in * (/api/*).", def: "any"},

		"Sources.serviceAccounts": {desc: "Service accounts: name (in the pattern's namespace) or namespace/name."},
		"Sources.namespaces":      {desc: "Every workload of these namespaces."},
	}
}
