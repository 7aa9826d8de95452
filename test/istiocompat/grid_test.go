package istiocompat

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// gridCase is one entry of testGrid in Istio's analyzers_test.go.
type gridCase struct {
	Name             string
	InputFiles       []string // relative to analyzersDir, as in the grid
	MeshConfigFile   string
	MeshNetworksFile string
	// Analyzer is the analyzer as the grid writes it:
	// "virtualservice.DestinationHostAnalyzer", or a call such as
	// "schemaValidation.CollectionValidationAnalyzer(collections.VirtualService)".
	Analyzer string
	Expected []expectedMessage
}

// expectedMessage is one {msg.X, "Kind ns/name"} of a case.
type expectedMessage struct {
	Message string // msg.X's name
	Code    string // IST code of Message
	Origin  string // the resource's friendly name: "Kind ns/name", or "Kind name" without a namespace
}

// analyzersDir is pkg/config/analysis/analyzers of the istio.io/istio
// module that go.mod requires: the grid and its testdata are read from
// there, never copied into this repository.
var analyzersDir = sync.OnceValues(func() (string, error) {
	dir, err := moduleDir("istio.io/istio")
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "pkg", "config", "analysis", "analyzers"), nil
})

// moduleDir is the module cache directory of a module in go.mod,
// downloading it when the cache does not have it yet.
func moduleDir(path string) (string, error) {
	list := func() (string, error) {
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", path).Output()
		return strings.TrimSpace(string(out)), err
	}
	dir, err := list()
	if err == nil && dir == "" {
		if out, derr := exec.Command("go", "mod", "download", path).CombinedOutput(); derr != nil {
			return "", fmt.Errorf("go mod download %s: %v\n%s", path, derr, out)
		}
		dir, err = list()
	}
	if err != nil {
		return "", fmt.Errorf("go list -m %s: %w", path, err)
	}
	if dir == "" {
		return "", fmt.Errorf("go list -m %s: the module is not in the module cache", path)
	}
	return dir, nil
}

// readGrid parses testGrid out of analyzers_test.go, and the message
// names out of msg/messages.gen.go.
func readGrid(dir string) ([]gridCase, error) {
	codes, err := messageCodes(filepath.Join(dir, "..", "msg", "messages.gen.go"))
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, filepath.Join(dir, "analyzers_test.go"), nil, 0)
	if err != nil {
		return nil, err
	}
	var grid *ast.CompositeLit
	ast.Inspect(file, func(n ast.Node) bool {
		spec, ok := n.(*ast.ValueSpec)
		if !ok || len(spec.Names) != 1 || spec.Names[0].Name != "testGrid" || len(spec.Values) != 1 {
			return true
		}
		grid, _ = spec.Values[0].(*ast.CompositeLit)
		return false
	})
	if grid == nil {
		return nil, fmt.Errorf("%s: no testGrid", filepath.Join(dir, "analyzers_test.go"))
	}
	var cases []gridCase
	for _, elt := range grid.Elts {
		lit, ok := elt.(*ast.CompositeLit)
		if !ok {
			return nil, fmt.Errorf("%s: a testGrid entry is not a literal", fset.Position(elt.Pos()))
		}
		var c gridCase
		for _, e := range lit.Elts {
			kv, ok := e.(*ast.KeyValueExpr)
			if !ok {
				return nil, fmt.Errorf("%s: a testCase field without its name", fset.Position(e.Pos()))
			}
			key := kv.Key.(*ast.Ident).Name
			switch key {
			case "name":
				c.Name, err = stringLit(kv.Value)
			case "meshConfigFile":
				c.MeshConfigFile, err = stringLit(kv.Value)
			case "meshNetworksFile":
				c.MeshNetworksFile, err = stringLit(kv.Value)
			case "inputFiles":
				for _, f := range kv.Value.(*ast.CompositeLit).Elts {
					s, serr := stringLit(f)
					if serr != nil {
						err = serr
						break
					}
					c.InputFiles = append(c.InputFiles, s)
				}
			case "analyzer":
				c.Analyzer = analyzerName(fset, kv.Value)
			case "expected":
				for _, m := range kv.Value.(*ast.CompositeLit).Elts {
					pair := m.(*ast.CompositeLit).Elts
					if len(pair) != 2 {
						return nil, fmt.Errorf("%s: a message is not {msg.X, origin}", fset.Position(m.Pos()))
					}
					sel, ok := pair[0].(*ast.SelectorExpr)
					if !ok {
						return nil, fmt.Errorf("%s: a message type is not msg.X", fset.Position(m.Pos()))
					}
					origin, serr := stringLit(pair[1])
					if serr != nil {
						return nil, fmt.Errorf("%s: %w", fset.Position(m.Pos()), serr)
					}
					code, ok := codes[sel.Sel.Name]
					if !ok {
						return nil, fmt.Errorf("%s: msg.%s is not in messages.gen.go", fset.Position(m.Pos()), sel.Sel.Name)
					}
					c.Expected = append(c.Expected, expectedMessage{Message: sel.Sel.Name, Code: code, Origin: origin})
				}
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", fset.Position(kv.Pos()), key, err)
			}
		}
		cases = append(cases, c)
	}
	return cases, nil
}

// analyzerName turns &pkg.Type{} into "pkg.Type" and prints anything else
// as written.
func analyzerName(fset *token.FileSet, e ast.Expr) string {
	if u, ok := e.(*ast.UnaryExpr); ok && u.Op == token.AND {
		if lit, ok := u.X.(*ast.CompositeLit); ok {
			e = lit.Type
		}
	}
	var b bytes.Buffer
	_ = printer.Fprint(&b, fset, e)
	return b.String()
}

func stringLit(e ast.Expr) (string, error) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", fmt.Errorf("not a string literal")
	}
	return strconv.Unquote(lit.Value)
}

// messageCodes maps the names of msg's message types to their codes:
// X = diag.NewMessageType(level, "ISTnnnn", template).
func messageCodes(path string) (map[string]string, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	file, err := parser.ParseFile(token.NewFileSet(), path, src, 0)
	if err != nil {
		return nil, err
	}
	codes := map[string]string{}
	ast.Inspect(file, func(n ast.Node) bool {
		spec, ok := n.(*ast.ValueSpec)
		if !ok || len(spec.Names) != 1 || len(spec.Values) != 1 {
			return true
		}
		call, ok := spec.Values[0].(*ast.CallExpr)
		if !ok || len(call.Args) < 2 {
			return true
		}
		if sel, ok := call.Fun.(*ast.SelectorExpr); !ok || sel.Sel.Name != "NewMessageType" {
			return true
		}
		if code, err := stringLit(call.Args[1]); err == nil {
			codes[spec.Names[0].Name] = code
		}
		return true
	})
	if len(codes) == 0 {
		return nil, fmt.Errorf("%s: no message types", path)
	}
	return codes, nil
}
