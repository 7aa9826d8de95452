package lifecycle

import (
	"os"
	"strings"
	"testing"

	chart "helm.sh/helm/v4/pkg/chart/v2"
)

func loadDemo(t *testing.T) *chart.Chart {
	t.Helper()
	ch, err := LoadChartFS(os.DirFS("testdata"), "demo")
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func TestRender(t *testing.T) {
	ch := loadDemo(t)
	rels := []Release{
		{Name: "first", Namespace: "ns-a", Chart: ch, Values: map[string]any{"message": "from-first"}},
		{Name: "second", Namespace: "ns-b", Chart: ch},
	}
	out, err := Render(rels, "v1.37.0")
	if err != nil {
		t.Fatal(err)
	}
	first := strings.Index(out, "# Release: first in ns-a, chart demo 0.1.0\n")
	second := strings.Index(out, "# Release: second in ns-b, chart demo 0.1.0\n")
	if first != 0 || second <= first {
		t.Errorf("release headers at %d and %d, want the first at 0 and the second after it:\n%s", first, second, out)
	}
	firstPart, secondPart := out[:second], out[second:]
	for _, want := range []string{
		"# Source: demo/crds/widgets.yaml",
		"# Source: demo/templates/configmap.yaml",
		"# Source: demo/templates/deployment.yaml",
		`message: "from-first"`,
		`kubeVersion: "v1.37.0"`,
		"app.kubernetes.io/instance: first",
	} {
		if !strings.Contains(firstPart, want) {
			t.Errorf("first release lacks %q:\n%s", want, firstPart)
		}
	}
	if !strings.Contains(secondPart, `message: "hello"`) {
		t.Errorf("second release does not use the chart's default values:\n%s", secondPart)
	}
	if strings.Contains(out, "first-test") || strings.Contains(out, "second-test") {
		t.Errorf("test hooks rendered:\n%s", out)
	}
	if strings.Count(out, "\n---\n# Source: ") != strings.Count(out, "# Source:") || strings.Count(out, "# Source:") != 6 {
		t.Errorf("every document must start with --- and a # Source comment:\n%s", out)
	}
}

func TestRenderErrors(t *testing.T) {
	ch := loadDemo(t)
	tests := []struct {
		name        string
		rels        []Release
		kubeVersion string
		want        string
	}{
		{name: "bad kube version", rels: []Release{{Name: "a", Namespace: "n", Chart: ch}}, kubeVersion: "one.two", want: `reading the Kubernetes version "one.two"`},
		{name: "no chart", rels: []Release{{Name: "a", Namespace: "n"}}, want: "release a has no chart"},
		{name: "no namespace", rels: []Release{{Name: "a", Chart: ch}}, want: "release a has no namespace"},
		{name: "bad release name", rels: []Release{{Name: "Not_Valid", Namespace: "n", Chart: ch}}, want: "rendering Not_Valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Render(tt.rels, tt.kubeVersion)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
