package policies

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// Severity ranks findings the way istioctl analyze and Kiali do.
type Severity int

const (
	SeverityInfo Severity = iota
	SeverityWarning
	SeverityError
)

var severityNames = []string{"info", "warning", "error"}

func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity accepts info, warning or error in any case.
func ParseSeverity(s string) (Severity, error) {
	i := slices.Index(severityNames, strings.ToLower(s))
	if i < 0 {
		return 0, fmt.Errorf("unknown severity %q (want one of %s)", s, strings.Join(severityNames, ", "))
	}
	return Severity(i), nil
}

func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	*s = v
	return err
}

// Enforcement is what the webhook does with a finding; check reports all of them.
type Enforcement string

const (
	EnforcementDeny  Enforcement = "deny"
	EnforcementWarn  Enforcement = "warn"
	EnforcementAudit Enforcement = "audit"
)

// ParseEnforcement accepts deny, warn or audit.
func ParseEnforcement(s string) (Enforcement, error) {
	switch e := Enforcement(strings.ToLower(s)); e {
	case EnforcementDeny, EnforcementWarn, EnforcementAudit:
		return e, nil
	}
	return "", fmt.Errorf("unknown enforcement %q (want deny, warn or audit)", s)
}

// Metadata is a policy's METADATA block: the single source of truth for
// routing, listing, documentation and enforcement.
type Metadata struct {
	ID          string      `json:"id"`
	Title       string      `json:"title"`
	Description string      `json:"description"`
	Severity    Severity    `json:"severity"`
	Enforcement Enforcement `json:"enforcement"`
	// Kinds are the objects the policy reviews; the engine routes on them.
	Kinds []Kind `json:"kinds"`
	// Inventory are the kinds the policy looks up in data.inventory.
	Inventory []Kind `json:"inventory,omitempty"`
	// Needs is the cluster state the policy judges with (custom.needs):
	// each entry is one or more kinds, any of which will do. An input
	// without one of them (files seldom carry a cluster's pods) leaves the
	// policy silent, and check says it was not judged (Unjudged).
	Needs      [][]Kind `json:"needs,omitempty"`
	Operations []string `json:"operations"`
	// Requires is what the reviewed object must carry before the policy
	// can fire; the engine keeps the policy out of Rego otherwise.
	Requires    Requirements `json:"requires,omitzero"`
	Aliases     []string     `json:"aliases,omitempty"`
	Remediation string       `json:"remediation,omitempty"`
	// Package is the Rego package, for example data.mesh.istio.vs_host.
	Package string `json:"package"`
	// File and Line locate the METADATA block.
	File string `json:"file"`
	Line int    `json:"line"`
	// Builtin is false for custom policies.
	Builtin bool `json:"builtin"`
}

// Mesh names the family of a policy from its ID, per docs/architecture.md principle 6.
func (m Metadata) Mesh() string {
	if len(m.ID) < 5 || !strings.HasPrefix(m.ID, "MESH") {
		return "custom"
	}
	switch m.ID[4] {
	case '1':
		return "istio"
	case '2':
		return "linkerd"
	case '3':
		return "smi"
	case '4':
		return "gamma"
	case '5':
		return "any"
	}
	return "custom"
}

var (
	idPattern    = regexp.MustCompile(`^[A-Z][A-Z0-9]*[0-9]+$`)
	builtinID    = regexp.MustCompile(`^MESH[1-5][0-9]{3}$`)
	aliasPattern = regexp.MustCompile(`^(IST|KIA)[0-9]{4}$`)
	operations   = []string{"CREATE", "UPDATE", "DELETE", "CONNECT"}
)

// metadataFromModule reads and validates the package-scoped METADATA of a
// module. Every problem is reported, each with the location of the block.
func metadataFromModule(mod *ast.Module, builtin bool) (Metadata, []error) {
	var ann *ast.Annotations
	for _, a := range mod.Annotations {
		if a.Scope == "package" {
			ann = a
			break
		}
	}
	file, line := mod.Package.Location.File, mod.Package.Location.Row
	errorf := func(format string, args ...any) error {
		return &LocatedError{File: file, Line: line, Err: fmt.Errorf(format, args...)}
	}
	md := Metadata{Package: mod.Package.Path.String(), File: file, Line: line, Builtin: builtin}
	if ann == nil {
		return md, []error{errorf("package %s has no METADATA block (title, description and custom.id, severity, enforcement, kinds are required)", md.Package)}
	}
	if ann.Location != nil {
		line = ann.Location.Row
		md.Line = line
	}
	var errs []error
	md.Title = strings.TrimSpace(ann.Title)
	md.Description = strings.TrimSpace(ann.Description)
	if md.Title == "" {
		errs = append(errs, errorf("METADATA: title is required"))
	}
	if md.Description == "" {
		errs = append(errs, errorf("METADATA: description is required"))
	}
	custom := ann.Custom
	str := func(key string) string {
		s, _ := custom[key].(string)
		return strings.TrimSpace(s)
	}
	strs := func(key string) ([]string, bool) {
		raw, ok := custom[key]
		if !ok {
			return nil, true
		}
		list, ok := raw.([]any)
		if !ok {
			return nil, false
		}
		out := make([]string, 0, len(list))
		for _, v := range list {
			s, ok := v.(string)
			if !ok {
				return nil, false
			}
			out = append(out, strings.TrimSpace(s))
		}
		return out, true
	}

	md.ID = str("id")
	switch {
	case md.ID == "":
		errs = append(errs, errorf("METADATA: custom.id is required"))
	case builtin && !builtinID.MatchString(md.ID):
		errs = append(errs, errorf("METADATA: custom.id %q must be MESH followed by 4 digits (1nnn Istio, 2nnn Linkerd, 3nnn SMI, 4nnn Gateway API, 5nnn any mesh)", md.ID))
	case !builtin && builtinID.MatchString(md.ID):
		errs = append(errs, errorf("METADATA: custom.id %q is in the range reserved for built-in policies; pick another prefix", md.ID))
	case !idPattern.MatchString(md.ID):
		errs = append(errs, errorf("METADATA: custom.id %q must be upper-case letters and digits ending in a number, for example ACME001", md.ID))
	}

	if s := str("severity"); s == "" {
		errs = append(errs, errorf("METADATA: custom.severity is required (info, warning or error)"))
	} else if sev, err := ParseSeverity(s); err != nil {
		errs = append(errs, errorf("METADATA: custom.severity: %v", err))
	} else {
		md.Severity = sev
	}

	if s := str("enforcement"); s == "" {
		errs = append(errs, errorf("METADATA: custom.enforcement is required (deny, warn or audit)"))
	} else if e, err := ParseEnforcement(s); err != nil {
		errs = append(errs, errorf("METADATA: custom.enforcement: %v", err))
	} else {
		md.Enforcement = e
	}

	for _, field := range []struct {
		key      string
		required bool
		into     *[]Kind
	}{{"kinds", true, &md.Kinds}, {"inventory", false, &md.Inventory}} {
		list, ok := strs(field.key)
		switch {
		case !ok:
			errs = append(errs, errorf("METADATA: custom.%s must be a list of kinds such as networking.istio.io/VirtualService", field.key))
		case field.required && len(list) == 0:
			errs = append(errs, errorf("METADATA: custom.%s is required: the kinds this policy reviews, such as networking.istio.io/VirtualService or Service", field.key))
		}
		for _, s := range list {
			k, err := ParseKind(s)
			if err != nil {
				errs = append(errs, errorf("METADATA: custom.%s: %v", field.key, err))
				continue
			}
			*field.into = append(*field.into, k)
		}
	}

	needs, ok := strs("needs")
	if !ok {
		errs = append(errs, errorf("METADATA: custom.needs must be a list of kinds, each entry one kind or several separated by | (any of them will do), such as [Pod|apps/Deployment, ConfigMap]"))
	}
	for _, entry := range needs {
		var alternatives []Kind
		for s := range strings.SplitSeq(entry, "|") {
			k, err := ParseKind(s)
			if err != nil {
				errs = append(errs, errorf("METADATA: custom.needs: %v", err))
				continue
			}
			alternatives = append(alternatives, k)
		}
		md.Needs = append(md.Needs, alternatives)
	}

	ops, ok := strs("operations")
	if !ok {
		errs = append(errs, errorf("METADATA: custom.operations must be a list of CREATE, UPDATE, DELETE or CONNECT"))
	}
	if len(ops) == 0 {
		ops = []string{"CREATE", "UPDATE"}
	}
	for _, op := range ops {
		op = strings.ToUpper(op)
		if !slices.Contains(operations, op) {
			errs = append(errs, errorf("METADATA: custom.operations: unknown operation %q", op))
		}
		md.Operations = append(md.Operations, op)
	}

	md.Requires, errs = requirements(custom["requires"], errs, errorf)

	aliases, ok := strs("aliases")
	if !ok {
		errs = append(errs, errorf("METADATA: custom.aliases must be a list such as [IST0101, KIA1101]"))
	}
	for _, a := range aliases {
		if builtin && !aliasPattern.MatchString(a) {
			errs = append(errs, errorf("METADATA: custom.aliases: %q is not an istioctl ISTnnnn or Kiali KIAnnnn code", a))
		}
	}
	md.Aliases = aliases
	md.Remediation = str("remediation")
	if builtin && md.Remediation == "" {
		errs = append(errs, errorf("METADATA: custom.remediation is required for built-in policies"))
	}
	return md, errs
}

// Requirements are what a review's object, or its old object, must carry
// before a policy can fire (custom.requires). Each entry must be present on
// one of the two; a policy with none always runs.
type Requirements struct {
	Labels      []string `json:"labels,omitempty"`
	Annotations []string `json:"annotations,omitempty"`
	// Fields are dotted paths from the object's root, such as spec.http.
	Fields []string   `json:"fields,omitempty"`
	paths  [][]string // Fields split at the dots, once
}

// IsZero reports a policy without requirements.
func (q Requirements) IsZero() bool {
	return len(q.Labels) == 0 && len(q.Annotations) == 0 && len(q.Fields) == 0
}

func (q Requirements) String() string {
	var parts []string
	for _, l := range []struct {
		what  string
		items []string
	}{{"label", q.Labels}, {"annotation", q.Annotations}, {"field", q.Fields}} {
		for _, item := range l.items {
			parts = append(parts, l.what+" `"+item+"`")
		}
	}
	return strings.Join(parts, ", ")
}

// met reports whether every requirement is present on obj or old.
func (q Requirements) met(obj, old ast.Value) bool {
	has := func(path ...string) bool { return present(obj, path) || present(old, path) }
	for _, l := range q.Labels {
		if !has("metadata", "labels", l) {
			return false
		}
	}
	for _, a := range q.Annotations {
		if !has("metadata", "annotations", a) {
			return false
		}
	}
	for _, p := range q.paths {
		if !has(p...) {
			return false
		}
	}
	return true
}

// present reports whether path leads to a value (null included) in v.
func present(v ast.Value, path []string) bool { return lookup(v, path...) != nil }

// requirements reads custom.requires: a map of labels, annotations and
// fields, each a list of strings.
func requirements(raw any, errs []error, errorf func(string, ...any) error) (Requirements, []error) {
	var q Requirements
	if raw == nil {
		return q, errs
	}
	const usage = "custom.requires must map labels, annotations or fields to lists, for example {labels: [kubectl-mesh.io/pattern], fields: [spec.http]}"
	m, ok := raw.(map[string]any)
	if !ok {
		return q, append(errs, errorf("METADATA: %s", usage))
	}
	for _, key := range slices.Sorted(maps.Keys(m)) {
		list := m[key]
		var into *[]string
		switch key {
		case "labels":
			into = &q.Labels
		case "annotations":
			into = &q.Annotations
		case "fields":
			into = &q.Fields
		default:
			errs = append(errs, errorf("METADATA: custom.requires: unknown key %q; %s", key, usage))
			continue
		}
		items, ok := list.([]any)
		if !ok {
			errs = append(errs, errorf("METADATA: %s", usage))
			continue
		}
		for _, item := range items {
			s, ok := item.(string)
			if s = strings.TrimSpace(s); !ok || s == "" || (key == "fields" && slices.Contains(strings.Split(s, "."), "")) {
				errs = append(errs, errorf("METADATA: custom.requires.%s: %v is not a %s", key, item, strings.TrimSuffix(key, "s")))
				continue
			}
			*into = append(*into, s)
		}
	}
	for _, f := range q.Fields {
		q.paths = append(q.paths, strings.Split(f, "."))
	}
	return q, errs
}

// Matches reports whether the policy reviews this kind on this operation.
func (m Metadata) Matches(group, kind, operation string) bool {
	if !slices.Contains(m.Operations, operation) {
		return false
	}
	for _, k := range m.Kinds {
		if k.Matches(group, kind) {
			return true
		}
	}
	return false
}

// Names reports whether id is the policy's ID or one of its aliases.
func (m Metadata) Names(id string) bool {
	return strings.EqualFold(m.ID, id) || slices.ContainsFunc(m.Aliases, func(a string) bool { return strings.EqualFold(a, id) })
}
