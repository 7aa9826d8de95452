# METADATA
# title: VirtualService match is shadowed by an earlier one
# description: |
#   Istio uses the first match that fits a request. A match that repeats an
#   earlier one, or an HTTP URI prefix match whose prefix extends an earlier
#   prefix match with the same other conditions, never gets a request: the
#   earlier match takes them all. Matches of routes that can never be
#   reached at all are MESH1120's.
# custom:
#   id: MESH1121
#   severity: warning
#   enforcement: warn
#   kinds: [networking.istio.io/VirtualService]
#   aliases: [IST0131]
#   remediation: |
#     Put the more specific match (the longer prefix) first, or remove the
#     repeated match.
package mesh.istio.virtualservice_ineffective_match

import data.mesh.lib.istio_traffic as traffic
import rego.v1

violation contains {"msg": msg} if {
	some [kind, [i, j], [p, q]] in traffic.subject_repeated_matches
	msg := sprintf("spec.%s[%d].match[%d] repeats spec.%s[%d].match[%d], which takes all its requests", [kind, i, j, kind, p, q])
}

# HTTP URI prefix matches that repeat no earlier match, with their other
# conditions as Istio compares them (a match without method is a GET match
# to istioctl), as [[i, j], prefix, rest].
prefixed := [[at, k.uri.prefix, rest] |
	some ["http", at, k] in traffic.subject_matches
	is_string(k.uri.prefix)
	k.uri.prefix != ""
	not ["http", at] in repeated
	rest := object.union({"method": {"exact": "GET"}}, object.remove(k, {"uri"}))
]

repeated contains [kind, at] if some [kind, at, _] in traffic.subject_repeated_matches

# Only matches with the same other conditions can shadow one another:
# when every prefix match has conditions of its own, nothing is compared.
shared_conditions if count({rest | some [_, _, rest] in prefixed}) < count(prefixed)

violation contains {"msg": msg} if {
	shared_conditions
	some [[i, j], prefix, rest] in prefixed
	some [[p, q], earlier, same] in prefixed
	[p, q] < [i, j]
	prefix != earlier
	startswith(prefix, earlier)
	rest == same
	msg := sprintf("spec.http[%d].match[%d] (prefix %s) is shadowed by spec.http[%d].match[%d] (prefix %s), which takes all its requests", [i, j, prefix, p, q, earlier])
}
