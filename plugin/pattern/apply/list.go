package apply

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// PatternSet is one pattern in the cluster, as list shows it.
type PatternSet struct {
	Pattern   string
	Namespace string
	Mesh      string
	ID        string
	Tooling   string
	// LastApplied is zero when the parent does not say.
	LastApplied time.Time
	// Members are the objects labelled part of the set, sorted.
	Members []Ref
	// Shared are the objects whose fields the pattern owns.
	Shared []Ref
	// Source is the pattern file kept by apply, if any.
	Source string
}

// List returns the sets of the kind applied in namespace ("" = all
// namespaces), sorted by namespace and name: every ConfigMap with an
// applyset id whose tooling is kubectl-mesh and whose name is the kind's.
func (c *Client) List(ctx context.Context, kind SetKind, namespace string, workers int) ([]PatternSet, error) {
	list, err := c.dyn.Resource(configMaps).Namespace(namespace).List(ctx, metav1.ListOptions{LabelSelector: LabelApplySetID})
	if err != nil {
		return nil, fmt.Errorf("listing %ss: %w", kind.orPattern(), err)
	}
	parentPrefix := kind.parentPrefix()
	var parents []*unstructured.Unstructured
	for i := range list.Items {
		u := &list.Items[i]
		if toolingName(u.GetAnnotations()[AnnotationTooling]) == ToolingName && strings.HasPrefix(u.GetName(), parentPrefix) {
			parents = append(parents, u)
		}
	}
	out := make([]PatternSet, len(parents))
	// Parents in turn, each listing its kinds with the whole pool.
	for i, u := range parents {
		if out[i], err = c.describe(ctx, kind, u, workers); err != nil {
			return nil, err
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Pattern < out[j].Pattern
	})
	return out, nil
}

// describe reads one parent and lists its members.
func (c *Client) describe(ctx context.Context, kind SetKind, u *unstructured.Unstructured, workers int) (PatternSet, error) {
	s := Set{Kind: kind, Name: strings.TrimPrefix(u.GetName(), kind.parentPrefix()), Namespace: u.GetNamespace()}
	ps := PatternSet{
		Pattern:   s.Name,
		Namespace: s.Namespace,
		Mesh:      u.GetLabels()[LabelMesh],
		ID:        u.GetLabels()[LabelApplySetID],
		Tooling:   u.GetAnnotations()[AnnotationTooling],
	}
	if name := u.GetLabels()[kind.label()]; name != "" && name != s.Name {
		return ps, fmt.Errorf("ConfigMap %s/%s names %s %q", s.Namespace, u.GetName(), kind.orPattern(), name)
	}
	if t, err := time.Parse(time.RFC3339, u.GetAnnotations()[AnnotationLastApplied]); err == nil {
		ps.LastApplied = t
	}
	data, _, _ := unstructured.NestedStringMap(u.Object, "data")
	ps.Source = data[DataPattern]
	st, err := stateOf(u, s.Namespace)
	if err != nil {
		return ps, err
	}
	ps.Shared = st.shared
	members, err := c.members(ctx, s, st, workers)
	if err != nil {
		return ps, fmt.Errorf("listing the objects of %s %s/%s: %w", kind.orPattern(), s.Namespace, s.Name, err)
	}
	for _, m := range members {
		ps.Members = append(ps.Members, RefOf(m))
	}
	return ps, nil
}
