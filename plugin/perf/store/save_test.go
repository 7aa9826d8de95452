package store

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"
)

func TestGenerateName(t *testing.T) {
	long := strings.Repeat("a", 300) + ".example.com"
	tests := []struct {
		name, target, want string
	}{
		{"service with port", "svc/echo:8080", "echo-20261123-100000"},
		{"service", "svc/productpage", "productpage-20261123-100000"},
		{"URL", "http://127.0.0.1:8080/echo?delay=10ms", "127.0.0.1-20261123-100000"},
		{"URL with a DNS name", "https://api.Example.com:9080/", "api.example.com-20261123-100000"},
		{"URL of a Service", "https://Reviews.Bookinfo.svc:9080/", "reviews.bookinfo-20261123-100000"},
		{"URL of a Service, fully qualified", "http://reviews.bookinfo.svc.cluster.local:9080/", "reviews.bookinfo-20261123-100000"},
		{"IPv6", "http://[::1]:8080/", "1-20261123-100000"},
		{"odd characters", "svc/my_app", "my-app-20261123-100000"},
		{"empty target", "", "result-20261123-100000"},
		{"nothing usable", "svc/__", "result-20261123-100000"},
		{"too long", "https://" + long + "/", strings.Repeat("a", 233) + "-20261123-100000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A start time in another zone is written in UTC.
			got := GenerateName(tt.target, t0.In(time.FixedZone("CET", 3600)))
			if got != tt.want {
				t.Errorf("GenerateName(%q) = %q, want %q", tt.target, got, tt.want)
			}
			if err := ValidateName(got + "-999"); err != nil {
				t.Errorf("generated name with a suffix is invalid: %v", err)
			}
		})
	}
}

func TestValidateName(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"simple", "echo-20261123-100000", true},
		{"dots", "istio.1.24", true},
		{"one character", "a", true},
		{"longest", strings.Repeat("a", 253), true},
		{"too long", strings.Repeat("a", 254), false},
		{"uppercase", "Echo", false},
		{"underscore", "my_run", false},
		{"leading dash", "-run", false},
		{"trailing dot", "run.", false},
		{"slash", "a/b", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := ValidateName(tt.in); (err == nil) != tt.ok {
				t.Errorf("ValidateName(%q) = %v, want ok=%v", tt.in, err, tt.ok)
			}
		})
	}
}

func TestSaveGeneratesUniqueNames(t *testing.T) {
	s := open(t)
	var got []string
	for range 3 {
		r := newResult("", "svc/echo:8080", t0, nil)
		path, err := s.Save(r)
		if err != nil {
			t.Fatal(err)
		}
		if path != s.resultPath(r.Name) {
			t.Errorf("Save returned %s, want %s", path, s.resultPath(r.Name))
		}
		got = append(got, r.Name)
	}
	want := []string{"echo-20261123-100000", "echo-20261123-100000-2", "echo-20261123-100000-3"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("names = %v, want %v", got, want)
	}
	wantFiles := []string{
		"results/echo-20261123-100000-2.json",
		"results/echo-20261123-100000-3.json",
		"results/echo-20261123-100000.json",
	}
	// No temporary files are left behind, even from the collisions.
	if f := files(t, s.Dir()); !reflect.DeepEqual(f, wantFiles) {
		t.Errorf("files = %v, want %v", f, wantFiles)
	}
}

func TestSaveNamed(t *testing.T) {
	s := open(t)
	r := newResult("main", "svc/echo:8080", t0, map[string]string{"mesh": "istio"})
	path, err := s.Save(r)
	if err != nil {
		t.Fatal(err)
	}
	// Indented JSON that reads back to the same result; private file.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "{\n  \"smp_version\": \"v0.6.1\",\n  \"id\": \"\",\n  \"name\": \"main\",") || !strings.HasSuffix(string(data), "}\n") {
		t.Errorf("file is not indented JSON:\n%s", data)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != fileMode {
		t.Errorf("file mode = %v, want %v", fi.Mode().Perm(), os.FileMode(fileMode))
	}
	got, err := s.Load("main")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(r)
	if back, _ := json.Marshal(got); string(back) != string(want) {
		t.Errorf("Load after Save:\n got %s\nwant %s", back, want)
	}

	// Never overwritten by default...
	again := newResult("main", "svc/other", t0.Add(time.Hour), nil)
	_, err = s.Save(again)
	wantErr := `saving result: result "main" already exists (` + path + `): choose another --name: exists`
	if err == nil || err.Error() != wantErr {
		t.Errorf("Save over an existing result: error\n got %v\nwant %s", err, wantErr)
	}
	if after, _ := os.ReadFile(path); string(after) != string(data) {
		t.Errorf("a failed Save changed the file")
	}
	// ...only with Overwrite.
	if _, err := s.Save(again, Overwrite()); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Load("main"); got.Target() != "svc/other" {
		t.Errorf("after Overwrite, target = %q, want svc/other", got.Target())
	}
	if f := files(t, s.Dir()); !reflect.DeepEqual(f, []string{"results/main.json"}) {
		t.Errorf("files = %v, want only results/main.json", f)
	}
}

func TestSaveErrors(t *testing.T) {
	tests := []struct {
		name    string
		modify  func(r *smp.Result)
		wantErr string
	}{
		{"invalid name", func(r *smp.Result) { r.Name = "My_Run" },
			`saving result: invalid name "My_Run": use lowercase letters, digits, '-' and '.', starting and ending with a letter or digit`},
		{"invalid result", func(r *smp.Result) { r.Name = "run"; r.Histogram.Count = 3 },
			`saving result "run": histogram.count (3) differs from requests (1000)`},
		{"invalid result without a name", func(r *smp.Result) { r.SMPVersion = "" },
			`saving result: smp_version is empty`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			r := newResult("", "svc/echo", t0, nil)
			tt.modify(r)
			_, err := s.Save(r)
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("Save error = %v, want %s", err, tt.wantErr)
			}
			if f := files(t, s.Dir()); len(f) != 0 {
				t.Errorf("a failed Save left files: %v", f)
			}
		})
	}
	if _, err := open(t).Save(nil); err == nil {
		t.Error("Save(nil) succeeded")
	}
}

func TestSaveDoesNotClobberConcurrentWriters(t *testing.T) {
	s := open(t)
	const n = 8
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := s.Save(newResult("", "svc/echo", t0, nil))
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if f := files(t, s.Dir()); len(f) != n {
		t.Errorf("%d writers left %d files, want %d: %v", n, len(f), n, f)
	}
	if _, err := os.Stat(s.resultPath("echo-20261123-100000-8")); err != nil {
		t.Errorf("want suffixes up to -8: %v", err)
	}
}
