package mesh.istio.envoyfilter_relative_priority_test

import data.mesh.istio.envoyfilter_relative_priority
import rego.v1

lua_patch(operation) := {
	"applyTo": "HTTP_FILTER",
	"match": {
		"context": "SIDECAR_INBOUND",
		"listener": {"filterChain": {"filter": {
			"name": "envoy.filters.network.http_connection_manager",
			"subFilter": {"name": "envoy.filters.http.router"},
		}}},
	},
	"patch": {"operation": operation, "value": {"name": "envoy.lua", "typed_config": {
		"@type": "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua",
		"inlineCode": "function envoy_on_request(h) end",
	}}},
}

review(spec) := {"review": {"namespace": "shop", "operation": "CREATE", "object": {
	"apiVersion": "networking.istio.io/v1alpha3", "kind": "EnvoyFilter",
	"metadata": {"name": "lua", "namespace": "shop"},
	"spec": spec,
}}}

test_relative_with_priority_allowed if {
	count(envoyfilter_relative_priority.violation) == 0 with input as review({"priority": 10, "configPatches": [lua_patch("INSERT_BEFORE")]})
	count(envoyfilter_relative_priority.violation) == 0 with input as review({"priority": -5, "configPatches": [lua_patch("INSERT_AFTER")]})
}

test_absolute_operations_allowed if {
	merge := {"applyTo": "LISTENER", "match": {"context": "SIDECAR_INBOUND"}, "patch": {"operation": "MERGE", "value": {"per_connection_buffer_limit_bytes": 1048576}}}
	count(envoyfilter_relative_priority.violation) == 0 with input as review({"configPatches": [lua_patch("INSERT_FIRST"), lua_patch("ADD"), merge]})
}

test_insert_before_without_priority_denied if {
	v := envoyfilter_relative_priority.violation with input as review({"configPatches": [lua_patch("INSERT_BEFORE")]})
	v == {{"msg": "spec.configPatches[0].patch.operation INSERT_BEFORE (applyTo HTTP_FILTER) depends on a filter other EnvoyFilters may add or move, but spec.priority is not set: the order between EnvoyFilters then depends on creation time"}}
}

test_each_relative_patch_reported if {
	v := envoyfilter_relative_priority.violation with input as review({"configPatches": [lua_patch("INSERT_FIRST"), lua_patch("INSERT_AFTER"), lua_patch("REPLACE"), lua_patch("REMOVE")]})
	v == {
		{"msg": "spec.configPatches[1].patch.operation INSERT_AFTER (applyTo HTTP_FILTER) depends on a filter other EnvoyFilters may add or move, but spec.priority is not set: the order between EnvoyFilters then depends on creation time"},
		{"msg": "spec.configPatches[2].patch.operation REPLACE (applyTo HTTP_FILTER) depends on a filter other EnvoyFilters may add or move, but spec.priority is not set: the order between EnvoyFilters then depends on creation time"},
		{"msg": "spec.configPatches[3].patch.operation REMOVE (applyTo HTTP_FILTER) depends on a filter other EnvoyFilters may add or move, but spec.priority is not set: the order between EnvoyFilters then depends on creation time"},
	}
}

test_zero_priority_is_unset if {
	count(envoyfilter_relative_priority.violation) == 1 with input as review({"priority": 0, "configPatches": [lua_patch("INSERT_BEFORE")]})
}

test_remove_on_routes_not_reported if {
	remove_route := {"applyTo": "HTTP_ROUTE", "match": {"context": "SIDECAR_OUTBOUND"}, "patch": {"operation": "REMOVE"}}
	count(envoyfilter_relative_priority.violation) == 0 with input as review({"configPatches": [remove_route]})
}

test_null_fields_tolerated if {
	count(envoyfilter_relative_priority.violation) == 0 with input as review({"configPatches": null})
	count(envoyfilter_relative_priority.violation) == 1 with input as review({"priority": null, "configPatches": [lua_patch("INSERT_AFTER")]})
}
