# METADATA
# title: VirtualService routes to an undefined subset
# description: |
#   A route destination may name a subset, which a DestinationRule for the
#   destination host defines. When no DestinationRule for that host defines
#   the subset, the proxy has no cluster for it and every request the route
#   sends there fails with 503 (no cluster found). DestinationRules are
#   looked for where Istio looks them up: the VirtualService's namespace,
#   the service's namespace and the root namespace istio-system.
# custom:
#   id: MESH1102
#   severity: error
#   enforcement: warn
#   kinds: [networking.istio.io/VirtualService]
#   inventory: [networking.istio.io/DestinationRule]
#   aliases: [IST0101, KIA1107]
#   remediation: |
#     Add the subset to the DestinationRule for the destination host (a short
#     host is resolved in the rule's own namespace), fix the subset name in
#     the route, or apply the DestinationRule before the VirtualService.
package mesh.istio.virtualservice_subset

import data.mesh.lib.index
import data.mesh.lib.istio_traffic as traffic
import data.mesh.lib.k8s
import rego.v1

# The subsets the DestinationRules define for each distinct FQDN that a
# destination with a subset names, resolved once however many routes name it.
defined_subsets[name] := subsets_for(name) if {
	some dest in traffic.subject_destinations
	object.get(dest, "subset", "") != ""
	name := traffic.fqdn(dest.host, k8s.namespace)
}

# Paths and messages only for the destinations reported.
violation contains {"msg": msg} if {
	some dest in traffic.subject_destinations
	subset := object.get(dest, "subset", "")
	subset != ""
	name := traffic.fqdn(dest.host, k8s.namespace)
	defined := defined_subsets[name]
	not subset in defined
	some d in traffic.destinations(k8s.subject)
	d.host == dest.host
	d.subset == subset
	msg := sprintf("%s: subset %q of host %q is defined by no DestinationRule for %s%s", [d.path, d.subset, d.host, name, known(defined)])
}

# Istio looks a DestinationRule up in the client's namespace (the
# VirtualService's stands for it), then the service's (a Service's, or a
# ServiceEntry's that declares the host), then the root namespace. Those
# namespaces are read by key; rules in any other namespace serve only
# clients there and are not looked at.
root_namespace := "istio-system"

lookup_namespaces(name) := {k8s.namespace, root_namespace, ref[1]} if ref := traffic.kube_name(name)
else := {k8s.namespace, root_namespace} | {se.namespace | some se in traffic.service_entries_for(name)}

# Subsets of the DestinationRules in the lookup namespaces whose host is
# the FQDN, written in full or short, or a wildcard that covers it; the
# inventory index finds them by host.
subsets_for(name) := {s.name |
	namespaces := lookup_namespaces(name)
	some [ns, api_version, dr_name] in object.get(index.destination_rules_by_host, name, set())
	ns in namespaces
	dr := data.inventory.namespace[ns][api_version].DestinationRule[dr_name]
	some s in object.get(dr, ["spec", "subsets"], [])
} | {s.name |
	namespaces := lookup_namespaces(name)
	some [ns, api_version, dr_name] in index.wildcard_destination_rules
	ns in namespaces
	dr := data.inventory.namespace[ns][api_version].DestinationRule[dr_name]
	traffic.host_matches(dr.spec.host, name)
	some s in object.get(dr, ["spec", "subsets"], [])
}

known(defined) := sprintf(" (defined subsets: %s)", [concat(", ", sort(defined))]) if count(defined) > 0

known(defined) := " (no DestinationRule for this host defines any subset)" if count(defined) == 0
