# METADATA
# title: VirtualService names a Gateway that does not exist
# description: |
#   A VirtualService binds to Istio Gateways through spec.gateways and, per
#   route, match[].gateways. A name that resolves to no Gateway binds to
#   nothing: the routes are never served by the gateway they were written
#   for, and clients get 404s from it.
# custom:
#   id: MESH1103
#   severity: error
#   enforcement: warn
#   kinds: [networking.istio.io/VirtualService]
#   inventory: [networking.istio.io/Gateway]
#   aliases: [IST0101, KIA1102]
#   remediation: |
#     Name an existing networking.istio.io Gateway as <namespace>/<name>; a
#     bare name means a Gateway in the VirtualService's own namespace. Use
#     the reserved name "mesh" for sidecars.
package mesh.istio.virtualservice_gateway

import data.mesh.lib.istio_traffic as traffic
import data.mesh.lib.k8s
import rego.v1

# Every gateway reference with where it is.
references(vs) := {{"ref": ref, "path": sprintf("spec.gateways[%d]", [i])} |
	some i, ref in traffic.gateways(vs)
} | {{"ref": ref, "path": sprintf("spec.%s[%d].match[%d].gateways[%d]", [kind, i, j, k])} |
	some kind in ["http", "tls", "tcp"]
	some i, route in object.get(vs, ["spec", kind], [])
	some j, match in object.get(route, "match", [])
	some k, ref in object.get(match, "gateways", [])
}

violation contains {"msg": msg} if {
	some r in references(k8s.subject)
	r.ref != "mesh"
	not generated_in_spec_gateways(r) # MESH1117
	gw := traffic.gateway_ref(r.ref, k8s.namespace)
	not k8s.get(gw.namespace, "networking.istio.io", "Gateway", gw.name)
	msg := sprintf("%s: gateway %q not found (no Gateway %s in namespace %s)%s", [r.path, r.ref, gw.name, gw.namespace, hint(r.ref)])
}

generated_in_spec_gateways(r) if {
	startswith(r.path, "spec.gateways")
	traffic.internal_gateway(r.ref)
}

# istiod reads a bare name with dots as the legacy <name>.<namespace>[...]
# form, so a Gateway whose own name has dots must be named <namespace>/<name>.
hint(ref) := sprintf("; istiod reads a dotted name as <name>.<namespace>, write %s/%s", [k8s.namespace, ref]) if {
	not contains(ref, "/")
	contains(ref, ".")
	k8s.get(k8s.namespace, "networking.istio.io", "Gateway", ref)
} else := ""
