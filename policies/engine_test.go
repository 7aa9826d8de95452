package policies

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/kubectl-mesh/kubectl-mesh/internal/inputlimit"
)

// policy writes a custom policy source with the given METADATA custom block
// and rule body.
func policy(name, pkg, custom, body string) Source {
	return Source{Name: name, Text: `# METADATA
# title: Test policy
# description: A policy for tests.
# custom:
` + custom + `
package ` + pkg + `

import rego.v1

` + body}
}

const alwaysBody = `violation contains {"msg": sprintf("saw %s", [input.review.object.metadata.name])} if true
`

func newTestEngine(t *testing.T, custom ...Source) *Engine {
	t.Helper()
	e, err := New(context.Background(), Options{Library: []Source{}, Custom: custom})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func object(apiVersion, kind, ns, name string, annotations map[string]any) map[string]any {
	meta := map[string]any{"name": name, "namespace": ns}
	if annotations != nil {
		meta["annotations"] = annotations
	}
	return map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": meta}
}

// value converts a test object as ToValue does.
func value(obj map[string]any) ast.Value {
	return ast.MustInterfaceToValue(obj)
}

func ids(findings []Finding) []string {
	var out []string
	for _, f := range findings {
		out = append(out, f.PolicyID)
	}
	return out
}

func TestCustomPolicyRejectedWhole(t *testing.T) {
	good := policy("custom/good.rego", "acme.good", "#   id: ACME001\n#   severity: error\n#   enforcement: deny\n#   kinds: [ConfigMap]", alwaysBody)
	tests := []struct {
		name   string
		source Source
		want   []string // substrings of the error, each with file:line
	}{
		{"syntax error", Source{Name: "custom/bad.rego", Text: "package acme.bad\n\nimport rego.v1\n\nviolation contains {\"msg\": \"x\"} if {\n"},
			[]string{"custom/bad.rego:"}},
		{"no metadata", Source{Name: "custom/bare.rego", Text: "package acme.bare\n\nimport rego.v1\n\n" + alwaysBody},
			[]string{"custom/bare.rego:1: package data.acme.bare has no METADATA block"}},
		{"metadata fields missing or wrong",
			policy("custom/meta.rego", "acme.meta", "#   id: acme-1\n#   severity: fatal\n#   enforcement: block\n#   kinds: [networking.istio.io/virtualservice]", alwaysBody),
			[]string{
				`custom/meta.rego:1: METADATA: custom.id "acme-1" must be upper-case`,
				`custom/meta.rego:1: METADATA: custom.severity: unknown severity "fatal"`,
				`custom/meta.rego:1: METADATA: custom.enforcement: unknown enforcement "block"`,
				`custom/meta.rego:1: METADATA: custom.kinds: "networking.istio.io/virtualservice" is not a kind`,
			}},
		{"kinds missing", policy("custom/nokinds.rego", "acme.nokinds", "#   id: ACME002\n#   severity: error\n#   enforcement: deny", alwaysBody),
			[]string{"custom/nokinds.rego:1: METADATA: custom.kinds is required"}},
		{"built-in ID range", policy("custom/range.rego", "acme.range", "#   id: MESH1101\n#   severity: error\n#   enforcement: deny\n#   kinds: [ConfigMap]", alwaysBody),
			[]string{"custom/range.rego:1: METADATA: custom.id \"MESH1101\" is in the range reserved for built-in policies"}},
		{"duplicate ID", policy("custom/dup.rego", "acme.dup", "#   id: ACME001\n#   severity: error\n#   enforcement: deny\n#   kinds: [ConfigMap]", alwaysBody),
			[]string{"custom/dup.rego:1: policy ID ACME001 is already used by custom/good.rego:1"}},
		{"strict mode: unused variable", policy("custom/strict.rego", "acme.strict", "#   id: ACME003\n#   severity: error\n#   enforcement: deny\n#   kinds: [ConfigMap]",
			"violation contains {\"msg\": \"x\"} if {\n\tunused := 1\n}\n"),
			[]string{"custom/strict.rego:14: assigned var unused unused"}},
		{"network builtin", policy("custom/net.rego", "acme.net", "#   id: ACME004\n#   severity: error\n#   enforcement: deny\n#   kinds: [ConfigMap]",
			"violation contains {\"msg\": r.body} if {\n\tr := http.send({\"method\": \"GET\", \"url\": \"http://example.com\"})\n}\n"),
			[]string{"custom/net.rego:14: undefined function http.send"}},
		{"no violation rule", policy("custom/novio.rego", "acme.novio", "#   id: ACME005\n#   severity: error\n#   enforcement: deny\n#   kinds: [ConfigMap]", "deny contains \"x\" if true\n"),
			[]string{`custom/novio.rego:9: package data.acme.novio has no "violation" rule`}},
		{"violation not a set", policy("custom/complete.rego", "acme.complete", "#   id: ACME006\n#   severity: error\n#   enforcement: deny\n#   kinds: [ConfigMap]", "violation := {\"msg\": \"x\"}\n"),
			[]string{`custom/complete.rego:13: "violation" must be a partial set rule`}},
		// METADATA is YAML: OPA decodes it with yaml.v3's alias guard.
		{"METADATA of nested aliases", policy("custom/laughs.rego", "acme.laughs", "#   id: ACME007\n#   severity: error\n#   enforcement: deny\n#   kinds: [ConfigMap]\n#   laughs:\n#     "+
			strings.ReplaceAll(strings.TrimSpace(string(inputlimit.BillionLaughs())), "\n", "\n#     "), alwaysBody),
			[]string{"custom/laughs.rego:2: yaml: document contains excessive aliasing"}},
		{"requires not a map", policy("custom/req.rego", "acme.req", "#   id: ACME008\n#   severity: error\n#   enforcement: deny\n#   kinds: [ConfigMap]\n#   requires: [labels]", alwaysBody),
			[]string{"custom/req.rego:1: METADATA: custom.requires must map labels, annotations or fields to lists"}},
		{"requires with an unknown key and an empty field", policy("custom/req2.rego", "acme.req2", "#   id: ACME009\n#   severity: error\n#   enforcement: deny\n#   kinds: [ConfigMap]\n#   requires: {selectors: [a], fields: [spec..http]}", alwaysBody),
			[]string{`custom/req2.rego:1: METADATA: custom.requires: unknown key "selectors"`, "custom/req2.rego:1: METADATA: custom.requires.fields: spec..http is not a field"}},
		{"reserved helper package", Source{Name: "custom/lib.rego", Text: "package mesh.lib.k8s\n\nimport rego.v1\n\nx := 1\n"},
			[]string{"custom/lib.rego:1: package data.mesh.lib.k8s is reserved"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			e := newTestEngine(t, good)
			err := e.LoadCustom(ctx, []Source{good, tt.source})
			if err == nil {
				t.Fatal("the bad policy was accepted")
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not contain %q:\n%v", want, err)
				}
			}
			// The last good set stays in force, and the bad one left nothing behind.
			got := e.Policies()
			if len(got) != 1 || got[0].ID != "ACME001" {
				t.Errorf("policies after the refused load = %v, want the last good set [ACME001]", got)
			}
			findings, err := e.Review(ctx, NewReview(value(object("v1", "ConfigMap", "default", "cm", nil)), nil))
			if err != nil || len(findings) != 1 || findings[0].Message != "saw cm" {
				t.Errorf("the last good set does not evaluate: %v %v", findings, err)
			}
		})
	}
}

func TestValidateCustomLeavesTheSetInForce(t *testing.T) {
	ctx := context.Background()
	good := policy("custom/good.rego", "acme.good", "#   id: ACME001\n#   severity: error\n#   enforcement: deny\n#   kinds: [ConfigMap]", alwaysBody)
	other := policy("custom/other.rego", "acme.other", "#   id: ACME002\n#   severity: error\n#   enforcement: deny\n#   kinds: [ConfigMap]", alwaysBody)
	e := newTestEngine(t, good)

	if err := e.ValidateCustom(ctx, []Source{{Name: "custom/bad.rego", Text: "package acme.bad\n"}}); err == nil ||
		!strings.Contains(err.Error(), "custom/bad.rego:1:") {
		t.Errorf("ValidateCustom of a bad policy = %v, want an error at custom/bad.rego:1", err)
	}
	if err := e.ValidateCustom(ctx, []Source{good, other}); err != nil {
		t.Errorf("ValidateCustom of good policies: %v", err)
	}
	if got := e.Policies(); len(got) != 1 || got[0].ID != "ACME001" {
		t.Errorf("policies after ValidateCustom = %v, want the set loaded before [ACME001]", got)
	}
}

func TestRoutingOperationsAndSuppression(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t,
		policy("p/cm.rego", "acme.cm", "#   id: ACME001\n#   severity: error\n#   enforcement: deny\n#   kinds: [ConfigMap]\n#   aliases: [OLD001]", alwaysBody),
		policy("p/vs.rego", "acme.vs", "#   id: ACME002\n#   severity: warning\n#   enforcement: warn\n#   kinds: [networking.istio.io/VirtualService]", alwaysBody),
		policy("p/istio.rego", "acme.istio", "#   id: ACME003\n#   severity: info\n#   enforcement: audit\n#   kinds: [networking.istio.io/*]", alwaysBody),
		policy("p/delete.rego", "acme.delete", "#   id: ACME004\n#   severity: error\n#   enforcement: deny\n#   kinds: [ConfigMap]\n#   operations: [DELETE]",
			`violation contains {"msg": "deleted"} if input.review.oldObject.metadata.name`+"\n"),
	)
	tests := []struct {
		name   string
		review *Review
		want   string
	}{
		{"core kind", NewReview(value(object("v1", "ConfigMap", "default", "cm", nil)), nil), "ACME001"},
		{"exact and group wildcard", NewReview(value(object("networking.istio.io/v1", "VirtualService", "default", "vs", nil)), nil), "ACME002,ACME003"},
		{"group wildcard only", NewReview(value(object("networking.istio.io/v1", "Gateway", "default", "gw", nil)), nil), "ACME003"},
		{"same kind name, other group", NewReview(value(object("acme.io/v1", "ConfigMap", "default", "cm", nil)), nil), ""},
		{"suppressed by ID", NewReview(value(object("networking.istio.io/v1", "VirtualService", "default", "vs", map[string]any{SuppressAnnotation: "ACME002, ACME003"})), nil), ""},
		{"suppressed by alias", NewReview(value(object("v1", "ConfigMap", "default", "cm", map[string]any{SuppressAnnotation: "old001"})), nil), ""},
		{"delete routes to delete policies", &Review{Version: "v1", Kind: "ConfigMap", Name: "cm", Namespace: "default", Operation: "DELETE",
			OldObject: value(object("v1", "ConfigMap", "default", "cm", nil))}, "ACME004"},
		{"an update cannot add a suppression of a deny policy", &Review{Version: "v1", Kind: "ConfigMap", Name: "cm", Namespace: "default", Operation: "UPDATE",
			Object: value(object("v1", "ConfigMap", "default", "cm", map[string]any{SuppressAnnotation: "ACME001"})), OldObject: value(object("v1", "ConfigMap", "default", "cm", nil))}, "ACME001"},
		{"an update keeps a suppression the object had", &Review{Version: "v1", Kind: "ConfigMap", Name: "cm", Namespace: "default", Operation: "UPDATE",
			Object:    value(object("v1", "ConfigMap", "default", "cm", map[string]any{SuppressAnnotation: "ACME001"})),
			OldObject: value(object("v1", "ConfigMap", "default", "cm", map[string]any{SuppressAnnotation: "ACME001"}))}, ""},
		{"an update can add a suppression of a warn policy", &Review{Group: "networking.istio.io", Version: "v1", Kind: "VirtualService", Name: "vs", Namespace: "default", Operation: "UPDATE",
			Object:    value(object("networking.istio.io/v1", "VirtualService", "default", "vs", map[string]any{SuppressAnnotation: "ACME002,ACME003"})),
			OldObject: value(object("networking.istio.io/v1", "VirtualService", "default", "vs", nil))}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			findings, err := e.Review(ctx, tt.review)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(ids(findings), ","); got != tt.want {
				t.Errorf("findings %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEnforcementOverride(t *testing.T) {
	ctx := context.Background()
	p := policy("p/cm.rego", "acme.cm", "#   id: ACME001\n#   severity: error\n#   enforcement: deny\n#   kinds: [ConfigMap]", alwaysBody)
	e, err := New(ctx, Options{Library: []Source{}, Custom: []Source{p}, Enforcement: map[string]Enforcement{"ACME001": EnforcementWarn}})
	if err != nil {
		t.Fatal(err)
	}
	findings, err := e.Review(ctx, NewReview(value(object("v1", "ConfigMap", "default", "cm", nil)), nil))
	if err != nil || len(findings) != 1 || findings[0].Enforcement != EnforcementWarn {
		t.Fatalf("findings %+v, err %v; want one finding with enforcement warn", findings, err)
	}
	_, err = New(ctx, Options{Library: []Source{}, Custom: []Source{p}, Enforcement: map[string]Enforcement{"ACME999": EnforcementWarn}})
	if err == nil || !strings.Contains(err.Error(), "ACME999") {
		t.Errorf("an override for an unknown policy was accepted: %v", err)
	}
}

func TestInventoryKeepsNoSecretKeys(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t, policy("p/leak.rego", "acme.leak", "#   id: ACME001\n#   severity: error\n#   enforcement: deny\n#   kinds: [ConfigMap]",
		`violation contains {"msg": concat(",", sort(keys))} if {
	keys := [k | some k, _ in data.inventory.namespace.linkerd.v1.Secret["linkerd-identity-issuer"].data]
}

violation contains {"msg": "stringData leaked"} if data.inventory.namespace.linkerd.v1.Secret["linkerd-identity-issuer"].stringData
`))
	inv := NewInventory()
	secret := object("v1", "Secret", "linkerd", "linkerd-identity-issuer", nil)
	secret["data"] = map[string]any{"tls.crt": "Y2VydA==", "tls.key": "a2V5", "ca.crt": "Y2E=", "crt.pem": "Y2VydA==", "key.pem": "a2V5"}
	secret["stringData"] = map[string]any{"token": "secret"}
	inv.Add(secret)
	if err := e.SetInventory(ctx, inv); err != nil {
		t.Fatal(err)
	}
	findings, err := e.Review(ctx, NewReview(value(object("v1", "ConfigMap", "default", "cm", nil)), nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(findings) != 1 || findings[0].Message != "ca.crt,crt.pem,tls.crt" {
		t.Errorf("the policy saw %+v, want only the certificate keys ca.crt,crt.pem,tls.crt", findings)
	}
	if _, ok := secret["data"].(map[string]any)["tls.key"]; !ok {
		t.Error("adding to the inventory mutated the caller's object")
	}
}

func TestRuntimeErrorKeepsOtherFindings(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t,
		policy("p/ok.rego", "acme.ok", "#   id: ACME001\n#   severity: error\n#   enforcement: deny\n#   kinds: [ConfigMap]", alwaysBody),
		// Two values for one complete rule: an eval_conflict_error at run time.
		policy("p/conflict.rego", "acme.conflict", "#   id: ACME002\n#   severity: error\n#   enforcement: deny\n#   kinds: [ConfigMap]",
			"x := input.review.object.metadata.name\n\nx := \"other\"\n\nviolation contains {\"msg\": x} if true\n"),
	)
	findings, err := e.Review(ctx, NewReview(value(object("v1", "ConfigMap", "default", "cm", nil)), nil))
	if err == nil || !strings.Contains(err.Error(), "evaluating ACME002 on ConfigMap default/cm") {
		t.Errorf("error %v, want the run-time error of ACME002 named", err)
	}
	if got := strings.Join(ids(findings), ","); got != "ACME001" {
		t.Errorf("findings %q, want ACME001's despite ACME002's error", got)
	}
}

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadDir(dir); err == nil || !strings.Contains(err.Error(), "no .rego files") {
		t.Errorf("empty dir: %v", err)
	}
	if _, err := LoadDir(dir + "/missing"); err == nil || !strings.Contains(err.Error(), dir+"/missing") {
		t.Errorf("missing dir: %v", err)
	}
}

// custom.requires: a policy runs only when the object or the old object
// carries what it declares; the others still share the combined query,
// and those whose requirements an object meets share another.
func TestRequirementsKeepPoliciesOutOfRego(t *testing.T) {
	ctx := context.Background()
	cm := "#   severity: error\n#   enforcement: deny\n#   kinds: [ConfigMap]\n"
	e := newTestEngine(t,
		policy("p/label.rego", "acme.label", "#   id: ACME001\n"+cm+"#   requires: {labels: [team]}", alwaysBody),
		policy("p/field.rego", "acme.field", "#   id: ACME002\n"+cm+"#   requires: {fields: [data.key], annotations: [owner]}", alwaysBody),
		policy("p/any.rego", "acme.any", "#   id: ACME003\n"+cm, alwaysBody),
		policy("p/any2.rego", "acme.any2", "#   id: ACME004\n"+cm, alwaysBody),
	)
	withLabel := object("v1", "ConfigMap", "default", "cm", nil)
	withLabel["metadata"].(map[string]any)["labels"] = map[string]any{"team": ""}
	withField := object("v1", "ConfigMap", "default", "cm", map[string]any{"owner": "a"})
	withField["data"] = map[string]any{"key": nil}
	onlyField := object("v1", "ConfigMap", "default", "cm", nil)
	onlyField["data"] = map[string]any{"key": "v"}
	withBoth := object("v1", "ConfigMap", "default", "cm", map[string]any{"owner": "a"})
	withBoth["metadata"].(map[string]any)["labels"] = map[string]any{"team": "x"}
	withBoth["data"] = map[string]any{"key": "v"}
	update := func(old, new map[string]any) *Review {
		return &Review{Version: "v1", Kind: "ConfigMap", Name: "cm", Namespace: "default", Operation: "UPDATE", Object: value(new), OldObject: value(old)}
	}
	for _, tt := range []struct {
		name   string
		review *Review
		want   string
	}{
		{"nothing required present", NewReview(value(object("v1", "ConfigMap", "default", "cm", nil)), nil), "ACME003,ACME004"},
		{"label present, even empty", NewReview(value(withLabel), nil), "ACME001,ACME003,ACME004"},
		{"field (null counts) and annotation present", NewReview(value(withField), nil), "ACME002,ACME003,ACME004"},
		{"one of two requirements", NewReview(value(onlyField), nil), "ACME003,ACME004"},
		{"label on the old object only", update(withLabel, object("v1", "ConfigMap", "default", "cm", nil)), "ACME001,ACME003,ACME004"},
		{"both met", NewReview(value(withBoth), nil), "ACME001,ACME002,ACME003,ACME004"},
		{"both met again", NewReview(value(withBoth), nil), "ACME001,ACME002,ACME003,ACME004"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			findings, err := e.Review(ctx, tt.review)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(ids(findings), ","); got != tt.want {
				t.Errorf("findings from %s, want %s", got, tt.want)
			}
		})
	}
	// ACME001 and ACME002 ran in one query, prepared once.
	if prepared, _ := MetQueries(e); prepared != 1 {
		t.Errorf("%d queries prepared for policies whose requirements were met, want 1 (ACME001 and ACME002 together)", prepared)
	}
}

// Options.Only compiles and evaluates the policies it names, by ID or alias.
func TestOnlySelectedPoliciesAreCompiled(t *testing.T) {
	ctx := context.Background()
	cm := "#   severity: error\n#   enforcement: deny\n#   kinds: [ConfigMap]\n"
	custom := []Source{
		policy("p/a.rego", "acme.a", "#   id: ACME001\n"+cm+"#   aliases: [OLD001]", alwaysBody),
		policy("p/b.rego", "acme.b", "#   id: ACME002\n"+cm, alwaysBody),
		policy("p/c.rego", "acme.c", "#   id: ACME003\n"+cm, alwaysBody),
	}
	e, err := New(ctx, Options{Library: []Source{}, Custom: custom, Only: []string{"old001", "ACME003"}})
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, m := range e.Policies() {
		listed = append(listed, m.ID)
	}
	findings, err := e.Review(ctx, NewReview(value(object("v1", "ConfigMap", "default", "cm", nil)), nil))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(listed, ",")+" "+strings.Join(ids(findings), ","), "ACME001,ACME003 ACME001,ACME003"; got != want {
		t.Errorf("policies and findings %q, want %q", got, want)
	}
	_, err = New(ctx, Options{Library: []Source{}, Custom: custom, Only: []string{"ACME009"}})
	var unknown *UnknownPolicyError
	if !errors.As(err, &unknown) || unknown.ID != "ACME009" {
		t.Errorf("unknown ID: error %v, want an *UnknownPolicyError for ACME009", err)
	}
}
