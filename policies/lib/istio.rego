# METADATA
# title: Istio helpers
# description: |
#   Host name resolution as Istio does it, and lookups of the services and
#   ServiceEntries a host can name. Import with `import data.mesh.lib.istio`.
package mesh.lib.istio

import data.mesh.lib.index
import data.mesh.lib.k8s
import rego.v1

cluster_domain := "svc.cluster.local"

# fqdn resolves a host the way Istio does: a name without dots is a short
# name in the rule's namespace; anything with a dot is taken as written.
# One else-chain: OPA evaluates every body of a multi-body function.
fqdn(host, ns) := host if contains(host, ".")
else := "*" if host == "*"
else := sprintf("%s.%s.%s", [host, ns, cluster_domain])

# ".svc.cluster.local": what a Kubernetes service FQDN ends with.
kube_suffix := concat(".", ["", cluster_domain])

# The Kubernetes Service a FQDN names; undefined when there is none.
service_for_fqdn(name) := svc if {
	endswith(name, kube_suffix)
	parts := split(name, ".")
	count(parts) == 5
	svc := data.inventory.namespace[parts[1]].v1.Service[parts[0]] # k8s.service, without a call
}

service_entries := k8s.all_namespaced("networking.istio.io", "ServiceEntry")

# Hosts declared by ServiceEntries (wildcards included).
service_entry_hosts := index.service_entry_hosts

# Namespaces Istio's analyzers leave alone (inject.IgnoredNamespaces).
system_namespaces := {"kube-system", "kube-public", "kube-node-lease", "local-path-storage"}

# True when a Service port declares its protocol in appProtocol.
has_app_protocol(port) if {
	is_string(port.appProtocol)
	port.appProtocol != ""
}

# The protocol a Service port's name gives Istio: the name up to its first
# "-", lower-cased ("grpc-web" whole), as pkg/config/protocol parses it.
port_name_protocol(name) := "grpc-web" if startswith(lower(name), "grpc-web")
else := lower(split(name, "-")[0])

# host_matches is Istio's host match: equal, or covered by a wildcard.
host_matches(pattern, host) if pattern == host
else if pattern == "*"
else if {
	startswith(pattern, "*")
	endswith(host, substring(pattern, 1, -1))
}

# A host is known when a Service or a ServiceEntry defines it. One
# else-chain, cheapest first: OPA evaluates every body of a multi-body
# function, and the hosts of every ServiceEntry in the inventory are walked
# only for a host that no Service and no ServiceEntry names exactly.
# Wildcard hosts stand for many services; nothing to look up.
known_host(host, ns) if contains(host, "*")
else if service_for_fqdn(fqdn(host, ns))
else if fqdn(host, ns) in service_entry_hosts
else if {
	some se_host in service_entry_hosts
	host_matches(se_host, fqdn(host, ns))
}

# DestinationRules whose host resolves to the same FQDN.
destination_rules_for(name) := [dr |
	some [ns, api_version, dr_name] in object.get(index.destination_rules_by_host, name, set())
	dr := data.inventory.namespace[ns][api_version].DestinationRule[dr_name]
]

# VirtualServices with a host that resolves to the same FQDN.
virtual_services_for(name) := [vs |
	some [ns, api_version, vs_name] in object.get(index.virtual_services_by_host, name, set())
	vs := data.inventory.namespace[ns][api_version].VirtualService[vs_name]
]

# Every destination of an HTTP, TLS or TCP route of a VirtualService, with
# where it is, as {"host", "subset", "port", "path"}.
route_destinations(vs) := {d |
	some kind in ["http", "tls", "tcp"]
	some i, route in object.get(vs, ["spec", kind], [])
	some j, dest in object.get(route, "route", [])
	d := {
		"host": dest.destination.host,
		"subset": object.get(dest.destination, "subset", ""),
		"port": object.get(dest.destination, ["port", "number"], 0),
		"path": sprintf("spec.%s[%d].route[%d]", [kind, i, j]),
	}
}
