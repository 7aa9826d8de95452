package patterncmd

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil/cmdtesting"
)

const canaryPattern = `apiVersion: kubectl-mesh.io/v1alpha1
kind: Pattern
metadata: {name: canary}
spec:
  services:
  - name: reviews
    ports: [{name: http, port: 9080}]
    versions:
    - {name: v1, labels: {version: v1}}
    - {name: v2, labels: {version: v2}}
    traffic:
      routes:
      - split: [{version: v1, weight: 90}, {version: v2, weight: 10}]
        timeout: 2s
`

// commands are the pattern commands.
var commands = []cmdtesting.NewCmd{NewCmdRender, NewCmdApply, NewCmdDiff, NewCmdDelete, NewCmdList}

// runRootStdin runs `kubectl mesh ARGS` with the pattern commands, stdin,
// and no cluster.
func runRootStdin(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	return cmdtesting.NewFactory(t).Run(t, stdin, args, commands...)
}

func TestRenderNeedsNoCluster(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"istio yaml", []string{"--mesh", "istio", "-n", "shop"}, []string{"kind: VirtualService", "kind: DestinationRule", "namespace: shop", "weight: 90", "kubectl-mesh.io/pattern: canary"}},
		{"gamma yaml", []string{"--mesh", "gamma"}, []string{"kind: HTTPRoute", "name: reviews-v2", "namespace: default"}},
		{"linkerd json", []string{"--mesh", "linkerd", "-o", "json"}, []string{`"kind": "List"`, `"kind": "HTTPRoute"`, `"apiVersion": "policy.linkerd.io/v1beta3"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := runRootStdin(t, canaryPattern, append([]string{"render", "-f", "-"}, tt.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range tt.want {
				if !strings.Contains(out, want) {
					t.Errorf("render output lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(tt.name, "json") && !json.Valid([]byte(out)) {
				t.Errorf("render -o json is not JSON:\n%s", out)
			}
		})
	}
}

const mesheryTwoMeshes = `name: two
services:
  vs: {type: VirtualService.Istio, namespace: shop, settings: {hosts: [reviews]}}
  sp: {type: ServiceProfile.Linkerd, namespace: shop, settings: {routes: []}}
`

// TestRenderNeverContactsACluster: without --mesh and spec.mesh, a render
// (or a client dry run) of a Meshery pattern of one mesh's components
// translates for that mesh; anything else asks for --mesh. No client is
// asked of the factory.
func TestRenderNeverContactsACluster(t *testing.T) {
	const istioOnly = `name: shop
services:
  svc: {type: Service.K8s, namespace: shop, settings: {selector: {app: reviews}, ports: [{name: http, port: 9080}]}}
  vs: {type: VirtualService.Istio, namespace: shop, settings: {hosts: [reviews], http: [{route: [{destination: {host: reviews}}]}]}}
`
	tests := []struct {
		name, stdin string
		args        []string
		want        string // in stdout; "" means an error is expected
		wantErr     string
	}{
		{name: "render meshery istio", stdin: istioOnly, args: []string{"render", "-f", "-"}, want: "kind: VirtualService"},
		{name: "client dry run meshery istio", stdin: istioOnly, args: []string{"apply", "-f", "-", "--dry-run=client"}, want: "virtualservice.networking.istio.io/vs (dry run)"},
		{name: "render two meshes", stdin: mesheryTwoMeshes, args: []string{"render", "-f", "-"}, wantErr: "set spec.mesh or --mesh"},
		{name: "client dry run without mesh", stdin: canaryPattern, args: []string{"apply", "-f", "-", "--dry-run=client"}, wantErr: `pattern "canary" has no spec.mesh`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := cmdtesting.NewFactory(t)
			out, _, err := f.Run(t, tt.stdin, tt.args, commands...)
			if f.Connects != 0 {
				t.Errorf("%d clients were made", f.Connects)
			}
			switch {
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error = %v, want one containing %q", err, tt.wantErr)
			case tt.wantErr == "" && err != nil:
				t.Errorf("error = %v", err)
			case !strings.Contains(out, tt.want):
				t.Errorf("output lacks %q:\n%s", tt.want, out)
			}
		})
	}
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"no file", "", []string{"render"}, "-f/--filename is required"},
		{"unknown mesh", canaryPattern, []string{"render", "-f", "-", "--mesh", "consul"}, `--mesh: unknown mesh "consul" (allowed: istio, linkerd, smi, gamma)`},
		{"bad output", canaryPattern, []string{"render", "-f", "-", "--mesh", "istio", "-o", "wide"}, `--output: unknown format "wide"`},
		{"no mesh", canaryPattern, []string{"render", "-f", "-"}, `pattern "canary" has no spec.mesh: set spec.mesh or --mesh (istio, linkerd, smi, gamma)`},
		{"meshery pattern of two meshes", mesheryTwoMeshes, []string{"render", "-f", "-"}, `pattern "two" has no spec.mesh: set spec.mesh or --mesh`},
		{"feature the mesh lacks", strings.Replace(canaryPattern, "timeout: 2s", "timeout: 2s\n        fault: {abort: {httpStatus: 503, percent: 5}}", 1),
			[]string{"render", "-f", "-", "--mesh", "gamma"}, "<stdin>:15:17: spec.services[0].traffic.routes[0].fault.abort: gamma cannot express traffic.fault.abort"},
		{"invalid pattern", strings.Replace(canaryPattern, "weight: 10", "weight: 20", 1), []string{"render", "-f", "-", "--mesh", "istio"}, "weights sum to 110, not 100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := runRootStdin(t, tt.stdin, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one containing %q", err, tt.want)
			}
			if out != "" {
				t.Errorf("a failed render printed objects:\n%s", out)
			}
		})
	}
}

func TestRenderAllowPartialWarns(t *testing.T) {
	p := strings.Replace(canaryPattern, "timeout: 2s", "timeout: 2s\n        fault: {abort: {httpStatus: 503, percent: 5}}", 1)
	out, errOut, err := runRootStdin(t, p, "render", "-f", "-", "--mesh", "gamma", "--allow-partial")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut, `Warning: pattern "canary": <stdin>:15:17: spec.services[0].traffic.routes[0].fault.abort: gamma cannot express traffic.fault.abort`) {
		t.Errorf("stderr lacks the warning:\n%s", errOut)
	}
	if !strings.Contains(out, "kind: HTTPRoute") {
		t.Errorf("the rest was not rendered:\n%s", out)
	}
}

func TestCommandFlagErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"apply", "-f", "x.yaml", "--dry-run=yes"}, `--dry-run: unknown strategy "yes" (allowed: none, server, client)`},
		{[]string{"apply", "-f", "x.yaml", "--concurrency", "0"}, "--concurrency: must be at least 1, not 0"},
		{[]string{"apply"}, "-f/--filename is required"},
		{[]string{"delete"}, "name the patterns to delete: -f FILE or NAME"},
		{[]string{"delete", "shop", "-f", "x.yaml"}, "either with -f or by NAME, not both"},
		{[]string{"delete", "shop", "--dry-run=client"}, `--dry-run=client: kubectl mesh delete has no client dry run (allowed: none, server)`},
		{[]string{"delete", "shop", "--dry-run"}, `--dry-run=client: kubectl mesh delete has no client dry run (allowed: none, server)`},
		// kubectl's flag takes no separate value: the word after it is an argument.
		{[]string{"delete", "--dry-run", "server"}, `--dry-run=client: kubectl mesh delete has no client dry run (allowed: none, server)`},
		{[]string{"list", "-o", "table"}, `--output: unknown format "table"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, _, err := runRootStdin(t, "", tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestDiffExitCodes(t *testing.T) {
	_, _, err := runRootStdin(t, "", "diff")
	if cmdutil.ExitCode(err) != diffExitError {
		t.Errorf("diff without -f: exit %d, want %d as kubectl diff exits on errors", cmdutil.ExitCode(err), diffExitError)
	}
}
