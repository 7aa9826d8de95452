package store

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDefaultDir(t *testing.T) {
	tests := []struct {
		name                string
		override, xdg, home string
		want                string
	}{
		{"override wins", "/ci/perf", "/xdg", "/home/u", "/ci/perf"},
		{"XDG_DATA_HOME", "", "/xdg", "/home/u", "/xdg/kubectl-mesh/perf"},
		{"relative XDG_DATA_HOME is ignored", "", "rel/data", "/home/u", "/home/u/.local/share/kubectl-mesh/perf"},
		{"home", "", "", "/home/u", "/home/u/.local/share/kubectl-mesh/perf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvDir, tt.override)
			t.Setenv("XDG_DATA_HOME", tt.xdg)
			t.Setenv("HOME", tt.home)
			got, err := DefaultDir()
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("DefaultDir() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(file); err == nil || err.Error() != "opening results directory "+file+": not a directory" {
		t.Errorf("Open(a file) error = %v", err)
	}

	t.Setenv(EnvDir, filepath.Join(dir, "env"))
	s, err := Open("")
	if err != nil {
		t.Fatal(err)
	}
	if s.Dir() != filepath.Join(dir, "env") {
		t.Errorf("Open(\"\").Dir() = %q, want the %s directory", s.Dir(), EnvDir)
	}
	// Reading a store that was never written is not an error.
	rs, err := s.List(nil)
	if err != nil || len(rs) != 0 {
		t.Errorf("List on a fresh store = %v, %v; want none, no error", rs, err)
	}
	if _, err := os.Stat(s.Dir()); !os.IsNotExist(err) {
		t.Errorf("reading made the directory: %v", err)
	}
}
