# METADATA
# title: EnvoyFilter patches a filter only some proxy versions have
# description: |
#   A relative patch (INSERT_BEFORE, INSERT_AFTER, REPLACE, REMOVE) finds
#   its anchor by name. When another patch handles the same filter only for
#   proxies matching match.proxy.proxyVersion, the anchor exists, or has
#   moved, on some proxy versions only, and with no spec.priority the
#   result also depends on the order EnvoyFilters were created in. After an
#   upgrade the patch can silently stop applying.
# custom:
#   id: MESH1218
#   severity: warning
#   enforcement: warn
#   kinds: [networking.istio.io/EnvoyFilter]
#   inventory: [networking.istio.io/EnvoyFilter]
#   aliases: [IST0155]
#   remediation: |
#     Give the EnvoyFilters explicit priorities, and limit every patch of a
#     filter to the same proxyVersion, or none.
package mesh.istio.envoyfilter_proxy_version

import data.mesh.lib.k8s
import rego.v1

patches(ef) := object.get(ef, ["spec", "configPatches"], [])

# The name of the object a patch handles: the name in its value, else the
# filter its listener match names.
instance(patch) := name if name := patch.patch.value.name
else := name if name := patch.match.listener.filterChain.filter.name

versioned(patch) if patch.match.proxy.proxyVersion != ""

relative(patch) if {
	op := upper(object.get(patch, ["patch", "operation"], ""))
	op in {"INSERT_BEFORE", "INSERT_AFTER"}
} else if {
	upper(object.get(patch, ["patch", "operation"], "")) == "REPLACE"
	upper(object.get(patch, "applyTo", "")) in {"NETWORK_FILTER", "HTTP_FILTER", "VIRTUAL_HOST"}
} else if {
	upper(object.get(patch, ["patch", "operation"], "")) == "REMOVE"
	not upper(object.get(patch, "applyTo", "")) in {"ROUTE_CONFIGURATION", "HTTP_ROUTE"}
}

# Filters that patches limited to proxy versions handle, in other
# EnvoyFilters.
versioned_elsewhere contains instance(p) if {
	some ef in k8s.all_namespaced("networking.istio.io", "EnvoyFilter")
	not same_object(ef)
	some p in patches(ef)
	versioned(p)
}

same_object(ef) if {
	ef.metadata.namespace == k8s.namespace
	ef.metadata.name == k8s.subject.metadata.name
}

no_priority if object.get(k8s.subject, ["spec", "priority"], 0) == 0

violation contains {"msg": msg} if {
	no_priority
	some i, patch in patches(k8s.subject)
	relative(patch)
	name := instance(patch)
	versioned_before(i, name)
	msg := sprintf("spec.configPatches[%d]: %s relative to %s, which another patch handles only for some proxy versions; without spec.priority the result depends on the proxy version and the EnvoyFilters' creation order", [i, upper(patch.patch.operation), name])
}

versioned_before(_, name) if name in versioned_elsewhere

versioned_before(i, name) if {
	some j, p in patches(k8s.subject)
	j < i
	versioned(p)
	instance(p) == name
}
