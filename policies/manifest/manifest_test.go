package manifest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kubectl-mesh/kubectl-mesh/internal/inputlimit"
)

func TestReadKeepsLinesAndSurvivesBadDocuments(t *testing.T) {
	input := `# leading comment
apiVersion: v1
kind: Service
metadata:
  name: reviews
spec:
  ports:
  - port: 9080
    name: http
---
apiVersion: v1
kind: ConfigMap
metadata: {name: broken
---
kind: Service
metadata:
  name: no-version
---
metadata:
  name: nothing
---

---
apiVersion: v1
kind: List
items:
- apiVersion: networking.istio.io/v1
  kind: VirtualService
  metadata:
    name: vs-a
- apiVersion: networking.istio.io/v1
  kind: DestinationRule
  metadata:
    name: dr-a
  spec:
    trafficPolicy:
      connectionPool:
        tcp: {maxConnections: 100}
    weight: 1.5
    on: true
`
	objects, errs := Read("in.yaml", strings.NewReader(input))
	var got []string
	for _, o := range objects {
		got = append(got, o.Kind()+"/"+o.Name()+"@"+strconv.Itoa(o.Source.Line))
	}
	if want := "Service/reviews@2 VirtualService/vs-a@27 DestinationRule/dr-a@31"; strings.Join(got, " ") != want {
		t.Errorf("objects %v, want %s", got, want)
	}
	wantErrs := []string{
		"in.yaml:13: malformed YAML:",
		"in.yaml:15: Service has no apiVersion",
		"in.yaml:19: document has no apiVersion and no kind",
	}
	if len(errs) != len(wantErrs) {
		t.Fatalf("errors %v, want %d", errs, len(wantErrs))
	}
	for i, want := range wantErrs {
		if !strings.HasPrefix(errs[i].Error(), want) {
			t.Errorf("error %d = %q, want prefix %q", i, errs[i], want)
		}
	}
	// Values are JSON-shaped, as unstructured objects are.
	spec := objects[2].Content["spec"].(map[string]any)
	tp := spec["trafficPolicy"].(map[string]any)
	if v := tp["connectionPool"].(map[string]any)["tcp"].(map[string]any)["maxConnections"]; v != int64(100) {
		t.Errorf("int decoded as %T %v", v, v)
	}
	if v := spec["weight"]; v != 1.5 {
		t.Errorf("float decoded as %T %v", v, v)
	}
	if v := spec["on"]; v != true {
		t.Errorf("bool decoded as %T %v", v, v)
	}
}

func TestReadPaths(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n")
	write("b.json", `{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "b"}}`)
	write("notes.txt", "not a manifest")
	write("sub/c.yml", "apiVersion: v1\nkind: Service\nmetadata: {name: c}\n")

	names := func(objs []Object) string {
		var s []string
		for _, o := range objs {
			s = append(s, o.Name())
		}
		return strings.Join(s, ",")
	}
	objs, errs := ReadPaths([]string{dir}, false, nil)
	if len(errs) > 0 || names(objs) != "a,b" {
		t.Errorf("flat: %s %v, want a,b", names(objs), errs)
	}
	objs, errs = ReadPaths([]string{dir}, true, nil)
	if len(errs) > 0 || names(objs) != "a,b,c" {
		t.Errorf("recursive: %s %v, want a,b,c", names(objs), errs)
	}
	objs, errs = ReadPaths([]string{"-", filepath.Join(dir, "missing.yaml")}, false,
		strings.NewReader("apiVersion: v1\nkind: Service\nmetadata: {name: stdin}\n"))
	if names(objs) != "stdin" || objs[0].Source.File != "<stdin>" {
		t.Errorf("stdin: %s %+v", names(objs), objs)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), `the path "`+filepath.Join(dir, "missing.yaml")+`" does not exist`) {
		t.Errorf("missing file: %v", errs)
	}
}

// Inputs that cost far more than their size are refused per document, with
// the file:line and the limit, and the other documents are still read.
func TestReadBoundsWhatADocumentCosts(t *testing.T) {
	service := "apiVersion: v1\nkind: Service\nmetadata:\n  name: ok\n"
	for _, tc := range []struct {
		name, doc, wantErr string
	}{
		{name: "billion laughs", doc: string(inputlimit.BillionLaughs()),
			wantErr: "in.yaml:6: document contains excessive aliasing: aliases add more than 400000 nodes"},
		{name: "alias cycle", doc: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: &d {a: [*d]}\n",
			wantErr: "in.yaml:9: document contains an alias to a node that contains the alias"},
		{name: "deep nesting", doc: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\ndata:\n  " + string(inputlimit.Deep(inputlimit.MaxDepth)),
			wantErr: "in.yaml:10: document nests deeper than 1000 levels"},
		{name: "large document", doc: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata: {a: \"" + strings.Repeat("x", inputlimit.MaxDocumentBytes) + "\"}\n",
			wantErr: "in.yaml:6: document is larger than 16 MiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objects, errs := Read("in.yaml", strings.NewReader(service+"---\n"+tc.doc+"---\n"+service))
			if len(objects) != 2 {
				t.Errorf("read %d objects, want the 2 Services around the bad document", len(objects))
			}
			if len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.wantErr) {
				t.Fatalf("errors %v, want one containing %q", errs, tc.wantErr)
			}
		})
	}
}
