# METADATA
# title: EnvoyFilter patch operation does nothing for its applyTo
# description: |
#   Istio applies each EnvoyFilter patch operation only to some kinds of
#   object: ADD and REMOVE do nothing on ROUTE_CONFIGURATION and HTTP_ROUTE
#   (routes are changed with MERGE), and REPLACE only replaces a
#   NETWORK_FILTER, HTTP_FILTER or VIRTUAL_HOST. Elsewhere the patch is
#   silently ignored, so the EnvoyFilter does not do what it says.
# custom:
#   id: MESH1217
#   severity: warning
#   enforcement: warn
#   kinds: [networking.istio.io/EnvoyFilter]
#   aliases: [IST0152, IST0153, IST0154]
#   remediation: |
#     Use MERGE to change a route configuration or route, and REPLACE only
#     on filters and virtual hosts (MERGE or REMOVE and ADD elsewhere).
package mesh.istio.envoyfilter_operation_ignored

import data.mesh.lib.k8s
import rego.v1

route_objects := {"ROUTE_CONFIGURATION", "HTTP_ROUTE"}

replaceable := {"NETWORK_FILTER", "HTTP_FILTER", "VIRTUAL_HOST"}

ignored("ADD", apply_to) if apply_to in route_objects

ignored("REMOVE", apply_to) if apply_to in route_objects

ignored("REPLACE", apply_to) if not apply_to in replaceable

violation contains {"msg": msg} if {
	some i, patch in object.get(k8s.subject, ["spec", "configPatches"], [])
	operation := upper(object.get(patch, ["patch", "operation"], ""))
	apply_to := upper(object.get(patch, "applyTo", "INVALID"))
	ignored(operation, apply_to)
	msg := sprintf("spec.configPatches[%d]: operation %s does nothing on applyTo %s; Istio ignores the patch", [i, operation, apply_to])
}
