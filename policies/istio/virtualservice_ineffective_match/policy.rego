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
#   requires:
#     fields: [spec]
#   aliases: [IST0131]
#   remediation: |
#     Put the more specific match (the longer prefix) first, or remove the
#     repeated match.
package mesh.istio.virtualservice_ineffective_match

import data.mesh.lib.k8s
import rego.v1

routes(kind) := r if {
	r := k8s.subject.spec[kind]
	is_array(r)
} else := []

matches(route) := m if {
	m := route.match
	is_array(m)
} else := []

# Matches are judged up to the first route without match (after it, the
# routes are unreachable: MESH1120).
catch_all[kind] := min({i | some i, route in routes(kind); count(matches(route)) == 0}) if {
	some kind in ["http", "tcp", "tls"]
}

reachable(kind, i) if not catch_all[kind]
else if i < catch_all[kind]

# Kinds with two matches or more: only there can one shadow another.
comparable contains kind if {
	some kind in ["http", "tcp", "tls"]
	sum([count(matches(r)) | some r in routes(kind)]) > 1
}

# Every match of every reachable route, in order, as [kind, i, j, match].
flat contains [kind, i, j, m] if {
	some kind in comparable
	some i, route in routes(kind)
	reachable(kind, i)
	some j, m in matches(route)
}

before(i, j, k, l) if i < k
else if {
	i == k
	j < l
}

key(m) := object.remove(m, {"name"})

duplicates contains [kind, i, j, p, q] if {
	some [kind, i, j, m] in flat
	some [kind2, p, q, other] in flat
	kind2 == kind
	before(p, q, i, j)
	key(other) == key(m)
}

violation contains {"msg": msg} if {
	some [kind, i, j, p, q] in duplicates
	not earlier_duplicate(kind, i, j, p, q)
	msg := sprintf("spec.%s[%d].match[%d] repeats spec.%s[%d].match[%d], which takes all its requests", [kind, i, j, kind, p, q])
}

# Report each repeated match once, against the first it repeats.
earlier_duplicate(kind, i, j, p, q) if {
	some [k, a, b, p2, q2] in duplicates
	[k, a, b] == [kind, i, j]
	before(p2, q2, p, q)
}

# HTTP URI prefix matches, with their other conditions as Istio compares
# them (a match without method is a GET match to istioctl).
prefixed contains [i, j, m.uri.prefix, rest] if {
	some ["http", i, j, m] in flat
	is_string(m.uri.prefix)
	m.uri.prefix != ""
	not repeated(i, j)
	rest := object.union({"method": {"exact": "GET"}}, object.remove(m, {"name", "uri"}))
}

repeated(i, j) if {
	some [kind, a, b, _, _] in duplicates
	[kind, a, b] == ["http", i, j]
}

violation contains {"msg": msg} if {
	some [i, j, prefix, rest] in prefixed
	some [p, q, earlier, same] in prefixed
	before(p, q, i, j)
	prefix != earlier
	startswith(prefix, earlier)
	rest == same
	msg := sprintf("spec.http[%d].match[%d] (prefix %s) is shadowed by spec.http[%d].match[%d] (prefix %s), which takes all its requests", [i, j, prefix, p, q, earlier])
}
