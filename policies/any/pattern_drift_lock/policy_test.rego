package mesh.any.pattern_drift_lock_test

import data.mesh.any.pattern_drift_lock
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

lock := {"kubectl-mesh.io/drift": "lock"}

spec_v1 := {"hosts": ["reviews"], "http": [{"route": [{"destination": {"host": "reviews", "subset": "v1"}}]}]}

spec_v2 := {"hosts": ["reviews"], "http": [{"route": [{"destination": {"host": "reviews", "subset": "v2"}}]}]}

entry(manager, operation, time, fields) := {"manager": manager, "operation": operation, "apiVersion": "networking.istio.io/v1", "time": time, "fieldsType": "FieldsV1", "fieldsV1": fields}

applied := entry("kubectl-mesh", "Apply", "2025-05-01T10:00:00Z", {
	"f:metadata": {"f:labels": {"f:kubectl-mesh.io/pattern": {}}, "f:annotations": {"f:kubectl-mesh.io/drift": {}}},
	"f:spec": {"f:hosts": {}, "f:http": {}},
})

review(operation, old, new, options, user) := {"review": {
	"operation": operation, "namespace": "shop", "name": "reviews",
	"userInfo": {"username": user},
	"object": new, "oldObject": old, "options": options,
}}

update(old, new, manager) := review("UPDATE", old, new, {"kind": "UpdateOptions", "fieldManager": manager}, "alice")

delete(old, user) := review("DELETE", old, null, {"kind": "DeleteOptions", "propagationPolicy": "Background"}, user)

test_patch_of_locked_spec_denied if {
	v := pattern_drift_lock.violation with input as update(vs(shop, lock, spec_v1, [applied]), vs(shop, lock, spec_v2, [applied]), "kubectl-patch")
	v == {{"msg": `pattern "shop" locks this object (kubectl-mesh.io/drift: lock): field manager "kubectl-patch" changed spec; change the pattern and run kubectl mesh apply, kubectl mesh diff shows what differs`}}
}

test_removing_the_lock_by_hand_denied if {
	v := pattern_drift_lock.violation with input as update(vs(shop, lock, spec_v1, [applied]), vs(shop, {}, spec_v1, [applied]), "kubectl-annotate")
	v == {{"msg": `pattern "shop" locks this object (kubectl-mesh.io/drift: lock): field manager "kubectl-annotate" changed metadata.annotations; change the pattern and run kubectl mesh apply, kubectl mesh diff shows what differs`}}
}

test_kubectl_mesh_may_change_and_unlock if {
	count(pattern_drift_lock.violation) == 0 with input as update(vs(shop, lock, spec_v1, [applied]), vs(shop, lock, spec_v2, [applied]), "kubectl-mesh")
	count(pattern_drift_lock.violation) == 0 with input as update(vs(shop, lock, spec_v1, [applied]), vs(shop, {}, spec_v1, [applied]), "kubectl-mesh")
}

test_unlocked_object_left_to_mesh5004 if {
	count(pattern_drift_lock.violation) == 0 with input as update(vs(shop, {}, spec_v1, [applied]), vs(shop, {}, spec_v2, [applied]), "kubectl-patch")
}

test_lock_without_pattern_label_not_checked if {
	count(pattern_drift_lock.violation) == 0 with input as update(vs({}, lock, spec_v1, []), vs({}, lock, spec_v2, []), "kubectl-patch")
	count(pattern_drift_lock.violation) == 0 with input as delete(vs({}, lock, spec_v1, []), "alice")
}

test_metadata_only_change_allowed if {
	old := vs(shop, lock, spec_v1, [applied])
	new := object.union(old, {"metadata": {"finalizers": ["acme.io/cleanup"]}})
	count(pattern_drift_lock.violation) == 0 with input as update(old, new, "acme-controller")
}

test_delete_of_locked_object_denied if {
	v := pattern_drift_lock.violation with input as delete(vs(shop, lock, spec_v1, [applied]), "alice")
	v == {{"msg": `pattern "shop" locks this object (kubectl-mesh.io/drift: lock): user "alice" may not delete it; kubectl mesh delete removes the pattern's objects, or set spec.drift: warn and run kubectl mesh apply to unlock it`}}
}

test_delete_of_unlocked_object_allowed if {
	count(pattern_drift_lock.violation) == 0 with input as delete(vs(shop, {}, spec_v1, [applied]), "alice")
}

test_namespace_deletion_and_garbage_collection_allowed if {
	old := vs(shop, lock, spec_v1, [applied])
	count(pattern_drift_lock.violation) == 0 with input as delete(old, "system:serviceaccount:kube-system:namespace-controller")
	count(pattern_drift_lock.violation) == 0 with input as delete(old, "system:serviceaccount:kube-system:generic-garbage-collector")
}

test_create_of_locked_object_by_another_manager_denied if {
	v := pattern_drift_lock.violation with input as review("CREATE", null, vs(shop, lock, spec_v1, []), {"kind": "CreateOptions", "fieldManager": "kubectl-client-side-apply"}, "alice")
	v == {{"msg": `pattern "shop" locks this object (kubectl-mesh.io/drift: lock): field manager "kubectl-client-side-apply" wrote metadata.annotations, metadata.labels and spec; change the pattern and run kubectl mesh apply, kubectl mesh diff shows what differs`}}
}

test_create_by_kubectl_mesh_allowed if {
	count(pattern_drift_lock.violation) == 0 with input as review("CREATE", null, vs(shop, lock, spec_v1, [applied]), {"kind": "CreateOptions", "fieldManager": "kubectl-mesh"}, "alice")
}
