package patterncmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/targets"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
)

// patternSource is what render, apply, diff and delete share: the pattern
// files, the mesh to translate for, and the translation itself.
type patternSource struct {
	Filenames    []string
	Recursive    bool
	Mesh         string
	AllowPartial bool

	factory   cmdutil.Factory
	namespace string
	stdin     io.Reader
	warnings  io.Writer
}

// renderedPattern is one pattern and its objects for its mesh.
type renderedPattern struct {
	Pattern *pattern.Pattern
	Mesh    string
	Objects []translate.Object
}

func (s *patternSource) addFlags(cmd *cobra.Command, verb string) {
	cmd.Flags().StringSliceVarP(&s.Filenames, "filename", "f", nil, "Pattern files or directories to "+verb+" (- for standard input); Meshery pattern files are imported")
	cmd.Flags().BoolVarP(&s.Recursive, "recursive", "R", false, "Process the directories given with -f recursively")
	cmdutil.AddMeshFlag(cmd, &s.Mesh, targets.Names(), "Translate for this mesh, overriding spec.mesh (default: spec.mesh, then the mesh installed in the cluster)")
	cmd.Flags().BoolVar(&s.AllowPartial, "allow-partial", false, "Render what the mesh can express and warn about the rest, instead of failing")
}

// Complete reads the default namespace of the patterns; they are read by
// render, after Validate.
func (s *patternSource) Complete(f cmdutil.Factory, _ *cobra.Command, _ []string) error {
	s.factory = f
	var err error
	s.namespace, _, err = f.Namespace()
	return err
}

// validate checks the flags before anything is read.
func (s *patternSource) validate() error {
	if len(s.Filenames) == 0 {
		return errors.New("-f/--filename is required: the pattern files to read")
	}
	return cmdutil.ValidateMeshFlag(s.Mesh, targets.Names()...)
}

// render loads and validates every pattern first, so that nothing is
// applied when any of them is wrong, then translates each for its mesh.
// The cluster's mesh is detected only when a pattern names none and
// useCluster is true: render and client dry runs never contact a cluster.
func (s *patternSource) render(ctx context.Context, useCluster bool) ([]renderedPattern, error) {
	patterns, err := pattern.LoadPaths(s.Filenames, s.Recursive, s.stdin, pattern.LoadOptions{DefaultNamespace: s.namespace})
	if err != nil {
		return nil, err
	}
	if len(patterns) == 0 {
		return nil, fmt.Errorf("no pattern found in %s", strings.Join(s.Filenames, ", "))
	}
	var problems []error
	for _, p := range patterns {
		if err := pattern.Validate(p); err != nil {
			problems = append(problems, err)
		}
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	detected := ""
	var out []renderedPattern
	for _, p := range patterns {
		meshName := s.Mesh
		if meshName == "" {
			meshName = p.Spec.Mesh
		}
		if meshName == "" && !useCluster {
			return nil, fmt.Errorf("pattern %q has no spec.mesh: set spec.mesh or --mesh (%s)", p.Metadata.Name, strings.Join(targets.Names(), ", "))
		}
		if meshName == "" {
			if detected == "" {
				if detected, err = s.detectMesh(ctx); err != nil {
					return nil, fmt.Errorf("pattern %q has no spec.mesh: %w", p.Metadata.Name, err)
				}
			}
			meshName = detected
		}
		t, err := targets.Get(meshName)
		if err != nil {
			return nil, fmt.Errorf("pattern %q: spec.mesh: %w", p.Metadata.Name, err)
		}
		res, err := translate.Run(t, p, translate.Options{AllowPartial: s.AllowPartial})
		if err != nil {
			return nil, fmt.Errorf("pattern %q: %w", p.Metadata.Name, err)
		}
		for _, w := range res.Warnings {
			fmt.Fprintf(s.warnings, "Warning: pattern %q: %s\n", p.Metadata.Name, w)
		}
		out = append(out, renderedPattern{Pattern: p, Mesh: meshName, Objects: res.Objects})
	}
	return out, nil
}

// detectMesh finds the one mesh whose control plane is installed.
func (s *patternSource) detectMesh(ctx context.Context) (string, error) {
	cluster, _, err := s.factory.MeshCluster(io.Discard)
	if err != nil {
		return "", fmt.Errorf("no cluster to detect the mesh from (set spec.mesh or --mesh): %w", err)
	}
	m, err := s.factory.Meshes().Detect(ctx, *cluster)
	if err != nil {
		return "", fmt.Errorf("%w: set spec.mesh or --mesh", err)
	}
	return m.Name(), nil
}
