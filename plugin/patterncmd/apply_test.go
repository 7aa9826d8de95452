package patterncmd

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/targets"
)

// Variants of the test patterns.
var (
	canary8020        = strings.NewReplacer("weight: 90", "weight: 80", "weight: 10", "weight: 20").Replace(canaryPattern)
	ratingsOnly, _, _ = strings.Cut(ratingsPattern, "  - name: details")
)

func TestApplyCommand(t *testing.T) {
	const (
		vsReviews = "virtualservice.networking.istio.io/reviews"
		drReviews = "destinationrule.networking.istio.io/reviews"
	)
	istiod := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "istiod", Namespace: "istio-system", Labels: map[string]string{"app": "istiod"}}}
	tests := []struct {
		name    string
		objects []runtime.Object // in the clientset
		setup   func(*testing.T, *dynamicfake.FakeDynamicClient)
		applied string // patterns applied before, with --mesh istio
		stdin   string
		args    []string
		wantOut string
		wantErr string
		wantVS  string // the VirtualServices in shop afterwards
	}{
		{name: "creates", stdin: canaryPattern, args: []string{"--mesh", "istio"},
			wantOut: vsReviews + " created\n" + drReviews + " created\n", wantVS: "reviews"},
		{name: "one request at a time", stdin: canaryPattern, args: []string{"--mesh", "istio", "--concurrency", "1"},
			wantOut: vsReviews + " created\n" + drReviews + " created\n", wantVS: "reviews"},
		{name: "again, unchanged", applied: canaryPattern, stdin: canaryPattern, args: []string{"--mesh", "istio"},
			wantOut: vsReviews + " unchanged\n" + drReviews + " unchanged\n", wantVS: "reviews"},
		{name: "a change configures", applied: canaryPattern, stdin: canary8020, args: []string{"--mesh", "istio"},
			wantOut: vsReviews + " configured\n" + drReviews + " unchanged\n", wantVS: "reviews"},
		{name: "the mesh from the cluster", objects: []runtime.Object{istiod}, stdin: canaryPattern,
			wantOut: vsReviews + " created\n" + drReviews + " created\n", wantVS: "reviews"},
		{name: "no mesh in the cluster", stdin: canaryPattern,
			wantErr: `pattern "canary" has no spec.mesh: no mesh is installed in the cluster (looked for istio, linkerd): set spec.mesh or --mesh`},
		{name: "server dry run writes nothing", stdin: canaryPattern, args: []string{"--mesh", "istio", "--dry-run=server"},
			wantOut: vsReviews + " created (server dry run)\n" + drReviews + " created (server dry run)\n"},
		{name: "server dry run of a change", applied: canaryPattern, stdin: canary8020, args: []string{"--mesh", "istio", "--dry-run=server"},
			wantOut: vsReviews + " configured (server dry run)\n" + drReviews + " unchanged (server dry run)\n", wantVS: "reviews"},
		{name: "without --prune what the pattern no longer makes stays", applied: ratingsPattern, stdin: ratingsOnly,
			wantOut: "virtualservice.networking.istio.io/ratings unchanged\ndestinationrule.networking.istio.io/ratings unchanged\n", wantVS: "details,ratings"},
		{name: "--prune deletes it", applied: ratingsPattern, stdin: ratingsOnly, args: []string{"--prune"},
			wantOut: "virtualservice.networking.istio.io/ratings unchanged\ndestinationrule.networking.istio.io/ratings unchanged\n" +
				"destinationrule.networking.istio.io/details pruned\nvirtualservice.networking.istio.io/details pruned\n", wantVS: "ratings"},
		{name: "--prune in a server dry run", applied: ratingsPattern, stdin: ratingsOnly, args: []string{"--prune", "--dry-run=server"},
			wantOut: "virtualservice.networking.istio.io/ratings unchanged (server dry run)\ndestinationrule.networking.istio.io/ratings unchanged (server dry run)\n" +
				"destinationrule.networking.istio.io/details pruned (server dry run)\nvirtualservice.networking.istio.io/details pruned (server dry run)\n", wantVS: "details,ratings"},
		{name: "fields another manager owns conflict", applied: canaryPattern, setup: takeRoutes, stdin: canaryPattern, args: []string{"--mesh", "istio"},
			wantOut: drReviews + " unchanged\n", wantVS: "reviews",
			wantErr: "applying pattern canary: 1 of 2 object(s) failed:\n  VirtualService reviews: Apply failed with 1 conflict: conflict with \"helm\": .spec.http"},
		{name: "--force-conflicts takes them", applied: canaryPattern, setup: takeRoutes, stdin: canaryPattern, args: []string{"--mesh", "istio", "--force-conflicts"},
			wantOut: vsReviews + " configured\n" + drReviews + " unchanged\n", wantVS: "reviews"},
		{name: "failures of several patterns are joined, the rest applied", setup: func(_ *testing.T, dyn *dynamicfake.FakeDynamicClient) {
			failWrites(dyn, "destinationrules", "reviews")
			failWrites(dyn, "destinationrules", "details")
		}, stdin: canaryPattern + "---\n" + ratingsPattern, args: []string{"--mesh", "istio"},
			wantOut: vsReviews + " created\nvirtualservice.networking.istio.io/ratings created\ndestinationrule.networking.istio.io/ratings created\nvirtualservice.networking.istio.io/details created\n",
			wantErr: "applying pattern canary: 1 of 2 object(s) failed:\n" +
				"  DestinationRule reviews: admission webhook \"validate.istio.io\" denied the request\n" +
				"applying pattern ratings: 1 of 4 object(s) failed:\n" +
				"  DestinationRule details: admission webhook \"validate.istio.io\" denied the request",
			wantVS: "details,ratings,reviews"},
		{name: "a ConfigMap of that name that is not an apply set", setup: func(t *testing.T, dyn *dynamicfake.FakeDynamicClient) {
			cm := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
				"metadata": map[string]any{"name": "kubectl-mesh-pattern-canary", "namespace": "shop"}}}
			if _, err := dyn.Resource(configMaps).Namespace("shop").Create(context.Background(), cm, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}, stdin: canaryPattern, args: []string{"--mesh", "istio"},
			wantErr: `applying pattern canary: ConfigMap shop/kubectl-mesh-pattern-canary exists and is not a kubectl-mesh apply set (tooling "")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, dyn := newCluster(t, tt.objects...)
			if tt.applied != "" {
				applyIstio(t, f, tt.applied)
			}
			if tt.setup != nil {
				tt.setup(t, dyn)
			}
			out, _, err := f.Run(t, tt.stdin, append([]string{"apply", "-f", "-", "-n", "shop"}, tt.args...), commands...)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Errorf("error:\n%v\nwant:\n%s", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if out != tt.wantOut {
				t.Errorf("stdout:\n%s\nwant:\n%s", out, tt.wantOut)
			}
			if got := stored(t, dyn, virtualServices, "shop"); got != tt.wantVS {
				t.Errorf("VirtualServices in shop: %q, want %q", got, tt.wantVS)
			}
		})
	}
}

// takeRoutes has another field manager, helm, take the reviews
// VirtualService's routes.
func takeRoutes(t *testing.T, dyn *dynamicfake.FakeDynamicClient) {
	t.Helper()
	vs := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
		"metadata": map[string]any{"name": "reviews", "namespace": "shop"},
		"spec":     map[string]any{"http": []any{map[string]any{"route": []any{map[string]any{"destination": map[string]any{"host": "reviews", "subset": "v1"}}}}}},
	}}
	if _, err := dyn.Resource(virtualServices).Namespace("shop").Apply(context.Background(), "reviews", vs, metav1.ApplyOptions{FieldManager: "helm", Force: true}); err != nil {
		t.Fatal(err)
	}
}

// TestApplyDryRunServerPersistsNothing: no object, and no apply set parent.
func TestApplyDryRunServerPersistsNothing(t *testing.T) {
	f, dyn := newCluster(t)
	mustRun(t, f, canaryPattern, "apply", "-f", "-", "--mesh", "istio", "-n", "shop", "--dry-run=server")
	for _, gvr := range [...]struct{ name, got string }{
		{"ConfigMaps", stored(t, dyn, configMaps, "shop")},
		{"DestinationRules", stored(t, dyn, destinationRules, "shop")},
	} {
		if gvr.got != "" {
			t.Errorf("%s in shop after a server dry run: %s", gvr.name, gvr.got)
		}
	}
}

func TestApplyUnreachableCluster(t *testing.T) {
	f, _ := newCluster(t)
	f.ConnectErr = errors.New("dial tcp 10.0.0.1:443: connect: connection refused")
	out, _, err := f.Run(t, canaryPattern, []string{"apply", "-f", "-", "--mesh", "istio"}, commands...)
	if err == nil || err.Error() != "dial tcp 10.0.0.1:443: connect: connection refused" {
		t.Errorf("error = %v", err)
	}
	if out != "" {
		t.Errorf("stdout: %q", out)
	}
}

// TestApplyEveryMesh applies, then deletes, patterns that use every field
// (and shared Namespaces), for every mesh: the fake serves every kind the
// translators make, and delete undoes what apply did.
func TestApplyEveryMesh(t *testing.T) {
	everything, err := os.ReadFile(filepath.Join("..", "pattern", "testdata", "valid", "everything.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	undo := strings.NewReplacer(" created (shared)", " released", " created", " deleted")
	for _, m := range targets.Names() {
		t.Run(m, func(t *testing.T) {
			f, _ := newCluster(t)
			applied, _, err := f.Run(t, string(everything), []string{"apply", "-f", "-", "--mesh", m, "--allow-partial"}, commands...)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, line := range strings.Split(strings.TrimSpace(applied), "\n") {
				if !strings.HasSuffix(line, " created") && !strings.HasSuffix(line, " created (shared)") {
					t.Errorf("apply: %q", line)
				}
				want = append(want, undo.Replace(line))
			}
			deleted, _, err := f.Run(t, string(everything), []string{"delete", "-f", "-"}, commands...)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Split(strings.TrimSpace(deleted), "\n")
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("apply printed:\n%s\ndelete printed:\n%s", applied, deleted)
			}
			if _, errOut, err := f.Run(t, "", []string{"list", "-A"}, commands...); err != nil || errOut != "No patterns found in any namespace.\n" {
				t.Errorf("list after delete: %v %s", err, errOut)
			}
		})
	}
}
