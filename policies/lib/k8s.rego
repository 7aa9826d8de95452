# METADATA
# title: Kubernetes helpers
# description: |
#   Lookups in data.inventory (Gatekeeper's shape) and label matching that
#   every policy shares. Import with `import data.mesh.lib.k8s`.
package mesh.lib.k8s

import data.mesh.lib.index
import rego.v1

# The object under review: the new object, or the old one on DELETE.
subject := input.review.object if input.review.object != null

subject := input.review.oldObject if input.review.object == null

# The namespace of the object under review.
namespace := input.review.namespace if input.review.namespace != ""

namespace := subject.metadata.namespace if {
	input.review.namespace == ""
	subject.metadata.namespace
}

# group_of("networking.istio.io/v1") is "networking.istio.io"; group_of("v1") is "".
group_of(api_version) := g if {
	[g, _] := split(api_version, "/")
} else := "" if not contains(api_version, "/")

# Objects of group/kind in namespace ns, whatever their API version. An
# array: a set would hash every whole object on every call.
namespaced(ns, group, kind) := [obj |
	some api_version, name
	obj := data.inventory.namespace[ns][api_version][kind][name]
	group_of(api_version) == group
]

# Objects of group/kind in every namespace, through the inventory index.
all_namespaced(group, kind) := [obj |
	some [ns, api_version, name] in object.get(index.refs, [group, kind], [])
	obj := data.inventory.namespace[ns][api_version][kind][name]
]

# Cluster-scoped objects of group/kind.
cluster_scoped(group, kind) := [obj |
	some api_version, name
	obj := data.inventory.cluster[api_version][kind][name]
	group_of(api_version) == group
]

# The named object of group/kind in ns; undefined when it does not exist.
get(ns, group, kind, name) := obj if {
	some api_version
	obj := data.inventory.namespace[ns][api_version][kind][name]
	group_of(api_version) == group
}

service(ns, name) := data.inventory.namespace[ns].v1.Service[name]

namespace_object(name) := data.inventory.cluster.v1.Namespace[name]

# Label sets of the pods in ns: running Pods, and the pod templates of the
# workloads that make them (so files without Pods work too).
pod_label_sets(ns) := object.get(index.pod_label_sets, ns, set())

# Pods and pod-template workloads in ns with their labels and annotations,
# as {"kind", "name", "labels", "annotations"}.
workloads(ns) := object.get(index.workloads, ns, set())

# True when every key=value of a map selector is in labels. An empty
# selector matches everything, as in Kubernetes and Istio.
labels_match(selector, labels) if {
	every k, v in selector {
		labels[k] == v
	}
}

# Full metav1.LabelSelector: matchLabels and matchExpressions.
selector_matches(selector, labels) if {
	labels_match(object.get(selector, "matchLabels", {}), labels)
	every expr in object.get(selector, "matchExpressions", []) {
		expression_matches(expr, labels)
	}
}

expression_matches(expr, labels) if {
	expr.operator == "In"
	labels[expr.key] in expr.values
} else if {
	expr.operator == "NotIn"
	not labels[expr.key] in expr.values
} else if {
	expr.operator == "Exists"
	labels[expr.key]
} else if {
	expr.operator == "DoesNotExist"
	not labels[expr.key]
}

# Parses "8080" and 8080 alike; undefined for named ports.
port_number(p) := p if is_number(p)
else := to_number(p) if {
	is_string(p)
	regex.match(`^[0-9]+$`, p)
}
