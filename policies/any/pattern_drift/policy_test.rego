package mesh.any.pattern_drift_test

import data.mesh.any.pattern_drift
import rego.v1

vs(labels, annotations, spec, managed_fields) := {
	"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
	"metadata": {
		"name": "reviews", "namespace": "shop",
		"labels": labels, "annotations": annotations,
		"managedFields": managed_fields,
	},
	"spec": spec,
}

shop := {"kubectl-mesh.io/pattern": "shop"}

spec_v1 := {"hosts": ["reviews"], "http": [{"route": [{"destination": {"host": "reviews", "subset": "v1"}}]}]}

spec_v2 := {"hosts": ["reviews"], "http": [{"route": [{"destination": {"host": "reviews", "subset": "v2"}}]}]}

entry(manager, operation, time, fields) := {"manager": manager, "operation": operation, "apiVersion": "networking.istio.io/v1", "time": time, "fieldsType": "FieldsV1", "fieldsV1": fields}

applied := entry("kubectl-mesh", "Apply", "2025-05-01T10:00:00Z", {"f:metadata": {"f:labels": {"f:kubectl-mesh.io/pattern": {}}}, "f:spec": {"f:hosts": {}, "f:http": {}}})

patched := entry("kubectl-patch", "Update", "2025-05-01T11:00:00Z", {"f:spec": {"f:http": {}}})

update(old, new, options) := {"review": {
	"operation": "UPDATE", "namespace": "shop", "name": "reviews",
	"userInfo": {"username": "alice"},
	"object": new, "oldObject": old, "options": options,
}}

create(new, options) := {"review": {
	"operation": "CREATE", "namespace": "shop", "name": "reviews",
	"userInfo": {"username": "alice"},
	"object": new, "oldObject": null, "options": options,
}}

update_options(manager) := {"kind": "UpdateOptions", "apiVersion": "meta.k8s.io/v1", "fieldManager": manager}

test_patch_of_spec_warns if {
	v := pattern_drift.violation with input as update(
		vs(shop, {}, spec_v1, [applied]),
		vs(shop, {}, spec_v2, [applied, patched]),
		update_options("kubectl-patch"),
	)
	v == {{"msg": `field manager "kubectl-patch" changed spec of this object of pattern "shop" outside kubectl mesh: kubectl mesh diff shows the drift, kubectl mesh apply restores the pattern`}}
}

test_edit_of_labels_and_annotations_warns if {
	v := pattern_drift.violation with input as update(
		vs(shop, {}, spec_v1, [applied]),
		vs(object.union(shop, {"team": "a"}), {"note": "x"}, spec_v1, [applied]),
		{"kind": "UpdateOptions", "fieldManager": "kubectl-edit"},
	)
	v == {{"msg": `field manager "kubectl-edit" changed metadata.annotations and metadata.labels of this object of pattern "shop" outside kubectl mesh: kubectl mesh diff shows the drift, kubectl mesh apply restores the pattern`}}
}

test_removing_the_pattern_label_warns if {
	v := pattern_drift.violation with input as update(
		vs(shop, {}, spec_v1, [applied]),
		vs({}, {}, spec_v1, [applied]),
		update_options("kubectl-label"),
	)
	v == {{"msg": `field manager "kubectl-label" changed metadata.labels of this object of pattern "shop" outside kubectl mesh: kubectl mesh diff shows the drift, kubectl mesh apply restores the pattern`}}
}

test_kubectl_mesh_apply_allowed if {
	count(pattern_drift.violation) == 0 with input as update(
		vs(shop, {}, spec_v2, [applied, patched]),
		vs(shop, {}, spec_v1, [applied]),
		update_options("kubectl-mesh"),
	)
}

test_no_change_to_intent_allowed if {
	# A finalizer, or status through the main resource: not what a pattern sets.
	old := vs(shop, {}, spec_v1, [applied])
	new := object.union(old, {"metadata": {"finalizers": ["acme.io/cleanup"]}, "status": {"observedGeneration": 2}})
	count(pattern_drift.violation) == 0 with input as update(old, new, update_options("acme-controller"))
}

test_last_applied_annotation_ignored if {
	count(pattern_drift.violation) == 0 with input as update(
		vs(shop, {}, spec_v1, [applied]),
		vs(shop, {"kubectl.kubernetes.io/last-applied-configuration": "{}"}, spec_v1, [applied]),
		update_options("kubectl-client-side-apply"),
	)
}

test_object_without_pattern_label_allowed if {
	count(pattern_drift.violation) == 0 with input as update(
		vs({"app": "reviews"}, {}, spec_v1, []),
		vs({"app": "reviews"}, {}, spec_v2, []),
		update_options("kubectl-patch"),
	)
}

test_locked_object_left_to_mesh5005 if {
	lock := {"kubectl-mesh.io/drift": "lock"}
	count(pattern_drift.violation) == 0 with input as update(
		vs(shop, lock, spec_v1, [applied]),
		vs(shop, lock, spec_v2, [applied, patched]),
		update_options("kubectl-patch"),
	)
}

test_adding_the_lock_by_hand_warns if {
	v := pattern_drift.violation with input as update(
		vs(shop, {}, spec_v1, [applied]),
		vs(shop, {"kubectl-mesh.io/drift": "lock"}, spec_v1, [applied]),
		update_options("kubectl-annotate"),
	)
	count(v) == 1
}

test_no_field_manager_option_uses_the_newest_touched_entry if {
	# A client-go controller: the apiserver records it under its user agent.
	controller := entry("acme-controller", "Update", "2025-05-01T12:00:00Z", {"f:spec": {"f:http": {}}})
	v := pattern_drift.violation with input as update(
		vs(shop, {}, spec_v1, [applied, patched]),
		vs(shop, {}, spec_v2, [applied, patched, controller]),
		{"kind": "UpdateOptions"},
	)
	v == {{"msg": `field manager "acme-controller" changed spec of this object of pattern "shop" outside kubectl mesh: kubectl mesh diff shows the drift, kubectl mesh apply restores the pattern`}}
}

test_no_field_manager_option_kubectl_mesh_newest_allowed if {
	# kubectl-patch lost its fields to kubectl-mesh (touched, but older).
	reapplied := entry("kubectl-mesh", "Apply", "2025-05-01T12:00:00Z", applied.fieldsV1)
	count(pattern_drift.violation) == 0 with input as update(
		vs(shop, {}, spec_v2, [applied, patched]),
		vs(shop, {}, spec_v1, [reapplied]),
		{},
	)
}

test_status_entries_are_not_writers if {
	status := object.union(entry("istiod", "Update", "2025-05-01T13:00:00Z", {"f:status": {}}), {"subresource": "status"})
	edited := entry("kubectl-edit", "Update", "2025-05-01T12:00:00Z", {"f:spec": {"f:http": {}}})
	v := pattern_drift.violation with input as update(
		vs(shop, {}, spec_v1, [applied]),
		vs(shop, {}, spec_v2, [applied, edited, status]),
		{},
	)
	v == {{"msg": `field manager "kubectl-edit" changed spec of this object of pattern "shop" outside kubectl mesh: kubectl mesh diff shows the drift, kubectl mesh apply restores the pattern`}}
}

test_unidentified_writer_warns if {
	# No option and no entry moved (same second, same fields): still drift.
	v := pattern_drift.violation with input as update(
		vs(shop, {}, spec_v1, [applied, patched]),
		vs(shop, {}, spec_v2, [applied, patched]),
		{},
	)
	v == {{"msg": `a field manager the request does not name changed spec of this object of pattern "shop" outside kubectl mesh: kubectl mesh diff shows the drift, kubectl mesh apply restores the pattern`}}
}

test_create_by_kubectl_mesh_allowed if {
	count(pattern_drift.violation) == 0 with input as create(vs(shop, {}, spec_v1, [applied]), {"kind": "CreateOptions", "fieldManager": "kubectl-mesh"})
}

test_create_by_another_manager_warns if {
	v := pattern_drift.violation with input as create(
		vs(shop, {}, spec_v1, [entry("kubectl-create", "Update", "2025-05-01T10:00:00Z", {})]),
		{"kind": "CreateOptions", "fieldManager": "kubectl-create"},
	)
	v == {{"msg": `field manager "kubectl-create" wrote metadata.labels and spec of this object of pattern "shop" outside kubectl mesh: kubectl mesh diff shows the drift, kubectl mesh apply restores the pattern`}}
}

test_offline_object_reports_foreign_owners if {
	# kubectl mesh check of an exported live object: who owns its intent.
	owner := entry("argocd-controller", "Update", "2025-05-01T09:00:00Z", {"f:metadata": {"f:annotations": {".": {}, "f:kubectl.kubernetes.io/last-applied-configuration": {}, "f:note": {}}}})
	bookkeeping := entry("kubectl-client-side-apply", "Update", "2025-05-01T09:00:00Z", {"f:metadata": {"f:annotations": {".": {}, "f:kubectl.kubernetes.io/last-applied-configuration": {}}}})
	v := pattern_drift.violation with input as create(vs(shop, {"note": "x"}, spec_v1, [applied, patched, owner, bookkeeping]), {})
	v == {
		{"msg": `field manager "kubectl-patch" wrote spec of this object of pattern "shop" outside kubectl mesh: kubectl mesh diff shows the drift, kubectl mesh apply restores the pattern`},
		{"msg": `field manager "argocd-controller" wrote metadata.annotations of this object of pattern "shop" outside kubectl mesh: kubectl mesh diff shows the drift, kubectl mesh apply restores the pattern`},
	}
}

test_rendered_object_without_managed_fields_allowed if {
	# kubectl mesh render | kubectl mesh check -f -
	count(pattern_drift.violation) == 0 with input as create(vs(shop, {}, spec_v1, []), {})
}
