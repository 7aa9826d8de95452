package meshery_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
)

// TestLoadAndValidate: the samples load through pattern.Load as valid
// patterns (the importer writes what the loader accepts), and errors of
// the converted pattern point into the Meshery file.
func TestLoadAndValidate(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.yaml")
	want := map[string]string{
		"testdata/bookinfo-istio.yaml":    "bookinfo/istio-bookinfo-canary istio STRICT raw=3",
		"testdata/emojivoto-linkerd.yaml": "emojivoto/emojivoto-linkerd-policy linkerd STRICT raw=4",
	}
	if len(files) != len(want) {
		t.Fatalf("testdata has %v, the test knows %d files", files, len(want))
	}
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			f, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = f.Close() }()
			ps, err := pattern.Load(f, file, pattern.LoadOptions{DefaultNamespace: "ignored"})
			if err != nil {
				t.Fatal(err)
			}
			p := ps[0]
			if err := pattern.Validate(p); err != nil {
				t.Fatal(err)
			}
			got := p.Metadata.Namespace + "/" + p.Metadata.Name + " " + p.Spec.Mesh + " " + p.Spec.MTLS + " raw=" + string(rune('0'+len(p.Spec.Raw)))
			if got != want[file] {
				t.Errorf("got %s, want %s", got, want[file])
			}
			if p.APIVersion != pattern.APIVersion || p.Kind != pattern.Kind {
				t.Errorf("apiVersion/kind %s/%s, want %s/%s", p.APIVersion, p.Kind, pattern.APIVersion, pattern.Kind)
			}
		})
	}
}

func TestConvertedErrorsPointIntoMeshery(t *testing.T) {
	f, err := os.Open("testdata/bookinfo-istio.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	ps, err := pattern.Load(f, "bookinfo.yaml", pattern.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// raw[1] is the VirtualService: its spec.http is on line 32 of the file.
	if got, want := ps[0].Where("spec.raw[1].spec.http"), "bookinfo.yaml:32:7"; got != want {
		t.Errorf("Where = %s, want %s", got, want)
	}
}
