# METADATA
# title: DestinationRule subset selects no pods
# description: |
#   A subset is the endpoints of the DestinationRule's host that carry the
#   subset's labels: for a Kubernetes Service, its selected pods; for a
#   ServiceEntry, the workloads of its workloadSelector or its endpoints.
#   A subset whose labels match none of them has no endpoint, and requests
#   routed to it fail with 503 (UH, no healthy upstream). Hosts whose
#   workloads are not in view (no pod or pod template matches the Service
#   selector) are not judged, nor are labels Istio takes from the node or
#   the injector (topology.*, kubernetes.io/hostname, security.istio.io/*,
#   service.istio.io/*), except a node label required with an empty value,
#   which Istio never sets.
# custom:
#   id: MESH1107
#   severity: warning
#   enforcement: warn
#   kinds: [networking.istio.io/DestinationRule]
#   inventory: [Service, networking.istio.io/ServiceEntry, networking.istio.io/WorkloadEntry, Pod, apps/Deployment, apps/StatefulSet, apps/DaemonSet, apps/ReplicaSet, batch/Job, batch/CronJob]
#   needs: [Pod|apps/Deployment|apps/StatefulSet|apps/DaemonSet|apps/ReplicaSet|batch/Job|batch/CronJob]
#   aliases: [IST0173, KIA0203]
#   remediation: |
#     Fix the subset's labels to those of the pods it is meant for (usually
#     the version label of one Deployment's pod template), deploy that
#     version, or remove the subset and the routes to it.
package mesh.istio.destinationrule_subset_pods

import data.mesh.lib.istio_traffic as traffic
import data.mesh.lib.k8s
import rego.v1

violation contains {"msg": msg} if {
	dr := k8s.subject
	not contains(dr.spec.host, "*")
	bs := backends(traffic.fqdn(dr.spec.host, k8s.namespace))
	count(bs) > 0
	some i, subset in object.get(dr, ["spec", "subsets"], [])
	labels := judged_labels(object.get(subset, "labels", {}))
	count(labels) > 0
	not empty_node_label(subset)
	every b in bs {
		count(b.label_sets) > 0
		not selects(labels, b.label_sets)
	}
	sets := {l | some b in bs; some l in b.label_sets}
	msg := sprintf("spec.subsets[%d] %q: labels %s select none of the workloads behind %s%s", [
		i, subset.name, traffic.format_labels(labels),
		concat(", ", sort({b.what | some b in bs})), carried(labels, sets),
	])
}

selects(labels, sets) if {
	some l in sets
	k8s.labels_match(labels, l)
}

# Labels that endpoints get from their node or from sidecar injection, which
# pod templates do not show.
added_label(k) if k == "kubernetes.io/hostname"
else if strings.any_prefix_match(k, ["topology.kubernetes.io/", "topology.istio.io/", "failure-domain.beta.kubernetes.io/", "security.istio.io/", "service.istio.io/"])

judged_labels(labels) := {k: v | some k, v in labels; not added_label(k)}

# Istio adds the node's topology labels to an endpoint only when they have
# a value: a subset asking for an empty one selects nothing.
empty_node_label(subset) if {
	some k, v in object.get(subset, "labels", {})
	v == ""
	added_label(k)
}

violation contains {"msg": msg} if {
	dr := k8s.subject
	some i, subset in object.get(dr, ["spec", "subsets"], [])
	some k, v in object.get(subset, "labels", {})
	v == ""
	added_label(k)
	msg := sprintf("spec.subsets[%d] %q: label %s is required to be empty, but Istio sets it on endpoints only from a node label with a value: the subset selects no endpoint", [i, subset.name, k])
}

# What the workloads carry for the subset's keys, to show the near miss.
carried(labels, sets) := sprintf(" (they carry %s)", [concat(", ", sort(values))]) if {
	values := {sprintf("%s=%s", [k, l[k]]) | some k, _ in labels; some l in sets; l[k]}
	count(values) > 0
} else := sprintf(" (none has label %s)", [concat(", ", sort(object.keys(labels)))])

# Where the endpoints of an FQDN come from, as {"what", "label_sets"}. An
# empty label_sets means "not in view": nothing is judged then.
# One else-chain: OPA evaluates every body of a multi-body function.
backends(name) := {service_backend(svc, ref[1])} if {
	ref := traffic.kube_name(name)
	svc := k8s.service(ref[1], ref[0])
} else := {entry_backend(se) | some se in traffic.service_entries_for(name)}

service_backend(svc, ns) := {"what": sprintf("Service %s/%s", [ns, svc.metadata.name]), "label_sets": label_sets} if {
	selector := object.get(svc, ["spec", "selector"], {})
	count(selector) > 0
	label_sets := traffic.selected_label_sets(ns, selector)
} else := {"what": sprintf("Service %s/%s", [ns, svc.metadata.name]), "label_sets": set()}

entry_backend(se) := {"what": sprintf("ServiceEntry %s/%s", [se.namespace, se.name]), "label_sets": entry_label_sets(se)}

entry_label_sets(se) := traffic.selected_label_sets(se.namespace, selector) | traffic.selected_workload_entry_label_sets(se.namespace, selector) if {
	selector := object.get(se.object, ["spec", "workloadSelector", "labels"], {})
	count(selector) > 0
} else := {object.get(e, "labels", {}) | some e in object.get(se.object, ["spec", "endpoints"], [])}
