package apply

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// FileName is kubectl diff's file name for an object:
// group.version.kind.namespace.name, without the group of core kinds.
func (r Ref) FileName() string {
	name := fmt.Sprintf("%s.%s.%s.%s", r.Version, r.Kind, r.Namespace, r.Name)
	if r.Group != "" {
		name = r.Group + "." + name
	}
	return name
}

// WriteDirs writes one YAML file per object into live and merged, as
// kubectl diff does; an absent side has no file (diff -N shows it as
// added or removed).
func (r *DiffResult) WriteDirs(live, merged string) error {
	for _, d := range r.Objects {
		if d.Err != nil {
			continue
		}
		for _, side := range []struct {
			dir string
			obj *unstructured.Unstructured
		}{{live, d.Live}, {merged, d.Merged}} {
			if side.obj == nil {
				continue
			}
			b, err := yaml.Marshal(side.obj.Object)
			if err != nil {
				return fmt.Errorf("writing %s: %w", d.Ref, err)
			}
			if err := os.WriteFile(filepath.Join(side.dir, d.Ref.FileName()), b, 0o600); err != nil {
				return fmt.Errorf("writing %s: %w", d.Ref, err)
			}
		}
	}
	return nil
}

// Print writes the LIVE and MERGED directories and runs the diff program
// on them, as kubectl diff does: $KUBECTL_EXTERNAL_DIFF when set (a
// command and its flags), else `diff -u -N`. It returns whether the
// program found differences (its exit status 1).
func (r *DiffResult) Print(ctx context.Context, out, errOut io.Writer) (bool, error) {
	tmp, err := os.MkdirTemp("", "kubectl-mesh-diff-")
	if err != nil {
		return false, fmt.Errorf("creating the diff directories: %w", err)
	}
	defer os.RemoveAll(tmp)
	live, merged := filepath.Join(tmp, "LIVE"), filepath.Join(tmp, "MERGED")
	for _, d := range []string{live, merged} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return false, fmt.Errorf("creating the diff directories: %w", err)
		}
	}
	if err := r.WriteDirs(live, merged); err != nil {
		return false, err
	}
	args := diffCommand(os.Getenv("KUBECTL_EXTERNAL_DIFF"))
	cmd := exec.CommandContext(ctx, args[0], append(args[1:], live, merged)...)
	cmd.Stdout, cmd.Stderr = out, errOut
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 1 {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("running %s: %w", strings.Join(args, " "), err)
	}
	return false, nil
}

// diffCommand splits $KUBECTL_EXTERNAL_DIFF; empty means diff -u -N.
func diffCommand(external string) []string {
	if f := strings.Fields(external); len(f) > 0 {
		return f
	}
	return []string{"diff", "-u", "-N"}
}
