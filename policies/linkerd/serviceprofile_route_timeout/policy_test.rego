package mesh.linkerd.serviceprofile_route_timeout_test

import data.mesh.linkerd.serviceprofile_route_timeout
import rego.v1

review(routes) := {"review": {
	"namespace": "booksapp",
	"operation": "CREATE",
	"object": {
		"apiVersion": "linkerd.io/v1alpha2", "kind": "ServiceProfile",
		"metadata": {"name": "books.booksapp.svc.cluster.local", "namespace": "booksapp"},
		"spec": {"routes": routes},
	},
}}

route(name, timeout) := {"name": name, "condition": {"method": "GET", "pathRegex": "/books/[^/]*\\.json"}, "timeout": timeout}

untimed(name) := {"name": name, "condition": {"method": "POST", "pathRegex": "/books\\.json"}}

test_timeouts_allowed if {
	routes := [route("GET /books/{id}.json", "300ms"), route("GET /books.json", "1m30s"), route("HEAD /books/{id}.json", "1.5s")]
	count(serviceprofile_route_timeout.violation) == 0 with input as review(routes)
}

test_no_routes_allowed if {
	profile := {"review": {
		"namespace": "booksapp", "operation": "CREATE",
		"object": {
			"apiVersion": "linkerd.io/v1alpha2", "kind": "ServiceProfile",
			"metadata": {"name": "books.booksapp.svc.cluster.local", "namespace": "booksapp"},
			"spec": {"retryBudget": {"retryRatio": 0.2, "minRetriesPerSecond": 10, "ttl": "10s"}},
		},
	}}
	count(serviceprofile_route_timeout.violation) == 0 with input as profile
}

test_missing_timeout_denied if {
	v := serviceprofile_route_timeout.violation with input as review([route("GET /books/{id}.json", "300ms"), untimed("POST /books.json")])
	v == {{"msg": `spec.routes[1] ("POST /books.json") has no timeout: Linkerd applies none by default, so requests wait as long as the backend takes`}}
}

test_empty_timeout_denied if {
	count(serviceprofile_route_timeout.violation) == 1 with input as review([route("GET /books.json", "")])
}

test_invalid_timeout_denied if {
	v := serviceprofile_route_timeout.violation with input as review([route("GET /books.json", "5 seconds"), route("GET /authors.json", "10")])
	v == {
		{"msg": `spec.routes[0] ("GET /books.json"): timeout "5 seconds" is not a duration such as 300ms or 5s, and Linkerd ignores it`},
		{"msg": `spec.routes[1] ("GET /authors.json"): timeout "10" is not a duration such as 300ms or 5s, and Linkerd ignores it`},
	}
}

test_zero_timeout_denied if {
	v := serviceprofile_route_timeout.violation with input as review([route("GET /books.json", "0s")])
	v == {{"msg": `spec.routes[0] ("GET /books.json"): timeout "0s" disables the timeout`}}
}

test_each_route_reported if {
	count(serviceprofile_route_timeout.violation) == 3 with input as review([untimed("a"), untimed("b"), untimed("c")])
}
