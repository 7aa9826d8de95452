# METADATA
# title: DestinationRule host has no Service or ServiceEntry
# description: |
#   A DestinationRule applies to the service its host names. When no
#   Kubernetes Service and no ServiceEntry defines that host, its traffic
#   policy, TLS settings and subsets apply to nothing, and routes to its
#   subsets fail. Short names resolve in the DestinationRule's namespace;
#   wildcard hosts are not checked.
# custom:
#   id: MESH1108
#   severity: warning
#   enforcement: warn
#   kinds: [networking.istio.io/DestinationRule]
#   inventory: [Service, networking.istio.io/ServiceEntry]
#   aliases: [IST0174, KIA0202]
#   remediation: |
#     Fix the host name (use <service>.<namespace>.svc.cluster.local for a
#     Service in another namespace), create the Service, or add a
#     ServiceEntry for a host outside the mesh.
package mesh.istio.destinationrule_host

import data.mesh.lib.istio
import data.mesh.lib.k8s
import rego.v1

violation contains {"msg": msg} if {
	host := k8s.subject.spec.host
	is_string(host)
	host != ""
	not contains(host, "*")
	not istio.known_host(host, k8s.namespace)
	msg := sprintf("spec.host %q matches no Service or ServiceEntry (resolved as %q)%s", [host, istio.fqdn(host, k8s.namespace), hint(host)])
}

# "reviews.bookinfo" is taken as written, not as a Service: say so when
# <name>.<namespace>.svc.cluster.local exists.
hint(host) := sprintf("; Istio does not expand %q, write %s.svc.cluster.local", [host, host]) if {
	parts := split(host, ".")
	count(parts) == 2
	k8s.service(parts[1], parts[0])
} else := ""
