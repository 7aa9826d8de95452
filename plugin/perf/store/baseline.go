package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"time"

	"github.com/kubectl-mesh/kubectl-mesh/internal/inputlimit"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"
)

// DefaultBaseline is the baseline's name when none is given.
const DefaultBaseline = "default"

// BaselineInfo describes one baseline.
type BaselineInfo struct {
	Name string `json:"name"`
	// Result is the name of the result the baseline was set from; the
	// baseline keeps a copy, so it survives that result's deletion.
	Result string    `json:"result"`
	SetAt  time.Time `json:"set_at"`
	// From the result.
	Target    string    `json:"target"`
	StartTime time.Time `json:"start_time"`
}

// baselineFile is a result with a "baseline" field on top, so a baseline
// file is still a result file that Load can read by path.
type baselineFile struct {
	Baseline baselineMeta `json:"baseline"`
	*smp.Result
}

type baselineMeta struct {
	Name   string    `json:"name"`
	Result string    `json:"result"`
	SetAt  time.Time `json:"set_at"`
}

// SetBaseline makes baseline a copy of the result called resultName (or read
// from that path), replacing what baseline was before.
func (s *Store) SetBaseline(baseline, resultName string) error {
	if err := ValidateName(baseline); err != nil {
		return fmt.Errorf("setting baseline: %w", err)
	}
	r, err := s.Load(resultName)
	if err != nil {
		return fmt.Errorf("setting baseline %q: %w", baseline, err)
	}
	f := baselineFile{
		Baseline: baselineMeta{Name: baseline, Result: r.Name, SetAt: time.Now().UTC().Truncate(time.Second)},
		Result:   r,
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("setting baseline %q: %w", baseline, err)
	}
	if err := writeFile(s.baselinePath(baseline), append(data, '\n'), true); err != nil {
		return fmt.Errorf("setting baseline %q: %w", baseline, err)
	}
	return nil
}

// Baseline returns the result baseline name was set from (its copy).
func (s *Store) Baseline(name string) (*smp.Result, error) {
	f, err := s.readBaseline(name)
	if err != nil {
		return nil, err
	}
	return f.Result, nil
}

// readBaseline reads and validates baselines/<name>.json.
func (s *Store) readBaseline(name string) (*baselineFile, error) {
	if ValidateName(name) != nil {
		return nil, s.notFound("baseline", name, s.baselineNames())
	}
	path := s.baselinePath(name)
	data, err := inputlimit.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, s.notFound("baseline", name, s.baselineNames())
	}
	if err != nil {
		return nil, fmt.Errorf("reading baseline: %w", err)
	}
	f := baselineFile{Result: &smp.Result{}}
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("reading baseline %s: %w", path, err)
	}
	if err := f.Result.Validate(); err != nil {
		return nil, fmt.Errorf("reading baseline %s: %w", path, err)
	}
	return &f, nil
}

// Baselines lists the baselines by name. Unreadable files come back as a
// *ListWarning together with the baselines that could be read.
func (s *Store) Baselines() ([]BaselineInfo, error) {
	ns, err := names(filepath.Join(s.dir, baselinesDir))
	if err != nil {
		return nil, fmt.Errorf("listing baselines: %w", err)
	}
	var (
		out  []BaselineInfo
		warn = ListWarning{Kind: "baseline"}
	)
	for _, n := range ns {
		f, err := s.readBaseline(n)
		if err != nil {
			warn.Errs = append(warn.Errs, err)
			continue
		}
		out = append(out, BaselineInfo{
			Name:      n,
			Result:    f.Baseline.Result,
			SetAt:     f.Baseline.SetAt,
			Target:    f.Result.Target(),
			StartTime: f.Result.StartTime,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	if len(warn.Errs) > 0 {
		return out, &warn
	}
	return out, nil
}

// DeleteBaseline removes baseline name; the result it was set from stays.
func (s *Store) DeleteBaseline(name string) error {
	return s.remove("baseline", name, s.baselinePath, s.baselineNames)
}

// Find resolves what --compare-to and compare's arguments name: a
// baseline, else a result, else a path to a result file.
func (s *Store) Find(name string) (*smp.Result, error) {
	if !isPath(name) && ValidateName(name) == nil {
		r, err := s.Baseline(name)
		if !errors.Is(err, ErrNotFound) {
			return r, err
		}
	}
	r, err := s.Load(name)
	var nf *NotFoundError
	if errors.As(err, &nf) {
		// Suggest from both namespaces.
		known := append(s.resultNames(), s.baselineNames()...)
		return nil, &NotFoundError{Kind: "result or baseline", Name: name, Suggestions: closeMatches(name, known)}
	}
	return r, err
}
