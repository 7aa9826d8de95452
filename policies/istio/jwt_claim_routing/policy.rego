# METADATA
# title: JWT claim routing with no gateway RequestAuthentication
# description: |
#   A VirtualService can match on JWT claims (headers named
#   @request.auth.claims.NAME) only where a RequestAuthentication validates
#   the token: the claims come from the validated JWT. When no
#   RequestAuthentication applies to the gateway workload, the claims are
#   never set, a headers match never succeeds and a withoutHeaders match
#   always does. A Gateway selecting istio=ingressgateway with no such
#   workload in the inventory is taken to run on the ingress gateway an
#   Istio install creates in istio-system.
# custom:
#   id: MESH1112
#   severity: warning
#   enforcement: warn
#   kinds: [networking.istio.io/VirtualService]
#   inventory: [networking.istio.io/Gateway, security.istio.io/RequestAuthentication, Pod, apps/Deployment, apps/StatefulSet, apps/DaemonSet, apps/ReplicaSet]
#   aliases: [IST0149]
#   remediation: |
#     Add a RequestAuthentication with the issuer's jwtRules that selects the
#     gateway workload: in the workload's namespace with a selector matching
#     its labels (or no selector for the whole namespace), or in the root
#     namespace istio-system. Add an AuthorizationPolicy requiring a
#     principal if requests without a token must be refused.
package mesh.istio.jwt_claim_routing

import data.mesh.lib.istio_traffic as traffic
import data.mesh.lib.k8s
import rego.v1

# The mesh root namespace (meshConfig.rootNamespace), where policies apply
# to workloads in every namespace.
root_namespace := "istio-system"

claim_header(key) if strings.any_prefix_match(lower(key), ["@request.auth.claims.", "@request.auth.claims["])

# [i, j, field, key, gateway refs] for every claim header in a match;
# the path is built only when reported.
claim_matches contains [i, j, field, key, refs] if {
	vs := k8s.subject
	some i, route in object.get(vs, ["spec", "http"], [])
	some j, match in object.get(route, "match", [])
	some field, headers in object.filter(match, ["headers", "withoutHeaders"])
	some key, _ in headers
	startswith(key, "@") # lower() keeps "@": most header matches stop here
	claim_header(key)
	refs := match_gateways(vs, match)
}

# A match's own gateways replace the VirtualService's; no gateways means mesh.
match_gateways(_, match) := match.gateways if count(object.get(match, "gateways", [])) > 0

match_gateways(vs, match) := object.get(vs, ["spec", "gateways"], ["mesh"]) if {
	count(object.get(match, "gateways", [])) == 0
}

# A gateway reference: "ns/name", a short name in the VirtualService's
# namespace, or the deprecated "name.ns.svc.cluster.local".
gateway_ref(ref, ns) := [parts[0], parts[1]] if {
	parts := split(ref, "/")
	count(parts) == 2
} else := [ns, ref] if {
	not contains(ref, "/")
	not contains(ref, ".")
} else := [labels[1], labels[0]] if {
	not contains(ref, "/")
	labels := split(ref, ".")
	count(labels) > 1
}

selector(gw) := s if {
	s := object.get(gw, ["spec", "selector"], {})
	s != null
} else := {}

# Pods and pod templates the Gateway configures, in any namespace; the
# default ingress gateway when nothing carries its labels and the selector
# fits them, as istioctl assumes it.
gateway_workloads(gw) := found if {
	found := {[ns, w] |
		some ns, _ in data.inventory.namespace
		some w in k8s.workloads(ns)
		k8s.labels_match(selector(gw), w.labels)
	}
	count(found) > 0
} else := {[traffic.default_ingress_namespace, default_ingress]} if {
	k8s.labels_match(selector(gw), traffic.default_ingress_labels)
}

default_ingress := {"kind": "Deployment", "name": "istio-ingressgateway (assumed)", "labels": traffic.default_ingress_labels}

match_labels(ra) := l if {
	l := object.get(ra, ["spec", "selector", "matchLabels"], {})
	l != null
} else := {}

# A RequestAuthentication applies to a workload by selector (none selects
# the whole namespace) or, with targetRefs, to the Gateway it names.
applies(ra, _, labels) if {
	count(traffic.target_refs(ra)) == 0
	k8s.labels_match(match_labels(ra), labels)
}

applies(ra, ns, labels) if {
	ra.metadata.namespace == ns
	some ref in traffic.target_refs(ra)
	ref.kind == "Gateway"
	labels["gateway.networking.k8s.io/gateway-name"] == ref.name
}

authenticated(ns, labels) if {
	some ra_ns in {ns, root_namespace}
	some ra in k8s.namespaced(ra_ns, "security.istio.io", "RequestAuthentication")
	applies(ra, ns, labels)
}

listing(names) := concat(", ", names) if count(names) <= 3

listing(names) := sprintf("%s and %d more", [concat(", ", array.slice(names, 0, 3)), count(names) - 3]) if count(names) > 3

# Each distinct gateway a claim match routes through, resolved once: its
# namespace, name and the workloads no RequestAuthentication applies to.
unauthenticated[ref] := [gw_ns, gw_name, bare] if {
	some [_, _, _, _, refs] in claim_matches
	some ref in refs
	ref != "mesh"
	[gw_ns, gw_name] := gateway_ref(ref, k8s.namespace)
	gw := k8s.get(gw_ns, "networking.istio.io", "Gateway", gw_name)
	# An empty selector picks every gateway proxy; which pods those are is unknown.
	count(selector(gw)) > 0
	bare := sort([sprintf("%s %s/%s", [w.kind, ns, w.name]) |
		some [ns, w] in gateway_workloads(gw)
		not authenticated(ns, w.labels)
	])
	count(bare) > 0
}

violation contains {"msg": msg} if {
	some [i, j, field, key, refs] in claim_matches
	some ref in refs
	[gw_ns, gw_name, bare] := unauthenticated[ref]
	msg := sprintf(
		"spec.http[%d].match[%d].%s routes on JWT claim %q through Gateway %s/%s, but no RequestAuthentication applies to its workload (%s); the claim is never set, so the match cannot work",
		[i, j, field, key, gw_ns, gw_name, listing(bare)],
	)
}
