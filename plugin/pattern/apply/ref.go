package apply

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Ref names one cluster object.
type Ref struct {
	Group     string `json:"group,omitempty"`
	Version   string `json:"version"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// RefOf returns the ref of an object.
func RefOf(u *unstructured.Unstructured) Ref {
	gvk := u.GroupVersionKind()
	return Ref{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind, Namespace: u.GetNamespace(), Name: u.GetName()}
}

// GroupKind of the object.
func (r Ref) GroupKind() schema.GroupKind { return schema.GroupKind{Group: r.Group, Kind: r.Kind} }

// GroupVersionKind of the object.
func (r Ref) GroupVersionKind() schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: r.Group, Version: r.Version, Kind: r.Kind}
}

// key identifies the object whatever version it was read at.
func (r Ref) key() string {
	return r.Group + "/" + r.Kind + "/" + r.Namespace + "/" + r.Name
}

// less orders refs for people: by kind, then namespace, name and group.
func (r Ref) less(o Ref) bool {
	if r.Kind != o.Kind {
		return r.Kind < o.Kind
	}
	if r.Namespace != o.Namespace {
		return r.Namespace < o.Namespace
	}
	if r.Name != o.Name {
		return r.Name < o.Name
	}
	return r.Group < o.Group
}

// String is the short form errors and drift use: "VirtualService reviews",
// "Namespace bookinfo"; the namespace is left out, as kubectl does in
// "virtualservice.networking.istio.io/reviews created".
func (r Ref) String() string { return r.Kind + " " + r.Name }

// Resource is kubectl's resource/name form:
// virtualservice.networking.istio.io/reviews, service/reviews.
func (r Ref) Resource() string {
	kind := strings.ToLower(r.Kind)
	if r.Group != "" {
		kind += "." + r.Group
	}
	return kind + "/" + r.Name
}

// Action is what an operation did to one object.
type Action string

// Actions, in kubectl's words.
const (
	Created    Action = "created"
	Configured Action = "configured"
	Unchanged  Action = "unchanged"
	Pruned     Action = "pruned"
	// Released: a shared object whose fields kubectl mesh gave back.
	Released Action = "released"
	Deleted  Action = "deleted"
	Failed   Action = "failed"
)

// Result is the outcome for one object.
type Result struct {
	Ref    Ref
	Action Action
	// Shared objects are someone else's; kubectl mesh owns some fields.
	Shared bool
	Err    error
}

// Report is the outcome of one operation, one result per object in the
// order the objects were given (pruned and released ones last).
type Report struct {
	DryRun  bool
	Results []Result
}

// Lines are what the command prints, one per object that did not fail,
// as kubectl apply prints them:
// "virtualservice.networking.istio.io/reviews configured (server dry run)".
func (r *Report) Lines() []string {
	var out []string
	for _, res := range r.Results {
		if res.Err != nil {
			continue
		}
		line := res.Ref.Resource() + " " + string(res.Action)
		if res.Shared && res.Action != Released {
			line += " (shared)"
		}
		if r.DryRun {
			line += " (server dry run)"
		}
		out = append(out, line)
	}
	return out
}

// Failed returns the results that failed.
func (r *Report) Failed() []Result {
	var out []Result
	for _, res := range r.Results {
		if res.Err != nil {
			out = append(out, res)
		}
	}
	return out
}

// ObjectsError is returned when some objects failed; the others were done.
type ObjectsError struct {
	Op     string // "applying pattern reviews"
	Total  int
	Failed []Result
}

func (e *ObjectsError) Error() string {
	lines := make([]string, len(e.Failed))
	for i, f := range e.Failed {
		lines[i] = fmt.Sprintf("  %s: %v", f.Ref, f.Err)
	}
	return fmt.Sprintf("%s: %d of %d object(s) failed:\n%s", e.Op, len(e.Failed), e.Total, strings.Join(lines, "\n"))
}

// errorOf returns an *ObjectsError for the failed results of r, or nil.
func errorOf(op string, r *Report) error {
	failed := r.Failed()
	if len(failed) == 0 {
		return nil
	}
	return &ObjectsError{Op: op, Total: len(r.Results), Failed: failed}
}

// encodeRefs and decodeRefs keep refs in the parent's data, sorted so that
// an unchanged set rewrites nothing.
func encodeRefs(refs []Ref) string {
	sorted := append([]Ref(nil), refs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].key() < sorted[j].key() })
	if sorted == nil {
		sorted = []Ref{}
	}
	b, _ := json.Marshal(sorted) // a slice of plain structs cannot fail
	return string(b)
}

func decodeRefs(s string) ([]Ref, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var refs []Ref
	if err := json.Unmarshal([]byte(s), &refs); err != nil {
		return nil, fmt.Errorf("reading the shared objects of the parent: %w", err)
	}
	return refs, nil
}
