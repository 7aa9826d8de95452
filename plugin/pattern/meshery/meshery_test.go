package meshery

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/kubectl-mesh/kubectl-mesh/test/golden"
)

func parse(t *testing.T, text string) *yaml.Node {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatal(err)
	}
	return &doc
}

func encode(t *testing.T, n *yaml.Node) string {
	t.Helper()
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestConvertGolden converts every testdata/*.yaml into the Pattern in
// testdata/*.golden.
func TestConvertGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.yaml")
	if len(files) == 0 {
		t.Fatal("no testdata")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			doc := parse(t, string(data))
			if !IsMeshery(doc) {
				t.Fatal("IsMeshery = false")
			}
			out, err := Convert(doc, file)
			if err != nil {
				t.Fatal(err)
			}
			got := encode(t, out)
			golden.Assert(t, strings.TrimSuffix(file, ".yaml")+".golden", got)
		})
	}
}

func TestIsMeshery(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want bool
	}{
		{name: "pattern file", yaml: "name: x\nservices:\n  a: {type: IstioMesh}\n", want: true},
		{name: "a Pattern", yaml: "apiVersion: kubectl-mesh.io/v1alpha1\nkind: Pattern\nservices: {}\n"},
		{name: "services is a list", yaml: "name: x\nservices: [a]\n"},
		{name: "a list", yaml: "- a\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsMeshery(parse(t, tt.yaml)); got != tt.want {
				t.Errorf("IsMeshery = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestConvertErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{
			name: "unknown variable",
			yaml: "name: x\nvars:\n  ns: shop\n  port: 80\nservices:\n  vs:\n    type: VirtualService.Istio\n    namespace: $(#ref.vars.namespace)\n",
			want: `m.yaml:8:16: services.vs.namespace: unknown variable "namespace" in $(#ref.vars.namespace); vars has ns, port`,
		},
		{
			name: "unknown service reference inside a string",
			yaml: "name: x\nservices:\n  vs:\n    type: VirtualService.Istio\n    settings:\n      hosts: [\"a.$(#ref.services.nope.namespace)\"]\n",
			want: `m.yaml:6:15: services.vs.settings.hosts[0]: cannot resolve $(#ref.services.nope.namespace): services.nope does not exist`,
		},
		{
			name: "unsupported type names the service line",
			yaml: "name: x\nservices:\n  grafana:\n    type: GrafanaIstioAddon\n  ok:\n    type: Gateway.Istio\n",
			want: `m.yaml:4:11: services.grafana.type: unsupported Meshery type "GrafanaIstioAddon": kubectl mesh imports IstioMesh, LinkerdMesh, <Kind>.Istio, <Kind>.Linkerd and <Kind>.K8s`,
		},
		{
			name: "linkerd cannot set mTLS for another namespace",
			yaml: "name: x\nservices:\n  l:\n    type: LinkerdMesh\n    traits:\n      mTLS:\n        policies:\n        - {namespace: a, mode: STRICT}\n        - {namespace: b, mode: STRICT}\n",
			want: `m.yaml:9:32: services.l.traits.mTLS.policies[1]: linkerd: mTLS for namespace "b" cannot be imported; a linkerd pattern sets mTLS for its own namespace "a" only`,
		},
		{
			name: "references that form a cycle",
			yaml: "name: x\nvars:\n  a: $(#ref.vars.b)\n  b: $(#ref.vars.a)\nservices:\n  vs:\n    type: VirtualService.Istio\n    namespace: $(#ref.vars.a)\n",
			want: `m.yaml:8:16: services.vs.namespace: $(#ref.vars.a): references nest deeper than 8; is there a cycle?`,
		},
		{
			name: "every problem at once",
			yaml: "services:\n  a:\n    type: IstioMesh\n    traits:\n      mTLS: {policy: sometimes}\n      tracing: {}\n  b:\n    type: LinkerdMesh\n    dependsOn: [c]\n    colour: blue\n",
			want: `m.yaml:1:1: name: a Meshery pattern needs a name
m.yaml:5:22: services.a.traits.mTLS: unknown mTLS mode "sometimes" (strict, permissive, disable)
m.yaml:6:7: services.a.traits.tracing: unsupported trait "tracing" (mTLS, automaticSidecarInjection)
m.yaml:8:11: services.b.type: a pattern targets one mesh; a already is IstioMesh
m.yaml:9:17: services.b.dependsOn[0]: unknown service "c"
m.yaml:10:5: services.b.colour: unknown field "colour" in a Meshery service (name, type, apiVersion, namespace, version, model, labels, annotations, dependsOn, settings, traits)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Convert(parse(t, tt.yaml), "m.yaml")
			if err == nil {
				t.Fatalf("Convert succeeded:\n%s", encode(t, out))
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n%s\nwant:\n%s", err, tt.want)
			}
		})
	}
}

func TestDNSLabel(t *testing.T) {
	tests := map[string]string{
		"Istio BookInfo Canary":    "istio-bookinfo-canary",
		"emojivoto_linkerd_policy": "emojivoto-linkerd-policy",
		"  --Ünïcode!! 2 ":         "n-code-2",
		strings.Repeat("ab-", 30):  strings.TrimSuffix(strings.Repeat("ab-", 21), "-"),
	}
	for in, want := range tests {
		if got := dnsLabel(in); got != want {
			t.Errorf("dnsLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestImpliedMesh: a pattern without IstioMesh or LinkerdMesh targets the
// one mesh its components belong to, so that render needs no cluster.
func TestImpliedMesh(t *testing.T) {
	tests := []struct {
		name     string
		services string
		want     string // spec.mesh; "" when none is set
	}{
		{name: "istio components", services: "  vs: {type: VirtualService.Istio}\n  dr: {type: DestinationRule.Istio}\n", want: "istio"},
		{name: "istio and kubernetes", services: "  svc: {type: Service.K8s}\n  vs: {type: VirtualService.Istio}\n", want: "istio"},
		{name: "by model", services: "  s: {type: Server, model: linkerd}\n", want: "linkerd"},
		{name: "linkerd components", services: "  sp: {type: ServiceProfile.Linkerd}\n", want: "linkerd"},
		{name: "two meshes", services: "  vs: {type: VirtualService.Istio}\n  sp: {type: ServiceProfile.Linkerd}\n", want: ""},
		{name: "kubernetes only", services: "  svc: {type: Service.K8s}\n", want: ""},
		{name: "mesh service wins", services: "  m: {type: LinkerdMesh}\n  svc: {type: Service.K8s}\n", want: "linkerd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Convert(parse(t, "name: x\nservices:\n"+tt.services), "m.yaml")
			if err != nil {
				t.Fatal(err)
			}
			var p struct {
				Spec struct {
					Mesh string `yaml:"mesh"`
				} `yaml:"spec"`
			}
			if err := out.Decode(&p); err != nil {
				t.Fatal(err)
			}
			if p.Spec.Mesh != tt.want {
				t.Errorf("spec.mesh = %q, want %q", p.Spec.Mesh, tt.want)
			}
		})
	}
}
