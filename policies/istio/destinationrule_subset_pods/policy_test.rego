package mesh.istio.destinationrule_subset_pods_test

import data.mesh.istio.destinationrule_subset_pods as subset_pods
import rego.v1

deployment(name, labels) := {
	"apiVersion": "apps/v1", "kind": "Deployment",
	"metadata": {"name": name, "namespace": "shop"},
	"spec": {"selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels}}},
}

inventory := {"namespace": {
	"shop": {
		"v1": {"Service": {
			"reviews": {
				"apiVersion": "v1", "kind": "Service", "metadata": {"name": "reviews", "namespace": "shop"},
				"spec": {"selector": {"app": "reviews"}, "ports": [{"name": "http", "port": 9080}]},
			},
			"ratings": {
				"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ratings", "namespace": "shop"},
				"spec": {"selector": {"app": "ratings"}, "ports": [{"name": "http", "port": 9080}]},
			},
			"legacy": {
				"apiVersion": "v1", "kind": "Service", "metadata": {"name": "legacy", "namespace": "shop"},
				"spec": {"ports": [{"name": "http", "port": 80}]},
			},
		}},
		"apps/v1": {"Deployment": {
			"reviews-v1": deployment("reviews-v1", {"app": "reviews", "version": "v1"}),
			"reviews-v2": deployment("reviews-v2", {"app": "reviews", "version": "v2"}),
			"details-v3": deployment("details-v3", {"app": "details", "version": "v3"}),
		}},
	},
	"vms": {"networking.istio.io/v1": {
		"ServiceEntry": {
			"billing": {
				"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry", "metadata": {"name": "billing", "namespace": "vms"},
				"spec": {"hosts": ["billing.internal"], "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}], "resolution": "STATIC", "workloadSelector": {"labels": {"app": "billing"}}},
			},
			"partner": {
				"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry", "metadata": {"name": "partner", "namespace": "vms"},
				"spec": {"hosts": ["api.partner.example.com"], "ports": [{"number": 443, "name": "tls", "protocol": "TLS"}], "resolution": "DNS"},
			},
		},
		"WorkloadEntry": {"billing-vm-1": {
			"apiVersion": "networking.istio.io/v1", "kind": "WorkloadEntry", "metadata": {"name": "billing-vm-1", "namespace": "vms"},
			"spec": {"address": "10.0.3.4", "labels": {"app": "billing", "version": "v1"}},
		}},
	}},
}}

review(host, subsets) := {"review": {
	"namespace": "shop",
	"operation": "CREATE",
	"object": {
		"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
		"metadata": {"name": "dr", "namespace": "shop"},
		"spec": {"host": host, "subsets": subsets},
	},
}}

test_subsets_selecting_pods_allowed if {
	count(subset_pods.violation) == 0 with input as review("reviews", [{"name": "v1", "labels": {"version": "v1"}}, {"name": "v2", "labels": {"version": "v2"}}])
		with data.inventory as inventory
}

test_subset_without_pods_denied if {
	v := subset_pods.violation with input as review("reviews", [{"name": "v1", "labels": {"version": "v1"}}, {"name": "v3", "labels": {"version": "v3"}}])
		with data.inventory as inventory
	v == {{"msg": `spec.subsets[1] "v3": labels version=v3 select none of the workloads behind Service shop/reviews (they carry version=v1, version=v2)`}}
}

test_service_selector_applies if {
	# details-v3 carries version=v3 but is not behind reviews.
	count(subset_pods.violation) == 1 with input as review("reviews.shop.svc.cluster.local", [{"name": "v3", "labels": {"version": "v3"}}])
		with data.inventory as inventory
}

test_missing_label_key_named if {
	v := subset_pods.violation with input as review("reviews", [{"name": "canary", "labels": {"track": "canary"}}])
		with data.inventory as inventory
	v == {{"msg": `spec.subsets[0] "canary": labels track=canary select none of the workloads behind Service shop/reviews (none has label track)`}}
}

test_workloads_not_in_view_not_judged if {
	# ratings has no pod or pod template in the inventory; legacy has no selector.
	count(subset_pods.violation) == 0 with input as review("ratings", [{"name": "v1", "labels": {"version": "v1"}}])
		with data.inventory as inventory
	count(subset_pods.violation) == 0 with input as review("legacy", [{"name": "v1", "labels": {"version": "v1"}}])
		with data.inventory as inventory
}

test_unlabelled_subset_and_unknown_host_not_judged if {
	count(subset_pods.violation) == 0 with input as review("reviews", [{"name": "all"}])
		with data.inventory as inventory
	count(subset_pods.violation) == 0 with input as review("nowhere", [{"name": "v1", "labels": {"version": "v1"}}])
		with data.inventory as inventory
	count(subset_pods.violation) == 0 with input as review("*.shop.svc.cluster.local", [{"name": "v9", "labels": {"version": "v9"}}])
		with data.inventory as inventory
}

test_node_and_injector_labels_ignored if {
	subsets := [
		{"name": "zone-a", "labels": {"version": "v1", "topology.kubernetes.io/zone": "eu-west-1a"}},
		{"name": "node", "labels": {"kubernetes.io/hostname": "node-1"}},
	]
	count(subset_pods.violation) == 0 with input as review("reviews", subsets)
		with data.inventory as inventory
}

test_service_entry_workload_selector if {
	count(subset_pods.violation) == 0 with input as review("billing.internal", [{"name": "v1", "labels": {"version": "v1"}}])
		with data.inventory as inventory
	v := subset_pods.violation with input as review("billing.internal", [{"name": "v2", "labels": {"version": "v2"}}])
		with data.inventory as inventory
	v == {{"msg": `spec.subsets[0] "v2": labels version=v2 select none of the workloads behind ServiceEntry vms/billing (they carry version=v1)`}}
}

test_service_entry_endpoints if {
	# A DNS ServiceEntry without endpoints: its endpoints are not in view.
	count(subset_pods.violation) == 0 with input as review("api.partner.example.com", [{"name": "eu", "labels": {"region": "eu"}}])
		with data.inventory as inventory

	# With endpoints, their labels are what subsets select.
	endpoints := [{"address": "eu.partner.example.com", "labels": {"region": "eu"}}, {"address": "us.partner.example.com", "labels": {"region": "us"}}]
	inv := json.patch(inventory, [{"op": "add", "path": "/namespace/vms/networking.istio.io~1v1/ServiceEntry/partner/spec/endpoints", "value": endpoints}])
	count(subset_pods.violation) == 0 with input as review("api.partner.example.com", [{"name": "eu", "labels": {"region": "eu"}}])
		with data.inventory as inv
	v := subset_pods.violation with input as review("api.partner.example.com", [{"name": "ap", "labels": {"region": "ap"}}])
		with data.inventory as inv
	v == {{"msg": `spec.subsets[0] "ap": labels region=ap select none of the workloads behind ServiceEntry vms/partner (they carry region=eu, region=us)`}}
}

test_empty_node_label_denied if {
	dr := {
		"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
		"metadata": {"name": "reviews", "namespace": "shop"},
		"spec": {"host": "reviews", "subsets": [{"name": "no-region", "labels": {"topology.kubernetes.io/region": ""}}]},
	}
	v := subset_pods.violation with input as {"review": {"namespace": "shop", "operation": "CREATE", "object": dr}}
	v == {{"msg": `spec.subsets[0] "no-region": label topology.kubernetes.io/region is required to be empty, but Istio sets it on endpoints only from a node label with a value: the subset selects no endpoint`}}
}
