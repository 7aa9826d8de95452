package policies

import (
	"context"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// DisablePrefilter makes e evaluate every routed policy whatever its
// custom.requires says, for the equivalence test.
func DisablePrefilter(e *Engine) { e.noPrefilter = true }

// Trace has t trace every evaluation of e.
func Trace(e *Engine, t topdown.QueryTracer) { e.tracer = t }

// IndexBothWays returns a function that computes the inventory index of
// an inventory in Go, as the engine does, and by evaluating
// data.mesh.lib.index of library, as Rego unit tests do: the tables by name.
func IndexBothWays(library []Source) (func(ctx context.Context, inv *Inventory) (fromGo, fromRego map[string]ast.Value, err error), error) {
	modules := map[string]*ast.Module{}
	for _, src := range library {
		m, err := ParseModule(src)
		if err != nil {
			return nil, err
		}
		modules[src.Name] = m
	}
	compiler := NewCompiler()
	if compiler.Compile(modules); compiler.Failed() {
		return nil, compiler.Errors
	}
	return func(ctx context.Context, inv *Inventory) (fromGo, fromRego map[string]ast.Value, err error) {
		doc, err := (&valueCache{}).document(inv)
		if err != nil {
			return nil, nil, err
		}
		fromGo = map[string]ast.Value{}
		newIndexState(doc).value().Foreach(func(k, v *ast.Term) { fromGo[string(k.Value.(ast.String))] = v.Value })

		store := inmem.NewWithOpts(inmem.OptRoundTripOnWrite(false), inmem.OptReturnASTValuesOnRead(true))
		if err := storage.WriteOne(ctx, store, storage.AddOp, storage.MustParsePath("/inventory"), doc); err != nil {
			return nil, nil, err
		}
		rs, err := rego.New(rego.Compiler(compiler), rego.Store(store), rego.Query(indexPackage),
			rego.GenerateJSON(func(t *ast.Term, _ *rego.EvalContext) (any, error) { return t.Value, nil })).Eval(ctx)
		if err != nil {
			return nil, nil, err
		}
		fromRego = map[string]ast.Value{}
		rs[0].Expressions[0].Value.(ast.Object).Foreach(func(k, v *ast.Term) {
			if name := string(k.Value.(ast.String)); !strings.HasPrefix(name, "_") {
				fromRego[name] = v.Value
			}
		})
		return fromGo, fromRego, nil
	}, nil
}

// CombinedIsSlow reports whether the combined query of a route was left
// out after one of its policies ran past its deadline alone.
func CombinedIsSlow(e *Engine, group, kind, operation string) bool {
	c, ok := e.set.Load().combined[routeKey{group, kind, operation}]
	return ok && c.slow.Load()
}

// MetQueries counts the combined queries prepared for policies whose
// requirements a reviewed object met, and how many of them were left out
// after a deadline.
func MetQueries(e *Engine) (prepared, slow int) {
	e.set.Load().met.Range(func(_, v any) bool {
		if c := v.(combinedQuery); c.query != nil {
			prepared++
			if c.slow.Load() {
				slow++
			}
		}
		return true
	})
	return prepared, slow
}
