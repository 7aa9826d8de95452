// Package meshgen writes realistic Istio configurations of any size, for
// benchmarks of kubectl mesh check: namespaces of services, each with its
// Deployment, VirtualService and DestinationRule, plus gateways, service
// entries and security policies. Every tenth VirtualService routes to a
// subset nobody defines, so the policies have findings to report.
package meshgen

import (
	"fmt"
	"io"
)

// IstioObjectsPerNamespace is the number of Istio objects Write puts in each
// namespace: 20 VirtualServices, 20 DestinationRules, 4 ServiceEntries,
// 2 Gateways, 2 PeerAuthentications and 2 AuthorizationPolicies.
const IstioObjectsPerNamespace = 50

// Write writes namespaces*50 Istio objects and their Services, Deployments
// and Namespaces as one multi-document YAML stream.
func Write(w io.Writer, namespaces int) error {
	for n := range namespaces {
		if err := writeNamespace(w, fmt.Sprintf("team-%03d", n)); err != nil {
			return err
		}
	}
	return nil
}

func writeNamespace(w io.Writer, ns string) error {
	var err error // the first failed write (a file on a full disk): the rest are skipped
	p := func(format string, args ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format, args...)
		}
	}
	p("---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n  labels:\n    istio-injection: enabled\n", ns)
	for i := range 20 {
		app := fmt.Sprintf("svc-%02d", i)
		p(`---
apiVersion: v1
kind: Service
metadata:
  name: %[1]s
  namespace: %[2]s
spec:
  selector:
    app: %[1]s
  ports:
  - name: http
    port: 8080
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s-v1
  namespace: %[2]s
spec:
  selector:
    matchLabels:
      app: %[1]s
      version: v1
  template:
    metadata:
      labels:
        app: %[1]s
        version: v1
    spec:
      containers:
      - name: app
        image: example.com/%[1]s:1.0
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: %[1]s
  namespace: %[2]s
spec:
  host: %[1]s
  trafficPolicy:
    connectionPool:
      http:
        http1MaxPendingRequests: 100
  subsets:
  - name: v1
    labels:
      version: v1
`, app, ns)
		subset := "v1"
		if i%10 == 9 {
			subset = "v2" // defined nowhere
		}
		p(`---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: %[1]s
  namespace: %[2]s
spec:
  hosts:
  - %[1]s
  http:
  - match:
    - uri:
        prefix: /api
    route:
    - destination:
        host: %[1]s
        subset: %[3]s
      weight: 90
    - destination:
        host: %[1]s
        subset: v1
      weight: 10
    timeout: 3s
    retries:
      attempts: 2
      perTryTimeout: 1s
  - route:
    - destination:
        host: %[1]s
        subset: v1
    timeout: 5s
`, app, ns, subset)
	}
	for i := range 4 {
		p(`---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: external-%[1]d
  namespace: %[2]s
spec:
  hosts:
  - api-%[1]d.%[2]s.example.com
  location: MESH_EXTERNAL
  resolution: DNS
  ports:
  - number: 443
    name: tls
    protocol: TLS
`, i, ns)
	}
	for i := range 2 {
		p(`---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: gateway-%[1]d
  namespace: %[2]s
spec:
  selector:
    istio: ingressgateway
  servers:
  - port:
      number: 443
      name: https
      protocol: HTTPS
    hosts:
    - app-%[1]d.%[2]s.example.com
    tls:
      mode: SIMPLE
      credentialName: %[2]s-cert-%[1]d
`, i, ns)
		p(`---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: svc-%02[1]d
  namespace: %[2]s
spec:
  selector:
    matchLabels:
      app: svc-%02[1]d
  mtls:
    mode: STRICT
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: svc-%02[1]d
  namespace: %[2]s
spec:
  selector:
    matchLabels:
      app: svc-%02[1]d
  action: ALLOW
  rules:
  - from:
    - source:
        principals: ["cluster.local/ns/%[2]s/sa/frontend"]
    to:
    - operation:
        methods: ["GET"]
`, i, ns)
	}
	return err
}
