// Package apply puts a translated pattern into the cluster and keeps track
// of it the way kubectl's ApplySets do (KEP-3659): a parent ConfigMap per
// pattern, members labelled with the set's id, server-side apply with the
// field manager kubectl-mesh, prune of members the pattern no longer
// produces, diff against a server dry run with drift from other field
// managers, delete and list.
package apply

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
)

// ApplySet labels and annotations, as KEP-3659 and kubectl name them.
const (
	LabelApplySetID                = "applyset.kubernetes.io/id"
	LabelPartOf                    = "applyset.kubernetes.io/part-of"
	AnnotationTooling              = "applyset.kubernetes.io/tooling"
	AnnotationContainsGroupKinds   = "applyset.kubernetes.io/contains-group-kinds"
	AnnotationAdditionalNamespaces = "applyset.kubernetes.io/additional-namespaces"
)

// Labels, annotations and data keys of kubectl mesh on the parent.
const (
	LabelMesh             = "kubectl-mesh.io/mesh"
	AnnotationLastApplied = "kubectl-mesh.io/last-applied"
	// DataShared lists the shared objects (JSON array of refs): they carry
	// no part-of label, so the parent is the only record of them.
	DataShared = "shared"
	// DataPattern keeps the pattern's source for list and for humans.
	DataPattern = "pattern"
	// ToolingName is the tool part of the tooling annotation.
	ToolingName = "kubectl-mesh"
	// parentPrefix + pattern name is the parent ConfigMap's name.
	parentPrefix = "kubectl-mesh-pattern-"
)

// Set identifies one pattern's apply set.
type Set struct {
	// Pattern is the pattern's name; Namespace its namespace, where the
	// parent lives and where namespaced objects without one go.
	Pattern   string
	Namespace string
	// Mesh is recorded on the parent (kubectl-mesh.io/mesh).
	Mesh string
	// Source is the pattern file, kept in the parent's data; optional.
	Source []byte
}

// ParentName is the name of the set's parent ConfigMap.
func (s Set) ParentName() string { return parentPrefix + s.Pattern }

// ID is the set's applyset.kubernetes.io/id.
func (s Set) ID() string { return ApplySetID(s.ParentName(), s.Namespace, "ConfigMap", "") }

// ApplySetID computes an ApplySet id as KEP-3659 specifies (and kubectl
// does): base64url(sha256("<name>.<namespace>.<kind>.<group>")), without
// padding, between "applyset-" and "-v1" so that it is a valid label value.
func ApplySetID(name, namespace, kind, group string) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{name, namespace, kind, group}, ".")))
	return fmt.Sprintf("applyset-%s-v1", base64.RawURLEncoding.EncodeToString(sum[:]))
}

// toolingValue is the tooling annotation: kubectl-mesh/<version>.
func toolingValue(version string) string { return ToolingName + "/" + version }

// toolingName is the tool part of a tooling annotation.
func toolingName(v string) string {
	name, _, _ := strings.Cut(v, "/")
	return name
}
