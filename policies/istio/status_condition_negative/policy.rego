# METADATA
# title: istiod reports a negative status condition
# description: |
#   istiod writes what it did with a resource into its status: a Service,
#   ServiceEntry or WorkloadEntry not bound to its waypoint
#   (istio.io/WaypointBound False), an AuthorizationPolicy ztunnel or the
#   waypoint does not accept (ZtunnelAccepted or WaypointAccepted False, or
#   WaypointAccepted with reason PartiallyInvalid), a Gateway API Gateway
#   or route not Accepted, not Programmed or with unresolved references
#   (ResolvedRefs False). The resource then does not do what it says.
#   Conditions other controllers write (Argo CD's, another Gateway API
#   implementation's by its controllerName or gatewayClassName) are not
#   judged.
# custom:
#   id: MESH1215
#   severity: warning
#   enforcement: audit
#   kinds: [Service, networking.istio.io/ServiceEntry, networking.istio.io/WorkloadEntry, security.istio.io/AuthorizationPolicy, gateway.networking.k8s.io/Gateway, gateway.networking.k8s.io/HTTPRoute, gateway.networking.k8s.io/GRPCRoute]
#   requires:
#     fields: [status]
#   aliases: [IST0171]
#   remediation: |
#     Read the condition's reason and message (kubectl get -o yaml) and fix
#     what they name: deploy the waypoint, use what ztunnel supports, fix the
#     reference.
package mesh.istio.status_condition_negative

import data.mesh.lib.k8s
import rego.v1

# The condition types istiod sets to False when something is wrong, by kind.
negative := {
	"Service": {"istio.io/WaypointBound"},
	"ServiceEntry": {"istio.io/WaypointBound"},
	"WorkloadEntry": {"istio.io/WaypointBound"},
	"AuthorizationPolicy": {"ZtunnelAccepted", "WaypointAccepted"},
	"Gateway": {"Accepted", "Programmed", "ResolvedRefs"},
	"HTTPRoute": {"Accepted", "Programmed", "ResolvedRefs"},
	"GRPCRoute": {"Accepted", "Programmed", "ResolvedRefs"},
}

# Istio Gateways (networking.istio.io) have no conditions of this kind;
# a Gateway API Gateway of another class is another controller's.
gateway_api if k8s.subject.kind != "Gateway"
else if {
	startswith(k8s.subject.apiVersion, "gateway.networking.k8s.io/")
	startswith(object.get(k8s.subject, ["spec", "gatewayClassName"], "istio"), "istio")
}

# A route's parent status written by another controller (its
# controllerName says which) is not istiod's.
istio_controller(parent) if not parent.controllerName
else if startswith(parent.controllerName, "istio.io/")

conditions contains ["status.conditions", i, c] if {
	some i, c in object.get(k8s.subject, ["status", "conditions"], [])
}

conditions contains [sprintf("status.parents[%d].conditions", [p]), i, c] if {
	some p, parent in object.get(k8s.subject, ["status", "parents"], [])
	istio_controller(parent)
	some i, c in object.get(parent, "conditions", [])
}

reported(c) if {
	c.type in negative[k8s.subject.kind]
	c.status == "False"
}

reported(c) if {
	k8s.subject.kind == "AuthorizationPolicy"
	c.type == "WaypointAccepted"
	c.reason == "PartiallyInvalid"
}

violation contains {"msg": msg} if {
	gateway_api
	some [path, i, c] in conditions
	reported(c)
	msg := sprintf("%s[%d]: %s is %s (%s): %s", [path, i, c.type, c.status, object.get(c, "reason", ""), object.get(c, "message", "")])
}
