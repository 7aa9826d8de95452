package policies

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// indexStubName is the source name of the generated index stub.
const indexStubName = "mesh.lib.index (stored)"

// compileWithIndexStub compiles modules with the inventory index package
// replaced by one rule per index rule that reads its stored value:
//
//	refs := data.mesh_index_cache.refs
//
// A policy then sees exactly what `with data.mesh.lib.index as
// data.mesh_index_cache` gave it (the same stored value, undefined where
// the value has no such key), without evaluating a `with` per reference.
// ok is false when the stub cannot stand in for the package, for example
// when a policy calls a function of the index package.
func compileWithIndexStub(modules map[string]*ast.Module) (*ast.Compiler, bool) {
	names := map[string]bool{}
	stubbed := make(map[string]*ast.Module, len(modules))
	for file, m := range modules {
		if m.Package.Path.String() != indexPackage {
			stubbed[file] = m
			continue
		}
		for _, r := range m.Rules {
			if len(r.Head.Args) > 0 {
				continue // functions are not part of the stored value
			}
			// Tables starting with _ are the rules' own: index.go computes none.
			if v, ok := r.Head.Ref()[0].Value.(ast.Var); ok && !strings.HasPrefix(v.String(), "_") {
				names[v.String()] = true
			}
		}
	}
	var b strings.Builder
	b.WriteString("package " + strings.TrimPrefix(indexPackage, "data.") + "\n\n")
	for _, name := range slices.Sorted(maps.Keys(names)) {
		fmt.Fprintf(&b, "%s := %s.%s\n", name, indexCachePackage, name)
	}
	stub, err := ast.ParseModuleWithOpts(indexStubName, b.String(), ast.ParserOptions{RegoVersion: ast.RegoV1})
	if err != nil {
		return nil, false
	}
	stubbed[indexStubName] = stub
	compiler := NewCompiler()
	if compiler.Compile(stubbed); compiler.Failed() {
		return nil, false
	}
	return compiler, true
}
