package store

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"testing"
	"time"
)

func TestBaselines(t *testing.T) {
	s := open(t)
	mustSave(t, s, newResult("run-1", "svc/echo", t0, nil))
	mustSave(t, s, newResult("run-2", "svc/echo", t0.Add(time.Hour), nil))

	if err := s.SetBaseline("main", "run-1"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetBaseline("release.1.2", "run-2"); err != nil {
		t.Fatal(err)
	}
	// Removing the result never breaks its baseline.
	if err := s.Delete("run-1"); err != nil {
		t.Fatal(err)
	}
	r, err := s.Baseline("main")
	if err != nil {
		t.Fatal(err)
	}
	if r.Name != "run-1" || !r.StartTime.Equal(t0) {
		t.Errorf("Baseline(main) = %s started %s, want run-1 started %s", r.Name, r.StartTime, t0)
	}

	// Moving a baseline replaces it.
	before := time.Now().UTC().Add(-time.Second)
	if err := s.SetBaseline("main", "run-2"); err != nil {
		t.Fatal(err)
	}
	infos, err := s.Baselines()
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 2 || infos[0].SetAt.Before(before) {
		t.Fatalf("Baselines() = %+v", infos)
	}
	for i := range infos {
		infos[i].SetAt = time.Time{}
	}
	want := []BaselineInfo{
		{Name: "main", Result: "run-2", Target: "svc/echo", StartTime: t0.Add(time.Hour)},
		{Name: "release.1.2", Result: "run-2", Target: "svc/echo", StartTime: t0.Add(time.Hour)},
	}
	if !reflect.DeepEqual(infos, want) {
		t.Errorf("Baselines() =\n%+v\nwant\n%+v", infos, want)
	}

	// A baseline file is a result file: it loads by path, and records
	// where it came from.
	path := s.baselinePath("main")
	if r, err := s.Load(path); err != nil || r.Name != "run-2" {
		t.Errorf("Load(%s) = %v, %v", path, r, err)
	}
	data, _ := os.ReadFile(path)
	var meta struct {
		Baseline struct{ Name, Result string } `json:"baseline"`
	}
	if err := json.Unmarshal(data, &meta); err != nil || meta.Baseline.Name != "main" || meta.Baseline.Result != "run-2" {
		t.Errorf("baseline file records %+v, %v", meta.Baseline, err)
	}

	if err := s.DeleteBaseline("release.1.2"); err != nil {
		t.Fatal(err)
	}
	if f := files(t, s.Dir()); !reflect.DeepEqual(f, []string{"baselines/main.json", "results/run-2.json"}) {
		t.Errorf("files = %v", f)
	}
}

func TestBaselineErrors(t *testing.T) {
	s := open(t)
	mustSave(t, s, newResult("run-1", "svc/echo", t0, nil))
	if err := s.SetBaseline("main", "run-1"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		do   func() error
		want string
	}{
		{"set from an unknown result", func() error { return s.SetBaseline("main", "run-2") },
			`setting baseline "main": no result named "run-2": did you mean "run-1"? (kubectl mesh perf list shows the results)`},
		{"invalid baseline name", func() error { return s.SetBaseline("Main", "run-1") },
			`setting baseline: invalid name "Main": use lowercase letters, digits, '-' and '.', starting and ending with a letter or digit`},
		{"unknown baseline", func() error { _, err := s.Baseline("mian"); return err },
			`no baseline named "mian": did you mean "main"? (kubectl mesh perf baseline list shows the baselines)`},
		{"delete unknown baseline", func() error { return s.DeleteBaseline("release") },
			`no baseline named "release": kubectl mesh perf baseline list shows the baselines`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do()
			if err == nil || err.Error() != tt.want {
				t.Errorf("error\n got %v\nwant %s", err, tt.want)
			}
		})
	}
	// A failed set leaves the baseline as it was.
	if r, err := s.Baseline("main"); err != nil || r.Name != "run-1" {
		t.Errorf("Baseline(main) = %v, %v", r, err)
	}
}

func TestBaselinesSkipsUnreadableFiles(t *testing.T) {
	s := open(t)
	mustSave(t, s, newResult("run-1", "svc/echo", t0, nil))
	if err := s.SetBaseline("main", "run-1"); err != nil {
		t.Fatal(err)
	}
	bad := s.baselinePath("bad")
	if err := os.WriteFile(bad, []byte(`{"baseline": {}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	infos, err := s.Baselines()
	var warn *ListWarning
	if !errors.As(err, &warn) || err.Error() != "skipped 1 unreadable baseline file(s): reading baseline "+bad+": smp_version is empty" {
		t.Errorf("Baselines() error = %v", err)
	}
	if len(infos) != 1 || infos[0].Name != "main" {
		t.Errorf("Baselines() = %+v, want main", infos)
	}
}

func TestFind(t *testing.T) {
	s := open(t)
	mustSave(t, s, newResult("run-1", "svc/echo", t0, nil))
	mustSave(t, s, newResult("main", "svc/result-named-main", t0, nil))
	if err := s.SetBaseline("main", "run-1"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, arg, want, wantErr string
	}{
		{"baseline before result", "main", "run-1", ""},
		{"result", "run-1", "run-1", ""},
		{"path", s.resultPath("main"), "main", ""},
		{"unknown", "mains", "", `no result or baseline named "mains": did you mean "main"? (kubectl mesh perf list shows the results)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := s.Find(tt.arg)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr || !errors.Is(err, ErrNotFound) {
					t.Errorf("Find(%q) error = %v, want %s", tt.arg, err, tt.wantErr)
				}
				return
			}
			if err != nil || r.Name != tt.want {
				t.Errorf("Find(%q) = %v, %v; want %s", tt.arg, r, err, tt.want)
			}
		})
	}
}
