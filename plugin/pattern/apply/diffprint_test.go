package apply

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-mesh/kubectl-mesh/test/golden"
)

// diffFixture: one new, one changed, one unchanged and one pruned object.
func diffFixture() *DiffResult {
	vs := func(host string, weight int64) *unstructured.Unstructured {
		u := obj("networking.istio.io/v1", "VirtualService", "bookinfo", "reviews")
		u.Object["spec"] = map[string]any{"hosts": []any{host}, "http": []any{map[string]any{
			"route": []any{map[string]any{"destination": map[string]any{"host": host, "subset": "v1"}, "weight": weight}},
		}}}
		return u
	}
	svc := obj("v1", "Service", "bookinfo", "reviews-v2")
	svc.Object["spec"] = map[string]any{"selector": map[string]any{"app": "reviews", "version": "v2"}}
	dr := obj("networking.istio.io/v1", "DestinationRule", "bookinfo", "reviews")
	dr.Object["spec"] = map[string]any{"host": "reviews"}
	old := obj("networking.istio.io/v1", "DestinationRule", "bookinfo", "ratings")
	old.Object["spec"] = map[string]any{"host": "ratings"}
	return &DiffResult{Objects: []ObjectDiff{
		{Ref: RefOf(svc), Merged: svc},
		{Ref: RefOf(dr), Live: dr, Merged: dr.DeepCopy()},
		{Ref: RefOf(vs("reviews", 0)), Live: vs("reviews", 100), Merged: vs("reviews", 90)},
		{Ref: RefOf(old), Live: old},
	}}
}

func TestObjectDiffChanged(t *testing.T) {
	d := diffFixture()
	got := []bool{}
	for _, o := range d.Objects {
		got = append(got, o.Changed())
	}
	want := []bool{true, false, true, true}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("object %d (%s): Changed = %v, want %v", i, d.Objects[i].Ref, got[i], want[i])
		}
	}
	if !d.Changed() {
		t.Error("DiffResult.Changed = false")
	}
	same := &DiffResult{Objects: d.Objects[1:2]}
	if same.Changed() {
		t.Error("DiffResult.Changed = true with only an unchanged object")
	}
}

func TestWriteDirs(t *testing.T) {
	dir := t.TempDir()
	live, merged := filepath.Join(dir, "LIVE"), filepath.Join(dir, "MERGED")
	for _, d := range []string{live, merged} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := diffFixture().WriteDirs(live, merged); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, d := range []string{"LIVE", "MERGED"} {
		entries, _ := os.ReadDir(filepath.Join(dir, d))
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		sort.Strings(names)
		for _, n := range names {
			content, _ := os.ReadFile(filepath.Join(dir, d, n))
			b.WriteString("== " + d + "/" + n + "\n" + string(content))
		}
	}
	golden.Assert(t, "testdata/dirs.golden", b.String())
}

func TestPrint(t *testing.T) {
	if _, err := os.Stat("/usr/bin/diff"); err != nil {
		t.Skip("no diff program")
	}
	header := regexp.MustCompile(`(?m)^(---|\+\+\+) \S+/((?:LIVE|MERGED)/\S+)\t.*$`)
	tests := []struct {
		name     string
		result   *DiffResult
		external string
		differs  bool
		golden   string
		err      string
	}{
		{name: "new, changed and pruned objects", result: diffFixture(), differs: true, golden: "testdata/print.golden"},
		{name: "nothing changes", result: &DiffResult{Objects: diffFixture().Objects[1:2]}, differs: false},
		{name: "KUBECTL_EXTERNAL_DIFF with flags", result: diffFixture(), external: "diff -q -r", differs: true, golden: "testdata/print-external.golden"},
		{name: "a missing diff program", result: diffFixture(), external: "no-such-diff-program", err: "running no-such-diff-program: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("KUBECTL_EXTERNAL_DIFF", tt.external)
			var out, errOut bytes.Buffer
			differs, err := tt.result.Print(context.Background(), &out, &errOut)
			if tt.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.err) {
					t.Fatalf("error = %v, want %s...", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%v\n%s", err, errOut.String())
			}
			if differs != tt.differs {
				t.Errorf("differs = %v, want %v", differs, tt.differs)
			}
			got := header.ReplaceAllString(out.String(), "$1 $2")
			got = regexp.MustCompile(`\S+/kubectl-mesh-diff-\d+/`).ReplaceAllString(got, "")
			if tt.golden == "" {
				if got != "" {
					t.Errorf("output:\n%s\nwant none", got)
				}
				return
			}
			golden.Assert(t, tt.golden, got)
		})
	}
}

func TestFileName(t *testing.T) {
	tests := []struct {
		ref  Ref
		want string
	}{
		{Ref{Group: "networking.istio.io", Version: "v1", Kind: "VirtualService", Namespace: "bookinfo", Name: "reviews"}, "networking.istio.io.v1.VirtualService.bookinfo.reviews"},
		{Ref{Version: "v1", Kind: "Service", Namespace: "bookinfo", Name: "reviews"}, "v1.Service.bookinfo.reviews"},
		{Ref{Version: "v1", Kind: "Namespace", Name: "bookinfo"}, "v1.Namespace..bookinfo"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.ref.FileName(); got != tt.want {
				t.Errorf("FileName = %s, want %s", got, tt.want)
			}
		})
	}
}
