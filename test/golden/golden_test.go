package golden

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// recorder stands in for the testing.T that Assert is given, so that a
// failing comparison can be observed instead of failing this test.
type recorder struct {
	testing.TB
	name   string
	errors []string
	fatal  bool
}

func (r *recorder) Helper()      {}
func (r *recorder) Name() string { return r.name }

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	r.fatal = true
	runtime.Goexit()
}

// assert runs Assert on a recorder named name, in a goroutine of its own
// as Fatalf ends it.
func assert[T ~string | ~[]byte](t *testing.T, name, path string, got T) *recorder {
	r := &recorder{TB: t, name: name}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Assert(r, path, got)
	}()
	<-done
	return r
}

func withUpdate(t *testing.T, on bool) {
	old := *update
	*update = on
	t.Cleanup(func() { *update = old })
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestAssertEqualPasses(t *testing.T) {
	withUpdate(t, false)
	path := filepath.Join(t.TempDir(), "same.golden")
	write(t, path, "a\nb\n")
	if r := assert(t, "TestX", path, "a\nb\n"); len(r.errors) > 0 {
		t.Errorf("equal output failed: %q", r.errors)
	}
	if r := assert(t, "TestX", path, []byte("a\nb\n")); len(r.errors) > 0 {
		t.Errorf("equal output as bytes failed: %q", r.errors)
	}
}

func TestAssertMismatchFailsWithUnifiedDiff(t *testing.T) {
	withUpdate(t, false)
	path := filepath.Join(t.TempDir(), "table.golden")
	write(t, path, "NAME  STATUS\none   ok\ntwo   ok\nthree ok\nfour  ok\nfive  ok\nsix   ok\n")
	r := assert(t, "TestPrint/wide table", path, "NAME  STATUS\none   ok\ntwo   ok\nthree FAILED\nfour  ok\nfive  ok\nsix   ok\n")
	if len(r.errors) != 1 || r.fatal {
		t.Fatalf("want one non-fatal error, got fatal=%v %q", r.fatal, r.errors)
	}
	msg := r.errors[0]
	for _, want := range []string{
		"output differs from golden file " + path,
		"--- " + path + "\n+++ got\n",
		"@@ -1,7 +1,7 @@\n NAME  STATUS\n one   ok\n two   ok\n-three ok\n+three FAILED\n four  ok\n",
		"go test ./test/golden/ -run '^TestPrint$/^wide table$' -update",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("the failure does not contain %q:\n%s", want, msg)
		}
	}
	if data, _ := os.ReadFile(path); !strings.Contains(string(data), "three ok") {
		t.Errorf("a failing comparison changed the golden file:\n%s", data)
	}
}

func TestAssertMissingFileFails(t *testing.T) {
	withUpdate(t, false)
	r := assert(t, "TestNew", filepath.Join(t.TempDir(), "new.golden"), "x\n")
	if !r.fatal || len(r.errors) != 1 || !strings.Contains(r.errors[0], "does not exist") || !strings.Contains(r.errors[0], "-run '^TestNew$' -update") {
		t.Errorf("a missing golden file: fatal=%v %q", r.fatal, r.errors)
	}
}

func TestAssertUpdateRewrites(t *testing.T) {
	withUpdate(t, true)
	dir := t.TempDir()
	stale := filepath.Join(dir, "stale.golden")
	write(t, stale, "old\n")
	fresh := filepath.Join(dir, "sub", "dir", "new.golden")
	for path, got := range map[string]string{stale: "new\n", fresh: "created\n"} {
		if r := assert(t, "TestX", path, got); len(r.errors) > 0 {
			t.Errorf("-update failed on %s: %q", path, r.errors)
		}
		if data, err := os.ReadFile(path); err != nil || string(data) != got {
			t.Errorf("after -update %s holds %q (%v), want %q", path, data, err, got)
		}
	}
	// What -update wrote compares equal afterwards.
	withUpdate(t, false)
	if r := assert(t, "TestX", stale, "new\n"); len(r.errors) > 0 {
		t.Errorf("rewritten file does not compare equal: %q", r.errors)
	}
}

func TestDiff(t *testing.T) {
	cases := []struct {
		name, a, b, want string
	}{
		{name: "equal", a: "x\n", b: "x\n", want: ""},
		{name: "added line", a: "a\nb\n", b: "a\nb\nc\n", want: "--- want\n+++ got\n@@ -1,2 +1,3 @@\n a\n b\n+c\n"},
		{name: "from empty", a: "", b: "a\n", want: "--- want\n+++ got\n@@ -0,0 +1 @@\n+a\n"},
		{name: "missing final newline", a: "a\nb\n", b: "a\nb", want: "--- want\n+++ got\n@@ -1,2 +1,2 @@\n a\n-b\n+b\n\\ No newline at end of file\n"},
		{
			name: "distant changes are separate hunks",
			a:    "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n",
			b:    "one\n2\n3\n4\n5\n6\n7\n8\n9\nten\n",
			want: "--- want\n+++ got\n@@ -1,4 +1,4 @@\n-1\n+one\n 2\n 3\n 4\n@@ -7,4 +7,4 @@\n 7\n 8\n 9\n-10\n+ten\n",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Diff("want", "got", tc.a, tc.b); got != tc.want {
				t.Errorf("Diff:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}
