# METADATA
# title: Inventory index
# description: |
#   Lookup tables derived from data.inventory alone. The engine computes
#   this package once per inventory and every evaluation reads the stored
#   value, so a lookup by host or by namespace costs a map access instead of
#   a walk over every object. Rules here must never read input (the engine
#   refuses them). In Rego unit tests the rules are simply evaluated against
#   the mocked inventory, so tests need nothing special.
package mesh.lib.index

import rego.v1

_group_of(api_version) := g if {
	[g, _] := split(api_version, "/")
}

_group_of(api_version) := "" if not contains(api_version, "/")

# refs[group][kind] lists [namespace, apiVersion, name] of every namespaced
# object of group/kind.
refs[group] := {kind: list |
	some kind in {k | some ns, av, k; data.inventory.namespace[ns][av][k]; _group_of(av) == group}
	list := [[ns, av, name] |
		some ns, av, name
		data.inventory.namespace[ns][av][kind][name]
		_group_of(av) == group
	]
} if {
	some group in {_group_of(av) | some ns, av; data.inventory.namespace[ns][av]}
}

_pod_template_kinds := {"apps": {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"}, "batch": {"Job"}}

# workloads[ns]: Pods and pod-template workloads with the labels and
# annotations of the pods they run, as {"kind", "name", "labels", "annotations"}.
workloads[ns] := {w |
	some av, name
	pod := data.inventory.namespace[ns][av].Pod[name]
	av == "v1"
	w := {
		"kind": "Pod", "name": name,
		"labels": object.get(pod, ["metadata", "labels"], {}),
		"annotations": object.get(pod, ["metadata", "annotations"], {}),
	}
} | {w |
	some av, kind, name
	obj := data.inventory.namespace[ns][av][kind][name]
	kind in _pod_template_kinds[_group_of(av)]
	w := {
		"kind": kind, "name": name,
		"labels": object.get(obj, ["spec", "template", "metadata", "labels"], {}),
		"annotations": object.get(obj, ["spec", "template", "metadata", "annotations"], {}),
	}
} if {
	some ns, _ in data.inventory.namespace
}

# pod_label_sets[ns]: the distinct label sets of pods in ns, CronJob pod
# templates included.
pod_label_sets[ns] := {w.labels | some w in workloads[ns]} | {l |
	some av, name
	cj := data.inventory.namespace[ns][av].CronJob[name]
	_group_of(av) == "batch"
	l := object.get(cj, ["spec", "jobTemplate", "spec", "template", "metadata", "labels"], {})
} if {
	some ns, _ in data.inventory.namespace
}

_fqdn(host, _) := host if contains(host, ".")

_fqdn(host, ns) := sprintf("%s.%s.svc.cluster.local", [host, ns]) if not contains(host, ".")

# destination_rules_by_host[fqdn]: [namespace, apiVersion, name] of the
# DestinationRules whose spec.host resolves to fqdn.
destination_rules_by_host[fqdn] contains [ns, av, name] if {
	some ns, av, name
	dr := data.inventory.namespace[ns][av].DestinationRule[name]
	_group_of(av) == "networking.istio.io"
	fqdn := _fqdn(dr.spec.host, ns)
}

# virtual_services_by_host[fqdn]: [namespace, apiVersion, name] of the
# VirtualServices with a spec.hosts entry that resolves to fqdn.
virtual_services_by_host[fqdn] contains [ns, av, name] if {
	some ns, av, name
	vs := data.inventory.namespace[ns][av].VirtualService[name]
	_group_of(av) == "networking.istio.io"
	some host in object.get(vs, ["spec", "hosts"], [])
	fqdn := _fqdn(host, ns)
}

# service_entry_hosts: every host some ServiceEntry declares.
service_entry_hosts contains host if {
	some ns, av, name
	se := data.inventory.namespace[ns][av].ServiceEntry[name]
	_group_of(av) == "networking.istio.io"
	some host in object.get(se, ["spec", "hosts"], [])
}
