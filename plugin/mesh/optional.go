package mesh

import (
	"context"
	"errors"
	"strings"
)

// What only some meshes have: a command looks for it in the Registry
// instead of naming the mesh.

// RevisionTag is a stable name namespaces enrol with that points at one
// control plane revision (Istio's revision tags).
type RevisionTag struct {
	Tag        string   `json:"tag"`
	Revision   string   `json:"revision"`
	Namespaces []string `json:"namespaces,omitempty"`
}

// ErrTagNotFound is returned by RemoveTag for a tag that does not exist.
var ErrTagNotFound = errors.New("revision tag not found")

// Tagger is a mesh with revision tags (kubectl mesh revision tag).
type Tagger interface {
	Mesh
	ListTags(ctx context.Context, c Cluster) ([]RevisionTag, error)
	SetTag(ctx context.Context, c Cluster, tag, revision string, overwrite bool) error
	RemoveTag(ctx context.Context, c Cluster, tag string, force bool) error
}

// PinnedRelease is the release a mesh installs by default, from where, and
// the range of releases it is tested with.
type PinnedRelease struct {
	Repository string `json:"repository"`
	Default    string `json:"default"`
	Tested     string `json:"tested"`
}

// Pinner is a mesh whose default release kubectl mesh pins (kubectl mesh
// version prints it).
type Pinner interface {
	Mesh
	PinnedRelease() PinnedRelease
}

// Tagger is the registry's mesh with revision tags.
func (r Registry) Tagger() (Tagger, error) {
	for _, m := range r {
		if t, ok := m.(Tagger); ok {
			return t, nil
		}
	}
	return nil, errors.New("no mesh kubectl mesh knows has revision tags")
}

// Title is a mesh's name as prose spells it: "istio" is "Istio".
func Title(name string) string {
	if name == "" {
		return ""
	}
	return strings.ToUpper(name[:1]) + name[1:]
}
