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

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
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
	// LabelApp names the sample application a parent is the set of.
	LabelApp = "kubectl-mesh.io/app"
)

// SetKind is what an apply set holds: a pattern's objects, or a sample
// application's. Each kind has parents of its own, so list shows each alone.
type SetKind string

const (
	KindPattern SetKind = "pattern"
	KindApp     SetKind = "app"
)

// parentPrefix + name is the name of a parent ConfigMap of the kind.
func (k SetKind) parentPrefix() string { return "kubectl-mesh-" + string(k.orPattern()) + "-" }

// label is the parent's label naming what it holds.
func (k SetKind) label() string {
	if k.orPattern() == KindApp {
		return LabelApp
	}
	return pattern.LabelPattern
}

func (k SetKind) orPattern() SetKind {
	if k == "" {
		return KindPattern
	}
	return k
}

// Set identifies one apply set.
type Set struct {
	// Kind is what the set holds; empty means a pattern.
	Kind SetKind
	// Name is the pattern's or the application's name; Namespace its
	// namespace, where the parent lives and where namespaced objects
	// without one go.
	Name      string
	Namespace string
	// Mesh is recorded on the parent (kubectl-mesh.io/mesh).
	Mesh string
	// Source is the pattern file, kept in the parent's data; optional.
	Source []byte
}

// ParentName is the name of the set's parent ConfigMap.
func (s Set) ParentName() string { return s.Kind.parentPrefix() + s.Name }

// String is the set as messages name it: "pattern canary", "app bookinfo".
func (s Set) String() string { return string(s.Kind.orPattern()) + " " + s.Name }

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
