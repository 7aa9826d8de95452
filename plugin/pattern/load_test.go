package pattern

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kubectl-mesh/kubectl-mesh/internal/inputlimit"
)

const header = `apiVersion: kubectl-mesh.io/v1alpha1
kind: Pattern
metadata:
  name: reviews
`

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{
			name: "unknown field names line, column and path",
			yaml: header + `spec:
  services:
  - name: reviews
    versions:
    - name: v1
      labels: {version: v1}
    traffic:
      routes:
      - split:
        - version: v1
          wieght: 100
`,
			want: `reviews.yaml:15:11: spec.services[0].traffic.routes[0].split[0].wieght: unknown field "wieght"`,
		},
		{
			name: "string where an integer belongs",
			yaml: header + `spec:
  services:
  - name: reviews
    ports:
    - port: http
`,
			want: `reviews.yaml:9:13: spec.services[0].ports[0].port: expected an integer, got "http"`,
		},
		{
			name: "every error of the document at once, in line order",
			yaml: header + `  nme: x
spec:
  mesh: [istio]
  services:
  - name: 42
`,
			want: `reviews.yaml:5:3: metadata.nme: unknown field "nme"
reviews.yaml:7:9: spec.mesh: expected a string, got a list
reviews.yaml:9:11: spec.services[0].name: expected a string, got 42 (quote it)`,
		},
		{
			name: "duplicate field",
			yaml: header + `spec:
  mtls: STRICT
  mtls: DISABLE
`,
			want: `reviews.yaml:7:3: spec.mtls: duplicate field "mtls"`,
		},
		{
			name: "integer out of int32 range",
			yaml: header + `spec:
  services:
  - name: reviews
    ports:
    - port: 99999999999
`,
			want: `reviews.yaml:9:13: spec.services[0].ports[0].port: 99999999999 is out of range`,
		},
		{
			name: "number where an object belongs",
			yaml: header + `spec:
  services:
  - name: reviews
    traffic: 3
`,
			want: `reviews.yaml:8:14: spec.services[0].traffic: expected an object, got 3`,
		},
		{
			name: "another kind is refused with its line",
			yaml: header + `spec: {}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
`,
			want: `reviews.yaml:8:7: kind: networking.istio.io/v1 VirtualService is not a Pattern; kubectl mesh reads kubectl-mesh.io/v1alpha1 Pattern documents and Meshery pattern files (other objects go under spec.raw)`,
		},
		{
			name: "kind missing",
			yaml: "apiVersion: v1\nmetadata: {name: x}\n",
			want: `reviews.yaml:1:1: kind: not a Pattern: kind is missing (apiVersion: kubectl-mesh.io/v1alpha1, kind: Pattern)`,
		},
		{
			name: "a list is not a pattern",
			yaml: "- a\n- b\n",
			want: `reviews.yaml:1:1: expected a Pattern object, got a list`,
		},
		{
			name: "syntax error",
			yaml: header + "spec:\n  mesh: istio\n   drift: lock\n",
			want: `reviews.yaml:7: mapping values are not allowed in this context`,
		},
		{
			name: "merge keys are refused",
			yaml: header + "spec:\n  <<: {mesh: istio}\n",
			want: `reviews.yaml:6:3: spec: YAML merge keys (<<) are not supported`,
		},
		{
			name: "errors of the Meshery importer keep their place",
			yaml: "name: bookinfo\nservices:\n  grafana:\n    type: GrafanaIstioAddon\n",
			want: `reviews.yaml:4:11: services.grafana.type: unsupported Meshery type "GrafanaIstioAddon": kubectl mesh imports IstioMesh, LinkerdMesh, <Kind>.Istio, <Kind>.Linkerd and <Kind>.K8s`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := Load(strings.NewReader(tt.yaml), "reviews.yaml", LoadOptions{})
			if err == nil {
				t.Fatalf("Load succeeded with %d patterns, want error:\n%s", len(ps), tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n%s\nwant:\n%s", err, tt.want)
			}
			var list Errors
			if !errors.As(err, &list) {
				t.Errorf("error is %T, want Errors", err)
			}
		})
	}
}

// A pattern file that would cost far more than its size is refused with
// one line naming the file and the limit.
func TestLoadBoundsWhatAFileCosts(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{name: "billion laughs", yaml: header + "spec:\n  raw:\n  - " + strings.ReplaceAll(string(inputlimit.BillionLaughs()), "\n", "\n    "),
			want: "reviews.yaml:1: document contains excessive aliasing: aliases add more than 400000 nodes"},
		{name: "alias cycle", yaml: header + "spec: &s {raw: [*s]}\n", want: "reviews.yaml:5: document contains an alias to a node that contains the alias"},
		{name: "deep nesting", yaml: header + "spec:\n  raw:\n  - " + string(inputlimit.Deep(inputlimit.MaxDepth)),
			want: "reviews.yaml:7: document nests deeper than 1000 levels"},
		{name: "large file", yaml: header + "# " + strings.Repeat("x", inputlimit.MaxDocumentBytes), want: "reviews.yaml: is larger than 16 MiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(strings.NewReader(tc.yaml), "reviews.yaml", LoadOptions{})
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name      string
		yaml      string
		opts      LoadOptions
		want      []string // metadata.namespace/metadata.name of each pattern
		wantRaw   string   // JSON of the first pattern's spec.raw
		wantPaths map[string]string
	}{
		{
			name: "namespace defaults to default",
			yaml: header + "spec: {}\n",
			want: []string{"default/reviews"},
		},
		{
			name: "namespace defaults to the -n namespace",
			yaml: header + "spec: {}\n",
			opts: LoadOptions{DefaultNamespace: "bookinfo"},
			want: []string{"bookinfo/reviews"},
		},
		{
			name: "its own namespace wins",
			yaml: header + "  namespace: shop\nspec: {}\n",
			opts: LoadOptions{DefaultNamespace: "bookinfo"},
			want: []string{"shop/reviews"},
		},
		{
			name: "multi-document, empty documents skipped",
			yaml: "---\n" + header + "spec: {}\n---\n# nothing\n---\n" + strings.Replace(header, "reviews", "ratings", 1) + "spec: {}\n",
			want: []string{"default/reviews", "default/ratings"},
		},
		{
			name:    "raw objects become JSON values (int64, not int)",
			yaml:    header + "spec:\n  raw:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: c}\n    data: {n: \"1\"}\n    x: [1, 2.5, true, null, ~]\n",
			want:    []string{"default/reviews"},
			wantRaw: `[{"apiVersion":"v1","data":{"n":"1"},"kind":"ConfigMap","metadata":{"name":"c"},"x":[1,2.5,true,null,null]}]`,
		},
		{
			name: "positions of fields and of their ancestors",
			yaml: header + "spec:\n  services:\n  - name: reviews\n    ports:\n    - port: 80\n",
			want: []string{"default/reviews"},
			wantPaths: map[string]string{
				"spec.services[0].name":               "x.yaml:7:5",
				"spec.services[0].ports[0].port":      "x.yaml:9:7",
				"spec.services[0].versions[3].labels": "x.yaml:7:5",
				"metadata.name":                       "x.yaml:4:3",
			},
		},
		{
			name: "JSON documents",
			yaml: `{"apiVersion": "kubectl-mesh.io/v1alpha1", "kind": "Pattern", "metadata": {"name": "j"}, "spec": {"mtls": "STRICT"}}`,
			want: []string{"default/j"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := Load(strings.NewReader(tt.yaml), "x.yaml", tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range ps {
				got = append(got, p.Metadata.Namespace+"/"+p.Metadata.Name)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("patterns %v, want %v", got, tt.want)
			}
			if tt.wantRaw != "" {
				b, err := json.Marshal(ps[0].Spec.Raw)
				if err != nil {
					t.Fatal(err)
				}
				if string(b) != tt.wantRaw {
					t.Errorf("raw %s, want %s", b, tt.wantRaw)
				}
				if _, ok := ps[0].Spec.Raw[0]["x"].([]any)[0].(int64); !ok {
					t.Errorf("integer decoded as %T, want int64", ps[0].Spec.Raw[0]["x"].([]any)[0])
				}
			}
			for path, want := range tt.wantPaths {
				if got := ps[0].Where(path); got != want {
					t.Errorf("Where(%s) = %s, want %s", path, got, want)
				}
			}
		})
	}
}

func TestLoadPaths(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	named := func(name string) string { return strings.Replace(header, "reviews", name, 1) + "spec: {}\n" }
	write("a.yaml", named("a"))
	write("b.yml", named("b"))
	write("notes.txt", "not a pattern")
	write("sub/c.json", `{"apiVersion": "kubectl-mesh.io/v1alpha1", "kind": "Pattern", "metadata": {"name": "c"}, "spec": {}}`)
	dup := write("other/a.yaml", named("a"))
	bad := write("bad/x.yaml", header+"spec:\n  msh: istio\n")
	empty := t.TempDir()

	tests := []struct {
		name      string
		paths     []string
		recursive bool
		stdin     string
		want      []string
		wantErr   string
	}{
		{name: "directory", paths: []string{dir}, want: []string{"a", "b"}},
		{name: "directory recursively", paths: []string{dir + "/sub", dir + "/a.yaml"}, recursive: true, want: []string{"c", "a"}},
		{name: "stdin", paths: []string{"-"}, stdin: named("s"), want: []string{"s"}},
		{name: "missing path", paths: []string{dir + "/nope.yaml"}, wantErr: `the path "` + dir + `/nope.yaml" does not exist`},
		{name: "stdin twice", paths: []string{"-", "-"}, stdin: named("s"), wantErr: "-f - can be given only once"},
		{
			name:    "same pattern twice",
			paths:   []string{dir + "/a.yaml", dup},
			wantErr: dup + `:4:3: metadata.name: pattern "a" in namespace "default" is also defined at ` + dir + "/a.yaml:4:3",
		},
		{name: "errors name the file", paths: []string{bad}, wantErr: bad + `:6:3: spec.msh: unknown field "msh"`},
		{name: "nothing found", paths: []string{empty}, wantErr: "no patterns found in " + empty},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := LoadPaths(tt.paths, tt.recursive, strings.NewReader(tt.stdin), LoadOptions{})
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range ps {
				got = append(got, p.Metadata.Name)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("patterns %v, want %v", got, tt.want)
			}
		})
	}
}
