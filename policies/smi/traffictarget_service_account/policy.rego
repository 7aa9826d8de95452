# METADATA
# title: TrafficTarget names a ServiceAccount that does not exist
# description: |
#   SMI access control identifies workloads by ServiceAccount: a
#   TrafficTarget lets the pods running as its sources' ServiceAccounts call
#   the pods running as its destination's. A ServiceAccount that does not
#   exist matches no pod, so the intended traffic stays denied.
# custom:
#   id: MESH3004
#   severity: warning
#   enforcement: warn
#   kinds: [access.smi-spec.io/TrafficTarget]
#   inventory: [ServiceAccount]
#   remediation: |
#     Create the ServiceAccount and run the workload as it, or fix the name
#     and namespace in spec.destination or spec.sources[]; without a
#     namespace the TrafficTarget's own is used.
package mesh.smi.traffictarget_service_account

import data.mesh.lib.k8s
import rego.v1

# Every subject of the TrafficTarget with where it is.
subjects contains ["spec.destination", k8s.subject.spec.destination]

subjects contains [sprintf("spec.sources[%d]", [i]), source] if {
	some i, source in k8s.subject.spec.sources
}

violation contains {"msg": msg} if {
	some [path, subject] in subjects
	object.get(subject, "kind", "ServiceAccount") == "ServiceAccount"
	ns := object.get(subject, "namespace", k8s.namespace)

	# Kubernetes creates the default ServiceAccount in every namespace.
	subject.name != "default"
	not k8s.get(ns, "", "ServiceAccount", subject.name)
	msg := sprintf("%s: ServiceAccount %q does not exist in namespace %q", [path, subject.name, ns])
}
