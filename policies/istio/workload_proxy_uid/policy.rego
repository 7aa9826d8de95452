# METADATA
# title: Application runs as the Istio proxy's user ID 1337
# description: |
#   The sidecar's iptables rules let traffic of user ID 1337 (the
#   istio-proxy user) leave the pod unredirected, so the proxy's own
#   connections do not loop back into it. An application container running
#   as 1337 (runAsUser in the pod's or the container's securityContext)
#   bypasses its sidecar: its outbound traffic gets no mTLS, routing,
#   policy or telemetry. Istio's own workloads are not judged.
# custom:
#   id: MESH1216
#   severity: error
#   enforcement: warn
#   kinds: [Pod, apps/Deployment, apps/StatefulSet, apps/DaemonSet, batch/Job]
#   aliases: [IST0144]
#   remediation: |
#     Run the application as another user ID (runAsUser), in the pod's and
#     every container's securityContext.
package mesh.istio.workload_proxy_uid

import data.mesh.lib.k8s
import rego.v1

proxy_uid := 1337

# Where the pod spec is, and how paths into it are written.
pod_spec := [k8s.subject.spec, "spec"] if k8s.subject.kind == "Pod"
else := [k8s.subject.spec.template.spec, "spec.template.spec"]

istio_component if k8s.subject.metadata.labels.istio
else if k8s.subject.metadata.labels.release == "istio"

violation contains {"msg": msg} if {
	[spec, path] := pod_spec
	spec.securityContext.runAsUser == proxy_uid
	not istio_component
	msg := sprintf("%s.securityContext.runAsUser is 1337, the Istio proxy's user ID: the application's outbound traffic bypasses its sidecar", [path])
}

violation contains {"msg": msg} if {
	[spec, path] := pod_spec
	some i, c in object.get(spec, "containers", [])
	not c.name in {"istio-proxy", "istio-operator"}
	c.securityContext.runAsUser == proxy_uid
	not istio_component
	msg := sprintf("%s.containers[%d] (%s) securityContext.runAsUser is 1337, the Istio proxy's user ID: its outbound traffic bypasses the sidecar", [path, i, c.name])
}
