# METADATA
# title: EnvoyFilter relative patch operation without priority
# description: |
#   INSERT_BEFORE, INSERT_AFTER, REPLACE and REMOVE patch a filter or object
#   found by name, which may be one another EnvoyFilter adds or moves.
#   EnvoyFilters of equal priority are applied in creation order, so without
#   spec.priority the result depends on which EnvoyFilter was created first
#   and can change when one is re-created (for example on an upgrade or a
#   restore). MERGE, ADD and INSERT_FIRST are not reported, nor REMOVE on
#   ROUTE_CONFIGURATION and HTTP_ROUTE, where Istio ignores it.
# custom:
#   id: MESH1207
#   severity: warning
#   enforcement: warn
#   kinds: [networking.istio.io/EnvoyFilter]
#   aliases: [IST0151]
#   remediation: |
#     Set spec.priority so the order between EnvoyFilters is explicit:
#     EnvoyFilters with a lower priority are applied first (negative values
#     before Istio's own defaults), or use an absolute operation such as
#     INSERT_FIRST or ADD when the position does not depend on another filter.
package mesh.istio.envoyfilter_relative_priority

import data.mesh.lib.k8s
import rego.v1

relative_operations := {"INSERT_BEFORE", "INSERT_AFTER", "REPLACE", "REMOVE"}

# Istio ignores REMOVE on these.
remove_ignored := {"ROUTE_CONFIGURATION", "HTTP_ROUTE"}

priority_set(ef) if {
	is_number(ef.spec.priority)
	ef.spec.priority != 0
}

relative(patch) if {
	patch.patch.operation in relative_operations
	not ignored(patch)
}

ignored(patch) if {
	patch.patch.operation == "REMOVE"
	patch.applyTo in remove_ignored
}

violation contains {"msg": msg} if {
	ef := k8s.subject
	not priority_set(ef)
	some i, patch in object.get(ef, ["spec", "configPatches"], [])
	relative(patch)
	msg := sprintf("spec.configPatches[%d].patch.operation %s (applyTo %s) depends on a filter other EnvoyFilters may add or move, but spec.priority is not set: the order between EnvoyFilters then depends on creation time", [
		i, patch.patch.operation, object.get(patch, "applyTo", "INVALID"),
	])
}
