// Package translate is the contract between a Pattern and the translators
// that turn it into one mesh's resources (translate/istio, translate/linkerd,
// translate/smi, translate/gamma). It holds what every translator shares:
// the capability check that makes a feature a mesh cannot express an error
// (a warning with --allow-partial) instead of something silently dropped,
// the labels that tie objects to their pattern, and raw passthrough.
package translate

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
)

// Support is how well a mesh expresses a feature.
type Support int

const (
	// None: the mesh cannot express the feature at all.
	None Support = iota
	// Partial: some settings of the feature are expressed; the translator
	// reports the others as gaps.
	Partial
	// Full: every setting of the feature is expressed.
	Full
)

func (s Support) String() string {
	switch s {
	case Full:
		return "yes"
	case Partial:
		return "partial"
	default:
		return "no"
	}
}

// Capability is a translator's support of one feature, with a note saying
// which resource carries it or what is missing.
type Capability struct {
	Support Support
	Note    string
}

// Translator renders a pattern for one mesh.
type Translator interface {
	// Name is the spec.mesh value: istio, linkerd, smi, gamma.
	Name() string
	// Capabilities says, for every feature in pattern.Features, what the
	// mesh can express. A missing feature counts as None.
	Capabilities() map[pattern.Feature]Capability
	// Translate renders the pattern's services (not its raw objects, which
	// Run passes through). It is never asked for a feature whose support
	// is None: Run has reported those and the translator skips them. A
	// setting it cannot express it reports with gaps.Add and skips.
	Translate(p *pattern.Pattern, gaps *Gaps) ([]Object, error)
}

// Object is one rendered object.
type Object struct {
	*unstructured.Unstructured
	// Shared objects belong to someone else (a Namespace, the application's
	// Service): the pattern sets only some of their fields. Server-side
	// apply keeps those fields the pattern's; delete and prune give the
	// fields back instead of deleting the object.
	Shared bool
}

// Gap is a setting of the pattern that the mesh cannot express.
type Gap struct {
	Mesh    string
	Feature pattern.Feature
	Path    string // field path in the pattern
	Detail  string
	// Where is file:line:column of Path, for patterns read from a file.
	Where string
}

func (g Gap) String() string {
	s := fmt.Sprintf("%s: %s cannot express %s", g.Path, g.Mesh, g.Feature)
	if g.Where != "" {
		s = g.Where + ": " + s
	}
	if g.Detail != "" {
		s += " (" + g.Detail + ")"
	}
	return s
}

// Gaps collects the gaps of one translation.
type Gaps struct {
	mesh string
	list []Gap
}

// Add records that the setting at path cannot be expressed.
func (g *Gaps) Add(feature pattern.Feature, path, detail string) {
	g.list = append(g.list, Gap{Mesh: g.mesh, Feature: feature, Path: path, Detail: detail})
}

// List returns the gaps recorded so far.
func (g *Gaps) List() []Gap { return g.list }

// GapsError is returned when a translation has gaps and partial results
// were not allowed.
type GapsError struct{ Gaps []Gap }

func (e *GapsError) Error() string {
	lines := make([]string, len(e.Gaps))
	for i, g := range e.Gaps {
		lines[i] = "  " + g.String()
	}
	return fmt.Sprintf("the pattern asks for %d feature(s) that %s cannot express (--allow-partial renders the rest):\n%s",
		len(e.Gaps), e.Gaps[0].Mesh, strings.Join(lines, "\n"))
}

// Options of a translation.
type Options struct {
	// AllowPartial turns gaps into warnings: the rest is rendered.
	AllowPartial bool
}

// Result of a translation.
type Result struct {
	Objects []Object
	// Warnings are the gaps, when AllowPartial let them pass.
	Warnings []Gap
}

// Run translates a validated pattern with t. Objects get the pattern's
// namespace (unless they are cluster-scoped or name their own), the
// pattern label and, in lock mode, the drift annotation.
func Run(t Translator, p *pattern.Pattern, opts Options) (*Result, error) {
	gaps := &Gaps{mesh: t.Name()}
	capabilities := t.Capabilities()
	for _, use := range p.FeatureUses() {
		c := capabilities[use.Feature]
		if c.Support == None {
			gaps.Add(use.Feature, use.Path, c.Note)
		}
	}
	objects, err := t.Translate(p, gaps)
	if err != nil {
		return nil, fmt.Errorf("translating pattern %q for %s: %w", p.Metadata.Name, t.Name(), err)
	}
	for i := range gaps.list {
		gaps.list[i].Where = p.Where(gaps.list[i].Path)
	}
	if len(gaps.list) > 0 && !opts.AllowPartial {
		return nil, &GapsError{Gaps: gaps.list}
	}
	raw, err := rawObjects(p)
	if err != nil {
		return nil, err
	}
	objects = append(objects, raw...)
	for _, o := range objects {
		label(o, p)
	}
	return &Result{Objects: objects, Warnings: gaps.list}, nil
}

// rawObjects passes spec.raw through.
func rawObjects(p *pattern.Pattern) ([]Object, error) {
	var out []Object
	for i, raw := range p.Spec.Raw {
		u := &unstructured.Unstructured{Object: deepCopy(raw)}
		if u.GetAPIVersion() == "" || u.GetKind() == "" || u.GetName() == "" {
			return nil, fmt.Errorf("spec.raw[%d]: apiVersion, kind and metadata.name are required", i)
		}
		if u.GetNamespace() == "" && !clusterScoped(u) {
			u.SetNamespace(p.Metadata.Namespace)
		}
		out = append(out, Object{Unstructured: u})
	}
	return out, nil
}

// label ties an object to its pattern. Shared objects get no pattern
// label: they are not the pattern's, only some of their fields are.
func label(o Object, p *pattern.Pattern) {
	if o.Shared {
		return
	}
	labels := o.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[pattern.LabelPattern] = p.Metadata.Name
	labels["app.kubernetes.io/managed-by"] = pattern.FieldManager
	o.SetLabels(labels)
	if p.Spec.Drift == "lock" {
		annotations := o.GetAnnotations()
		if annotations == nil {
			annotations = map[string]string{}
		}
		annotations[pattern.AnnotationDrift] = "lock"
		o.SetAnnotations(annotations)
	}
}

// clusterScoped reports the cluster-scoped kinds a pattern may name.
func clusterScoped(u *unstructured.Unstructured) bool {
	gvk := u.GroupVersionKind()
	switch gvk.Group + "/" + gvk.Kind {
	case "/Namespace", "rbac.authorization.k8s.io/ClusterRole", "rbac.authorization.k8s.io/ClusterRoleBinding",
		"gateway.networking.k8s.io/GatewayClass", "apiextensions.k8s.io/CustomResourceDefinition":
		return true
	}
	return false
}

func deepCopy(m map[string]any) map[string]any {
	return (&unstructured.Unstructured{Object: m}).DeepCopy().Object
}
