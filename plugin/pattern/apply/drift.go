package apply

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
)

// Drift is a change to a pattern's object by a field manager other than
// kubectl mesh: it owns fields that the pattern should.
type Drift struct {
	Ref       Ref
	Manager   string // kubectl-edit, kubectl-patch, kubectl-label, ...
	Operation string // Update or Apply
	Time      time.Time
	// Fields are top-level field paths: spec.http,
	// metadata.labels.team, metadata.annotations.note.
	Fields []string
}

// String is the line diff prints after "drift: ".
func (d Drift) String() string {
	s := fmt.Sprintf("%s: %s changed by %s", d.Ref, strings.Join(d.Fields, ", "), d.Manager)
	if !d.Time.IsZero() {
		s += " at " + d.Time.UTC().Format(time.RFC3339)
	}
	return s
}

// ignoredManager reports the managers whose fields are not drift: ours,
// and the control plane's own bookkeeping.
func ignoredManager(name string) bool {
	switch name {
	case pattern.FieldManager, "kube-apiserver", "kube-controller-manager", "before-first-apply":
		return true
	}
	return false
}

// driftOf returns the drift of a live object: for every other manager
// (status subresource entries aside), the fields it owns in spec,
// metadata.labels and metadata.annotations. With want set (a shared
// object), only the fields kubectl mesh sets count: the rest are the
// owner's.
func driftOf(live *unstructured.Unstructured, want map[string]bool) ([]Drift, error) {
	var out []Drift
	for _, e := range live.GetManagedFields() {
		if ignoredManager(e.Manager) || e.Subresource != "" || e.FieldsV1 == nil {
			continue
		}
		paths, err := topLevelPaths(e.FieldsV1.GetRawBytes())
		if err != nil {
			return nil, fmt.Errorf("reading the managed fields of %s: %w", RefOf(live), err)
		}
		var fields []string
		for _, p := range paths {
			if want == nil || want[p] {
				fields = append(fields, p)
			}
		}
		if len(fields) == 0 {
			continue
		}
		d := Drift{Ref: RefOf(live), Manager: e.Manager, Operation: string(e.Operation), Fields: fields}
		if e.Time != nil {
			d.Time = e.Time.Time
		}
		out = append(out, d)
	}
	return out, nil
}

// topLevelPaths turns a FieldsV1 set into the paths drift names, sorted.
func topLevelPaths(raw []byte) ([]string, error) {
	var set map[string]any
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, err
	}
	var out []string
	meta, _ := set["f:metadata"].(map[string]any)
	for _, sub := range []string{"labels", "annotations"} {
		m, _ := meta["f:"+sub].(map[string]any)
		for k := range m {
			if name, ok := strings.CutPrefix(k, "f:"); ok {
				out = append(out, "metadata."+sub+"."+name)
			}
		}
	}
	spec, _ := set["f:spec"].(map[string]any)
	for k := range spec {
		if name, ok := strings.CutPrefix(k, "f:"); ok {
			out = append(out, "spec."+name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// pathsOf returns the drift paths an object sets, for shared objects.
func pathsOf(u *unstructured.Unstructured) map[string]bool {
	out := map[string]bool{}
	for k := range u.GetLabels() {
		out["metadata.labels."+k] = true
	}
	for k := range u.GetAnnotations() {
		out["metadata.annotations."+k] = true
	}
	spec, _, _ := unstructured.NestedMap(u.Object, "spec")
	for k := range spec {
		out["spec."+k] = true
	}
	return out
}
