# METADATA
# title: VirtualServices bound to the mesh define the same host
# description: |
#   Sidecars take one VirtualService per host: when several VirtualServices
#   bound to the mesh gateway define the same host (after short names are
#   resolved in each one's namespace) and are exported to the same
#   namespaces, only one of them applies and which one is undefined.
#   Gateways merge such VirtualServices; sidecars do not. Rivals are looked
#   for in every namespace. A VirtualService exported to every namespace
#   also conflicts with one exported to some namespaces whose host overlaps
#   its own (a wildcard covering the other), as istioctl compares them.
# custom:
#   id: MESH1105
#   severity: error
#   enforcement: warn
#   kinds: [networking.istio.io/VirtualService]
#   inventory: [networking.istio.io/VirtualService]
#   aliases: [IST0109, KIA1106]
#   remediation: |
#     Merge the routes for the host into one VirtualService, or bind all but
#     one of them to gateways only (spec.gateways without "mesh"). Delegate
#     VirtualServices (without hosts) can split a large route table.
package mesh.istio.virtualservice_mesh_host_conflict

import data.mesh.lib.index
import data.mesh.lib.istio_traffic as traffic
import data.mesh.lib.k8s
import rego.v1

violation contains {"msg": msg} if {
	vs := k8s.subject
	traffic.mesh_bound(vs)
	ns := k8s.namespace
	self := [ns, vs.apiVersion, vs.metadata.name]
	some i, host in traffic.hosts(vs)
	name := traffic.fqdn(host, ns)
	# Cheapest test first: most hosts have no VirtualService but this one.
	rival_keys := {key | some key in keys(name); some ref in object.get(index.virtual_services_by_host, key, set()); ref != self}
	count(rival_keys) > 0
	scopes := traffic.export_scopes(vs, ns)
	others := {sprintf("%s/%s", [o.namespace, o.name]) |
		some key in rival_keys
		some o in candidates(key)
		not same_object(o, ns, vs.metadata.name)
		traffic.mesh_bound(o.object)
		conflict(scopes, traffic.export_scopes(o.object, o.namespace), key == name)
	}
	count(others) > 0
	msg := sprintf("spec.hosts[%d] %q (%s) is also defined by VirtualService %s bound to the mesh gateway: sidecars apply only one of them", [i, host, name, concat(", ", sort(others))])
}

# The hosts of the index that can overlap name: name itself, the wildcards
# that cover it and, for a wildcard, every host it covers. Most meshes have
# no VirtualService with a wildcard host: then only name itself.
keys(name) := {name} | {k | some k, _ in index.virtual_services_by_host; k != name; traffic.hosts_overlap(name, k)} if startswith(name, "*")
else := {name} if not wildcard_rivals
else := {name, "*"} | {concat(".", array.concat(["*"], array.slice(labels, i, count(labels)))) |
	labels := split(name, ".")
	some i in numbers.range(1, count(labels) - 1)
}

wildcard_rivals if some _ in index.wildcard_virtual_services

# The same host conflicts when both are exported to a namespace in
# common; overlapping hosts (and the same host) when one is exported
# everywhere and the other to some namespaces.
conflict(a, b, same_host) if {
	same_host
	count(a & b) > 0
} else if {
	"*" in a
	count(b - {"*"}) > 0
} else if {
	"*" in b
	count(a - {"*"}) > 0
}

same_object(o, ns, name) if {
	o.namespace == ns
	o.name == name
}

# VirtualServices in any namespace that define the FQDN (short names
# resolved in their own namespace), as {"namespace", "name", "object"},
# found by host through the inventory index.
candidates(name) := {{"namespace": ns, "name": vs_name, "object": o} |
	some [ns, api_version, vs_name] in object.get(index.virtual_services_by_host, name, set())
	o := data.inventory.namespace[ns][api_version].VirtualService[vs_name]
}
