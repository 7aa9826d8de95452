package mesh.smi.httproutegroup_regex_test

import data.mesh.smi.httproutegroup_regex
import rego.v1

review(api_version, body) := {"review": {
	"namespace": "bookstore",
	"operation": "CREATE",
	"object": object.union(
		{
			"apiVersion": api_version, "kind": "HTTPRouteGroup",
			"metadata": {"name": "routes", "namespace": "bookstore"},
		},
		body,
	),
}}

v4(matches) := review("specs.smi-spec.io/v1alpha4", {"spec": {"matches": matches}})

test_valid_expressions_allowed if {
	count(httproutegroup_regex.violation) == 0 with input as v4([
		{"name": "metrics", "pathRegex": "/metrics", "methods": ["GET"]},
		{"name": "everything", "pathRegex": ".*", "methods": ["*"]},
		{"name": "android-insiders", "headers": {
			"user-agent": ".*Android.*",
			"cookie": "^(.*?;)?(type=insider)(;.*)?$",
		}},
	])
}

test_invalid_path_regex_denied if {
	v := httproutegroup_regex.violation with input as v4([
		{"name": "ok", "pathRegex": "/books/[0-9]+"},
		{"name": "broken", "pathRegex": "/books/(new", "methods": ["GET"]},
	])
	v == {{"msg": `spec.matches[1].pathRegex "/books/(new" is not a valid regular expression`}}
}

test_lookahead_denied if {
	# RE2 has no lookaround.
	count(httproutegroup_regex.violation) == 1 with input as v4([{"name": "no-admin", "pathRegex": "^/(?!admin).*"}])
}

test_invalid_header_map_value_denied if {
	v := httproutegroup_regex.violation with input as v4([{"name": "ua", "headers": {"user-agent": "*Firefox*"}}])
	v == {{"msg": `spec.matches[0].headers["user-agent"]: header value "*Firefox*" is not a valid regular expression`}}
}

test_invalid_header_list_value_denied if {
	# v1alpha2: matches at the top level, headers as a list of one-entry maps.
	v := httproutegroup_regex.violation with input as review("specs.smi-spec.io/v1alpha2", {"matches": [{
		"name": "buy",
		"pathRegex": "/buy",
		"headers": [{"host": "bookstore.bookstore"}, {"user-agent": "[bookbuyer"}],
	}]})
	v == {{"msg": `matches[0].headers[1]["user-agent"]: header value "[bookbuyer" is not a valid regular expression`}}
}

test_match_without_regex_allowed if {
	count(httproutegroup_regex.violation) == 0 with input as v4([{"name": "all-gets", "methods": ["GET"]}])
}
