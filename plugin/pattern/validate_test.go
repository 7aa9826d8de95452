package pattern

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// svc is a pattern with one service reviews (versions v1, v2) whose body
// continues with extra, indented under the service.
func svc(extra string) string {
	return header + `spec:
  services:
  - name: reviews
    versions:
    - name: v1
      labels: {version: v1}
    - name: v2
      labels: {version: v2}
` + extra
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string // "" for valid
	}{
		{name: "minimal service is valid", yaml: svc("")},
		{
			name: "apiVersion",
			yaml: strings.Replace(svc(""), "kubectl-mesh.io/v1alpha1", "kubectl-mesh.io/v1", 1),
			want: `p.yaml:1:1: apiVersion: must be kubectl-mesh.io/v1alpha1, got "kubectl-mesh.io/v1"`,
		},
		{
			name: "name is a DNS-1123 label",
			yaml: strings.Replace(svc(""), "name: reviews\n", "name: Reviews\n", 1),
			want: `p.yaml:4:3: metadata.name: "Reviews" is not a DNS-1123 label: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
		},
		{
			name: "mesh, drift and mtls enums",
			yaml: header + "spec:\n  mesh: consul\n  drift: block\n  mtls: strict\n",
			want: `p.yaml:6:3: spec.mesh: "consul" is not one of istio, linkerd, smi, gamma
p.yaml:7:3: spec.drift: "block" is not one of warn, lock
p.yaml:8:3: spec.mtls: "strict" is not one of STRICT, PERMISSIVE, DISABLE`,
		},
		{
			name: "duplicate services and versions, empty labels",
			yaml: header + `spec:
  services:
  - name: reviews
    versions:
    - name: v1
      labels: {version: v1}
    - name: v1
  - name: reviews
`,
			want: `p.yaml:11:7: spec.services[0].versions[1].name: duplicate version "v1"
p.yaml:11:7: spec.services[0].versions[1].labels: a version needs labels that select its pods, e.g. {version: v1}
p.yaml:12:5: spec.services[1].name: duplicate service "reviews"`,
		},
		{
			name: "unknown version in split",
			yaml: svc(`    traffic:
      routes:
      - split:
        - version: v3
          weight: 100
`),
			want: `p.yaml:16:11: spec.services[0].traffic.routes[0].split[0].version: unknown version "v3" in split; the service has v1, v2`,
		},
		{
			name: "weights sum to 100, each 0..100, no version twice",
			yaml: svc(`    traffic:
      routes:
      - split:
        - version: v1
          weight: 80
        - version: v1
          weight: 10
        - version: v2
          weight: -10
`),
			want: `p.yaml:15:9: spec.services[0].traffic.routes[0].split: weights sum to 80, not 100
p.yaml:18:11: spec.services[0].traffic.routes[0].split[1].version: duplicate version "v1" in split
p.yaml:21:11: spec.services[0].traffic.routes[0].split[2].weight: -10 is not a weight (0-100)`,
		},
		{
			name: "a route without match shadows the routes after it",
			yaml: svc(`    traffic:
      routes:
      - timeout: 1s
      - match:
          path: {prefix: /api}
`),
			want: `p.yaml:15:9: spec.services[0].traffic.routes[0]: a route without match takes every request, so it must be the last route (routes after it are never used)`,
		},
		{
			name: "string matches: exactly one, RE2, lower-case headers",
			yaml: svc(`    traffic:
      routes:
      - match:
          headers:
            End-User: {exact: jason}
            x-a: {exact: a, prefix: b}
            x-b: {regex: "(?<=a)b"}
            x-c: {}
          path: {prefix: api}
`),
			want: `p.yaml:17:13: spec.services[0].traffic.routes[0].match.headers.End-User: "End-User" is not a header name in lower case (Istio and Gateway API compare them lower-cased)
p.yaml:18:13: spec.services[0].traffic.routes[0].match.headers.x-a: exactly one of exact, prefix, regex is required, got 2
p.yaml:19:19: spec.services[0].traffic.routes[0].match.headers.x-b.regex: not an RE2 regular expression: invalid named capture: ` + "`(?<=a)b`" + `
p.yaml:20:13: spec.services[0].traffic.routes[0].match.headers.x-c: exactly one of exact, prefix, regex is required, got 0
p.yaml:21:18: spec.services[0].traffic.routes[0].match.path.prefix: a path starts with "/"`,
		},
		{
			name: "durations parse and are positive",
			yaml: svc(`    traffic:
      routes:
      - timeout: 2
        retries: {attempts: 0, perTryTimeout: 0s}
`),
			want: `p.yaml:15:18: spec.services[0].traffic.routes[0].timeout: expected a string, got 2 (quote it)`,
		},
		{
			name: "durations, retries and budgets",
			yaml: svc(`    traffic:
      routes:
      - timeout: 2 seconds
        retries:
          attempts: 0
          perTryTimeout: 0s
          on: [5xx, "503", teapot]
          budget: {retryRatio: 1.5, ttl: -1s}
`),
			want: `p.yaml:15:9: spec.services[0].traffic.routes[0].timeout: "2 seconds" is not a duration (like 250ms, 2s, 1m)
p.yaml:17:11: spec.services[0].traffic.routes[0].retries.attempts: must be at least 1, got 0
p.yaml:18:11: spec.services[0].traffic.routes[0].retries.perTryTimeout: "0s" must be more than 0
p.yaml:19:28: spec.services[0].traffic.routes[0].retries.on[2]: unknown retry condition "teapot" (5xx, gateway-error, reset, reset-before-request, connect-failure, envoy-ratelimited, retriable-4xx, or a status code)
p.yaml:20:20: spec.services[0].traffic.routes[0].retries.budget.retryRatio: must be more than 0 and at most 1, got 1.5
p.yaml:20:37: spec.services[0].traffic.routes[0].retries.budget.ttl: "-1s" must be more than 0`,
		},
		{
			name: "faults and mirrors",
			yaml: svc(`    traffic:
      routes:
      - fault:
          delay: {percent: 10}
          abort: {httpStatus: 100, percent: 101}
        mirror: {version: v9, percent: -1}
      - fault: {}
`),
			want: `p.yaml:15:9: spec.services[0].traffic.routes[0]: a route without match takes every request, so it must be the last route (routes after it are never used)
p.yaml:16:11: spec.services[0].traffic.routes[0].fault.delay.fixed: required
p.yaml:17:19: spec.services[0].traffic.routes[0].fault.abort.httpStatus: 100 is not an HTTP status (200-599)
p.yaml:17:36: spec.services[0].traffic.routes[0].fault.abort.percent: 101 is not a percentage (0-100)
p.yaml:18:18: spec.services[0].traffic.routes[0].mirror.version: unknown version "v9" in mirror; the service has v1, v2
p.yaml:18:31: spec.services[0].traffic.routes[0].mirror.percent: -1 is not a percentage (0-100)
p.yaml:19:9: spec.services[0].traffic.routes[1].fault: a fault needs delay or abort`,
		},
		{
			name: "load balancer and outlier detection",
			yaml: header + `spec:
  services:
  - name: a
    resilience:
      loadBalancer: {algorithm: consistent-hash}
      outlierDetection: {consecutiveErrors: 0}
  - name: b
    resilience:
      loadBalancer: {algorithm: round-robin, hashHeader: x-user}
  - name: c
    resilience:
      loadBalancer: {algorithm: fastest}
`,
			want: `p.yaml:10:26: spec.services[0].resilience.outlierDetection.consecutiveErrors: must be at least 1, got 0
p.yaml:13:46: spec.services[1].resilience.loadBalancer.hashHeader: only consistent-hash hashes on a header
p.yaml:16:22: spec.services[2].resilience.loadBalancer.algorithm: "fastest" is not one of round-robin, least-request, random, consistent-hash`,
		},
		{
			name: "ports",
			yaml: header + `spec:
  services:
  - name: a
    ports:
    - {name: http, port: 0, protocol: HTTP3}
    - {name: http, port: 80}
    - {port: 80}
`,
			want: `p.yaml:9:20: spec.services[0].ports[0].port: 0 is not a port number (1-65535)
p.yaml:9:29: spec.services[0].ports[0].protocol: "HTTP3" is not one of HTTP, HTTP2, GRPC, TCP
p.yaml:10:8: spec.services[0].ports[1].name: duplicate port name "http"
p.yaml:11:7: spec.services[0].ports[2].name: required when a service has more than one port
p.yaml:11:8: spec.services[0].ports[2].port: duplicate port 80`,
		},
		{
			name: "allow rules",
			yaml: header + `spec:
  services:
  - name: a
    security:
      mtls: strict
      allow:
      - from: {}
      - from:
          serviceAccounts: [ok, shop/ok, "a/b/c", Bad]
          namespaces: [Shop]
        methods: [get, FETCH]
        paths: [api, "/a/*/b", "/a/*"]
`,
			want: `p.yaml:9:7: spec.services[0].security.mtls: "strict" is not one of STRICT, PERMISSIVE, DISABLE
p.yaml:11:9: spec.services[0].security.allow[0].from: name serviceAccounts or namespaces to allow
p.yaml:13:42: spec.services[0].security.allow[1].from.serviceAccounts[2]: "a/b/c" is not a service account: "name" (in the pattern's namespace) or "namespace/name"
p.yaml:13:51: spec.services[0].security.allow[1].from.serviceAccounts[3]: "Bad" is not a service account: "name" (in the pattern's namespace) or "namespace/name"
p.yaml:14:24: spec.services[0].security.allow[1].from.namespaces[0]: "Shop" is not a DNS-1123 label: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')
p.yaml:15:19: spec.services[0].security.allow[1].methods[0]: "get" must be upper case: GET
p.yaml:15:24: spec.services[0].security.allow[1].methods[1]: "FETCH" is not an HTTP method (GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH)
p.yaml:16:17: spec.services[0].security.allow[1].paths[0]: "api" must start with "/"
p.yaml:16:22: spec.services[0].security.allow[1].paths[1]: "/a/*/b": "*" is allowed only at the end, as a prefix wildcard ("/api/*")`,
		},
		{
			name: "injection namespaces and raw objects",
			yaml: header + `spec:
  injection:
    namespaces: [shop, shop, Bad_NS]
  raw:
  - kind: ConfigMap
    metadata: {}
`,
			want: `p.yaml:7:24: spec.injection.namespaces[1]: duplicate namespace "shop"
p.yaml:7:30: spec.injection.namespaces[2]: "Bad_NS" is not a DNS-1123 label: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')
p.yaml:9:5: spec.raw[0].apiVersion: required
p.yaml:10:5: spec.raw[0].metadata.name: required`,
		},
		{
			name: "service names are DNS-1035 labels, generated Services fit",
			yaml: header + `spec:
  services:
  - name: 1reviews
  - name: a-service-with-a-rather-long-name-that-is-close-to-the-limit
    versions:
    - name: version-one
      labels: {v: "1"}
`,
			want: `p.yaml:7:5: spec.services[0].name: "1reviews" is not a valid Service name: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')
p.yaml:10:7: spec.services[1].versions[0].name: the generated Service a-service-with-a-rather-long-name-that-is-close-to-the-limit-version-one would be longer than 63 characters; name one with service`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := Load(strings.NewReader(tt.yaml), "p.yaml", LoadOptions{})
			if err != nil {
				if err.Error() == tt.want {
					return // a decoding error is the expected answer
				}
				t.Fatal(err)
			}
			err = Validate(ps[0])
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("Validate:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

// TestValidateInCode: a pattern built in code has no positions; errors
// name the field path only.
func TestValidateInCode(t *testing.T) {
	p := &Pattern{APIVersion: APIVersion, Kind: Kind, Metadata: Metadata{Name: "x"},
		Spec: Spec{Services: []Service{{Name: "a", Traffic: &Traffic{Routes: []Route{{Split: []Backend{{Version: "v1", Weight: 100}}}}}}}}}
	want := `spec.services[0].traffic.routes[0].split[0].version: unknown version "v1" in split; the service has no versions`
	if err := Validate(p); err == nil || err.Error() != want {
		t.Errorf("Validate: %v\nwant: %s", err, want)
	}
}

func TestTestdataPatterns(t *testing.T) {
	valid, _ := filepath.Glob("testdata/valid/*.yaml")
	invalid, _ := filepath.Glob("testdata/invalid/*.yaml")
	if len(valid) == 0 || len(invalid) == 0 {
		t.Fatal("no testdata patterns")
	}
	for _, path := range append(valid, invalid...) {
		t.Run(path, func(t *testing.T) {
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = f.Close() }()
			ps, err := Load(f, path, LoadOptions{})
			if err == nil {
				for _, p := range ps {
					if err = Validate(p); err != nil {
						break
					}
				}
			}
			isValid := strings.Contains(path, "/valid/")
			if isValid && err != nil {
				t.Errorf("want valid: %v", err)
			}
			if !isValid && err == nil {
				t.Error("want invalid, Load and Validate accepted it")
			}
		})
	}
}
