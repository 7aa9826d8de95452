package istio

import (
	"context"
	"fmt"
	"strings"
	"testing"

	chart "helm.sh/helm/v4/pkg/chart/v2"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
	"github.com/kubectl-mesh/kubectl-mesh/test/helmrepo"
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
			rels, err := standIn(nil).Plan(context.Background(), tt.opts)
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
	rels, err := standIn(nil).Plan(context.Background(), mesh.InstallOptions{Revision: "canary", Namespace: "mesh"})
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
	rels, err := standIn(nil).Plan(context.Background(), mesh.InstallOptions{Profile: "demo", Values: user})
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
		{"bad revision", mesh.InstallOptions{Revision: "Canary_1"}, []string{"--revision"}},
		{"default revision", mesh.InstallOptions{Revision: "default"}, []string{"--revision"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := standIn(nil).Plan(context.Background(), tt.opts)
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

// standIn is the adapter with a repository that serves the embedded charts
// at whatever version is asked; pulled, when not nil, records the pulls.
func standIn(pulled *[]string) *Istio {
	embedded := New(Config{})
	return New(Config{PullChart: func(ctx context.Context, repo, name, version string) (*chart.Chart, error) {
		if pulled != nil {
			*pulled = append(*pulled, repo+" "+name+" "+version)
		}
		comp, _ := componentOfChart(name)
		ch, err := lifecycle.LoadChartFS(embedded.charts, chartOf(comp).dir)
		if err == nil {
			ch.Metadata.Version, ch.Metadata.AppVersion = version, version
		}
		return ch, err
	}})
}

func TestPlanRepoPullsByChartName(t *testing.T) {
	tests := []struct {
		name string
		opts mesh.InstallOptions
		want string // repo and version pulled
	}{
		{"default release from Istio's repository", mesh.InstallOptions{Profile: "ambient"}, ReleaseRepo + " %s " + DefaultVersion},
		{"--repo and --version", mesh.InstallOptions{Profile: "ambient", Repo: "http://127.0.0.1:1/charts", Version: "1.30.8"}, "http://127.0.0.1:1/charts %s 1.30.8"},
		{"--repo alone takes the default release", mesh.InstallOptions{Profile: "ambient", Repo: "http://127.0.0.1:1/charts"}, "http://127.0.0.1:1/charts %s " + DefaultVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var pulled []string
			if _, err := standIn(&pulled).Plan(context.Background(), tt.opts); err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, c := range []string{"base", "istiod", "cni", "ztunnel"} {
				want = append(want, fmt.Sprintf(tt.want, c))
			}
			if got := strings.Join(pulled, ","); got != strings.Join(want, ",") {
				t.Errorf("pulled %s\nwant   %s", got, strings.Join(want, ","))
			}
		})
	}
}

func TestPlanWarnings(t *testing.T) {
	tests := []struct {
		name string
		opts mesh.InstallOptions
		want []string // in the one warning; none means no warning
	}{
		{"default release", mesh.InstallOptions{}, nil},
		{"older tested release", mesh.InstallOptions{Version: "1.30.8"}, nil},
		{"older than tested", mesh.InstallOptions{Version: "1.29.8"}, []string{"Istio 1.29.8 is outside the versions this kubectl mesh was tested with (" + TestedVersions + ")", DefaultVersion + " is the default"}},
		{"newer than tested", mesh.InstallOptions{Version: "1.32.0"}, []string{"Istio 1.32.0 is outside"}},
		{"offline", mesh.InstallOptions{Offline: true}, []string{"--offline", "development build of Istio's master branch", "chart 1.0.0", "not for production"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var warnings []string
			opts := tt.opts
			opts.Profile = "demo" // several charts, still one warning
			opts.Warn = func(msg string) { warnings = append(warnings, msg) }
			if _, err := standIn(nil).Plan(context.Background(), opts); err != nil {
				t.Fatal(err)
			}
			if len(tt.want) == 0 {
				if len(warnings) != 0 {
					t.Errorf("warnings %q, want none", warnings)
				}
				return
			}
			if len(warnings) != 1 || strings.Contains(warnings[0], "\n") {
				t.Fatalf("warnings %q, want one line", warnings)
			}
			for _, w := range tt.want {
				if !strings.Contains(warnings[0], w) {
					t.Errorf("warning %q lacks %q", warnings[0], w)
				}
			}
		})
	}
}

func TestTestedVersionsHoldTheDefault(t *testing.T) {
	if msg := untestedWarning(DefaultVersion); msg != "" {
		t.Errorf("DefaultVersion %s is outside TestedVersions %q: %s", DefaultVersion, TestedVersions, msg)
	}
}

func TestPlanUnreachableRepository(t *testing.T) {
	_, err := New(Config{}).Plan(context.Background(), mesh.InstallOptions{Repo: "http://127.0.0.1:1/charts"})
	if err == nil {
		t.Fatal("want an error")
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || !strings.Contains(msg, "http://127.0.0.1:1/charts") || !strings.Contains(msg, "--offline") {
		t.Errorf("error %q: want one line naming the repository and --offline", msg)
	}
}

// The stand-in for Istio's repository the end-to-end tests and the demo
// use, through the real pull: released charts with released images.
func TestPlanFromStandInRepository(t *testing.T) {
	charts, err := helmrepo.IstioReleases("1.30.8", DefaultVersion)
	if err != nil {
		t.Fatal(err)
	}
	repo := helmrepo.ServeCharts(t, charts...)
	rels, err := New(Config{}).Plan(context.Background(), mesh.InstallOptions{Profile: "minimal", Repo: repo})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rels {
		if r.Chart.Metadata.Version != DefaultVersion || r.Chart.Metadata.AppVersion != DefaultVersion {
			t.Errorf("%s: chart %s app %s, want %s", r.Name, r.Chart.Metadata.Version, r.Chart.Metadata.AppVersion, DefaultVersion)
		}
	}
	out, err := lifecycle.Render(rels, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := "image: \"docker.io/istio/pilot:" + DefaultVersion + "\""; !strings.Contains(out, want) {
		t.Errorf("rendered plan lacks %s", want)
	}
	if strings.Contains(out, "registry.istio.io/testing") {
		t.Error("rendered plan uses the test registry")
	}
}

// The embedded charts, as --offline installs them.
func TestRenderOfflinePlan(t *testing.T) {
	rels, err := New(Config{}).Plan(context.Background(), mesh.InstallOptions{Offline: true})
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
	rels, err := standIn(nil).Plan(context.Background(), mesh.InstallOptions{Profile: "ambient", Revision: "r1"})
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
