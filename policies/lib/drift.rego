# METADATA
# title: Pattern drift helpers
# description: |
#   Objects that kubectl mesh apply manages carry the label
#   kubectl-mesh.io/pattern and are written by server-side apply with the
#   field manager kubectl-mesh. These rules say which pattern an object
#   belongs to, whether the pattern locks it, and who else wrote what
#   part of it. Import with `import data.mesh.lib.drift`.
package mesh.lib.drift

import rego.v1

# The strings of plugin/pattern (policies import no Go code).
pattern_label := "kubectl-mesh.io/pattern"

drift_annotation := "kubectl-mesh.io/drift"

field_manager := "kubectl-mesh"

# client-side apply's copy of the object: bookkeeping, not intent.
last_applied := "kubectl.kubernetes.io/last-applied-configuration"

new_object := o if {
	o := input.review.object
	is_object(o)
} else := {}

old_object := o if {
	o := input.review.oldObject
	is_object(o)
} else := {}

# The pattern the object belongs to; a change that removes the label is
# still a change to a managed object.
pattern := p if {
	p := object.get(new_object, ["metadata", "labels", pattern_label], "")
	p != ""
} else := p if {
	p := object.get(old_object, ["metadata", "labels", pattern_label], "")
	p != ""
}

# The object is in lock mode: as it was before an UPDATE or DELETE, as it
# is written on CREATE. Adding the lock by hand is drift, not a lock.
locked if {
	input.review.operation in {"UPDATE", "DELETE"}
	object.get(old_object, ["metadata", "annotations", drift_annotation], "") == "lock"
}

locked if {
	input.review.operation == "CREATE"
	object.get(new_object, ["metadata", "annotations", drift_annotation], "") == "lock"
}

# Deletions of whole namespaces and of owned objects, which no pattern can
# be allowed to block.
system_deleter("system:serviceaccount:kube-system:namespace-controller")

system_deleter("system:serviceaccount:kube-system:generic-garbage-collector")

system_deleter("system:kube-controller-manager")

# What a pattern sets: spec, labels and annotations.
intent(obj) := {
	"spec": object.get(obj, "spec", null),
	"metadata.labels": object.get(obj, ["metadata", "labels"], {}),
	"metadata.annotations": object.remove(object.get(obj, ["metadata", "annotations"], {}), {last_applied}),
}

# The parts of the intent this request changes.
changed contains section if {
	old := intent(old_object)
	some section, value in intent(new_object)
	value != old[section]
}

# managedFields entries of the object itself (subresources such as status
# are not intent).
entries(obj) := [e |
	some e in object.get(obj, ["metadata", "managedFields"], [])
	object.get(e, "subresource", "") == ""
	object.get(e, "operation", "") in {"Update", "Apply"}
]

entry_time(e) := time.parse_rfc3339_ns(e.time) if is_string(e.time) else := 0

# An entry this UPDATE wrote: new, or with a new time or new fields. A
# manager's time moves whenever it changes a field.
touched contains e if {
	some e in entries(new_object)
	not unchanged(e)
}

unchanged(e) if {
	some o in entries(old_object)
	o.manager == e.manager
	o.operation == e.operation
	object.get(o, "time", "") == object.get(e, "time", "")
	object.get(o, "fieldsV1", {}) == object.get(e, "fieldsV1", {})
}

newest_touched := {e.manager |
	newest := max({entry_time(t) | some t in touched})
	some e in touched
	entry_time(e) == newest
}

# The parts of the intent an entry owns, by its fieldsV1.
owned(e) := {section |
	some section, path in {"spec": ["f:spec"], "metadata.labels": ["f:metadata", "f:labels"], "metadata.annotations": ["f:metadata", "f:annotations"]}
	fields := object.get(e, array.concat(["fieldsV1"], path), null)
	is_object(fields)
	some key, _ in fields
	not key in {".", sprintf("f:%s", [last_applied])}
}

# writes: who wrote which parts of the intent in this request. "" is a
# writer the request does not name and managedFields do not show.
default request_manager := ""

request_manager := object.get(input.review, ["options", "fieldManager"], "")

writes contains {"manager": request_manager, "sections": changed} if {
	input.review.operation in {"CREATE", "UPDATE"}
	request_manager != ""
	count(changed) > 0
}

# Clients that send no fieldManager (controllers on client-go): the apiserver
# records them under their user agent; the newest entry this UPDATE touched.
writes contains {"manager": m, "sections": changed} if {
	input.review.operation == "UPDATE"
	request_manager == ""
	count(changed) > 0
	some m in newest_touched
}

writes contains {"manager": "", "sections": changed} if {
	input.review.operation == "UPDATE"
	request_manager == ""
	count(changed) > 0
	count(newest_touched) == 0
}

# A CREATE without options is an object read offline (check, an exported
# live object): every manager that owns part of its intent wrote it.
writes contains {"manager": e.manager, "sections": sections} if {
	input.review.operation == "CREATE"
	request_manager == ""
	some e in entries(new_object)
	sections := owned(e)
	count(sections) > 0
}

# Writes by anyone but kubectl mesh to an object of a pattern. A request
# that names a field manager writes only as that manager, so kubectl mesh's
# own writes (most of the admissions) skip comparing the objects.
foreign contains w if {
	pattern
	request_manager != field_manager
	some w in writes
	w.manager != field_manager
}

# "field manager \"kubectl-patch\"", or a description of an unnamed one.
describe_manager("") := "a field manager the request does not name"

describe_manager(m) := sprintf("field manager %q", [m]) if m != ""

# "metadata.labels and spec", "metadata.annotations, metadata.labels and spec".
describe_sections(sections) := concat(" and ", sort(sections)) if count(sections) < 3

describe_sections(sections) := sprintf("%s and %s", [concat(", ", array.slice(s, 0, count(s) - 1)), s[count(s) - 1]]) if {
	count(sections) >= 3
	s := sort(sections)
}

verb := "wrote" if input.review.operation == "CREATE" else := "changed"
