package mesh.istio.status_condition_negative_test

import data.mesh.istio.status_condition_negative
import rego.v1

review(api_version, kind, status) := {"review": {"namespace": "shop", "operation": "CREATE", "object": {
	"apiVersion": api_version, "kind": kind,
	"metadata": {"name": "x", "namespace": "shop"},
	"status": status,
}}}

condition(type, status, reason) := {"type": type, "status": status, "reason": reason, "message": "m"}

test_positive_conditions_allowed if {
	count(status_condition_negative.violation) == 0 with input as review("v1", "Service", {"conditions": [condition("istio.io/WaypointBound", "True", "Bound")]})
	count(status_condition_negative.violation) == 0 with input as review("gateway.networking.k8s.io/v1", "Gateway", {"conditions": [condition("Programmed", "True", "Programmed")]})
}

test_other_controllers_ignored if {
	count(status_condition_negative.violation) == 0 with input as review("v1", "Service", {"conditions": [condition("argocd.argoproj.io/Synced", "False", "OutOfSync")]})
	envoy := {"parents": [{"controllerName": "gateway.envoyproxy.io/gatewayclass-controller", "conditions": [condition("Accepted", "False", "NotAllowedByListeners")]}]}
	count(status_condition_negative.violation) == 0 with input as review("gateway.networking.k8s.io/v1", "HTTPRoute", envoy)
	other_class := json.patch(review("gateway.networking.k8s.io/v1", "Gateway", {"conditions": [condition("Programmed", "False", "Invalid")]}), [{"op": "add", "path": "/review/object/spec", "value": {"gatewayClassName": "eg"}}])
	count(status_condition_negative.violation) == 0 with input as other_class
	istio := {"parents": [{"controllerName": "istio.io/gateway-controller", "conditions": [condition("Accepted", "False", "NotAllowedByListeners")]}]}
	count(status_condition_negative.violation) == 1 with input as review("gateway.networking.k8s.io/v1", "HTTPRoute", istio)
}

test_waypoint_not_bound_denied if {
	v := status_condition_negative.violation with input as review("v1", "Service", {"conditions": [condition("istio.io/WaypointBound", "False", "NoWaypoint")]})
	v == {{"msg": "status.conditions[0]: istio.io/WaypointBound is False (NoWaypoint): m"}}
}

test_route_parent_denied if {
	v := status_condition_negative.violation with input as review("gateway.networking.k8s.io/v1", "HTTPRoute", {"parents": [{"conditions": [condition("Accepted", "False", "NotAllowedByListeners")]}]})
	v == {{"msg": "status.parents[0].conditions[0]: Accepted is False (NotAllowedByListeners): m"}}
}

test_partially_invalid_denied if {
	count(status_condition_negative.violation) == 1 with input as review("security.istio.io/v1", "AuthorizationPolicy", {"conditions": [condition("WaypointAccepted", "True", "PartiallyInvalid")]})
}

test_istio_gateway_ignored if {
	count(status_condition_negative.violation) == 0 with input as review("networking.istio.io/v1", "Gateway", {"conditions": [condition("Accepted", "False", "x")]})
}
