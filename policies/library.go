package policies

import (
	"embed"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kubectl-mesh/kubectl-mesh/internal/inputlimit"
)

// The library: shared helpers in lib/ and one directory per policy under
// the mesh it is about. Tests and fixtures stay out of the binary.
//
//go:embed lib/*.rego */*/policy.rego
var libraryFS embed.FS

// Library returns the embedded built-in policies and helpers, named by their
// path in the repository.
func Library() ([]Source, error) {
	var sources []Source
	err := fs.WalkDir(libraryFS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		text, err := libraryFS.ReadFile(path)
		if err != nil {
			return err
		}
		sources = append(sources, Source{Name: "policies/" + path, Text: string(text)})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the embedded policy library: %w", err)
	}
	return sources, nil
}

// LoadDir reads custom policies: every .rego file under dir except tests.
func LoadDir(dir string) ([]Source, error) {
	var sources []Source
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".rego") || strings.HasSuffix(path, "_test.rego") {
			return nil
		}
		text, err := inputlimit.ReadFile(path)
		if err != nil {
			return err
		}
		sources = append(sources, Source{Name: path, Text: string(text)})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading policies from %s: %w", dir, err)
	}
	if len(sources) == 0 {
		return nil, fmt.Errorf("reading policies from %s: no .rego files", dir)
	}
	slices.SortFunc(sources, func(a, b Source) int { return strings.Compare(a.Name, b.Name) })
	return sources, nil
}
