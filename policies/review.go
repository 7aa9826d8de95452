package policies

import (
	"fmt"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// Location is where an object came from when it was read from a file.
type Location struct {
	File string `json:"file"`
	Line int    `json:"line"`
}

// UserInfo is the requesting user of an AdmissionRequest.
type UserInfo struct {
	Username string   `json:"username,omitempty"`
	UID      string   `json:"uid,omitempty"`
	Groups   []string `json:"groups,omitempty"`
}

// Review is what Rego sees as input.review: the shape of an AdmissionRequest
// (docs/architecture.md, principle 2). The webhook fills it from the real request; check
// fills it from a file or the cluster, with operation CREATE.
type Review struct {
	UID       string
	Group     string
	Version   string
	Kind      string
	Resource  string // plural resource name, when known
	Name      string
	Namespace string
	Operation string
	UserInfo  UserInfo
	DryRun    bool
	// Object and OldObject are the objects as AST values, decoded once
	// (ParseJSONObject, ToValue) and shared by every policy; nil when absent.
	Object    ast.Value
	OldObject ast.Value
	// Options are the request's CreateOptions, UpdateOptions, PatchOptions
	// or DeleteOptions (fieldManager, dryRun, ...). Reviews built offline
	// have none: Rego sees {}.
	Options ast.Value
	// Source locates Object in a file; nil for objects from the cluster.
	Source *Location
	// Skip names policies (by ID) not to evaluate on this review: the
	// audit leaves out, for the rest of a run, a policy cut off at its
	// deadline again and again.
	Skip []string
}

// NewReview builds the review check uses for an object it did not receive
// through admission: a CREATE of the object as it is.
func NewReview(obj ast.Value, source *Location) *Review {
	group, version := SplitAPIVersion(stringAt(obj, "apiVersion"))
	return &Review{
		Group: group, Version: version, Kind: stringAt(obj, "kind"),
		Name: stringAt(obj, "metadata", "name"), Namespace: stringAt(obj, "metadata", "namespace"),
		Operation: "CREATE",
		UserInfo:  UserInfo{Username: "kubectl-mesh-check"},
		DryRun:    true,
		Object:    obj,
		Source:    source,
	}
}

// ToValue converts an object decoded into maps (client-go's unstructured,
// YAML) to the AST value a Review and the inventory hold.
func ToValue(obj map[string]any) (ast.Value, error) {
	v, err := ast.InterfaceToValue(obj)
	if err != nil {
		return nil, fmt.Errorf("converting an object to Rego: %w", err)
	}
	return v, nil
}

// ObjectName is metadata.name of an object value; "" when absent (a
// CREATE with generateName).
func ObjectName(obj ast.Value) string { return stringAt(obj, "metadata", "name") }

// stringAt reads the string at path in an object value; "" when absent.
func stringAt(v ast.Value, path ...string) string {
	for _, key := range path {
		obj, ok := v.(ast.Object)
		if !ok {
			return ""
		}
		t := obj.Get(ast.InternedTerm(key))
		if t == nil {
			return ""
		}
		v = t.Value
	}
	s, _ := v.(ast.String)
	return string(s)
}

// SplitAPIVersion splits an apiVersion into its group ("" for the core
// group's "v1") and version.
func SplitAPIVersion(apiVersion string) (group, version string) {
	if g, v, ok := strings.Cut(apiVersion, "/"); ok {
		return g, v
	}
	return "", apiVersion
}

// subject is the object the review is about: the new one, or the old one on DELETE.
func (r *Review) subject() ast.Value {
	if r.Object == nil {
		return r.OldObject
	}
	return r.Object
}

// input builds {"review": {...}} as an AST value once, so every policy
// evaluated for this review shares it.
func (r *Review) input() ast.Value {
	kind := ast.NewObject(
		ast.Item(ast.InternedTerm("group"), ast.StringTerm(r.Group)),
		ast.Item(ast.InternedTerm("version"), ast.StringTerm(r.Version)),
		ast.Item(ast.InternedTerm("kind"), ast.StringTerm(r.Kind)),
	)
	groups := make([]*ast.Term, len(r.UserInfo.Groups))
	for i, g := range r.UserInfo.Groups {
		groups[i] = ast.StringTerm(g)
	}
	review := ast.NewObject(
		ast.Item(ast.InternedTerm("uid"), ast.StringTerm(r.UID)),
		ast.Item(ast.InternedTerm("kind"), ast.NewTerm(kind)),
		ast.Item(ast.InternedTerm("name"), ast.StringTerm(r.Name)),
		ast.Item(ast.InternedTerm("namespace"), ast.StringTerm(r.Namespace)),
		ast.Item(ast.InternedTerm("operation"), ast.StringTerm(r.Operation)),
		ast.Item(ast.InternedTerm("dryRun"), ast.BooleanTerm(r.DryRun)),
		ast.Item(ast.InternedTerm("userInfo"), ast.ObjectTerm(
			ast.Item(ast.InternedTerm("username"), ast.StringTerm(r.UserInfo.Username)),
			ast.Item(ast.InternedTerm("uid"), ast.StringTerm(r.UserInfo.UID)),
			ast.Item(ast.InternedTerm("groups"), ast.ArrayTerm(groups...)),
		)),
	)
	if r.Resource != "" {
		review.Insert(ast.InternedTerm("resource"), ast.ObjectTerm(
			ast.Item(ast.InternedTerm("group"), ast.StringTerm(r.Group)),
			ast.Item(ast.InternedTerm("version"), ast.StringTerm(r.Version)),
			ast.Item(ast.InternedTerm("resource"), ast.StringTerm(r.Resource)),
		))
	}
	options := r.Options
	if options == nil {
		options = ast.NewObject()
	}
	review.Insert(ast.InternedTerm("options"), ast.NewTerm(options))
	for key, obj := range map[string]ast.Value{"object": r.Object, "oldObject": r.OldObject} {
		if obj == nil {
			obj = ast.Null{}
		}
		review.Insert(ast.InternedTerm(key), ast.NewTerm(obj))
	}
	return ast.NewObject(ast.Item(ast.InternedTerm("review"), ast.NewTerm(review)))
}

// SuppressAnnotation lists policy IDs or aliases not to report for an object.
const SuppressAnnotation = "kubectl-mesh.io/suppress"

// suppressed returns the IDs and aliases the object's annotation silences.
func suppressed(obj ast.Value) []string {
	value := stringAt(obj, "metadata", "annotations", SuppressAnnotation)
	if value == "" {
		return nil
	}
	var ids []string
	for _, id := range strings.Split(value, ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}
