package policies

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

// TestNoBuiltinReachesOutside walks OPA's whole builtin list: each one is
// reviewed in testdata/builtins.txt, each that reaches the network, the
// file system or the environment is refused to policies, and OPA's own
// "nondeterministic" mark agrees with the review.
func TestNoBuiltinReachesOutside(t *testing.T) {
	reviewed := readBuiltinReview(t, filepath.Join("testdata", "builtins.txt"))
	all := ast.CapabilitiesForThisVersion().Builtins
	var unreviewed []string
	for _, b := range all {
		class, ok := reviewed[b.Name]
		switch {
		case !ok:
			unreviewed = append(unreviewed, b.Name)
		case b.Nondeterministic && class == "pure":
			t.Errorf("testdata/builtins.txt: OPA marks %s nondeterministic, the review says pure: read its implementation again", b.Name)
		}
	}
	if len(unreviewed) > 0 {
		t.Errorf("OPA has builtins nobody reviewed: %s; read their implementations and add each to testdata/builtins.txt (io ones also to unsafeBuiltins in compile.go)", strings.Join(unreviewed, ", "))
	}
	for name := range reviewed {
		if !slices.ContainsFunc(all, func(b *ast.Builtin) bool { return b.Name == name }) {
			t.Errorf("testdata/builtins.txt reviews %s, which OPA no longer has: remove it", name)
		}
	}

	var io []string
	for name, class := range reviewed {
		if class == "io" {
			io = append(io, name)
		}
	}
	slices.Sort(io)
	if got := slices.Sorted(slices.Values(unsafeBuiltins)); !slices.Equal(got, io) {
		t.Errorf("unsafeBuiltins = %v, want the builtins reviewed as io: %v", got, io)
	}

	// Each refused builtin, called by a custom policy the way the webhook
	// loads one, is an undefined function at its file:line.
	offered := NewCompiler().Capabilities().Builtins
	for _, name := range io {
		t.Run(name, func(t *testing.T) {
			if slices.ContainsFunc(offered, func(b *ast.Builtin) bool { return b.Name == name }) {
				t.Fatalf("the policy compiler offers %s", name)
			}
			b := ast.BuiltinMap[name]
			args := make([]string, len(b.Decl.FuncArgs().Args))
			for i := range args {
				args[i] = "input.review.object"
			}
			body := fmt.Sprintf("violation contains {\"msg\": sprintf(\"%%v\", [r])} if {\n\tr := %s(%s)\n}\n", name, strings.Join(args, ", "))
			src := policy("configmap/acme/io.rego", "acme.io", "#   id: ACME010\n#   severity: error\n#   enforcement: deny\n#   kinds: [ConfigMap]", body)
			e := newTestEngine(t)
			err := e.LoadCustom(context.Background(), []Source{src})
			if want := "configmap/acme/io.rego:14: undefined function " + name; err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("LoadCustom = %v, want %q", err, want)
			}
		})
	}
}

// TestSchemaRefCannotReadFiles is the hole the review found: before the
// JSON schema builtins were refused, json.verify_schema({"$ref":
// "file:///etc/hostname"}) read the file and its error quoted it.
func TestSchemaRefCannotReadFiles(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "secret.json")
	if err := os.WriteFile(secret, []byte(`{"type": "number", "title": "s3cr3t"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf("violation contains {\"msg\": sprintf(\"%%v\", [r])} if {\n\tr := json.verify_schema({\"$ref\": %q})\n}\n", "file://"+secret)
	src := policy("configmap/acme/schema.rego", "acme.schema", "#   id: ACME011\n#   severity: error\n#   enforcement: deny\n#   kinds: [ConfigMap]", body)
	e := newTestEngine(t)
	err := e.LoadCustom(context.Background(), []Source{src})
	if want := "configmap/acme/schema.rego:14: undefined function json.verify_schema"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("LoadCustom = %v, want %q", err, want)
	}
}

func readBuiltinReview(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	classes := []string{"pure", "clock", "random", "io"}
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, class, ok := strings.Cut(line, " ")
		if !ok || !slices.Contains(classes, class) {
			t.Fatalf("%s:%d: want NAME CLASS (CLASS one of %v), got %q", path, n, classes, line)
		}
		if _, dup := out[name]; dup {
			t.Fatalf("%s:%d: %s reviewed twice", path, n, name)
		}
		out[name] = class
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
