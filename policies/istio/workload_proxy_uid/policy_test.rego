package mesh.istio.workload_proxy_uid_test

import data.mesh.istio.workload_proxy_uid
import rego.v1

deployment(pod_spec) := {"review": {"namespace": "shop", "operation": "CREATE", "object": {
	"apiVersion": "apps/v1", "kind": "Deployment",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {"template": {"spec": pod_spec}},
}}}

test_other_uid_allowed if {
	count(workload_proxy_uid.violation) == 0 with input as deployment({"securityContext": {"runAsUser": 1000}, "containers": [{"name": "web"}]})
}

test_proxy_container_allowed if {
	count(workload_proxy_uid.violation) == 0 with input as deployment({"containers": [{"name": "istio-proxy", "securityContext": {"runAsUser": 1337}}]})
}

test_pod_level_denied if {
	v := workload_proxy_uid.violation with input as deployment({"securityContext": {"runAsUser": 1337}, "containers": [{"name": "web"}]})
	v == {{"msg": "spec.template.spec.securityContext.runAsUser is 1337, the Istio proxy's user ID: the application's outbound traffic bypasses its sidecar"}}
}

test_container_level_on_pod_denied if {
	pod := {"review": {"namespace": "shop", "operation": "CREATE", "object": {
		"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "shop"},
		"spec": {"containers": [{"name": "web", "securityContext": {"runAsUser": 1337}}]},
	}}}
	v := workload_proxy_uid.violation with input as pod
	v == {{"msg": "spec.containers[0] (web) securityContext.runAsUser is 1337, the Istio proxy's user ID: its outbound traffic bypasses the sidecar"}}
}
