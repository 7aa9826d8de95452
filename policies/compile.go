package policies

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
)

// Source is one Rego file: Name is what errors print (a path, or
// "configmap/NAME/KEY" for policies from the cluster).
type Source struct {
	Name string
	Text string
}

// LocatedError is a problem at a file:line.
type LocatedError struct {
	File string
	Line int
	Err  error
}

func (e *LocatedError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

func (e *LocatedError) Unwrap() error { return e.Err }

// ViolationRule is the partial set rule every policy defines; each element is
// an object with at least a "msg" string.
const ViolationRule = "violation"

// libraryPackage is where the shared helpers live; no policy may claim it.
const libraryPackage = "data.mesh.lib"

// Builtins a policy must not call, for they reach outside the process:
// admission must not wait on the network, and a policy from a ConfigMap must
// read neither the webhook's files nor its environment. The JSON schema
// builtins follow a schema's "$ref" to file:// and http:// URLs.
// TestNoBuiltinReachesOutside holds this list against OPA's whole list.
var unsafeBuiltins = []string{"http.send", "json.match_schema", "json.verify_schema", "net.lookup_ip_addr", "opa.runtime"}

// NewCompiler returns the compiler every policy goes through, production and
// tests alike: Rego v1, strict mode, no network builtins.
func NewCompiler() *ast.Compiler {
	caps := ast.CapabilitiesForThisVersion()
	caps.Builtins = slices.DeleteFunc(slices.Clone(caps.Builtins), func(b *ast.Builtin) bool {
		return slices.Contains(unsafeBuiltins, b.Name)
	})
	return ast.NewCompiler().
		WithStrict(true).
		WithDefaultRegoVersion(ast.RegoV1).
		WithCapabilities(caps)
}

// ParseModule parses a Rego v1 file with its METADATA blocks.
func ParseModule(src Source) (*ast.Module, error) {
	mod, err := ast.ParseModuleWithOpts(src.Name, src.Text, ast.ParserOptions{
		ProcessAnnotation: true,
		RegoVersion:       ast.RegoV1,
	})
	if err != nil {
		return nil, locatedErrors(src.Name, err)
	}
	if mod == nil {
		return nil, &LocatedError{File: src.Name, Err: errors.New("file is empty: a policy needs a package and a violation rule")}
	}
	return mod, nil
}

// locatedErrors turns OPA's ast.Errors into one LocatedError per problem.
func locatedErrors(file string, err error) error {
	var astErrs ast.Errors
	if !errors.As(err, &astErrs) {
		return &LocatedError{File: file, Err: err}
	}
	errs := make([]error, 0, len(astErrs))
	for _, e := range astErrs {
		le := &LocatedError{File: file, Err: errors.New(e.Message)}
		if e.Location != nil {
			le.File, le.Line = e.Location.File, e.Location.Row
		}
		errs = append(errs, le)
	}
	return errors.Join(errs...)
}

// Policy is a compiled policy with its prepared query.
type Policy struct {
	Metadata
	query rego.PreparedEvalQuery
}

// Set is an immutable, compiled set of policies. It is built once and then
// only evaluated, so it is safe for concurrent use.
type Set struct {
	listed   []Metadata // every policy selected, compiled or not, sorted by ID
	policies []*Policy  // compiled, sorted by ID
	exact    map[Kind][]*Policy
	wildcard []*Policy // policies with a wildcard in custom.kinds
	// combined evaluates in one query every policy without requirements
	// that a kind and operation route to, for the kinds named in custom.kinds.
	combined map[routeKey]combinedQuery
	// met holds, by route and by the policies with requirements that a
	// reviewed object met, one query for those policies, prepared at the
	// first review that needs it: objects from a cluster carry annotations,
	// status and spec.type, so that several such policies run on most.
	met sync.Map // metKey -> combinedQuery
	// What met's queries are prepared with.
	compiler  *ast.Compiler
	store     storage.Store
	withIndex string
}

type metKey struct {
	route routeKey
	ids   string // the policies' IDs, in route order
}

// combinedQuery returns the violations of policies, in order.
type combinedQuery struct {
	query    *rego.PreparedEvalQuery
	policies []*Policy
	// slow is set once one of policies ran past its deadline alone: the
	// route's policies are evaluated alone from then on.
	slow *atomic.Bool
}

type routeKey struct{ group, kind, operation string }

// The inventory index: rules of data.mesh.lib.index derive lookup tables
// from data.inventory alone; the engine computes the same tables in Go
// (index.go), stores them at data.mesh_index_cache, and every policy query
// reads them from there.
const (
	indexPackage      = "data.mesh.lib.index"
	indexCachePackage = "data.mesh_index_cache"
)

var indexCachePath = storage.MustParsePath("/" + strings.TrimPrefix(indexCachePackage, "data."))

func hasPackage(modules map[string]*ast.Module, pkg string) bool {
	for _, m := range modules {
		if m.Package.Path.String() == pkg {
			return true
		}
	}
	return false
}

// checkIndexIsDataOnly refuses index rules that read input: their cached
// value would be computed without one.
func checkIndexIsDataOnly(modules map[string]*ast.Module) error {
	var errs []error
	for _, m := range modules {
		if m.Package.Path.String() != indexPackage {
			continue
		}
		ast.WalkRefs(m, func(r ast.Ref) bool {
			if r.HasPrefix(ast.InputRootRef) {
				errs = append(errs, &LocatedError{File: r[0].Location.File, Line: r[0].Location.Row,
					Err: errors.New("the inventory index must not read input: it is computed once per inventory")})
			}
			return false
		})
	}
	return errors.Join(errs...)
}

// Policies returns the metadata of every policy in ID order.
func (s *Set) Policies() []Metadata {
	return slices.Clone(s.listed)
}

// compileSet parses, validates and compiles library (built-in policies and
// helpers) and custom sources together, then prepares one query per policy.
// Any problem rejects the whole set; every problem found is reported.
//
// A non-empty only (IDs or aliases) compiles the helpers and the policies it
// names, and no other: they alone are evaluated. Custom sources are still
// parsed and validated whole; built-in policies left out, down to their
// METADATA (the library's own tests hold the rest valid).
//
// A non-nil kinds is called once every source is validated; only the
// policies reviewing a kind it returns are compiled, with what they use.
func compileSet(ctx context.Context, store storage.Store, library, custom []Source, only []string, kinds func() []Kind) (*Set, error) {
	modules := map[string]*ast.Module{}
	var policyMods []*ast.Module
	var builtinFlags []bool
	var errs []error
	sources := slices.Concat(library, custom)
	parsed := make([]*ast.Module, len(sources))
	parseErrs := make([]error, len(sources))
	// When a selection (only, kinds) may leave built-in policies out, they
	// are read down to their package line (METADATA and package: all that
	// routing and listing need) and the selected ones parsed whole later: a
	// one-object check compiles a dozen policies of the library's seventy.
	selective := len(only) > 0 || kinds != nil
	headerOnly := make([]bool, len(sources))
	// Parsing is most of a small check's start-up: on every core.
	var wg sync.WaitGroup
	for i, src := range sources {
		wg.Go(func() {
			if selective && i < len(library) {
				if mod, ok := parseHeader(src); ok {
					parsed[i], headerOnly[i] = mod, true
					return
				}
			}
			parsed[i], parseErrs[i] = ParseModule(src)
		})
	}
	wg.Wait()
	// lazy are the built-in policies read down to their package line, by name.
	lazy := map[string]Source{}
	for i, src := range sources {
		builtin := i < len(library)
		mod, err := parsed[i], parseErrs[i]
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if _, dup := modules[src.Name]; dup {
			errs = append(errs, &LocatedError{File: src.Name, Err: errors.New("two policy sources have this name")})
			continue
		}
		modules[src.Name] = mod
		if headerOnly[i] {
			lazy[src.Name] = src
		}
		pkg := mod.Package.Path.String()
		if builtin && (pkg == libraryPackage || strings.HasPrefix(pkg, libraryPackage+".")) {
			continue // helpers, not policies
		}
		if !builtin && (pkg == libraryPackage || strings.HasPrefix(pkg, libraryPackage+".")) {
			errs = append(errs, &LocatedError{File: src.Name, Line: mod.Package.Location.Row,
				Err: fmt.Errorf("package %s is reserved for the built-in helpers", pkg)})
			continue
		}
		policyMods = append(policyMods, mod)
		builtinFlags = append(builtinFlags, builtin)
	}
	// parseWhole replaces the named modules read down to their package line
	// by the whole files.
	parseWhole := func(names []string) error {
		names = slices.DeleteFunc(slices.Clone(names), func(name string) bool { _, ok := lazy[name]; return !ok })
		whole := make([]*ast.Module, len(names))
		errs := make([]error, len(names))
		var wg sync.WaitGroup
		for i, name := range names {
			wg.Go(func() {
				if whole[i], errs[i] = ParseModule(lazy[name]); errs[i] == nil {
					errs[i] = checkViolationRule(whole[i])
				}
			})
		}
		wg.Wait()
		for i, name := range names {
			modules[name] = whole[i]
			delete(lazy, name)
		}
		return errors.Join(errs...)
	}

	var metas []Metadata
	byID := map[string]Metadata{}
	byPackage := map[string]Metadata{}
	for i, mod := range policyMods {
		md, mdErrs := metadataFromModule(mod, builtinFlags[i])
		errs = append(errs, mdErrs...)
		if prev, dup := byID[md.ID]; dup && md.ID != "" {
			errs = append(errs, &LocatedError{File: md.File, Line: md.Line,
				Err: fmt.Errorf("policy ID %s is already used by %s:%d", md.ID, prev.File, prev.Line)})
		}
		if prev, dup := byPackage[md.Package]; dup {
			errs = append(errs, &LocatedError{File: md.File, Line: md.Line,
				Err: fmt.Errorf("package %s is already defined by %s:%d; give each policy its own package", md.Package, prev.File, prev.Line)})
		}
		byID[md.ID], byPackage[md.Package] = md, md
		if _, ok := lazy[md.File]; !ok {
			if err := checkViolationRule(mod); err != nil {
				errs = append(errs, err)
			}
		}
		metas = append(metas, md)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(only) > 0 {
		var err error
		if metas, err = selectPolicies(metas, modules, only); err != nil {
			return nil, err
		}
	}

	listed := slices.Clone(metas)
	slices.SortFunc(listed, func(a, b Metadata) int { return strings.Compare(a.ID, b.ID) })
	if kinds != nil {
		var err error
		if metas, err = routedPolicies(metas, modules, kinds(), parseWhole); err != nil {
			return nil, err
		}
	}
	// What a selection kept and no routing parsed whole.
	if err := parseWhole(slices.Collect(maps.Keys(modules))); err != nil {
		return nil, err
	}

	set := &Set{listed: listed, policies: make([]*Policy, 0, len(metas))}
	// Lookups that depend on the inventory alone are computed once per
	// inventory (Engine.SetInventory) and read from the store by every
	// evaluation: without this, a policy that looks for, say, the
	// DestinationRules of a host walks every DestinationRule on every review.
	// Policies read the stored index through stub rules; `with` would cost
	// a third of a review. The stub is compiled first, and the modules as
	// written only when it does not compile (then with `with`, or for the
	// errors): compiling twice is a fifth of a one-object check.
	var compiler *ast.Compiler
	withIndex := ""
	if hasPackage(modules, indexPackage) {
		if err := checkIndexIsDataOnly(modules); err != nil {
			return nil, err
		}
		if stubbed, ok := compileWithIndexStub(modules); ok {
			compiler = stubbed
		} else {
			withIndex = " with " + indexPackage + " as " + indexCachePackage
		}
	}
	if compiler == nil {
		compiler = NewCompiler()
		if compiler.Compile(modules); compiler.Failed() {
			return nil, locatedErrors("", compiler.Errors)
		}
	}
	for _, md := range metas {
		query, err := ast.ParseBody(md.Package + "." + ViolationRule + withIndex)
		if err != nil {
			return nil, fmt.Errorf("preparing %s: %w", md.ID, err)
		}
		pq, err := rego.New(
			rego.Compiler(compiler),
			rego.Store(store),
			rego.ParsedQuery(query),
		).PrepareForEval(ctx)
		if err != nil {
			return nil, &LocatedError{File: md.File, Line: md.Line, Err: fmt.Errorf("preparing the query of %s: %w", md.ID, err)}
		}
		set.policies = append(set.policies, &Policy{Metadata: md, query: pq})
	}
	slices.SortFunc(set.policies, func(a, b *Policy) int { return strings.Compare(a.ID, b.ID) })
	set.exact = map[Kind][]*Policy{}
	for _, p := range set.policies {
		if slices.ContainsFunc(p.Kinds, func(k Kind) bool { return k.Group == "*" || k.Kind == "*" }) {
			set.wildcard = append(set.wildcard, p)
			continue
		}
		for _, k := range p.Kinds {
			set.exact[k] = append(set.exact[k], p)
		}
	}
	set.compiler, set.store, set.withIndex = compiler, store, withIndex
	set.combined = map[routeKey]combinedQuery{}
	for k := range set.exact {
		for _, op := range operations {
			// Policies with requirements join when they are met (Set.metQuery).
			candidates := slices.DeleteFunc(set.route(k.Group, k.Kind, op), func(p *Policy) bool { return !p.Requires.IsZero() })
			if len(candidates) < 2 {
				continue
			}
			c, err := set.prepareCombined(ctx, candidates)
			if err != nil {
				return nil, fmt.Errorf("preparing the query for %s: %w", k, err)
			}
			set.combined[routeKey{k.Group, k.Kind, op}] = c
		}
	}
	return set, nil
}

// prepareCombined prepares one query returning the violations of ps, in order.
func (s *Set) prepareCombined(ctx context.Context, ps []*Policy) (combinedQuery, error) {
	terms := make([]string, len(ps))
	for i, p := range ps {
		terms[i] = p.Package + "." + ViolationRule
	}
	query, err := ast.ParseBody("[" + strings.Join(terms, ", ") + "]" + s.withIndex)
	if err != nil {
		return combinedQuery{}, err
	}
	pq, err := rego.New(rego.Compiler(s.compiler), rego.Store(s.store), rego.ParsedQuery(query)).PrepareForEval(ctx)
	if err != nil {
		return combinedQuery{}, err
	}
	return combinedQuery{query: &pq, policies: ps, slow: new(atomic.Bool)}, nil
}

// metQuery is the combined query of ps, policies with requirements that
// one object met, prepared once per route and set of policies; false when
// it cannot be prepared (they then run alone).
func (s *Set) metQuery(ctx context.Context, route routeKey, ps []*Policy) (combinedQuery, bool) {
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	key := metKey{route, strings.Join(ids, ",")}
	if c, ok := s.met.Load(key); ok {
		return c.(combinedQuery), c.(combinedQuery).query != nil
	}
	c, err := s.prepareCombined(ctx, ps)
	if err != nil {
		c = combinedQuery{} // remembered, not retried at each review
	}
	actual, _ := s.met.LoadOrStore(key, c)
	return actual.(combinedQuery), actual.(combinedQuery).query != nil
}

// UnknownPolicyError is an ID or alias that names no policy.
type UnknownPolicyError struct{ ID string }

func (e *UnknownPolicyError) Error() string {
	return fmt.Sprintf("no policy has the ID or alias %q", e.ID)
}

// selectPolicies keeps the policies only names and deletes the modules of
// the others, so that they are neither compiled nor evaluated.
func selectPolicies(metas []Metadata, modules map[string]*ast.Module, only []string) ([]Metadata, error) {
	for _, id := range only {
		if !slices.ContainsFunc(metas, func(m Metadata) bool { return m.Names(id) }) {
			return nil, &UnknownPolicyError{ID: id}
		}
	}
	var kept []Metadata
	for _, m := range metas {
		if slices.ContainsFunc(only, m.Names) {
			kept = append(kept, m)
			continue
		}
		for name, mod := range modules {
			if mod.Package.Path.String() == m.Package {
				delete(modules, name)
			}
		}
	}
	return kept, nil
}

// routedPolicies keeps the policies that review one of kinds, and deletes
// from modules the other policies and the helpers no kept module uses.
// Modules read down to their package line are parsed whole (parseWhole)
// before their references are followed.
func routedPolicies(metas []Metadata, modules map[string]*ast.Module, kinds []Kind, parseWhole func(names []string) error) ([]Metadata, error) {
	var kept []Metadata
	roots := map[string]bool{} // packages of the kept policies
	for _, m := range metas {
		if slices.ContainsFunc(m.Kinds, func(k Kind) bool {
			return slices.ContainsFunc(kinds, func(present Kind) bool { return k.Matches(present.Group, present.Kind) })
		}) {
			kept = append(kept, m)
			roots[m.Package] = true
		}
	}
	// Module names by package.
	byPackage := map[string][]string{}
	for name, mod := range modules {
		byPackage[mod.Package.Path.String()] = append(byPackage[mod.Package.Path.String()], name)
	}
	var rootNames []string
	for pkg := range roots {
		rootNames = append(rootNames, byPackage[pkg]...)
	}
	if err := parseWhole(rootNames); err != nil { // all at once, on every core
		return nil, err
	}
	// Packages the kept policies use, through imports or full references.
	used := map[string]bool{}
	var visit func(pkg string) error
	visit = func(pkg string) error {
		if used[pkg] {
			return nil
		}
		used[pkg] = true
		if err := parseWhole(byPackage[pkg]); err != nil {
			return err
		}
		for _, name := range byPackage[pkg] {
			mod := modules[name]
			var refs []ast.Ref
			for _, imp := range mod.Imports {
				if r, ok := imp.Path.Value.(ast.Ref); ok {
					refs = append(refs, r)
				}
			}
			ast.WalkRefs(mod, func(r ast.Ref) bool {
				refs = append(refs, r)
				return false
			})
			for _, r := range refs {
				if !r.HasPrefix(ast.DefaultRootRef) {
					continue
				}
				for other, names := range byPackage {
					// data.mesh.lib.k8s.subject uses data.mesh.lib.k8s; data.mesh.lib uses all below it.
					if p := modules[names[0]].Package.Path; r.HasPrefix(p) || p.HasPrefix(r) {
						if err := visit(other); err != nil {
							return err
						}
					}
				}
			}
		}
		return nil
	}
	for pkg := range roots {
		if err := visit(pkg); err != nil {
			return nil, err
		}
	}
	for name, mod := range modules {
		if !used[mod.Package.Path.String()] {
			delete(modules, name)
		}
	}
	return kept, nil
}

// parseHeader parses a built-in policy down to its package line: its
// METADATA and package. ok is false for the helpers (their package is
// data.mesh.lib), which are always parsed whole, and when the header does
// not parse or carries no package METADATA: the whole file says why.
func parseHeader(src Source) (*ast.Module, bool) {
	start := 0
	if !strings.HasPrefix(src.Text, "package ") {
		i := strings.Index(src.Text, "\npackage ")
		if i < 0 {
			return nil, false
		}
		start = i + 1
	}
	end := strings.IndexByte(src.Text[start:], '\n')
	if end < 0 {
		return nil, false
	}
	mod, err := ParseModule(Source{Name: src.Name, Text: src.Text[:start+end+1]})
	if err != nil {
		return nil, false
	}
	pkg := mod.Package.Path.String()
	if pkg == libraryPackage || strings.HasPrefix(pkg, libraryPackage+".") {
		return nil, false
	}
	if !slices.ContainsFunc(mod.Annotations, func(a *ast.Annotations) bool { return a.Scope == "package" }) {
		return nil, false
	}
	return mod, true
}

// checkViolationRule insists on `violation contains ... if ...`: a partial set,
// which is what the engine reads findings from.
func checkViolationRule(mod *ast.Module) error {
	found := false
	for _, r := range mod.Rules {
		if r.Head.Name.String() != ViolationRule && r.Head.Ref().String() != ViolationRule {
			continue
		}
		found = true
		if r.Head.RuleKind() != ast.MultiValue {
			return &LocatedError{File: r.Location.File, Line: r.Location.Row,
				Err: errors.New(`"violation" must be a partial set rule: violation contains {"msg": msg} if { ... }`)}
		}
	}
	if !found {
		return &LocatedError{File: mod.Package.Location.File, Line: mod.Package.Location.Row,
			Err: fmt.Errorf(`package %s has no "violation" rule: write violation contains {"msg": msg} if { ... }`, mod.Package.Path)}
	}
	return nil
}
