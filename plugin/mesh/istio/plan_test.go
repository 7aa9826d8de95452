package istio

import (
	"context"
	"strings"
	"testing"

	chart "helm.sh/helm/v4/pkg/chart/v2"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
)

func TestPlanProfiles(t *testing.T) {
	tests := []struct {
		name    string
		opts    mesh.InstallOptions
		want    []string // release names in order
		comps   []string
		profile string // the charts' profile value
	}{
		{name: "default", opts: mesh.InstallOptions{},
			want: []string{"istio-base", "istiod", "istio-ingressgateway"}, comps: []string{"base", "istiod", "gateway"}},
		{name: "demo", opts: mesh.InstallOptions{Profile: "demo"},
			want:  []string{"istio-base", "istiod", "istio-ingressgateway", "istio-egressgateway"},
			comps: []string{"base", "istiod", "gateway", "gateway"}, profile: "demo"},
		{name: "minimal", opts: mesh.InstallOptions{Profile: "minimal"},
			want: []string{"istio-base", "istiod"}, comps: []string{"base", "istiod"}},
		{name: "ambient", opts: mesh.InstallOptions{Profile: "ambient"},
			want: []string{"istio-base", "istiod", "istio-cni", "ztunnel"}, comps: []string{"base", "istiod", "cni", "ztunnel"}, profile: "ambient"},
		{name: "revision", opts: mesh.InstallOptions{Profile: "default", Revision: "canary"},
			want: []string{"istio-base", "istiod-canary", "istio-ingressgateway-canary"}, comps: []string{"base", "istiod", "gateway"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rels, err := New(Config{}).Plan(context.Background(), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := names(rels); strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("releases = %v, want %v", got, tt.want)
			}
			for i, r := range rels {
				if r.Component != tt.comps[i] || r.Labels[LabelComponent] != tt.comps[i] || r.Labels[LabelMesh] != "istio" {
					t.Errorf("%s: component %q labels %v, want %s", r.Name, r.Component, r.Labels, tt.comps[i])
				}
				if r.Namespace != "istio-system" {
					t.Errorf("%s: namespace %q, want istio-system", r.Name, r.Namespace)
				}
				if got, _ := r.Values["profile"].(string); got != tt.profile {
					t.Errorf("%s: profile value %q, want %q", r.Name, got, tt.profile)
				}
				if r.Chart == nil {
					t.Fatalf("%s: no chart", r.Name)
				}
				wantWait := r.Component != compBase
				if gotWait := r.Wait == nil || *r.Wait; gotWait != wantWait {
					t.Errorf("%s: wait %v, want %v", r.Name, gotWait, wantWait)
				}
			}
		})
	}
}

func TestPlanRevision(t *testing.T) {
	rels, err := New(Config{}).Plan(context.Background(), mesh.InstallOptions{Revision: "canary", Namespace: "mesh"})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]lifecycle.Release{}
	for _, r := range rels {
		byName[r.Name] = r
	}
	istiod := byName["istiod-canary"]
	if istiod.Values["revision"] != "canary" || istiod.Labels[LabelRevision] != "canary" {
		t.Errorf("istiod values %v labels %v, want revision canary", istiod.Values, istiod.Labels)
	}
	if got := stringValue(istiod.Values, "", "global", "istioNamespace"); got != "mesh" {
		t.Errorf("global.istioNamespace = %q, want mesh", got)
	}
	base := byName["istio-base"]
	if base.Labels[LabelRevision] != "default" {
		t.Errorf("base is shared by revisions, labels %v", base.Labels)
	}
	gw := byName["istio-ingressgateway-canary"]
	if gw.Values["revision"] != "canary" || stringValue(gw.Values, "", "labels", "istio") != "ingressgateway" {
		t.Errorf("gateway values %v: want revision canary and the istio=ingressgateway selector kept", gw.Values)
	}
}

func TestPlanUserValues(t *testing.T) {
	user := map[string]any{
		"pilot":      map[string]any{"replicaCount": 3},
		"meshConfig": map[string]any{"accessLogFile": "/dev/stdout"},
		"global":     map[string]any{"hub": "example.com/istio"},
		"profile":    "preview", // the user's word wins over the profile's
	}
	rels, err := New(Config{}).Plan(context.Background(), mesh.InstallOptions{Profile: "demo", Values: user})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rels {
		if got := stringValue(r.Values, "", "global", "hub"); got != "example.com/istio" {
			t.Errorf("%s: global.hub = %q, want the user's", r.Name, got)
		}
		if got := stringValue(r.Values, "", "global", "istioNamespace"); got != "istio-system" {
			t.Errorf("%s: global.istioNamespace = %q lost in the merge", r.Name, got)
		}
		if r.Values["profile"] != "preview" {
			t.Errorf("%s: profile = %v, want the user's preview", r.Name, r.Values["profile"])
		}
		_, hasMesh := r.Values["meshConfig"]
		if r.Component == compGateway && hasMesh {
			t.Errorf("%s: meshConfig passed to the gateway chart, whose schema refuses it", r.Name)
		}
		if r.Component == compIstiod && !hasMesh {
			t.Errorf("%s: meshConfig missing", r.Name)
		}
	}
	// The user's map is not changed by planning.
	if _, ok := user["global"].(map[string]any)["istioNamespace"]; ok {
		t.Error("Plan wrote into the user's values")
	}
}

func TestPlanErrors(t *testing.T) {
	tests := []struct {
		name string
		opts mesh.InstallOptions
		want []string
	}{
		{"unknown profile", mesh.InstallOptions{Profile: "tiny"}, []string{"--profile", "tiny", "default, demo, minimal, ambient"}},
		{"version not embedded", mesh.InstallOptions{Version: "1.2.3"}, []string{"--version 1.2.3", "offline", "--repo"}},
		{"bad revision", mesh.InstallOptions{Revision: "Canary_1"}, []string{"--revision"}},
		{"default revision", mesh.InstallOptions{Revision: "default"}, []string{"--revision"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(Config{}).Plan(context.Background(), tt.opts)
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestPlanEmbeddedVersionAccepted(t *testing.T) {
	i := New(Config{})
	v, err := i.EmbeddedVersion()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := i.Plan(context.Background(), mesh.InstallOptions{Version: v}); err != nil {
		t.Fatalf("--version %s (embedded): %v", v, err)
	}
}

func TestPlanRepoPullsByChartName(t *testing.T) {
	embedded := New(Config{})
	var pulled []string
	i := New(Config{PullChart: func(ctx context.Context, repo, name, version string) (*chart.Chart, error) {
		pulled = append(pulled, repo+" "+name+" "+version)
		comp, _ := componentOfChart(name)
		return lifecycle.LoadChartFS(embedded.charts, chartOf(comp).dir)
	}})
	if _, err := i.Plan(context.Background(), mesh.InstallOptions{Profile: "ambient", Repo: "http://127.0.0.1:1/charts", Version: "1.31.1"}); err != nil {
		t.Fatal(err)
	}
	want := "http://127.0.0.1:1/charts base 1.31.1,http://127.0.0.1:1/charts istiod 1.31.1,http://127.0.0.1:1/charts cni 1.31.1,http://127.0.0.1:1/charts ztunnel 1.31.1"
	if got := strings.Join(pulled, ","); got != want {
		t.Errorf("pulled %s\nwant   %s", got, want)
	}
}

func TestRenderDefaultPlan(t *testing.T) {
	rels, err := New(Config{}).Plan(context.Background(), mesh.InstallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := lifecycle.Render(rels, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"kind: CustomResourceDefinition",
		"name: virtualservices.networking.istio.io",
		"kind: Deployment\nmetadata:\n  name: istiod\n",
		"name: istio-ingressgateway\n",
		"name: istio-sidecar-injector",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("rendered default plan lacks %q", want)
		}
	}
}

func TestRenderAmbientPlan(t *testing.T) {
	rels, err := New(Config{}).Plan(context.Background(), mesh.InstallOptions{Profile: "ambient", Revision: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	out, err := lifecycle.Render(rels, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"name: istio-cni-node", "name: ztunnel\n", "PILOT_ENABLE_AMBIENT", "name: istiod-r1\n", "istiod-r1.istio-system.svc:15012"} {
		if !strings.Contains(out, want) {
			t.Errorf("rendered ambient plan lacks %q", want)
		}
	}
}

func names(rels []lifecycle.Release) []string {
	var out []string
	for _, r := range rels {
		out = append(out, r.Name)
	}
	return out
}
