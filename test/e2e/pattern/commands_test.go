package pattern

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
)

// shopPattern has two services; without ratings it is what the prune
// step applies. Every target renders it (smi and gamma with
// --allow-partial, which drops what they cannot express).
func shopPattern(withRatings bool, canaryWeight int) string {
	p := `apiVersion: kubectl-mesh.io/v1alpha1
kind: Pattern
metadata:
  name: shop
spec:
  services:
  - name: reviews
    ports: [{name: http, port: 9080}]
    versions:
    - {name: v1, labels: {version: v1}}
    - {name: v2, labels: {version: v2}}
    traffic:
      routes:
      - name: testers
        match:
          headers: {end-user: {exact: jason}}
        split: [{version: v2, weight: 100}]
        timeout: 2s
      - name: canary
        split: [{version: v1, weight: ` + strconv.Itoa(100-canaryWeight) + `}, {version: v2, weight: ` + strconv.Itoa(canaryWeight) + `}]
        timeout: 2s
    security:
      allow:
      - from: {serviceAccounts: [productpage]}
        methods: [GET]
`
	if withRatings {
		p += `  - name: ratings
    ports: [{name: http, port: 9080}]
    versions:
    - {name: v1, labels: {version: v1}}
    traffic:
      routes:
      - split: [{version: v1, weight: 100}]
        timeout: 1s
`
	}
	return p
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// patternObjects lists the names of the objects labelled with the pattern,
// as "kind/name", for the kinds given.
func patternObjects(t *testing.T, ns, kinds string) string {
	t.Helper()
	r := harness.Must(t, harness.Kubectl(t, "get", kinds, "-n", ns, "-l", "kubectl-mesh.io/pattern=shop", "-o", "name"))
	return strings.TrimSpace(r.Stdout)
}

// TestPatternCommands runs render, apply, diff, apply --prune, list and
// delete through the kubectl-mesh binary for every target.
func TestPatternCommands(t *testing.T) {
	tests := []struct {
		mesh  string
		kinds string // the kinds the pattern renders, for kubectl get
		// wantWith and wantWithout are the objects with and without ratings.
		wantWith, wantWithout []string
		partial               bool
	}{
		{
			mesh: "istio", kinds: "virtualservices.networking.istio.io,destinationrules.networking.istio.io,authorizationpolicies.security.istio.io",
			wantWith:    []string{"virtualservice.networking.istio.io/ratings", "virtualservice.networking.istio.io/reviews", "destinationrule.networking.istio.io/ratings", "destinationrule.networking.istio.io/reviews", "authorizationpolicy.security.istio.io/reviews"},
			wantWithout: []string{"virtualservice.networking.istio.io/reviews", "destinationrule.networking.istio.io/reviews", "authorizationpolicy.security.istio.io/reviews"},
		},
		{
			mesh: "linkerd", kinds: "httproutes.policy.linkerd.io,servers.policy.linkerd.io,authorizationpolicies.policy.linkerd.io,meshtlsauthentications.policy.linkerd.io,services",
			wantWith:    []string{"httproute.policy.linkerd.io/ratings", "service/ratings-v1"},
			wantWithout: []string{"httproute.policy.linkerd.io/reviews", "service/reviews-v1", "service/reviews-v2"},
		},
		{
			mesh: "smi", kinds: "trafficsplits.split.smi-spec.io,traffictargets.access.smi-spec.io,httproutegroups.specs.smi-spec.io,services", partial: true,
			wantWith:    []string{"trafficsplit.split.smi-spec.io/ratings", "service/ratings-v1"},
			wantWithout: []string{"traffictarget.access.smi-spec.io/reviews-allow-0", "service/reviews-v2"},
		},
		{
			mesh: "gamma", kinds: "httproutes.gateway.networking.k8s.io,services", partial: true,
			wantWith:    []string{"httproute.gateway.networking.k8s.io/ratings", "service/ratings-v1"},
			wantWithout: []string{"httproute.gateway.networking.k8s.io/reviews", "service/reviews-v1", "service/reviews-v2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.mesh, func(t *testing.T) {
			ns := harness.Namespace(t, "pattern-"+tt.mesh)
			dir := t.TempDir()
			file := writeFile(t, dir, "shop.yaml", shopPattern(true, 10))
			flags := []string{"-n", ns, "--mesh", tt.mesh}
			if tt.partial {
				flags = append(flags, "--allow-partial")
			}

			render := harness.Must(t, harness.Mesh(t, append([]string{"render", "-f", file}, flags...)...))
			if !strings.Contains(render.Stdout, "kubectl-mesh.io/pattern: shop") || !strings.Contains(render.Stdout, "namespace: "+ns) {
				t.Fatalf("render output lacks the pattern label or namespace:\n%s", render.Stdout)
			}
			if tt.partial && !strings.Contains(render.Stderr, "Warning: pattern \"shop\"") {
				t.Errorf("--allow-partial rendered without a warning: %v", render)
			}

			apply := harness.Must(t, harness.Mesh(t, append([]string{"apply", "-f", file}, flags...)...))
			if !strings.Contains(apply.Stdout, " created") {
				t.Fatalf("apply created nothing: %v", apply)
			}
			got := patternObjects(t, ns, tt.kinds)
			for _, want := range tt.wantWith {
				if !strings.Contains(got, want) {
					t.Errorf("after apply, %s is missing from:\n%s", want, got)
				}
			}

			if r := harness.Mesh(t, append([]string{"diff", "-f", file}, flags...)...); r.Code != 0 || strings.TrimSpace(r.Stdout) != "" {
				t.Errorf("diff right after apply: want exit 0 and no output, got %v", r)
			}
			again := harness.Must(t, harness.Mesh(t, append([]string{"apply", "-f", file}, flags...)...))
			if strings.Contains(again.Stdout, " created") || strings.Contains(again.Stdout, " configured") {
				t.Errorf("re-applying the same pattern changed objects: %v", again)
			}

			// A new canary weight and no ratings: diff shows both, prune removes ratings.
			writeFile(t, dir, "shop.yaml", shopPattern(false, 50))
			diff := harness.Mesh(t, append([]string{"diff", "-f", file, "--prune"}, flags...)...)
			if diff.Code != 1 || !strings.Contains(diff.Stdout, "50") || !strings.Contains(diff.Stdout, "ratings") {
				t.Errorf("diff of the changed pattern: want exit 1 showing the new weight and ratings removed, got %v", diff)
			}
			prune := harness.Must(t, harness.Mesh(t, append([]string{"apply", "-f", file, "--prune"}, flags...)...))
			if !strings.Contains(prune.Stdout, "ratings pruned") || !strings.Contains(prune.Stdout, " configured") {
				t.Errorf("apply --prune: want ratings pruned and reviews configured, got %v", prune)
			}
			got = patternObjects(t, ns, tt.kinds)
			if strings.Contains(got, "ratings") {
				t.Errorf("after prune, ratings objects remain:\n%s", got)
			}
			for _, want := range tt.wantWithout {
				if !strings.Contains(got, want) {
					t.Errorf("after prune, %s is missing from:\n%s", want, got)
				}
			}

			list := harness.Must(t, harness.Mesh(t, "list", "-n", ns, "-o", "wide"))
			if !strings.Contains(list.Stdout, "shop") || !strings.Contains(list.Stdout, tt.mesh) {
				t.Errorf("list does not show the pattern and its mesh:\n%s", list.Stdout)
			}

			del := harness.Must(t, harness.Mesh(t, "delete", "-f", file, "-n", ns))
			if !strings.Contains(del.Stdout, " deleted") {
				t.Errorf("delete deleted nothing: %v", del)
			}
			if got := patternObjects(t, ns, tt.kinds); got != "" {
				t.Errorf("after delete, objects remain:\n%s", got)
			}
			if r := harness.Kubectl(t, "get", "configmap", "kubectl-mesh-pattern-shop", "-n", ns); r.Code == 0 {
				t.Errorf("after delete, the apply set ConfigMap remains")
			}
		})
	}
}

// TestPatternDetectsTheMesh applies a pattern without spec.mesh: the
// sandbox has Istio installed and no Linkerd control plane.
func TestPatternDetectsTheMesh(t *testing.T) {
	ns := harness.Namespace(t, "pattern-detect")
	file := writeFile(t, t.TempDir(), "shop.yaml", shopPattern(false, 10))
	r := harness.Must(t, harness.Mesh(t, "apply", "-f", file, "-n", ns))
	if !strings.Contains(r.Stdout, "virtualservice.networking.istio.io/reviews created") {
		t.Errorf("apply without a mesh did not use the installed Istio: %v", r)
	}
	list := harness.Must(t, harness.Mesh(t, "list", "-n", ns, "-o", "json"))
	if !strings.Contains(list.Stdout, `"mesh": "istio"`) {
		t.Errorf("list -o json does not record the detected mesh:\n%s", list.Stdout)
	}
}

// TestPatternBadInputAppliesNothing: one bad pattern among good ones
// stops everything before anything is sent, and the errors name the file,
// line and column.
func TestPatternBadInputAppliesNothing(t *testing.T) {
	ns := harness.Namespace(t, "pattern-bad")
	dir := t.TempDir()
	writeFile(t, dir, "a-good.yaml", shopPattern(true, 10))
	bad := strings.Replace(shopPattern(false, 10), "name: shop", "name: broken", 1)
	bad = strings.Replace(bad, "{version: v1, weight: 90}", "{version: v3, weight: 80}", 1)
	writeFile(t, dir, "b-bad.yaml", bad)

	r := harness.Mesh(t, "apply", "-f", dir, "-n", ns, "--mesh", "istio")
	if r.Code != 1 {
		t.Fatalf("apply of a bad pattern: want exit 1, got %v", r)
	}
	for _, want := range []string{"b-bad.yaml:", `unknown version "v3"`, "weights sum to 90, not 100"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("error does not say %q:\n%s", want, r.Stderr)
		}
	}
	if got := patternObjects(t, ns, "virtualservices.networking.istio.io"); got != "" {
		t.Errorf("the good pattern was applied although another was bad:\n%s", got)
	}

	unexpressible := writeFile(t, dir, "fault.yaml", strings.Replace(shopPattern(false, 10), "timeout: 2s", "fault: {abort: {httpStatus: 503, percent: 5}}", 1))
	r = harness.Mesh(t, "apply", "-f", unexpressible, "-n", ns, "--mesh", "linkerd")
	if r.Code != 1 || !strings.Contains(r.Stderr, "fault.yaml:") || !strings.Contains(r.Stderr, "linkerd cannot express traffic.fault.abort") {
		t.Errorf("apply of a fault to linkerd: want exit 1 naming the field and the mesh, got %v", r)
	}
}

// TestPatternDriftInDiff changes an applied object with kubectl: diff
// reports the drift and exits 1; apply --force-conflicts restores it.
func TestPatternDriftInDiff(t *testing.T) {
	ns := harness.Namespace(t, "pattern-drift")
	file := writeFile(t, t.TempDir(), "shop.yaml", shopPattern(false, 10))
	harness.Must(t, harness.Mesh(t, "apply", "-f", file, "-n", ns, "--mesh", "istio"))
	harness.Must(t, harness.Kubectl(t, "patch", "virtualservice.networking.istio.io", "reviews", "-n", ns, "--type", "json",
		"-p", `[{"op": "replace", "path": "/spec/http/1/timeout", "value": "30s"}]`))

	diff := harness.Mesh(t, "diff", "-f", file, "-n", ns, "--mesh", "istio")
	if diff.Code != 1 || !strings.Contains(diff.Stdout, "drift: VirtualService reviews: spec.http changed by kubectl-patch") {
		t.Errorf("diff after kubectl patch: want exit 1 and the drift, got %v", diff)
	}
	if r := harness.Mesh(t, "apply", "-f", file, "-n", ns, "--mesh", "istio"); r.Code != 1 || !strings.Contains(r.Stderr, "conflict") {
		t.Errorf("apply over another manager's field without --force-conflicts: want a conflict, got %v", r)
	}
	harness.Must(t, harness.Mesh(t, "apply", "-f", file, "-n", ns, "--mesh", "istio", "--force-conflicts"))
	timeout := harness.Must(t, harness.Kubectl(t, "get", "virtualservice.networking.istio.io", "reviews", "-n", ns, "-o", "jsonpath={.spec.http[1].timeout}"))
	if timeout.Stdout != "2s" {
		t.Errorf("after apply --force-conflicts the timeout is %q, want the pattern's 2s", timeout.Stdout)
	}
}

// TestPatternMesheryImport applies Meshery's pattern files.
func TestPatternMesheryImport(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ file, ns, want string }{
		{"bookinfo-istio.yaml", "bookinfo", "virtualservice.networking.istio.io/reviews"},
		{"emojivoto-linkerd.yaml", "emojivoto", "server.policy.linkerd.io/"},
	} {
		t.Run(tt.file, func(t *testing.T) {
			harness.Namespace(t, tt.ns)
			file := filepath.Join(root, "plugin/pattern/meshery/testdata", tt.file)
			r := harness.Must(t, harness.Mesh(t, "apply", "-f", file))
			if !strings.Contains(r.Stdout, tt.want) {
				t.Errorf("apply of %s did not apply %s: %v", tt.file, tt.want, r)
			}
			harness.Must(t, harness.Mesh(t, "delete", "-f", file))
		})
	}
}
