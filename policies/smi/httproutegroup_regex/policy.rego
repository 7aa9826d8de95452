# METADATA
# title: HTTPRouteGroup match has an invalid regular expression
# description: |
#   HTTPRouteGroup matches select requests by regular expressions: pathRegex
#   for the URI and the values of headers. An expression that does not
#   compile (RE2 syntax, as Envoy and Go use it) cannot match anything; the
#   mesh rejects or drops the route, and the traffic it was meant to allow or
#   split is not matched.
# custom:
#   id: MESH3005
#   severity: error
#   enforcement: deny
#   kinds: [specs.smi-spec.io/HTTPRouteGroup]
#   remediation: |
#     Fix the expression: RE2 has no lookaround or backreferences, and
#     brackets and parentheses must be balanced. Escape literal metacharacters
#     such as ( [ { . * + ? with a backslash.
package mesh.smi.httproutegroup_regex

import data.mesh.lib.k8s
import rego.v1

# Matches are under spec from v1alpha3 on, at the top level before.
matches contains [sprintf("spec.matches[%d]", [i]), m] if {
	some i, m in k8s.subject.spec.matches
}

matches contains [sprintf("matches[%d]", [i]), m] if {
	some i, m in k8s.subject.matches
}

# Header filters: a map in v1alpha3 and later, a list of one-entry maps before.
headers contains [sprintf("%s.headers[%q]", [path, name]), value] if {
	some [path, m] in matches
	is_object(m.headers)
	some name, value in m.headers
}

headers contains [sprintf("%s.headers[%d][%q]", [path, j, name]), value] if {
	some [path, m] in matches
	is_array(m.headers)
	some j, header in m.headers
	some name, value in header
}

violation contains {"msg": msg} if {
	some [path, m] in matches
	is_string(m.pathRegex)
	not regex.is_valid(m.pathRegex)
	msg := sprintf("%s.pathRegex %q is not a valid regular expression", [path, m.pathRegex])
}

violation contains {"msg": msg} if {
	some [path, value] in headers
	is_string(value)
	not regex.is_valid(value)
	msg := sprintf("%s: header value %q is not a valid regular expression", [path, value])
}
