package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"
)

// SaveOption changes how Save writes.
type SaveOption func(*saveOptions)

type saveOptions struct {
	overwrite bool
}

// Overwrite lets Save replace an existing result of the same name.
func Overwrite() SaveOption {
	return func(o *saveOptions) { o.overwrite = true }
}

// maxSuffix bounds the search for a free generated name.
const maxSuffix = 1000

// Save writes r as results/<r.Name>.json and returns the path. An empty
// r.Name is generated from the target and start time, made unique with -2,
// -3, ..., and set on r. An existing result is never replaced unless
// Overwrite is given.
func (s *Store) Save(r *smp.Result, opts ...SaveOption) (string, error) {
	var o saveOptions
	for _, opt := range opts {
		opt(&o)
	}
	if r == nil {
		return "", errors.New("saving result: no result")
	}
	if r.Name != "" {
		if err := ValidateName(r.Name); err != nil {
			return "", fmt.Errorf("saving result: %w", err)
		}
		if err := r.Validate(); err != nil {
			return "", fmt.Errorf("saving result %q: %w", r.Name, err)
		}
		return s.saveAs(r, r.Name, o.overwrite)
	}
	if err := r.Validate(); err != nil {
		return "", fmt.Errorf("saving result: %w", err)
	}
	base := GenerateName(r.Target(), r.StartTime)
	for i := 1; i <= maxSuffix; i++ {
		name := base
		if i > 1 {
			name = base + "-" + strconv.Itoa(i)
		}
		path, err := s.saveAs(r, name, false)
		if errors.Is(err, errExists) {
			continue
		}
		if err != nil {
			r.Name = ""
		}
		return path, err
	}
	r.Name = ""
	return "", fmt.Errorf("saving result: no free name from %s to %s-%d: give one with --name", base, base, maxSuffix)
}

// saveAs sets r.Name to name and writes it; errExists is wrapped.
func (s *Store) saveAs(r *smp.Result, name string, overwrite bool) (string, error) {
	r.Name = name
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", fmt.Errorf("saving result %q: %w", name, err)
	}
	path := s.resultPath(name)
	err = writeFile(path, append(data, '\n'), overwrite)
	if errors.Is(err, errExists) {
		return "", fmt.Errorf("saving result: result %q already exists (%s): choose another --name: %w", name, path, err)
	}
	if err != nil {
		return "", fmt.Errorf("saving result %q: %w", name, err)
	}
	return path, nil
}
