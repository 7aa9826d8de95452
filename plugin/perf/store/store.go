// Package store keeps load test results and baselines on disk:
//
//	<dir>/results/<name>.json    one smp.Result each, indented JSON
//	<dir>/baselines/<name>.json  a copy of the result a baseline was set
//	                             from, plus where it came from
//
// Files are written atomically (a temporary file renamed into place), so a
// reader never sees half a result and an interrupted write leaves nothing.
package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// EnvDir overrides the default directory (tests, CI).
const EnvDir = "KUBECTL_MESH_PERF_DIR"

const (
	resultsDir   = "results"
	baselinesDir = "baselines"
	ext          = ".json"
	// Results may hold request headers (tokens): keep them private.
	dirMode  = 0o700
	fileMode = 0o600
)

// ErrNotFound is wrapped by the errors for unknown result and baseline names.
var ErrNotFound = errors.New("not found")

// Store is a directory of results and baselines.
type Store struct {
	dir string
}

// DefaultDir is $KUBECTL_MESH_PERF_DIR, else $XDG_DATA_HOME/kubectl-mesh/perf,
// else ~/.local/share/kubectl-mesh/perf.
func DefaultDir() (string, error) {
	if d := os.Getenv(EnvDir); d != "" {
		return d, nil
	}
	// The XDG spec says a relative XDG_DATA_HOME is invalid and is ignored.
	if d := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "kubectl-mesh", "perf"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the results directory: %w (set %s)", err, EnvDir)
	}
	return filepath.Join(home, ".local", "share", "kubectl-mesh", "perf"), nil
}

// Open returns the store in dir, or in DefaultDir when dir is empty. The
// directories are made on the first write, so reading a fresh store works.
func Open(dir string) (*Store, error) {
	if dir == "" {
		d, err := DefaultDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("opening results directory %s: %w", dir, err)
	}
	fi, err := os.Stat(abs)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("opening results directory: %w", err)
	case !fi.IsDir():
		return nil, fmt.Errorf("opening results directory %s: not a directory", abs)
	}
	return &Store{dir: abs}, nil
}

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) resultPath(name string) string {
	return filepath.Join(s.dir, resultsDir, name+ext)
}

func (s *Store) baselinePath(name string) string {
	return filepath.Join(s.dir, baselinesDir, name+ext)
}
