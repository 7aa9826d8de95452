package custompolicy

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
)

// FuzzConfigMap loads any key and text as a policy ConfigMap beside a good
// one. Admission and the loader agree (what Validate accepts is what Load
// puts in force), every compile error names a line of the fuzzed
// ConfigMap, and a bad ConfigMap never holds back the good one.
func FuzzConfigMap(f *testing.F) {
	f.Add("p.rego", regoPolicy("FUZZ001", "fuzz.p"))
	f.Add("p.rego", badRego)
	f.Add("p.rego", "package mesh.lib.k8s\n\nimport rego.v1\n\nx := 1\n")
	f.Add("p.rego", strings.Replace(regoPolicy("FUZZ002", "fuzz.q"), `input.review.object.metadata.name == "bad"`, `http.send({"method": "GET", "url": "http://127.0.0.1:1"})`, 1))
	f.Add("p.rego", strings.Replace(regoPolicy("FUZZ003", "fuzz.r"), "kinds: [Service]", "kinds: [\"*\"]", 1))
	f.Add("notes.txt", "not rego")
	f.Add("p.rego", "")
	f.Fuzz(func(t *testing.T, key, text string) {
		if strings.Contains(text, "BASE") || strings.Contains(text, "base") {
			t.Skip("would collide with the good ConfigMap on purpose")
		}
		ctx := context.Background()
		fx := newLoaderFixture(t)
		base := policyConfigMap("base", "1", map[string]string{"p.rego": regoPolicy("BASE001", "base.p")})
		fx.loader.Load(ctx, []corev1.ConfigMap{base})
		cm := policyConfigMap("fuzz", "1", map[string]string{key: text})

		verr := fx.loader.Validate(ctx, &cm)
		for _, file := range locatedFiles(verr) {
			if !strings.HasPrefix(file, "configmap/fuzz/") {
				t.Errorf("error %v points at %q, not at the fuzzed ConfigMap", verr, file)
			}
		}
		fx.loader.Load(ctx, []corev1.ConfigMap{base, cm})
		ids := fx.ids()
		if !slices.Contains(ids, "BASE001") {
			t.Fatalf("the good ConfigMap's policy is not in force beside a bad one: %q", ids)
		}
		fromFuzz := slices.ContainsFunc(fx.engine.Policies(), func(m policies.Metadata) bool { return strings.HasPrefix(m.File, "configmap/fuzz/") })
		if fromFuzz != (verr == nil && strings.HasSuffix(key, ".rego")) {
			t.Errorf("Validate said %v, yet the loader put the fuzzed policies in force: %v", verr, fromFuzz)
		}
	})
}

// locatedFiles lists the files of the located errors in err: each error
// of a joined one (errors.As would find the first only).
func locatedFiles(err error) []string {
	if err == nil {
		return nil
	}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		var out []string
		for _, inner := range joined.Unwrap() {
			out = append(out, locatedFiles(inner)...)
		}
		return out
	}
	if le, ok := errors.AsType[*policies.LocatedError](err); ok && le.File != "" {
		return []string{le.File}
	}
	return nil
}
