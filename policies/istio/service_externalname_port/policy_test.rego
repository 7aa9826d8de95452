package mesh.istio.service_externalname_port_test

import data.mesh.istio.service_externalname_port
import rego.v1

service(ports) := {"review": {"namespace": "shop", "operation": "CREATE", "object": {
	"apiVersion": "v1", "kind": "Service",
	"metadata": {"name": "payments", "namespace": "shop"},
	"spec": {"type": "ExternalName", "externalName": "api.payments.example", "ports": ports},
}}}

test_protocol_names_allowed if {
	count(service_externalname_port.violation) == 0 with input as service([{"name": "https", "port": 443}, {"name": "http-web", "port": 80}])
	count(service_externalname_port.violation) == 0 with input as service([{"name": "api", "port": 443, "appProtocol": "https"}])
}

test_unnamed_port_denied if {
	v := service_externalname_port.violation with input as service([{"port": 443, "protocol": "TCP"}])
	v == {{"msg": `spec.ports[0] (unnamed) (port 443) of an ExternalName Service is served as opaque TCP to "api.payments.example": name the port for its protocol (https, http, tls, grpc) or set appProtocol`}}
}

test_tcp_and_unknown_names_denied if {
	v := service_externalname_port.violation with input as service([{"name": "tcp", "port": 443}, {"name": "nginx", "port": 8443}])
	v == {
		{"msg": `spec.ports[0].name "tcp" (port 443) of an ExternalName Service is served as opaque TCP to "api.payments.example": name the port for its protocol (https, http, tls, grpc) or set appProtocol`},
		{"msg": `spec.ports[1].name "nginx" (port 8443) of an ExternalName Service is served as opaque TCP to "api.payments.example": name the port for its protocol (https, http, tls, grpc) or set appProtocol`},
	}
}

test_other_service_types_not_checked if {
	svc := json.patch(service([{"port": 443}]), [{"op": "replace", "path": "/review/object/spec/type", "value": "ClusterIP"}])
	count(service_externalname_port.violation) == 0 with input as svc
}

test_other_mesh_not_checked if {
	count(service_externalname_port.violation) == 0 with input as service([{"port": 443}])
		with data.inventory as {"cluster": {"v1": {"Namespace": {"linkerd": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "linkerd"}}}}}}
}
