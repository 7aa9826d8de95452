package patterncmd

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
)

// diffNoise is what changes from run to run in diff -u output: the
// temporary directory and the files' times.
var diffNoise = regexp.MustCompile(`/\S*/kubectl-mesh-diff-\d+|\t\d{4}-\d\d-\d\d [\d:.]+ [+-]\d{4}`)

func TestDiffCommand(t *testing.T) {
	t.Setenv("KUBECTL_EXTERNAL_DIFF", "")
	const (
		vsHeader      = "--- TMP/LIVE/networking.istio.io.v1.VirtualService.shop.reviews\n+++ TMP/MERGED/networking.istio.io.v1.VirtualService.shop.reviews\n"
		detailsHeader = "--- TMP/LIVE/networking.istio.io.v1.VirtualService.shop.details\n+++ TMP/MERGED/networking.istio.io.v1.VirtualService.shop.details\n"
	)
	tests := []struct {
		name     string
		applied  string
		setup    func(*testing.T, *dynamicfake.FakeDynamicClient)
		connect  error
		stdin    string
		args     []string
		wantExit int
		want     []string // in stdout, paths as TMP
		notWant  []string
		wantErr  string
		wantVS   string
	}{
		{name: "new objects", stdin: canaryPattern, args: []string{"--mesh", "istio"}, wantExit: 1,
			want: []string{vsHeader + "@@ -0,0 +1,23 @@\n+apiVersion: networking.istio.io/v1\n+kind: VirtualService\n", "+kind: DestinationRule\n"}},
		{name: "nothing to change", applied: canaryPattern, stdin: canaryPattern, args: []string{"--mesh", "istio"}, wantVS: "reviews"},
		{name: "a change", applied: canaryPattern, stdin: canary8020, args: []string{"--mesh", "istio"}, wantExit: 1, wantVS: "reviews",
			want:    []string{vsHeader, "-      weight: 90\n", "+      weight: 80\n", "-      weight: 10\n", "+      weight: 20\n"},
			notWant: []string{"DestinationRule"}},
		{name: "drift alone exits 1", applied: canaryPattern, setup: labelTeam, stdin: canaryPattern, args: []string{"--mesh", "istio"}, wantExit: 1, wantVS: "reviews",
			want: []string{"drift: VirtualService reviews: metadata.labels.team changed by kubectl-label at "}, notWant: []string{"---"}},
		{name: "fields another manager took are taken back", applied: canaryPattern, setup: takeRoutes, stdin: canaryPattern, args: []string{"--mesh", "istio"}, wantExit: 1, wantVS: "reviews",
			want: []string{vsHeader, "+      weight: 90\n", "drift: VirtualService reviews: spec.http changed by helm at "}},
		{name: "without --prune, what the pattern no longer makes is not shown", applied: ratingsPattern, stdin: ratingsOnly, wantVS: "details,ratings"},
		{name: "--prune shows it removed", applied: ratingsPattern, stdin: ratingsOnly, args: []string{"--prune"}, wantExit: 1, wantVS: "details,ratings",
			want:    []string{detailsHeader + "@@ -1,22 +0,0 @@\n-apiVersion: networking.istio.io/v1\n-kind: VirtualService\n", "TMP/LIVE/networking.istio.io.v1.DestinationRule.shop.details"},
			notWant: []string{"ratings\n+++"}},
		{name: "a dry run the apiserver rejects exits 2, the rest shows", setup: func(_ *testing.T, dyn *dynamicfake.FakeDynamicClient) { failWrites(dyn, "destinationrules", "reviews") },
			stdin: canaryPattern, args: []string{"--mesh", "istio"}, wantExit: 2, want: []string{vsHeader}, notWant: []string{"DestinationRule"},
			wantErr: "diffing pattern canary: 1 of 2 object(s) failed:\n  DestinationRule reviews: admission webhook \"validate.istio.io\" denied the request"},
		{name: "unreachable cluster exits 2", connect: errors.New("connection refused"), stdin: canaryPattern, args: []string{"--mesh", "istio"}, wantExit: 2, wantErr: "connection refused"},
		{name: "a flag error exits 2", stdin: canaryPattern, args: []string{"--mesh", "consul"}, wantExit: 2, wantErr: `--mesh: unknown mesh "consul"`},
		{name: "an invalid pattern exits 2", stdin: strings.Replace(canaryPattern, "weight: 10", "weight: 20", 1), args: []string{"--mesh", "istio"}, wantExit: 2, wantErr: "weights sum to 110, not 100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, dyn := newCluster(t)
			if tt.applied != "" {
				applyIstio(t, f, tt.applied)
			}
			if tt.setup != nil {
				tt.setup(t, dyn)
			}
			f.ConnectErr = tt.connect
			out, _, err := f.Run(t, tt.stdin, append([]string{"diff", "-f", "-", "-n", "shop"}, tt.args...), commands...)
			out = diffNoise.ReplaceAllStringFunc(out, func(s string) string {
				if strings.HasPrefix(s, "\t") {
					return ""
				}
				return "TMP"
			})
			if got := cmdutil.ExitCode(err); got != tt.wantExit {
				t.Errorf("exit %d (%v), want %d", got, err, tt.wantExit)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("error:\n%v\nwant one containing:\n%s", err, tt.wantErr)
			}
			if len(tt.want) == 0 && out != "" {
				t.Errorf("stdout: %s", out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out, w) {
					t.Errorf("stdout has %q:\n%s", w, out)
				}
			}
			if got := stored(t, dyn, virtualServices, "shop"); got != tt.wantVS {
				t.Errorf("VirtualServices in shop after diff: %q, want %q", got, tt.wantVS)
			}
		})
	}
}

// labelTeam has kubectl label add a label to the reviews VirtualService.
func labelTeam(t *testing.T, dyn *dynamicfake.FakeDynamicClient) {
	t.Helper()
	vs := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
		"metadata": map[string]any{"name": "reviews", "namespace": "shop", "labels": map[string]any{"team": "checkout"}},
	}}
	if _, err := dyn.Resource(virtualServices).Namespace("shop").Apply(context.Background(), "reviews", vs, metav1.ApplyOptions{FieldManager: "kubectl-label"}); err != nil {
		t.Fatal(err)
	}
}

// TestDiffExternalProgram: $KUBECTL_EXTERNAL_DIFF replaces diff -u -N, and
// its exit status 1 means differences.
func TestDiffExternalProgram(t *testing.T) {
	t.Setenv("KUBECTL_EXTERNAL_DIFF", "diff -r -q")
	f, _ := newCluster(t)
	out, _, err := f.Run(t, canaryPattern, []string{"diff", "-f", "-", "--mesh", "istio", "-n", "shop"}, commands...)
	if cmdutil.ExitCode(err) != 1 {
		t.Errorf("exit %d (%v), want 1", cmdutil.ExitCode(err), err)
	}
	if !strings.Contains(out, "Only in ") || !strings.Contains(out, "MERGED: networking.istio.io.v1.VirtualService.shop.reviews") {
		t.Errorf("stdout is not diff -r -q's:\n%s", out)
	}
}
