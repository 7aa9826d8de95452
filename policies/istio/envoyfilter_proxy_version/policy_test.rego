package mesh.istio.envoyfilter_proxy_version_test

import data.mesh.istio.envoyfilter_proxy_version
import rego.v1

ef(name, spec) := {
	"apiVersion": "networking.istio.io/v1alpha3", "kind": "EnvoyFilter",
	"metadata": {"name": name, "namespace": "shop"},
	"spec": spec,
}

lua(op, version) := {
	"applyTo": "HTTP_FILTER",
	"match": object.union({"context": "SIDECAR_INBOUND"}, {"proxy": {"proxyVersion": version}}),
	"patch": {"operation": op, "value": {"name": "envoy.lua"}},
} if version != ""
else := {
	"applyTo": "HTTP_FILTER",
	"match": {"context": "SIDECAR_INBOUND"},
	"patch": {"operation": op, "value": {"name": "envoy.lua"}},
}

review(obj) := {"review": {"namespace": "shop", "operation": "CREATE", "object": obj}}

test_unversioned_allowed if {
	count(envoyfilter_proxy_version.violation) == 0 with input as review(ef("a", {"configPatches": [lua("INSERT_BEFORE", ""), lua("REPLACE", "")]}))
}

test_same_filter_versioned_earlier_denied if {
	v := envoyfilter_proxy_version.violation with input as review(ef("a", {"configPatches": [lua("REPLACE", `^1\.11.*`), lua("REPLACE", "")]}))
	v == {{"msg": "spec.configPatches[1]: REPLACE relative to envoy.lua, which another patch handles only for some proxy versions; without spec.priority the result depends on the proxy version and the EnvoyFilters' creation order"}}
}

test_versioned_in_other_filter_denied if {
	other := ef("b", {"configPatches": [lua("INSERT_BEFORE", `^1\.2.*`)]})
	mine := ef("a", {"configPatches": [lua("INSERT_AFTER", "")]})
	count(envoyfilter_proxy_version.violation) == 1 with input as review(mine)
		with data.inventory as {"namespace": {"shop": {"networking.istio.io/v1alpha3": {"EnvoyFilter": {"a": mine, "b": other}}}}}
}

test_priority_allowed if {
	count(envoyfilter_proxy_version.violation) == 0 with input as review(ef("a", {"priority": 5, "configPatches": [lua("REPLACE", `^1\.11.*`), lua("REPLACE", "")]}))
}
