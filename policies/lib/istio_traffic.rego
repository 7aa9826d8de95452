# METADATA
# title: Istio traffic helpers
# description: |
#   What Istio's traffic policies (VirtualService, DestinationRule, Gateway)
#   share beyond data.mesh.lib.istio: every destination of a VirtualService
#   including mirrors, gateway binding and references as Istio resolves them,
#   exportTo scopes, and the ports of the service a host names. Lookups read
#   data.inventory by key or through the inventory index, so that no set of
#   whole objects is built.
#   Import with `import data.mesh.lib.istio_traffic`.
package mesh.lib.istio_traffic

import data.mesh.lib.index
import data.mesh.lib.istio
import data.mesh.lib.k8s
import rego.v1

group := "networking.istio.io"

# spec.gateways as a list; [] when absent or null.
gateways(vs) := g if {
	g := vs.spec.gateways
	is_array(g)
} else := []

# A VirtualService applies to sidecars (the reserved "mesh" gateway) when it
# lists no gateway or lists "mesh".
mesh_bound(vs) if count(gateways(vs)) == 0
else if "mesh" in gateways(vs)

# Bound to sidecars only: no gateway, or "mesh" and nothing else.
mesh_only(vs) if {
	every g in gateways(vs) {
		g == "mesh"
	}
}

# spec.hosts as a list; [] when absent or null.
hosts(obj) := h if {
	h := obj.spec.hosts
	is_array(h)
} else := []

# Route destinations (spec.{http,tls,tcp}[i].route[j]) and HTTP mirrors
# (spec.http[i].mirror, spec.http[i].mirrors[j]) as {"host", "subset",
# "port", "path"}; port is 0 when not set.
destinations(vs) := istio.route_destinations(vs) | mirror_destinations(vs)

mirror_destinations(vs) := {d |
	some i, route in object.get(vs, ["spec", "http"], [])
	m := route.mirror
	d := destination(m, sprintf("spec.http[%d].mirror", [i]))
} | {d |
	some i, route in object.get(vs, ["spec", "http"], [])
	some j, m in object.get(route, "mirrors", [])
	d := destination(m.destination, sprintf("spec.http[%d].mirrors[%d]", [i, j]))
}

# The reviewed VirtualService's destination objects ({"host", "subset",
# "port"} as written), mirrors included, without paths: a rule, computed
# once per review and shared by every policy evaluated with it. Resolve
# what policies need per distinct host from this, and build paths with
# destinations(vs) only for what is reported.
subject_destinations contains dest if {
	some routes in route_lists
	some r in routes
	dest := r.destination
	_ = dest.host # defined, whatever its value, as in destinations(vs)
}

subject_destinations contains dest if {
	some route in object.get(k8s.subject, ["spec", "http"], [])
	dest := route.mirror
	_ = dest.host # defined, whatever its value, as in destinations(vs)
}

subject_destinations contains dest if {
	some route in object.get(k8s.subject, ["spec", "http"], [])
	some m in object.get(route, "mirrors", [])
	dest := m.destination
	_ = dest.host # defined, whatever its value, as in destinations(vs)
}

# The distinct destination lists of the routes: a route table repeats the
# same destinations on many routes, so each list is read once.
route_lists contains object.get(route, "route", []) if {
	some kind in ["http", "tls", "tcp"]
	some route in object.get(k8s.subject, ["spec", kind], [])
}

destination(dest, path) := {
	"host": dest.host,
	"subset": object.get(dest, "subset", ""),
	"port": object.get(dest, ["port", "number"], 0),
	"path": path,
}

# gateway_ref resolves a gateway named by a VirtualService in namespace ns
# to {"namespace", "name"} exactly as istiod does: "ns/name"; "./name" and
# "name" in the VirtualService's namespace; the legacy "name.ns[.svc...]".
gateway_ref(ref, ns) := {"namespace": ns, "name": ref} if {
	not contains(ref, "/")
	not contains(ref, ".")
} else := {"namespace": parts[1], "name": parts[0]} if {
	not contains(ref, "/")
	contains(ref, ".")
	parts := split(ref, ".")
} else := {"namespace": ns, "name": substring(ref, 2, -1)} if {
	startswith(ref, "./")
} else := {"namespace": substring(ref, 0, i), "name": substring(ref, i + 1, -1)} if {
	not startswith(ref, "./")
	i := indexof(ref, "/")
	i >= 0
}

# spec.exportTo as a list; [] when absent or null.
export_to(obj) := e if {
	e := obj.spec.exportTo
	is_array(e)
} else := []

# The scopes a VirtualService's hosts are exported to, as istioctl's
# analyzers key them: {"*"} for every namespace (no exportTo, or "*"), else
# the namespaces listed, "." being the object's own. "~" exports nowhere.
# One else-chain: OPA evaluates every body of a multi-body function.
export_scopes(obj, ns) := {"*"} if count(export_to(obj)) == 0
else := {"*"} if "*" in export_to(obj)
else := {s |
	some e in export_to(obj)
	e != "~"
	s := scope(e, ns)
}

scope(".", ns) := ns

scope(e, _) := e if e != "."

# fqdn is istio.fqdn written as one else-chain: OPA evaluates every body of
# a multi-body function on each call, and these run in inner loops.
fqdn(host, ns) := host if contains(host, ".")
else := host if host == "*"
else := concat(".", [host, ns, istio.cluster_domain])

# host_matches is istio.host_matches as one else-chain.
host_matches(pattern, host) if pattern == host
else if pattern == "*"
else if {
	startswith(pattern, "*")
	endswith(host, substring(pattern, 1, -1))
}

# Host names overlap when equal, or when one is a wildcard covering the other.
hosts_overlap(a, b) if host_matches(a, b)
else if host_matches(b, a)

# The targetRefs of a policy (AuthorizationPolicy, RequestAuthentication,
# Telemetry...): spec.targetRefs and the older single spec.targetRef.
target_refs(obj) := [ref |
	some refs in [object.get(obj, ["spec", "targetRefs"], []), [object.get(obj, ["spec", "targetRef"], null)]]
	is_array(refs)
	some ref in refs
	is_object(ref)
]

# For a Kubernetes FQDN name.ns.svc.cluster.local: [name, ns]; undefined otherwise.
kube_name(name) := [parts[0], parts[1]] if {
	endswith(name, istio.kube_suffix)
	parts := split(name, ".")
	count(parts) == 5
}

# ServiceEntries that declare exactly this FQDN (short hosts resolved in the
# ServiceEntry's namespace), as {"namespace", "name", "object"}, found
# through the inventory index.
service_entries_for(host) := {{"namespace": ns, "name": name, "object": se} |
	some [ns, api_version, name] in object.get(index.service_entries_by_host, host, set())
	se := data.inventory.namespace[ns][api_version].ServiceEntry[name]
}

# True when the non-empty map selector of an object of namespace ns (a
# Sidecar's workloadSelector, a Telemetry's selector) matches no pod or
# pod template there, while the namespace's pods are in view: a file
# without them judges nothing.
selects_no_workload_in_view(ns, selector) if {
	is_object(selector)
	count(selector) > 0
	count(selected_label_sets(ns, selector)) == 0
	count(k8s.pod_label_sets(ns)) > 0
}

# Label sets of the pods of namespace ns, running or templated, that carry
# every label of the map selector. The inventory index finds the label sets
# with the selector's first label; the rest is compared here.
selected_label_sets(ns, selector) := {l |
	[k, v] := first_label(selector)
	some l in object.get(index.pod_label_sets_by_label, [ns, concat("=", [k, v])], set())
	k8s.labels_match(selector, l)
}

# Labels of the WorkloadEntries of namespace ns that carry every label of
# the map selector.
selected_workload_entry_label_sets(ns, selector) := {l |
	some api_version, name
	we := data.inventory.namespace[ns][api_version].WorkloadEntry[name]
	l := object.get(we, ["spec", "labels"], {})
	k8s.labels_match(selector, l)
	k8s.group_of(api_version) == group
}

# True when a pod, pod template or WorkloadEntry in any namespace carries
# every label of the non-empty map selector; stops at the first.
selects_any_workload(selector) if {
	[k, v] := first_label(selector)
	pair := concat("=", [k, v])
	some ns in index.pod_label_namespaces[pair]
	some l in index.pod_label_sets_by_label[ns][pair]
	k8s.labels_match(selector, l)
} else if {
	some ns, api_version, name
	we := data.inventory.namespace[ns][api_version].WorkloadEntry[name]
	k8s.labels_match(selector, object.get(we, ["spec", "labels"], {}))
	k8s.group_of(api_version) == group
}

first_label(selector) := [k, selector[k]] if k := min(object.keys(selector))

# The port numbers behind a FQDN and what defines them, as {"what", "ports"}:
# the Kubernetes Service when there is one, else the ServiceEntries that
# declare the host exactly. Undefined when neither exists.
service_ports(fqdn) := {"what": sprintf("Service %s/%s", [ref[1], ref[0]]), "ports": ports} if {
	ref := kube_name(fqdn)
	svc := k8s.service(ref[1], ref[0])
	ports := {p.port | some p in object.get(svc, ["spec", "ports"], [])}
}

# One else-chain: OPA evaluates every body of a multi-body function, and a
# Service's ports need no walk over the ServiceEntries.
else := {"what": what, "ports": ports} if {
	ses := service_entries_for(fqdn)
	count(ses) > 0
	what := concat(", ", sort({sprintf("ServiceEntry %s/%s", [se.namespace, se.name]) | some se in ses}))
	ports := {p.number | some se in ses; some p in object.get(se.object, ["spec", "ports"], [])}
}

service_for(fqdn) if {
	ref := kube_name(fqdn)
	k8s.service(ref[1], ref[0])
}

# "a=1,b=2" for a label map, keys sorted.
format_labels(labels) := concat(",", [sprintf("%s=%s", [k, labels[k]]) | some k in sort(object.keys(labels))])

# "80, 443" for a set of port numbers, ascending.
format_ports(ports) := concat(", ", [sprintf("%v", [p]) | some p in sort(ports)])

# The scopes a referring object (a VirtualService, a DestinationRule)
# looks hosts up in, as istioctl's analyzers do: every namespace ("*"), and
# its own namespace when it has no exportTo, else the namespaces it is
# exported to ("." being its own).
lookup_scopes(obj, ns) := {"*", ns} if count(export_to(obj)) == 0
else := {"*"} | {scope(e, ns) | some e in export_to(obj)}

# The scopes a Service is visible in: its networking.istio.io/exportTo
# annotation, comma-separated, "." being its own namespace; every
# namespace ("*") without it.
service_scopes(svc, ns) := {scope(trim_space(e), ns) | some e in split(anno, ",")} if {
	anno := svc.metadata.annotations["networking.istio.io/exportTo"]
	anno != ""
} else := {"*"}

# The scopes a ServiceEntry is visible in: spec.exportTo, "." being its own
# namespace; every namespace ("*") without it or with "*" in it.
service_entry_scopes(se, ns) := {"*"} if count(export_to(se)) == 0
else := {"*"} if "*" in export_to(se)
else := {scope(e, ns) | some e in export_to(se)}

# visible_host(host, ns, scopes) holds when a Service or ServiceEntry
# defines host (a short name resolves in ns) and is visible in one of
# scopes (lookup_scopes of the referring object), as istioctl's analyzers
# resolve a destination: exact hosts first, then the wildcard hosts of
# ServiceEntries visible everywhere or in ns. A wildcard host stands for
# many services: nothing to look up. One else-chain, cheapest first.
visible_host(host, ns, scopes) if contains(host, "*")
else if {
	# A Service: most have no exportTo annotation, visible everywhere.
	parts := split(fqdn(host, ns), ".")
	count(parts) == 5
	concat(".", array.slice(parts, 2, 5)) == istio.cluster_domain
	svc := data.inventory.namespace[parts[1]].v1.Service[parts[0]]
	service_visible(svc, parts[1], scopes)
} else if {
	name := fqdn(host, ns)
	name in index.service_entry_hosts
	some se in service_entries_for(name)
	count(service_entry_scopes(se.object, se.namespace) & scopes) > 0
} else if {
	name := fqdn(host, ns)
	some pattern in index.service_entry_hosts
	startswith(pattern, "*")
	host_matches(pattern, name)
	some se in service_entries_for(pattern)
	count(service_entry_scopes(se.object, se.namespace) & {"*", ns}) > 0
}

# Most Services have no exportTo annotation: visible everywhere.
service_visible(svc, svc_ns, scopes) if not svc.metadata.annotations["networking.istio.io/exportTo"]
else if count(service_scopes(svc, svc_ns) & scopes) > 0

# True for the name of a Gateway istiod generates from a Gateway API
# Gateway ("<namespace>/<name>~istio-autogenerated-k8s-gateway~<listener>"):
# it exists only inside istiod, and a VirtualService must not name it.
internal_gateway(ref) if contains(ref, "~istio-autogenerated-k8s-gateway~")

# The labels of the ingress gateway an Istio install creates in its root
# namespace (istio-system/istio-ingressgateway): istioctl analyze assumes
# it exists when it reads files, and so do the policies when the inventory
# shows no workload with these labels.
default_ingress_labels := {"istio": "ingressgateway"}

default_ingress_namespace := "istio-system"

# The ports of the default ingress gateway's Service (port -> targetPort):
# istioctl install's profiles send 80 and 443 to 8080 and 8443, the gateway
# Helm chart to 80 and 443; both are accepted.
default_ingress_ports := {80: 8080, 443: 8443, 15021: 15021, 31400: 31400, 15443: 15443}

# The namespaces of the workloads (pods, pod templates) a gateway's map
# selector picks in any namespace; the default ingress gateway's namespace
# when nothing in the inventory carries its labels and the selector fits
# them. Empty when the selector matches nothing.
gateway_namespaces(selector) := found if {
	found := {ns |
		[k, v] := first_label(selector)
		pair := concat("=", [k, v])
		some ns in index.pod_label_namespaces[pair]
		some l in index.pod_label_sets_by_label[ns][pair]
		k8s.labels_match(selector, l)
	}
	count(found) > 0
} else := {default_ingress_namespace} if {
	count(selector) > 0
	k8s.labels_match(selector, default_ingress_labels)
} else := set()

# The reviewed VirtualService's route tables as Istio tries them, shared by
# the policies on unreachable routes (MESH1120) and shadowed matches
# (MESH1121) and computed once per review:
#
# subject_catch_all[kind]: the first route of http, tcp or tls without a
# match (it takes every request; later routes are never reached).
subject_catch_all := {kind: min(indices) |
	some kind in ["http", "tcp", "tls"]
	indices := {i | some i, route in object.get(k8s.subject, ["spec", kind], []); count(object.get(route, "match", [])) == 0}
	count(indices) > 0
} if subject_can_shadow
else := {}

# subject_can_shadow: some route table of the subject has more than one
# route, or some route more than one match: only then can a route or a
# match hide another. Most VirtualServices have neither, and the tables
# here cost a comprehension each.
subject_can_shadow if {
	some kind in ["http", "tcp", "tls"]
	count(k8s.subject.spec[kind]) > 1
} else if {
	some kind in ["http", "tcp", "tls"]
	count(k8s.subject.spec[kind][_].match) > 1
}

# subject_matches: [kind, [route, match], match without its name] of
# every match of the routes before the catch-all, in order. An array: a
# set would hash every match.
subject_matches := [[kind, [i, j], object.remove(m, {"name"})] |
	some kind in ["http", "tcp", "tls"]
	some i, route in object.get(k8s.subject, ["spec", kind], [])
	i < object.get(subject_catch_all, kind, i + 1)
	some j, m in object.get(route, "match", [])
] if subject_can_shadow
else := []

# subject_repeated_matches: [kind, at, first] for a match at position at
# that repeats the earlier one at first (names do not route). Only when
# some match repeats another: fewer distinct matches than matches.
subject_repeated_matches := {[kind, at, first] |
	some [kind, at, k] in subject_matches
	first := min({pos | some [kind2, pos, k2] in subject_matches; kind2 == kind; k2 == k})
	first < at
} if {
	count({[kind, k] | some [kind, _, k] in subject_matches}) < count(subject_matches)
} else := set()
