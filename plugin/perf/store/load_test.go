package store

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/kubectl-mesh/kubectl-mesh/internal/inputlimit"
)

func TestLoadPath(t *testing.T) {
	s := open(t)
	mustSave(t, s, newResult("in-store", "svc/echo", t0, nil))
	// A CI artifact: a result file outside the store.
	data, err := os.ReadFile(s.resultPath("in-store"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	artifact := filepath.Join(dir, "ci", "run.json")
	if err := os.MkdirAll(filepath.Dir(artifact), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(artifact, data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	tests := []struct {
		name, arg string
	}{
		{"absolute path", artifact},
		{"relative path", "ci/run.json"},
		{"dot path", "./ci/run.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := s.Load(tt.arg)
			if err != nil {
				t.Fatal(err)
			}
			if r.Name != "in-store" || r.Target() != "svc/echo" {
				t.Errorf("Load(%q) = %s against %s", tt.arg, r.Name, r.Target())
			}
		})
	}
	// A bare file name in the working directory, when no result has it.
	if err := os.WriteFile("local.json", data, 0o644); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Load("local.json"); err != nil || r.Name != "in-store" {
		t.Errorf("Load(local.json) = %v, %v", r, err)
	}
}

func TestLoadErrors(t *testing.T) {
	s := open(t)
	mustSave(t, s, newResult("echo-20261123-100000", "svc/echo", t0, nil))
	mustSave(t, s, newResult("echo-20261123-110000", "svc/echo", t0.Add(time.Hour), nil))
	mustSave(t, s, newResult("reviews-20261123-100000", "svc/reviews", t0, nil))
	corrupt := s.resultPath("corrupt")
	if err := os.WriteFile(corrupt, []byte(`{"smp_version": "v0.6.1", `), 0o600); err != nil {
		t.Fatal(err)
	}
	invalid := s.resultPath("invalid")
	if err := os.WriteFile(invalid, []byte(`{"smp_version": "v0.6.1"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	// JSON has no aliases and encoding/json bounds nesting: size is the cost left.
	huge := s.resultPath("huge")
	if err := os.WriteFile(huge, []byte("{"+strings.Repeat(" ", inputlimit.MaxDocumentBytes)+"}"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, arg, want string
		notFound        bool
	}{
		{"file too large", "huge", "reading result: " + huge + ": is larger than 16 MiB", false},
		{"corrupt file", "corrupt", "reading result " + corrupt + ": unexpected EOF", false},
		{"invalid file", "invalid", "reading result " + invalid + ": start_time is missing", false},
		{"missing path", "/nonexistent/run.json", "reading result: open /nonexistent/run.json: no such file or directory", false},
		{"typo", "echo-20261123-10000", `no result named "echo-20261123-10000": did you mean "echo-20261123-100000" or "echo-20261123-110000"? (kubectl mesh perf list shows the results)`, true},
		{"prefix", "reviews", `no result named "reviews": did you mean "reviews-20261123-100000"? (kubectl mesh perf list shows the results)`, true},
		{"nothing close", "productpage", `no result named "productpage": kubectl mesh perf list shows the results`, true},
		{"not a name", "No Such", `no result named "No Such": kubectl mesh perf list shows the results`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := s.Load(tt.arg)
			if err == nil {
				t.Fatalf("Load(%q) = %+v, want error", tt.arg, r)
			}
			if err.Error() != tt.want {
				t.Errorf("Load(%q) error\n got %s\nwant %s", tt.arg, err, tt.want)
			}
			if errors.Is(err, ErrNotFound) != tt.notFound {
				t.Errorf("errors.Is(err, ErrNotFound) = %v, want %v", !tt.notFound, tt.notFound)
			}
		})
	}
}

func TestList(t *testing.T) {
	s := open(t)
	// Saved out of order; listed by start time, then name.
	mustSave(t, s, newResult("late", "svc/echo", t0.Add(2*time.Hour), map[string]string{"mesh": "linkerd", "app": "echo"}))
	mustSave(t, s, newResult("early", "svc/echo", t0, map[string]string{"mesh": "istio", "app": "echo"}))
	mustSave(t, s, newResult("mid-b", "svc/reviews", t0.Add(time.Hour), map[string]string{"mesh": "istio", "app": "reviews"}))
	mustSave(t, s, newResult("mid-a", "svc/reviews", t0.Add(time.Hour), nil))
	tests := []struct {
		name     string
		selector string
		want     []string
	}{
		{"everything", "", []string{"early", "mid-a", "mid-b", "late"}},
		{"equality", "mesh=istio", []string{"early", "mid-b"}},
		{"set", "mesh in (istio,linkerd),app=echo", []string{"early", "late"}},
		{"inequality includes unlabelled", "mesh!=istio", []string{"mid-a", "late"}},
		{"exists", "app", []string{"early", "mid-b", "late"}},
		{"no match", "mesh=none", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel, err := labels.Parse(tt.selector)
			if err != nil {
				t.Fatal(err)
			}
			rs, err := s.List(sel)
			if err != nil {
				t.Fatal(err)
			}
			if got := resultNames(rs); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("List(%q) = %v, want %v", tt.selector, got, tt.want)
			}
		})
	}
	if rs, err := s.List(nil); err != nil || len(rs) != 4 {
		t.Errorf("List(nil) = %d results, %v; want all 4", len(rs), err)
	}
}

func TestListSkipsUnreadableFiles(t *testing.T) {
	s := open(t)
	mustSave(t, s, newResult("good", "svc/echo", t0, nil))
	bad := s.resultPath("bad")
	if err := os.WriteFile(bad, []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Neither a write in progress nor other files are results.
	for _, name := range []string{".good.json.tmp-123", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(s.Dir(), resultsDir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(s.Dir(), resultsDir, "dir.json"), 0o700); err != nil {
		t.Fatal(err)
	}
	rs, err := s.List(nil)
	if got := resultNames(rs); !reflect.DeepEqual(got, []string{"good"}) {
		t.Errorf("List = %v, want [good]", got)
	}
	var warn *ListWarning
	if !errors.As(err, &warn) {
		t.Fatalf("List error = %v, want a *ListWarning", err)
	}
	want := "skipped 1 unreadable result file(s): reading result " + bad + ": invalid character 'o' in literal null (expecting 'u')"
	if err.Error() != want || len(warn.Errs) != 1 {
		t.Errorf("List warning\n got %s\nwant %s", err, want)
	}
	// Latest still works past the bad file.
	if r, err := s.Latest(); err != nil || r.Name != "good" {
		t.Errorf("Latest() = %v, %v; want good", r, err)
	}
}

func TestLatestAndDelete(t *testing.T) {
	s := open(t)
	_, err := s.Latest()
	if err == nil || err.Error() != "no results yet: kubectl mesh perf run makes one" || !errors.Is(err, ErrNotFound) {
		t.Errorf("Latest() on an empty store: %v", err)
	}
	mustSave(t, s, newResult("first", "svc/echo", t0, nil))
	mustSave(t, s, newResult("second", "svc/echo", t0.Add(time.Minute), nil))
	if r, err := s.Latest(); err != nil || r.Name != "second" {
		t.Errorf("Latest() = %v, %v; want second", r, err)
	}
	if err := s.Delete("second"); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Latest(); err != nil || r.Name != "first" {
		t.Errorf("Latest() after Delete = %v, %v; want first", r, err)
	}
	err = s.Delete("second")
	want := `no result named "second": kubectl mesh perf list shows the results`
	if err == nil || err.Error() != want {
		t.Errorf("Delete of a deleted result: %v, want %s", err, want)
	}
	if err := s.Delete("../first"); err == nil || !strings.HasPrefix(err.Error(), `no result named "../first"`) {
		t.Errorf("Delete(../first) = %v, want not found", err)
	}
	if f := files(t, s.Dir()); !reflect.DeepEqual(f, []string{"results/first.json"}) {
		t.Errorf("files = %v", f)
	}
}
