package pattern

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Validate checks everything about a pattern that does not need a
// cluster, and returns all problems at once as Errors (one a line, in
// position order), so that nothing is applied when anything is wrong.
func Validate(p *Pattern) error {
	v := &validator{p: p}
	v.pattern()
	return v.errs.err()
}

type validator struct {
	p    *Pattern
	errs Errors
}

func (v *validator) add(path, format string, args ...any) {
	pos, _ := v.p.Position(path)
	v.errs = append(v.errs, &FieldError{File: v.p.Source(), Pos: pos, Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) pattern() {
	p := v.p
	if p.APIVersion != APIVersion {
		v.add("apiVersion", "must be %s, got %q", APIVersion, p.APIVersion)
	}
	if p.Kind != Kind {
		v.add("kind", "must be %s, got %q", Kind, p.Kind)
	}
	v.dnsLabel("metadata.name", p.Metadata.Name)
	if p.Metadata.Namespace != "" {
		v.dnsLabel("metadata.namespace", p.Metadata.Namespace)
	}
	v.labels("metadata.labels", p.Metadata.Labels)
	s := p.Spec
	v.enum("spec.mesh", s.Mesh, MeshIstio, MeshLinkerd, MeshSMI, MeshGAMMA)
	v.enum("spec.drift", s.Drift, "warn", "lock")
	v.enum("spec.mtls", s.MTLS, MTLSStrict, MTLSPermissive, MTLSDisable)
	if s.Injection != nil {
		if len(s.Injection.Namespaces) == 0 {
			v.add("spec.injection.namespaces", "at least one namespace is required")
		}
		v.uniqueLabels("spec.injection.namespaces", s.Injection.Namespaces, "namespace")
	}
	seen := map[string]bool{}
	for i := range s.Services {
		path := indexPath("spec.services", i)
		name := s.Services[i].Name
		if seen[name] && name != "" {
			v.add(path+".name", "duplicate service %q", name)
		}
		seen[name] = true
		v.service(path, &s.Services[i])
	}
	for i, raw := range s.Raw {
		v.raw(indexPath("spec.raw", i), raw)
	}
}

func (v *validator) service(path string, s *Service) {
	if s.Name == "" {
		v.add(path+".name", "required")
	} else {
		// A Service name is a DNS-1035 label (it must start with a letter).
		for _, msg := range validation.IsDNS1035Label(s.Name) {
			v.add(path+".name", "%q is not a valid Service name: %s", s.Name, msg)
		}
	}
	v.labels(path+".selector", s.Selector)
	if s.ServiceAccount != "" {
		for _, msg := range validation.IsDNS1123Subdomain(s.ServiceAccount) {
			v.add(path+".serviceAccount", "%q is not a valid service account name: %s", s.ServiceAccount, msg)
		}
	}
	v.ports(path+".ports", s.Ports)
	versions := map[string]bool{}
	for i, ver := range s.Versions {
		vpath := indexPath(path+".versions", i)
		if ver.Name == "" {
			v.add(vpath+".name", "required")
		} else {
			v.dnsLabel(vpath+".name", ver.Name)
		}
		if versions[ver.Name] && ver.Name != "" {
			v.add(vpath+".name", "duplicate version %q", ver.Name)
		}
		versions[ver.Name] = true
		if len(ver.Labels) == 0 {
			v.add(vpath+".labels", "a version needs labels that select its pods, e.g. {version: %s}", cmpOr(ver.Name, "v1"))
		}
		v.labels(vpath+".labels", ver.Labels)
		if ver.Service != "" {
			for _, msg := range validation.IsDNS1035Label(ver.Service) {
				v.add(vpath+".service", "%q is not a valid Service name: %s", ver.Service, msg)
			}
		} else if s.Name != "" && ver.Name != "" && len(s.Name)+1+len(ver.Name) > validation.DNS1035LabelMaxLength {
			v.add(vpath+".name", "the generated Service %s-%s would be longer than %d characters; name one with service",
				s.Name, ver.Name, validation.DNS1035LabelMaxLength)
		}
	}
	if s.Traffic != nil {
		v.traffic(path+".traffic", s)
	}
	if s.Resilience != nil {
		v.resilience(path+".resilience", s.Resilience)
	}
	if s.Security != nil {
		v.security(path+".security", s.Security)
	}
}

func (v *validator) ports(path string, ports []Port) {
	seenPort := map[int32]bool{}
	seenName := map[string]bool{}
	for i, port := range ports {
		ppath := indexPath(path, i)
		switch {
		case port.Port < 1 || port.Port > 65535:
			v.add(ppath+".port", "%d is not a port number (1-65535)", port.Port)
		case seenPort[port.Port]:
			v.add(ppath+".port", "duplicate port %d", port.Port)
		}
		seenPort[port.Port] = true
		if port.TargetPort != 0 && (port.TargetPort < 1 || port.TargetPort > 65535) {
			v.add(ppath+".targetPort", "%d is not a port number (1-65535)", port.TargetPort)
		}
		if port.Name != "" {
			for _, msg := range validation.IsValidPortName(port.Name) {
				v.add(ppath+".name", "%q is not a valid port name: %s", port.Name, msg)
			}
			if seenName[port.Name] {
				v.add(ppath+".name", "duplicate port name %q", port.Name)
			}
			seenName[port.Name] = true
		}
		if len(ports) > 1 && port.Name == "" {
			v.add(ppath+".name", "required when a service has more than one port")
		}
		v.enum(ppath+".protocol", port.Protocol, "HTTP", "HTTP2", "GRPC", "TCP")
	}
}

func (v *validator) traffic(path string, s *Service) {
	routes := s.Traffic.Routes
	if len(routes) == 0 {
		v.add(path+".routes", "at least one route is required")
	}
	names := map[string]bool{}
	for i, r := range routes {
		rpath := indexPath(path+".routes", i)
		if r.Name != "" {
			v.dnsLabel(rpath+".name", r.Name)
			if names[r.Name] {
				v.add(rpath+".name", "duplicate route name %q", r.Name)
			}
			names[r.Name] = true
		}
		if r.Match == nil && i < len(routes)-1 {
			v.add(rpath, "a route without match takes every request, so it must be the last route (routes after it are never used)")
		}
		if r.Match != nil {
			v.match(rpath+".match", r.Match)
		}
		v.split(rpath+".split", s, r.Split)
		v.duration(rpath+".timeout", r.Timeout)
		if r.Retries != nil {
			v.retries(rpath+".retries", r.Retries)
		}
		if r.Fault != nil {
			v.fault(rpath+".fault", r.Fault)
		}
		if m := r.Mirror; m != nil {
			v.versionRef(rpath+".mirror.version", s, m.Version, "mirror")
			v.percent(rpath+".mirror.percent", m.Percent)
		}
	}
}

func (v *validator) match(path string, m *Match) {
	if len(m.Headers) == 0 && m.Path == nil {
		v.add(path, "a match needs headers or path; leave match out to take every request")
	}
	for _, name := range slices.Sorted(maps.Keys(m.Headers)) {
		hpath := appendPath(path+".headers", name)
		if !headerName.MatchString(name) {
			v.add(hpath, "%q is not a header name in lower case (Istio and Gateway API compare them lower-cased)", name)
		}
		v.stringMatch(hpath, m.Headers[name])
	}
	if m.Path != nil {
		v.stringMatch(path+".path", *m.Path)
		if m.Path.Exact != "" && !strings.HasPrefix(m.Path.Exact, "/") {
			v.add(path+".path.exact", "a path starts with \"/\"")
		}
		if m.Path.Prefix != "" && !strings.HasPrefix(m.Path.Prefix, "/") {
			v.add(path+".path.prefix", "a path starts with \"/\"")
		}
	}
}

var headerName = regexp.MustCompile(`^[a-z0-9!#$%&'*+.^_` + "`" + `|~-]+$`)

func (v *validator) stringMatch(path string, m StringMatch) {
	set := 0
	for _, s := range []string{m.Exact, m.Prefix, m.Regex} {
		if s != "" {
			set++
		}
	}
	if set != 1 {
		v.add(path, "exactly one of exact, prefix, regex is required, got %d", set)
	}
	if m.Regex != "" {
		if _, err := regexp.Compile(m.Regex); err != nil {
			v.add(path+".regex", "not an RE2 regular expression: %s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		}
	}
}

func (v *validator) split(path string, s *Service, split []Backend) {
	if len(split) == 0 {
		return
	}
	seen := map[string]bool{}
	sum := int32(0)
	for i, b := range split {
		bpath := indexPath(path, i)
		v.versionRef(bpath+".version", s, b.Version, "split")
		if seen[b.Version] && b.Version != "" {
			v.add(bpath+".version", "duplicate version %q in split", b.Version)
		}
		seen[b.Version] = true
		if b.Weight < 0 || b.Weight > 100 {
			v.add(bpath+".weight", "%d is not a weight (0-100)", b.Weight)
		}
		sum += b.Weight
	}
	if sum != 100 {
		v.add(path, "weights sum to %d, not 100", sum)
	}
}

// versionRef checks that name is one of the service's versions.
func (v *validator) versionRef(path string, s *Service, name, where string) {
	if name == "" {
		v.add(path, "required")
		return
	}
	if s.Version(name) != nil {
		return
	}
	var have []string
	for _, ver := range s.Versions {
		have = append(have, ver.Name)
	}
	if len(have) == 0 {
		v.add(path, "unknown version %q in %s; the service has no versions", name, where)
		return
	}
	v.add(path, "unknown version %q in %s; the service has %s", name, where, strings.Join(have, ", "))
}

// retryOn is Envoy's retry-on vocabulary, as Istio takes it.
var retryOn = []string{
	"5xx", "gateway-error", "reset", "reset-before-request", "connect-failure", "envoy-ratelimited",
	"retriable-4xx", "refused-stream", "retriable-status-codes", "retriable-headers",
	"cancelled", "deadline-exceeded", "internal", "resource-exhausted", "unavailable",
	"http3-post-connect-failure",
}

var statusCode = regexp.MustCompile(`^[1-5][0-9][0-9]$`)

func (v *validator) retries(path string, r *Retries) {
	if r.Attempts < 1 {
		v.add(path+".attempts", "must be at least 1, got %d", r.Attempts)
	}
	v.duration(path+".perTryTimeout", r.PerTryTimeout)
	for i, on := range r.On {
		if !slices.Contains(retryOn, on) && !statusCode.MatchString(on) {
			v.add(indexPath(path+".on", i), "unknown retry condition %q (%s, or a status code)", on, strings.Join(retryOn[:7], ", "))
		}
	}
	if b := r.Budget; b != nil {
		if b.RetryRatio <= 0 || b.RetryRatio > 1 {
			v.add(path+".budget.retryRatio", "must be more than 0 and at most 1, got %g", b.RetryRatio)
		}
		if b.MinRetriesPerSecond < 0 {
			v.add(path+".budget.minRetriesPerSecond", "must not be negative, got %d", b.MinRetriesPerSecond)
		}
		v.duration(path+".budget.ttl", b.TTL)
	}
}

func (v *validator) fault(path string, f *Fault) {
	if f.Delay == nil && f.Abort == nil {
		v.add(path, "a fault needs delay or abort")
	}
	if d := f.Delay; d != nil {
		if d.Fixed == "" {
			v.add(path+".delay.fixed", "required")
		}
		v.duration(path+".delay.fixed", d.Fixed)
		v.percent(path+".delay.percent", d.Percent)
	}
	if a := f.Abort; a != nil {
		if a.HTTPStatus < 200 || a.HTTPStatus > 599 {
			v.add(path+".abort.httpStatus", "%d is not an HTTP status (200-599)", a.HTTPStatus)
		}
		v.percent(path+".abort.percent", a.Percent)
	}
}

func (v *validator) resilience(path string, r *Resilience) {
	if cb := r.CircuitBreaker; cb != nil {
		v.nonNegative(path+".circuitBreaker.maxConnections", cb.MaxConnections)
		v.nonNegative(path+".circuitBreaker.maxPendingRequests", cb.MaxPendingRequests)
		v.nonNegative(path+".circuitBreaker.maxRequests", cb.MaxRequests)
		v.nonNegative(path+".circuitBreaker.maxRetries", cb.MaxRetries)
	}
	if od := r.OutlierDetection; od != nil {
		if od.ConsecutiveErrors < 1 {
			v.add(path+".outlierDetection.consecutiveErrors", "must be at least 1, got %d", od.ConsecutiveErrors)
		}
		v.duration(path+".outlierDetection.interval", od.Interval)
		v.duration(path+".outlierDetection.baseEjectionTime", od.BaseEjectionTime)
		if od.MaxEjectionPercent < 0 || od.MaxEjectionPercent > 100 {
			v.add(path+".outlierDetection.maxEjectionPercent", "%d is not a percentage (0-100)", od.MaxEjectionPercent)
		}
	}
	if lb := r.LoadBalancer; lb != nil {
		lpath := path + ".loadBalancer"
		if lb.Algorithm == "" {
			v.add(lpath+".algorithm", "required (%s, %s, %s or %s)", LBRoundRobin, LBLeastRequest, LBRandom, LBConsistentHash)
		} else {
			v.enum(lpath+".algorithm", lb.Algorithm, LBRoundRobin, LBLeastRequest, LBRandom, LBConsistentHash)
		}
		switch {
		case lb.Algorithm != LBConsistentHash && lb.HashHeader != "":
			v.add(lpath+".hashHeader", "only %s hashes on a header", LBConsistentHash)
		case lb.HashHeader != "" && !headerName.MatchString(lb.HashHeader):
			v.add(lpath+".hashHeader", "%q is not a header name in lower case", lb.HashHeader)
		}
	}
	if cp := r.ConnectionPool; cp != nil {
		v.duration(path+".connectionPool.connectTimeout", cp.ConnectTimeout)
		v.duration(path+".connectionPool.idleTimeout", cp.IdleTimeout)
		v.nonNegative(path+".connectionPool.maxRequestsPerConnection", cp.MaxRequestsPerConnection)
	}
}

var httpMethods = []string{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}

func (v *validator) security(path string, s *Security) {
	v.enum(path+".mtls", s.MTLS, MTLSStrict, MTLSPermissive, MTLSDisable)
	for i, rule := range s.Allow {
		apath := indexPath(path+".allow", i)
		if len(rule.From.ServiceAccounts) == 0 && len(rule.From.Namespaces) == 0 {
			v.add(apath+".from", "name serviceAccounts or namespaces to allow")
		}
		for j, sa := range rule.From.ServiceAccounts {
			v.serviceAccount(indexPath(apath+".from.serviceAccounts", j), sa)
		}
		v.uniqueLabels(apath+".from.namespaces", rule.From.Namespaces, "namespace")
		for j, m := range rule.Methods {
			mpath := indexPath(apath+".methods", j)
			switch {
			case slices.Contains(httpMethods, m):
			case slices.Contains(httpMethods, strings.ToUpper(m)):
				v.add(mpath, "%q must be upper case: %s", m, strings.ToUpper(m))
			default:
				v.add(mpath, "%q is not an HTTP method (%s)", m, strings.Join(httpMethods, ", "))
			}
		}
		for j, p := range rule.Paths {
			ppath := indexPath(apath+".paths", j)
			switch {
			case !strings.HasPrefix(p, "/"):
				v.add(ppath, "%q must start with \"/\"", p)
			case strings.Contains(strings.TrimSuffix(p, "*"), "*"):
				v.add(ppath, "%q: \"*\" is allowed only at the end, as a prefix wildcard (\"/api/*\")", p)
			}
		}
	}
}

// serviceAccount checks "name" or "namespace/name".
func (v *validator) serviceAccount(path, sa string) {
	ns, name, qualified := strings.Cut(sa, "/")
	if !qualified {
		ns, name = "", sa
	}
	if qualified && len(validation.IsDNS1123Label(ns)) > 0 || len(validation.IsDNS1123Subdomain(name)) > 0 || strings.Contains(name, "/") {
		v.add(path, "%q is not a service account: \"name\" (in the pattern's namespace) or \"namespace/name\"", sa)
	}
}

func (v *validator) raw(path string, raw map[string]any) {
	for _, field := range []string{"apiVersion", "kind"} {
		if s, _ := raw[field].(string); s == "" {
			v.add(path+"."+field, "required")
		}
	}
	md, _ := raw["metadata"].(map[string]any)
	if name, _ := md["name"].(string); name == "" {
		v.add(path+".metadata.name", "required")
	}
}

func (v *validator) dnsLabel(path, s string) {
	if s == "" {
		v.add(path, "required")
		return
	}
	for _, msg := range validation.IsDNS1123Label(s) {
		v.add(path, "%q is not a DNS-1123 label: %s", s, msg)
	}
}

func (v *validator) uniqueLabels(path string, list []string, what string) {
	seen := map[string]bool{}
	for i, s := range list {
		p := indexPath(path, i)
		v.dnsLabel(p, s)
		if seen[s] {
			v.add(p, "duplicate %s %q", what, s)
		}
		seen[s] = true
	}
}

func (v *validator) labels(path string, labels map[string]string) {
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		p := appendPath(path, k)
		for _, msg := range validation.IsQualifiedName(k) {
			v.add(p, "%q is not a label key: %s", k, msg)
		}
		for _, msg := range validation.IsValidLabelValue(labels[k]) {
			v.add(p, "%q is not a label value: %s", labels[k], msg)
		}
	}
}

func (v *validator) enum(path, value string, allowed ...string) {
	if value != "" && !slices.Contains(allowed, value) {
		v.add(path, "%q is not one of %s", value, strings.Join(allowed, ", "))
	}
}

func (v *validator) duration(path, s string) {
	if s == "" {
		return
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		v.add(path, "%q is not a duration (like 250ms, 2s, 1m)", s)
	case d <= 0:
		v.add(path, "%q must be more than 0", s)
	}
}

func (v *validator) percent(path string, f float64) {
	if f < 0 || f > 100 {
		v.add(path, "%g is not a percentage (0-100)", f)
	}
}

func (v *validator) nonNegative(path string, n int32) {
	if n < 0 {
		v.add(path, "must not be negative, got %d", n)
	}
}
