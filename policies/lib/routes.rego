# METADATA
# title: SMI and Gateway API (GAMMA) reference helpers
# description: |
#   The Services that SMI TrafficSplits and Gateway API mesh routes refer
#   to, with each API's defaults filled in, and SMI weights as numbers.
#   Import with `import data.mesh.lib.routes`.
package mesh.lib.routes

import rego.v1

## SMI

# The Service an SMI TrafficSplit names, as [namespace, name]: a short name
# is in the split's namespace ns; name.namespace, name.namespace.svc and
# name.namespace.svc.<cluster domain> are the DNS names clients use. Other
# dotted names are not Kubernetes Services: undefined.
smi_service(name, ns) := [ns, name] if not contains(name, ".")

smi_service(name, _) := [parts[1], parts[0]] if {
	parts := split(name, ".")
	count(parts) == 2
}

smi_service(name, _) := [parts[1], parts[0]] if {
	parts := split(name, ".")
	count(parts) > 2
	parts[2] == "svc"
}

# An SMI backend weight as a number. v1alpha2 and later use integers;
# v1alpha1 used Kubernetes quantities such as "500m". A missing weight is 0,
# as in the SMI Go types. Undefined for strings that are not quantities.
smi_weight(backend) := 0 if not "weight" in object.keys(backend)

smi_weight(backend) := backend.weight if is_number(backend.weight)

smi_weight(backend) := units.parse(backend.weight) if {
	is_string(backend.weight)
	regex.match(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$`, backend.weight)
}

## Gateway API

# A parentRef names a core Service when its kind is Service and its group is
# the core group. The API defaults an omitted parentRef group to
# gateway.networking.k8s.io, but hand-written manifests that name a Service
# and leave the group out mean the core Service, so they count too.
service_parent_ref(ref) if {
	ref.kind == "Service"
	object.get(ref, "group", "") == ""
}

# The Service parentRefs of a route in namespace ns, as
# {"path", "name", "namespace", "port"} (port 0 when unset).
service_parents(route, ns) := {p |
	some i, ref in object.get(route, ["spec", "parentRefs"], [])
	service_parent_ref(ref)
	p := {
		"path": sprintf("spec.parentRefs[%d]", [i]),
		"name": ref.name,
		"namespace": object.get(ref, "namespace", ns),
		"port": object.get(ref, "port", 0),
	}
}

# A mesh (GAMMA) route is attached to at least one Service.
mesh_route(route) if {
	some ref in object.get(route, ["spec", "parentRefs"], [])
	service_parent_ref(ref)
}

# Every backendRef of every rule of a route in namespace ns, defaults
# applied: group "" (core), kind Service, namespace ns, weight 1. port is
# null when unset. As {"path", "rule", "group", "kind", "name", "namespace",
# "port", "weight"}.
backend_refs(route, ns) := {b |
	some i, rule in object.get(route, ["spec", "rules"], [])
	some j, ref in object.get(rule, "backendRefs", [])
	b := {
		"path": sprintf("spec.rules[%d].backendRefs[%d]", [i, j]),
		"rule": i,
		"group": object.get(ref, "group", ""),
		"kind": object.get(ref, "kind", "Service"),
		"name": ref.name,
		"namespace": object.get(ref, "namespace", ns),
		"port": object.get(ref, "port", null),
		"weight": object.get(ref, "weight", 1),
	}
}

# A backendRef (from backend_refs) naming a core Kubernetes Service.
service_backend(b) if {
	b.group == ""
	b.kind == "Service"
}
