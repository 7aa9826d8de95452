package mesh.istio.service_port_protocol_test

import data.mesh.istio.service_port_protocol
import rego.v1

service(ns, ports) := {
	"apiVersion": "v1", "kind": "Service",
	"metadata": {"name": "reviews", "namespace": ns, "labels": {"app": "reviews"}},
	"spec": {"selector": {"app": "reviews"}, "ports": ports},
}

review(svc) := {"review": {"namespace": svc.metadata.namespace, "operation": "CREATE", "object": svc}}

namespace(name, labels) := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}

inventory(namespaces) := {"cluster": {"v1": {"Namespace": {n.metadata.name: n | some n in namespaces}}}}

injected := inventory([namespace("shop", {"istio-injection": "enabled"})])

installed := inventory([namespace("istio-system", {})])

test_protocol_names_allowed if {
	svc := service("shop", [
		{"name": "http", "port": 80},
		{"name": "http-web", "port": 8080},
		{"name": "grpc-web-api", "port": 8081},
		{"name": "grpc-web", "port": 8082},
		{"name": "https-admin", "port": 8443},
		{"name": "tcp-db", "port": 5432},
		{"name": "redis", "port": 6379},
		{"name": "HTTP2-upper", "port": 8083},
	])
	count(service_port_protocol.violation) == 0 with input as review(svc) with data.inventory as injected
}

test_app_protocol_allowed if {
	svc := service("shop", [
		{"name": "web", "port": 8080, "appProtocol": "http"},
		{"name": "h2c", "port": 8081, "appProtocol": "kubernetes.io/h2c"},
	])
	count(service_port_protocol.violation) == 0 with input as review(svc) with data.inventory as injected
}

test_unknown_name_denied if {
	svc := service("shop", [{"name": "http", "port": 80}, {"name": "metrics", "port": 9090, "targetPort": 9090}])
	v := service_port_protocol.violation with input as review(svc) with data.inventory as injected
	v == {{"msg": `spec.ports[1].name "metrics" (port 9090) does not start with a protocol Istio knows and the port has no appProtocol: Istio falls back to protocol detection`}}
}

test_suffix_without_dash_denied if {
	svc := service("shop", [{"name": "http2foo", "port": 8080}])
	count(service_port_protocol.violation) == 1 with input as review(svc) with data.inventory as injected
}

test_unnamed_port_denied if {
	svc := service("shop", [{"port": 8080, "targetPort": 8080}])
	v := service_port_protocol.violation with input as review(svc) with data.inventory as injected
	v == {{"msg": "spec.ports[0] (port 8080) has no name and no appProtocol: Istio cannot tell its protocol and falls back to protocol detection"}}
}

test_udp_and_well_known_ports_not_checked if {
	svc := service("shop", [
		{"name": "dns", "port": 53, "protocol": "UDP"},
		{"name": "syslog", "port": 514, "protocol": "UDP"},
		{"name": "db", "port": 3306},
		{"name": "smtp", "port": 25},
	])
	count(service_port_protocol.violation) == 0 with input as review(svc) with data.inventory as injected
}

test_system_namespace_not_checked if {
	svc := service("kube-system", [{"name": "metrics", "port": 9153}])
	count(service_port_protocol.violation) == 0 with input as review(svc) with data.inventory as installed
}

test_opted_out_namespace_not_checked if {
	svc := service("legacy", [{"name": "web", "port": 8080}])
	inv := inventory([namespace("legacy", {"istio-injection": "disabled"}), namespace("istio-system", {})])
	count(service_port_protocol.violation) == 0 with input as review(svc) with data.inventory as inv
}

test_unlabelled_namespace_checked_when_istio_is_installed if {
	svc := service("monitoring", [{"name": "web", "port": 8080}])
	count(service_port_protocol.violation) == 1 with input as review(svc)
		with data.inventory as inventory([namespace("monitoring", {}), namespace("istio-system", {})])
}

test_checked_without_any_mesh if {
	# istioctl reads Services as if Istio ran: so does the policy, unless
	# another mesh shows.
	svc := service("monitoring", [{"name": "web", "port": 8080}])
	count(service_port_protocol.violation) == 1 with input as review(svc)
		with data.inventory as inventory([namespace("monitoring", {})])
	count(service_port_protocol.violation) == 1 with input as review(svc) with data.inventory as {}
}

test_not_checked_in_another_mesh if {
	svc := service("monitoring", [{"name": "web", "port": 8080}])
	count(service_port_protocol.violation) == 0 with input as review(svc)
		with data.inventory as inventory([namespace("monitoring", {}), namespace("linkerd", {})])
	linkerd_ns := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "monitoring", "annotations": {"linkerd.io/inject": "enabled"}}}
	count(service_port_protocol.violation) == 0 with input as review(svc) with data.inventory as inventory([linkerd_ns])
}

test_external_name_left_to_mesh1209 if {
	svc := json.patch(service("shop", [{"name": "web", "port": 8080}]), [{"op": "add", "path": "/spec/type", "value": "ExternalName"}])
	count(service_port_protocol.violation) == 0 with input as review(svc) with data.inventory as injected
}

test_revision_label_shows_istio if {
	svc := service("shop", [{"name": "web", "port": 8080}])
	count(service_port_protocol.violation) == 1 with input as review(svc)
		with data.inventory as inventory([namespace("shop", {"istio.io/rev": "1-24-2"})])
}

test_istio_control_plane_not_checked if {
	svc := json.patch(service("istio-system", [{"name": "status-port", "port": 15021}]), [{"op": "replace", "path": "/metadata/labels", "value": {"istio": "ingressgateway", "app": "istio-ingressgateway"}}])
	count(service_port_protocol.violation) == 0 with input as review(svc) with data.inventory as installed
	release := json.patch(svc, [{"op": "replace", "path": "/metadata/labels", "value": {"release": "istio"}}])
	count(service_port_protocol.violation) == 0 with input as review(release) with data.inventory as installed
	other := json.patch(svc, [{"op": "replace", "path": "/metadata/labels", "value": {"app": "status"}}])
	count(service_port_protocol.violation) == 1 with input as review(other) with data.inventory as installed
}

test_null_ports_tolerated if {
	svc := json.patch(service("shop", []), [{"op": "replace", "path": "/spec/ports", "value": null}])
	count(service_port_protocol.violation) == 0 with input as review(svc) with data.inventory as injected
}

test_istio_resource_in_namespace_shows_istio if {
	svc := service("shop", [{"name": "web", "port": 8080}])
	inv := {"namespace": {"shop": {"networking.istio.io/v1": {"DestinationRule": {"reviews": {
		"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
		"metadata": {"name": "reviews", "namespace": "shop"}, "spec": {"host": "reviews"},
	}}}}}}
	count(service_port_protocol.violation) == 1 with input as review(svc) with data.inventory as inv
}
