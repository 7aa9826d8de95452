package mesh.istio.namespace_injection_labels_test

import data.mesh.istio.namespace_injection_labels
import rego.v1

review(labels) := {"review": {"namespace": "", "operation": "CREATE", "object": {
	"apiVersion": "v1", "kind": "Namespace",
	"metadata": {"name": "shop", "labels": labels},
}}}

test_injection_label_alone_allowed if {
	count(namespace_injection_labels.violation) == 0 with input as review({"istio-injection": "enabled"})
}

test_revision_label_alone_allowed if {
	count(namespace_injection_labels.violation) == 0 with input as review({"istio.io/rev": "1-24-2"})
}

test_no_labels_allowed if {
	count(namespace_injection_labels.violation) == 0 with input as {"review": {"namespace": "", "operation": "CREATE", "object": {
		"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"},
	}}}
}

test_both_enabled_denied if {
	v := namespace_injection_labels.violation with input as review({"istio-injection": "enabled", "istio.io/rev": "canary"})
	v == {{"msg": `metadata.labels has istio-injection=enabled and istio.io/rev=canary: istio.io/rev is ignored and pods get the default revision's sidecar, not "canary"'s`}}
}

test_disabled_with_revision_allowed if {
	# istio-injection=disabled is a decision to stay out of sidecar injection.
	count(namespace_injection_labels.violation) == 0 with input as review({"istio-injection": "disabled", "istio.io/rev": "canary"})
	count(namespace_injection_labels.violation) == 0 with input as review({"istio-injection": "disabled", "istio.io/dataplane-mode": "ambient"})
}

test_ambient_with_sidecars_denied if {
	v := namespace_injection_labels.violation with input as review({"istio-injection": "enabled", "istio.io/dataplane-mode": "ambient"})
	v == {{"msg": `metadata.labels has istio-injection=enabled and istio.io/dataplane-mode=ambient: the namespace asks for sidecars and for the ambient data plane at once`}}
	w := namespace_injection_labels.violation with input as review({"istio.io/rev": "canary", "istio.io/dataplane-mode": "ambient"})
	w == {{"msg": `metadata.labels has istio.io/dataplane-mode=ambient and istio.io/rev=canary: the namespace asks for sidecars and for the ambient data plane at once`}}
}

test_ambient_opt_out_asks_for_nothing if {
	# istio.io/dataplane-mode=none opts out of ambient.
	count(namespace_injection_labels.violation) == 0 with input as review({"istio-injection": "enabled", "istio.io/dataplane-mode": "none"})
	v := namespace_injection_labels.violation with input as review({"istio-injection": "enabled", "istio.io/rev": "canary", "istio.io/dataplane-mode": "none"})
	v == {{"msg": `metadata.labels has istio-injection=enabled and istio.io/rev=canary: istio.io/rev is ignored and pods get the default revision's sidecar, not "canary"'s`}}
}

test_ambient_alone_allowed if {
	count(namespace_injection_labels.violation) == 0 with input as review({"istio.io/dataplane-mode": "ambient"})
}
