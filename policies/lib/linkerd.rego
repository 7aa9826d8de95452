# METADATA
# title: Linkerd helpers
# description: |
#   Proxy injection as Linkerd's injector decides it, pod templates of
#   workloads, opaque-port sets and the certificate expiry window, shared
#   by the Linkerd policies. Import with `import data.mesh.lib.linkerd`.
package mesh.lib.linkerd

import data.mesh.lib.index
import data.mesh.lib.certs as x509
import data.mesh.lib.k8s
import rego.v1

inject_annotation := "linkerd.io/inject"

opaque_ports_annotation := "config.linkerd.io/opaque-ports"

# Values of linkerd.io/inject the proxy injector accepts; any other value
# makes it skip the pod.
inject_values := {"enabled", "disabled", "ingress"}

# Linkerd's default proxy.opaquePorts (the install-time default list).
default_opaque_ports := "25,587,3306,4444,5432,6379,9300,11211"

# The value of linkerd.io/inject on Namespace ns; undefined when unset or
# when the Namespace is not in the inventory.
namespace_inject(ns) := k8s.namespace_object(ns).metadata.annotations[inject_annotation]

# Namespace ns asks the injector to mesh its pods (enabled or ingress mode)
# and the injector's webhook sees it: its default namespaceSelector leaves
# out kube-system, cert-manager and namespaces labelled
# config.linkerd.io/admission-webhooks: disabled.
namespace_injected(ns) if {
	namespace_inject(ns) in {"enabled", "ingress"}
	not webhook_excluded(ns)
}

webhook_excluded(ns) if ns in {"kube-system", "cert-manager"}
else if k8s.namespace_object(ns).metadata.labels["config.linkerd.io/admission-webhooks"] == "disabled"

# Kinds that run pods, by group, with where their pod template is.
template_paths := {
	"apps": {
		"Deployment": ["spec", "template"],
		"StatefulSet": ["spec", "template"],
		"DaemonSet": ["spec", "template"],
		"ReplicaSet": ["spec", "template"],
	},
	"batch": {
		"Job": ["spec", "template"],
		"CronJob": ["spec", "jobTemplate", "spec", "template"],
	},
}

# The pod template of a workload, or the Pod itself, as
# {"path", "labels", "annotations", "spec"}; path is the field path of the
# template's metadata parent ("spec.template", "" for a Pod). Undefined for
# other kinds.
pod_template(obj) := t if {
	path := template_paths[k8s.group_of(obj.apiVersion)][obj.kind]
	t := {
		"path": concat(".", path),
		"labels": object.get(obj, array.concat(path, ["metadata", "labels"]), {}),
		"annotations": object.get(obj, array.concat(path, ["metadata", "annotations"]), {}),
		"spec": object.get(obj, array.concat(path, ["spec"]), {}),
	}
} else := t if {
	obj.apiVersion == "v1"
	obj.kind == "Pod"
	t := {
		"path": "",
		"labels": object.get(obj, ["metadata", "labels"], {}),
		"annotations": object.get(obj, ["metadata", "annotations"], {}),
		"spec": object.get(obj, "spec", {}),
	}
}

# "spec.template.metadata.annotations" for a Deployment, "metadata.annotations" for a Pod.
annotations_path(t) := "metadata.annotations" if t.path == ""
else := concat(".", [t.path, "metadata.annotations"]) if t.path != ""

# True when another object (a ReplicaSet, a Job, a CronJob...) controls obj;
# the controller's own template is what users write and what is checked.
default controlled(_) := false

controlled(obj) if {
	some ref in object.get(obj, ["metadata", "ownerReferences"], [])
	ref.controller == true
}

# A pod template or Pod, as {"kind", "name", "template", "controlled"}.
source(obj) := {
	"kind": obj.kind,
	"name": obj.metadata.name,
	"template": pod_template(obj),
	"controlled": controlled(obj),
}

# The pod sources in ns whose pod labels a metav1.LabelSelector selects.
# With matchLabels, the inventory index finds the candidates by one label;
# a selector of matchExpressions alone walks the namespace's workloads.
selected_pod_sources(ns, label_selector) := {source(obj) |
	[k, v] := first_label(object.get(label_selector, "matchLabels", {}))
	some [api_version, kind, name] in object.get(index.pod_sources_by_label, [ns, concat("=", [k, v])], set())
	obj := data.inventory.namespace[ns][api_version][kind][name]
	k8s.selector_matches(label_selector, pod_template(obj).labels)
} if {
	count(object.get(label_selector, "matchLabels", {})) > 0
} else := {source(obj) |
	some group, kinds in template_paths
	some kind, path in kinds
	some obj in k8s.namespaced(ns, group, kind)
	k8s.selector_matches(label_selector, object.get(obj, array.concat(path, ["metadata", "labels"]), {}))
} | {source(pod) |
	some pod in k8s.namespaced(ns, "", "Pod")
	k8s.selector_matches(label_selector, object.get(pod, ["metadata", "labels"], {}))
}

first_label(selector) := [k, selector[k]] if k := min(object.keys(selector))

# Containers and init containers (native sidecars) of a pod spec.
containers(spec) := array.concat(object.get(spec, "containers", []), object.get(spec, "initContainers", []))

# The container port numbers named name in a pod spec.
named_ports(spec, name) := {p.containerPort |
	some c in containers(spec)
	some p in object.get(c, "ports", [])
	p.name == name
}

# Parses a ports list ("3306,4000-4100,mysql") into a set of [low, high]
# ranges; names resolve against the container ports of spec. Undefined when
# an entry is neither a port, a range nor a port name of spec, so that a
# policy never guesses.
port_ranges(value, spec) := ranges if {
	entries := {e | some raw in split(value, ","); e := trim_space(raw); e != ""}
	every e in entries {
		count(entry_ranges(e, spec)) > 0
	}
	ranges := {r | some e in entries; some r in entry_ranges(e, spec)}
}

# One else-chain: OPA evaluates every body of a multi-body function.
entry_ranges(e, spec) := {[n, n]} if {
	regex.match(`^[0-9]+$`, e)
	n := to_number(e)
} else := {[lo, hi]} if {
	regex.match(`^[0-9]+\s*-\s*[0-9]+$`, e)
	parts := split(e, "-")
	lo := to_number(trim_space(parts[0]))
	hi := to_number(trim_space(parts[1]))
	lo <= hi
} else := {[p, p] | some p in named_ports(spec, e)} if not regex.match(`^[0-9\s-]+$`, e)

in_ranges(port, ranges) if {
	some r in ranges
	r[0] <= port
	port <= r[1]
}

# linkerd check warns when a certificate has less than 60 days left.
expiry_window_ns := 60 * x509.day_ns

expiring(cert, now) if {
	x509.not_after_ns(cert) > now
	x509.not_after_ns(cert) - now < expiry_window_ns
}

# Certificates that live no longer than the window are rotated by
# automation (cert-manager's usual 48h issuer, for example): that they
# expire soon is their normal state.
short_lived(cert) if time.parse_rfc3339_ns(cert.NotAfter) - time.parse_rfc3339_ns(cert.NotBefore) <= expiry_window_ns
