package apply

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
)

var configMaps = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}

// parentState is what a parent records: where its members may be.
type parentState struct {
	kinds      sets.Set[schema.GroupKind]
	namespaces sets.Set[string] // the parent's own namespace included
	shared     []Ref
}

func newParentState(namespace string) parentState {
	return parentState{kinds: sets.New[schema.GroupKind](), namespaces: sets.New(namespace)}
}

// union is the state that tracks the members of both a and b.
func (a parentState) union(b parentState) parentState {
	out := parentState{kinds: a.kinds.Union(b.kinds), namespaces: a.namespaces.Union(b.namespaces)}
	seen := map[string]bool{}
	for _, r := range append(append([]Ref(nil), a.shared...), b.shared...) {
		if !seen[r.key()] {
			seen[r.key()] = true
			out.shared = append(out.shared, r)
		}
	}
	return out
}

// getParent reads the set's parent; nil when there is none. A ConfigMap of
// that name that is not this set's parent is an error, as in kubectl.
func (c *Client) getParent(ctx context.Context, s Set) (*unstructured.Unstructured, error) {
	u, err := c.dyn.Resource(configMaps).Namespace(s.Namespace).Get(ctx, s.ParentName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the apply set ConfigMap %s/%s: %w", s.Namespace, s.ParentName(), err)
	}
	if tool := toolingName(u.GetAnnotations()[AnnotationTooling]); tool != ToolingName {
		return nil, fmt.Errorf("ConfigMap %s/%s exists and is not a kubectl-mesh apply set (tooling %q)", s.Namespace, s.ParentName(), tool)
	}
	if id := u.GetLabels()[LabelApplySetID]; id != s.ID() {
		return nil, fmt.Errorf("ConfigMap %s/%s has %s=%q, want %q", s.Namespace, s.ParentName(), LabelApplySetID, id, s.ID())
	}
	return u, nil
}

// stateOf parses a parent; a nil parent is an empty set.
func stateOf(parent *unstructured.Unstructured, namespace string) (parentState, error) {
	st := newParentState(namespace)
	if parent == nil {
		return st, nil
	}
	ann := parent.GetAnnotations()
	for _, s := range splitList(ann[AnnotationContainsGroupKinds]) {
		st.kinds.Insert(schema.ParseGroupKind(s))
	}
	st.namespaces.Insert(splitList(ann[AnnotationAdditionalNamespaces])...)
	data, _, _ := unstructured.NestedStringMap(parent.Object, "data")
	shared, err := decodeRefs(data[DataShared])
	if err != nil {
		return st, fmt.Errorf("ConfigMap %s/%s: %w", namespace, parent.GetName(), err)
	}
	st.shared = shared
	return st, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// parentObject renders the parent for st.
func (c *Client) parentObject(s Set, st parentState) *unstructured.Unstructured {
	kinds := make([]string, 0, st.kinds.Len())
	for gk := range st.kinds {
		kinds = append(kinds, gk.String())
	}
	sort.Strings(kinds)
	others := sets.List(st.namespaces.Clone().Delete(s.Namespace))
	data := map[string]any{DataShared: encodeRefs(st.shared)}
	if len(s.Source) > 0 {
		data[DataPattern] = string(s.Source)
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1",
		"kind":       "ConfigMap",
		"metadata": map[string]any{
			"name":      s.ParentName(),
			"namespace": s.Namespace,
			"labels": map[string]any{
				LabelApplySetID: s.ID(),
				s.Kind.label():  s.Name,
				LabelMesh:       s.Mesh,
			},
			"annotations": map[string]any{
				AnnotationTooling:              toolingValue(c.Tooling),
				AnnotationContainsGroupKinds:   strings.Join(kinds, ","),
				AnnotationAdditionalNamespaces: strings.Join(others, ","),
				AnnotationLastApplied:          c.Now().UTC().Format(time.RFC3339),
			},
		},
		"data": data,
	}}
	return u
}

// writeParent server-side applies the parent; kubectl mesh owns it whole.
func (c *Client) writeParent(ctx context.Context, s Set, st parentState) error {
	u := c.parentObject(s, st)
	_, err := c.dyn.Resource(configMaps).Namespace(s.Namespace).Apply(ctx, u.GetName(), u,
		metav1.ApplyOptions{FieldManager: pattern.FieldManager, Force: true})
	if err != nil {
		return fmt.Errorf("writing the apply set ConfigMap %s/%s: %w", s.Namespace, s.ParentName(), err)
	}
	return nil
}
