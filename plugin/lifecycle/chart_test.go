package lifecycle

import (
	"os"
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadChartFS(t *testing.T) {
	ch, err := LoadChartFS(os.DirFS("testdata"), "demo")
	if err != nil {
		t.Fatal(err)
	}
	if ch.Name() != "demo" || ch.Metadata.Version != "0.1.0" {
		t.Errorf("loaded %s %s, want demo 0.1.0", ch.Name(), ch.Metadata.Version)
	}
	names := map[string]bool{}
	for _, f := range ch.Templates {
		names[f.Name] = true
	}
	for _, want := range []string{"templates/_helpers.tpl", "templates/configmap.yaml", "templates/deployment.yaml", "templates/tests/test-connection.yaml"} {
		if !names[want] {
			t.Errorf("template %s missing; have %v", want, names)
		}
	}
	for _, f := range ch.Files {
		if strings.HasSuffix(f.Name, ".bak") {
			t.Errorf("%s loaded, but .helmignore excludes it", f.Name)
		}
	}
	if n := len(ch.CRDObjects()); n != 1 {
		t.Errorf("%d CRDs, want 1", n)
	}
	if ch.Values["message"] != "hello" {
		t.Errorf("values %v, want message: hello", ch.Values)
	}
}

func TestLoadChartFSErrors(t *testing.T) {
	tests := []struct {
		name string
		fsys fstest.MapFS
		dir  string
		want string
	}{
		{name: "no such directory", fsys: fstest.MapFS{}, dir: "missing", want: "loading chart missing"},
		{name: "no Chart.yaml", fsys: fstest.MapFS{"c/values.yaml": {Data: []byte("a: 1\n")}}, dir: "c", want: "Chart.yaml file is missing"},
		{name: "bad Chart.yaml", fsys: fstest.MapFS{"c/Chart.yaml": {Data: []byte("apiVersion: v2\nname: [\n")}}, dir: "c", want: "loading chart c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadChartFS(tt.fsys, tt.dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
