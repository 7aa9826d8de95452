# METADATA
# title: AuthorizationPolicy allows every request
# description: |
#   An ALLOW AuthorizationPolicy (action ALLOW or no action) with an empty
#   rule ({}, or a rule whose from, to and when are all empty) matches every
#   request, so it allows all traffic to the workloads it applies to. ALLOW
#   policies add up: every other ALLOW policy on those workloads stops
#   restricting anything, and only DENY (and CUSTOM) policies still apply.
#   Note that a policy with no rules at all (spec {}) is the opposite: it
#   allows nothing. Ingress and egress gateways are not reported (selector
#   label istio or gateway.networking.k8s.io/gateway-name, or targetRefs to a
#   Gateway that is not an istio-waypoint): accepting every request is what
#   they are for.
# custom:
#   id: MESH1303
#   severity: error
#   enforcement: warn
#   kinds: [security.istio.io/AuthorizationPolicy]
#   inventory: [gateway.networking.k8s.io/Gateway]
#   remediation: |
#     Replace the empty rule with rules that name the allowed sources
#     (from.source.principals or namespaces) and operations (to.operation).
#     If the workload really is public, record it with the annotation
#     kubectl-mesh.io/suppress: MESH1303.
package mesh.istio.authorizationpolicy_allow_all

import data.mesh.lib.istio_config
import data.mesh.lib.istio_traffic as traffic
import data.mesh.lib.k8s
import rego.v1

root_namespace := istio_config.root_namespace

ap := k8s.subject

allow if object.get(ap, ["spec", "action"], "ALLOW") == "ALLOW"

# A rule field with nothing in it constrains nothing.
empty_field(rule, field) if not rule[field]
else if rule[field] == null
else if rule[field] == []

empty_rule(rule) if {
	is_object(rule)
	every field in ["from", "to", "when"] {
		empty_field(rule, field)
	}
}

match_labels := l if {
	l := ap.spec.selector.matchLabels
	is_object(l)
} else := {}

target_refs := traffic.target_refs(ap)

# Gateways, other than waypoints, exist to accept requests from anywhere.
waypoint(name) if {
	gw := k8s.get(k8s.namespace, "gateway.networking.k8s.io", "Gateway", name)
	gw.spec.gatewayClassName == "istio-waypoint"
}

for_gateway if match_labels.istio

for_gateway if {
	name := match_labels["gateway.networking.k8s.io/gateway-name"]
	not waypoint(name)
}

for_gateway if {
	count(target_refs) > 0
	every ref in target_refs {
		ref.kind == "Gateway"
		not waypoint(ref.name)
	}
}

show_labels(labels) := concat(",", sort([sprintf("%s=%s", [k, v]) | some k, v in labels]))

scope := sprintf("the targets %s", [concat(", ", sort([sprintf("%s/%s", [ref.kind, ref.name]) | some ref in target_refs]))]) if count(target_refs) > 0

scope := sprintf("workloads with labels %s in every namespace", [show_labels(match_labels)]) if {
	count(target_refs) == 0
	count(match_labels) > 0
	k8s.namespace == root_namespace
}

scope := sprintf("workloads with labels %s", [show_labels(match_labels)]) if {
	count(target_refs) == 0
	count(match_labels) > 0
	k8s.namespace != root_namespace
}

scope := "every workload in the mesh" if {
	count(target_refs) == 0
	count(match_labels) == 0
	k8s.namespace == root_namespace
}

scope := sprintf("every workload in namespace %q", [k8s.namespace]) if {
	count(target_refs) == 0
	count(match_labels) == 0
	k8s.namespace != root_namespace
}

violation contains {"msg": msg} if {
	some i, rule in object.get(ap, ["spec", "rules"], [])
	empty_rule(rule) # cheapest test first: most rules say who or what
	allow
	not for_gateway
	msg := sprintf("spec.rules[%d] is empty and matches every request: this ALLOW policy lets every request reach %s unless a DENY policy rejects it", [i, scope])
}
