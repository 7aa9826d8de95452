package patterncmd

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil/cmdtesting"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/apply"
)

// listCluster has canary and ratings applied in shop, canary in web, and
// an apply set of kubectl's own in shop, which list leaves out.
func listCluster(t *testing.T) *cmdtesting.Factory {
	t.Helper()
	f, dyn := newCluster(t)
	applyIstio(t, f, canaryPattern+"---\n"+ratingsPattern)
	mustRun(t, f, canaryPattern, "apply", "-f", "-", "--mesh", "istio", "-n", "web")
	kubectls := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{
		"name": "kubectl-mesh-pattern-foreign", "namespace": "shop",
		"labels":      map[string]any{"applyset.kubernetes.io/id": "applyset-x-v1"},
		"annotations": map[string]any{"applyset.kubernetes.io/tooling": "kubectl/v1.35.0"},
	}}}
	if _, err := dyn.Resource(configMaps).Namespace("shop").Create(context.Background(), kubectls, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestListCommand(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"namespace", []string{"-n", "shop"}, `NAME      MESH    OBJECTS   SHARED   LAST APPLIED
canary    istio   2         0        90m ago
ratings   istio   4         0        90m ago
`},
		{"all namespaces", []string{"-A"}, `NAMESPACE   NAME      MESH    OBJECTS   SHARED   LAST APPLIED
shop        canary    istio   2         0        90m ago
shop        ratings   istio   4         0        90m ago
web         canary    istio   2         0        90m ago
`},
		{"wide", []string{"-n", "web", "-o", "wide"}, `NAME     MESH    OBJECTS   SHARED   LAST APPLIED   MEMBERS
canary   istio   2         0        90m ago        destinationrule/reviews,virtualservice/reviews
`},
		{"yaml", []string{"-n", "web", "-o", "yaml"}, `- applySetID: ` + apply.Set{Name: "canary", Namespace: "web"}.ID() + `
  lastApplied: "LAST"
  mesh: istio
  name: canary
  namespace: web
  objects:
  - group: networking.istio.io
    kind: DestinationRule
    name: reviews
    namespace: web
    version: v1
  - group: networking.istio.io
    kind: VirtualService
    name: reviews
    namespace: web
    version: v1
`},
	}
	f := listCluster(t)
	last := regexp.MustCompile(`lastApplied: "[^"]+"`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, err := f.Run(t, "", append([]string{"list"}, tt.args...), commands...)
			if err != nil {
				t.Fatal(err)
			}
			out = last.ReplaceAllString(out, `lastApplied: "LAST"`)
			if out != tt.want {
				t.Errorf("stdout:\n%s\nwant:\n%s", out, tt.want)
			}
			if errOut != "" {
				t.Errorf("stderr: %s", errOut)
			}
			if tt.args[len(tt.args)-1] == "wide" || strings.HasPrefix(out, "-") {
				return
			}
			for _, line := range strings.Split(out, "\n") {
				if len(line) > 120 {
					t.Errorf("line wider than 120 columns: %q", line)
				}
			}
		})
	}
}

func TestListJSON(t *testing.T) {
	f := listCluster(t)
	out, _, err := f.Run(t, "", []string{"list", "-A", "-o", "json"}, commands...)
	if err != nil {
		t.Fatal(err)
	}
	var items []struct {
		Name, Namespace, Mesh, ApplySetID string
		LastApplied                       time.Time
		Objects                           []struct{ Kind, Name, Namespace string }
	}
	if err := json.Unmarshal([]byte(out), &items); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	var got []string
	for _, it := range items {
		got = append(got, it.Namespace+"/"+it.Name)
		if it.Mesh != "istio" || !strings.HasPrefix(it.ApplySetID, "applyset-") || time.Since(it.LastApplied).Round(time.Minute) != lastApplied {
			t.Errorf("item %+v", it)
		}
	}
	if strings.Join(got, ",") != "shop/canary,shop/ratings,web/canary" {
		t.Errorf("patterns %v", got)
	}
	if len(items) == 3 && (len(items[1].Objects) != 4 || items[1].Objects[0].Kind != "DestinationRule" || items[1].Objects[0].Namespace != "shop") {
		t.Errorf("objects of ratings: %+v", items[1].Objects)
	}
}

func TestListNothing(t *testing.T) {
	tests := []struct {
		args             []string
		wantOut, wantErr string
	}{
		{[]string{"-n", "shop"}, "", "No patterns found in namespace shop.\n"},
		{[]string{"-A", "-o", "wide"}, "", "No patterns found in any namespace.\n"},
		{[]string{"-o", "json"}, "[]\n", ""},
		{[]string{"-o", "yaml"}, "[]\n", ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			f, _ := newCluster(t)
			out, errOut, err := f.Run(t, "", append([]string{"list"}, tt.args...), commands...)
			if err != nil {
				t.Fatal(err)
			}
			if out != tt.wantOut || errOut != tt.wantErr {
				t.Errorf("stdout %q, stderr %q; want %q, %q", out, errOut, tt.wantOut, tt.wantErr)
			}
		})
	}
}

func TestListUnreachableCluster(t *testing.T) {
	f, _ := newCluster(t)
	f.ConnectErr = errors.New("connection refused")
	out, _, err := f.Run(t, "", []string{"list", "-A"}, commands...)
	if err == nil || err.Error() != "connection refused" || out != "" {
		t.Errorf("stdout %q, error %v", out, err)
	}
}
