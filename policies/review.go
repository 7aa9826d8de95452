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
// (DESIGN.md principle 2). The webhook fills it from the real request; check
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
	Object    map[string]any
	OldObject map[string]any
	// Options are the request's CreateOptions, UpdateOptions, PatchOptions
	// or DeleteOptions as JSON (fieldManager, dryRun, ...). Reviews built
	// offline have none: Rego sees {}.
	Options map[string]any
	// Source locates Object in a file; nil for objects from the cluster.
	Source *Location
}

// NewReview builds the review check uses for an object it did not receive
// through admission: a CREATE of the object as it is.
func NewReview(obj map[string]any, source *Location) *Review {
	apiVersion, _ := obj["apiVersion"].(string)
	group, version := splitAPIVersion(apiVersion)
	kind, _ := obj["kind"].(string)
	meta, _ := obj["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	namespace, _ := meta["namespace"].(string)
	return &Review{
		Group: group, Version: version, Kind: kind,
		Name: name, Namespace: namespace,
		Operation: "CREATE",
		UserInfo:  UserInfo{Username: "kubectl-mesh-check"},
		DryRun:    true,
		Object:    obj,
		Source:    source,
	}
}

func splitAPIVersion(apiVersion string) (group, version string) {
	if g, v, ok := strings.Cut(apiVersion, "/"); ok {
		return g, v
	}
	return "", apiVersion
}

// subject is the object the review is about: the new one, or the old one on DELETE.
func (r *Review) subject() map[string]any {
	if r.Object == nil {
		return r.OldObject
	}
	return r.Object
}

// input builds {"review": {...}} as an AST value once, so every policy
// evaluated for this review shares it.
func (r *Review) input() (ast.Value, error) {
	kind := ast.NewObject(
		ast.Item(ast.StringTerm("group"), ast.StringTerm(r.Group)),
		ast.Item(ast.StringTerm("version"), ast.StringTerm(r.Version)),
		ast.Item(ast.StringTerm("kind"), ast.StringTerm(r.Kind)),
	)
	groups := make([]*ast.Term, len(r.UserInfo.Groups))
	for i, g := range r.UserInfo.Groups {
		groups[i] = ast.StringTerm(g)
	}
	review := ast.NewObject(
		ast.Item(ast.StringTerm("uid"), ast.StringTerm(r.UID)),
		ast.Item(ast.StringTerm("kind"), ast.NewTerm(kind)),
		ast.Item(ast.StringTerm("name"), ast.StringTerm(r.Name)),
		ast.Item(ast.StringTerm("namespace"), ast.StringTerm(r.Namespace)),
		ast.Item(ast.StringTerm("operation"), ast.StringTerm(r.Operation)),
		ast.Item(ast.StringTerm("dryRun"), ast.BooleanTerm(r.DryRun)),
		ast.Item(ast.StringTerm("userInfo"), ast.ObjectTerm(
			ast.Item(ast.StringTerm("username"), ast.StringTerm(r.UserInfo.Username)),
			ast.Item(ast.StringTerm("uid"), ast.StringTerm(r.UserInfo.UID)),
			ast.Item(ast.StringTerm("groups"), ast.ArrayTerm(groups...)),
		)),
	)
	if r.Resource != "" {
		review.Insert(ast.StringTerm("resource"), ast.ObjectTerm(
			ast.Item(ast.StringTerm("group"), ast.StringTerm(r.Group)),
			ast.Item(ast.StringTerm("version"), ast.StringTerm(r.Version)),
			ast.Item(ast.StringTerm("resource"), ast.StringTerm(r.Resource)),
		))
	}
	options := ast.NewObject()
	if len(r.Options) > 0 {
		v, err := ast.InterfaceToValue(r.Options)
		if err != nil {
			return nil, fmt.Errorf("converting the options: %w", err)
		}
		if options, _ = v.(ast.Object); options == nil {
			return nil, fmt.Errorf("converting the options: %T is not an object", v)
		}
	}
	review.Insert(ast.StringTerm("options"), ast.NewTerm(options))
	for key, obj := range map[string]map[string]any{"object": r.Object, "oldObject": r.OldObject} {
		if obj == nil {
			review.Insert(ast.StringTerm(key), ast.NullTerm())
			continue
		}
		v, err := ast.InterfaceToValue(obj)
		if err != nil {
			return nil, err
		}
		review.Insert(ast.StringTerm(key), ast.NewTerm(v))
	}
	return ast.NewObject(ast.Item(ast.StringTerm("review"), ast.NewTerm(review))), nil
}

// SuppressAnnotation lists policy IDs or aliases not to report for an object.
const SuppressAnnotation = "kubectl-mesh.io/suppress"

// suppressed returns the IDs and aliases the object's annotation silences.
func suppressed(obj map[string]any) []string {
	meta, _ := obj["metadata"].(map[string]any)
	annotations, _ := meta["annotations"].(map[string]any)
	value, _ := annotations[SuppressAnnotation].(string)
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
