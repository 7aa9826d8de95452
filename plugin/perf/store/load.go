package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/kubectl-mesh/kubectl-mesh/internal/inputlimit"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"
)

// Load returns the result called name, or read from name when it is a path
// to a .json file (a CI artifact, say).
func (s *Store) Load(name string) (*smp.Result, error) {
	if isPath(name) {
		return readResult(name)
	}
	if ValidateName(name) == nil {
		r, err := readResult(s.resultPath(name))
		if !errors.Is(err, fs.ErrNotExist) {
			if r != nil {
				// The file name is the result's identity in the store.
				r.Name = name
			}
			return r, err
		}
	}
	if strings.HasSuffix(name, ext) {
		if _, err := os.Stat(name); err == nil {
			return readResult(name)
		}
	}
	return nil, s.notFound("result", name, s.resultNames())
}

// isPath tells a file path from a result name.
func isPath(name string) bool {
	return strings.ContainsRune(name, '/') || strings.ContainsRune(name, filepath.Separator)
}

// readResult reads and validates one result file; errors name the file.
func readResult(path string) (*smp.Result, error) {
	data, err := inputlimit.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading result: %w", err)
	}
	var r smp.Result
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&r); err != nil {
		return nil, fmt.Errorf("reading result %s: %w", path, err)
	}
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("reading result %s: %w", path, err)
	}
	return &r, nil
}

// Delete removes the result called name. Baselines set from it stay.
func (s *Store) Delete(name string) error {
	return s.remove("result", name, s.resultPath, s.resultNames)
}

// remove deletes the file of a result or baseline; an unknown name is a
// NotFoundError suggesting the known ones.
func (s *Store) remove(kind, name string, path func(string) string, known func() []string) error {
	if ValidateName(name) == nil {
		err := os.Remove(path(name))
		if err == nil {
			return nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("deleting %s %q: %w", kind, name, err)
		}
	}
	return s.notFound(kind, name, known())
}

// names lists the names of the .json files in dir, sorted; a missing
// directory has none.
func names(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		// Dot files are temporary files of a write in progress.
		if e.IsDir() || strings.HasPrefix(n, ".") || !strings.HasSuffix(n, ext) {
			continue
		}
		out = append(out, strings.TrimSuffix(n, ext))
	}
	return out, nil
}

func (s *Store) resultNames() []string {
	n, _ := names(filepath.Join(s.dir, resultsDir))
	return n
}

func (s *Store) baselineNames() []string {
	n, _ := names(filepath.Join(s.dir, baselinesDir))
	return n
}
