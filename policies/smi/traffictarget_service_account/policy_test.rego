package mesh.smi.traffictarget_service_account_test

import data.mesh.smi.traffictarget_service_account
import rego.v1

sa(ns, name) := {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": ns}}

inventory := {"namespace": {
	"bookstore": {"v1": {"ServiceAccount": {"bookstore": sa("bookstore", "bookstore")}}},
	"bookbuyer": {"v1": {"ServiceAccount": {"bookbuyer": sa("bookbuyer", "bookbuyer")}}},
}}

review(destination, sources) := {"review": {
	"namespace": "bookstore",
	"operation": "CREATE",
	"object": {
		"apiVersion": "access.smi-spec.io/v1alpha3", "kind": "TrafficTarget",
		"metadata": {"name": "bookbuyer-to-bookstore", "namespace": "bookstore"},
		"spec": {
			"destination": destination,
			"rules": [{"kind": "HTTPRouteGroup", "name": "bookstore-routes", "matches": ["buy-a-book"]}],
			"sources": sources,
		},
	},
}}

test_existing_service_accounts_allowed if {
	count(traffictarget_service_account.violation) == 0 with input as review(
		{"kind": "ServiceAccount", "name": "bookstore", "namespace": "bookstore"},
		[{"kind": "ServiceAccount", "name": "bookbuyer", "namespace": "bookbuyer"}],
	)
		with data.inventory as inventory
}

test_namespace_defaults_to_traffic_target if {
	count(traffictarget_service_account.violation) == 0 with input as review(
		{"kind": "ServiceAccount", "name": "bookstore"},
		[{"kind": "ServiceAccount", "name": "bookbuyer", "namespace": "bookbuyer"}],
	)
		with data.inventory as inventory
	v := traffictarget_service_account.violation with input as review(
		{"kind": "ServiceAccount", "name": "bookstore"},
		[{"kind": "ServiceAccount", "name": "bookbuyer"}],
	)
		with data.inventory as inventory
	v == {{"msg": `spec.sources[0]: ServiceAccount "bookbuyer" does not exist in namespace "bookstore"`}}
}

test_missing_destination_and_source_denied if {
	v := traffictarget_service_account.violation with input as review(
		{"kind": "ServiceAccount", "name": "book-store", "namespace": "bookstore"},
		[
			{"kind": "ServiceAccount", "name": "bookbuyer", "namespace": "bookbuyer"},
			{"kind": "ServiceAccount", "name": "bookthief", "namespace": "bookthief"},
		],
	)
		with data.inventory as inventory
	v == {
		{"msg": `spec.destination: ServiceAccount "book-store" does not exist in namespace "bookstore"`},
		{"msg": `spec.sources[1]: ServiceAccount "bookthief" does not exist in namespace "bookthief"`},
	}
}

test_default_service_account_allowed if {
	count(traffictarget_service_account.violation) == 0 with input as review(
		{"kind": "ServiceAccount", "name": "bookstore"},
		[{"kind": "ServiceAccount", "name": "default", "namespace": "bookbuyer"}],
	)
		with data.inventory as inventory
}

test_other_subject_kinds_not_checked if {
	count(traffictarget_service_account.violation) == 0 with input as review(
		{"kind": "ServiceAccount", "name": "bookstore"},
		[{"kind": "Group", "name": "nobody"}],
	)
		with data.inventory as inventory
}
