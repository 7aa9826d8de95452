package pattern

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
	"github.com/kubectl-mesh/kubectl-mesh/test/sandbox"
)

// installCRDs installs Istio (a minimal control plane, which pattern
// commands detect) and applies the CRDs of the other targets.
func installCRDs(ctx context.Context, c *sandbox.Cluster) error {
	crdDir := filepath.Join(c.Dir, "pattern-crds")
	if err := os.MkdirAll(crdDir, 0o755); err != nil {
		return err
	}
	// Istio itself, from the embedded charts (no repository needed): its
	// CRDs, and a control plane that mesh detection finds.
	install := harness.Command(ctx, harness.Bin("kubectl-mesh"), "install", "istio", "--offline", "--profile", "minimal")
	if out, err := install.CombinedOutput(); err != nil {
		return fmt.Errorf("installing Istio: %v\n%s", err, out)
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	linkerd, err := renderLinkerdCRDs(root)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(crdDir, "linkerd.yaml"), []byte(linkerd), 0o644); err != nil {
		return err
	}
	sources := []string{crdDir, filepath.Join(root, "test/e2e/pattern/testdata/smi-crds.yaml")}
	for _, m := range []struct{ module, dir string }{
		{"sigs.k8s.io/gateway-api", "config/crd/standard"},
	} {
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", m.module).Output()
		if err != nil {
			return fmt.Errorf("locating %s in the module cache: %w", m.module, err)
		}
		sources = append(sources, filepath.Join(strings.TrimSpace(string(out)), m.dir))
	}
	for _, src := range sources {
		args := []string{"apply", "--server-side", "-f", src}
		if err := kubectlRun(ctx, args...); err != nil {
			return err
		}
	}
	return kubectlRun(ctx, "wait", "--for=condition=Established", "--timeout=60s", "crd", "--all")
}

// kubectlRun runs kubectl before any test, where there is no t.
func kubectlRun(ctx context.Context, args ...string) error {
	cmd := harness.Command(ctx, harness.KubectlPath, args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// renderLinkerdCRDs renders the stand-in linkerd-crds chart (Linkerd's
// charts are not on the module proxy) as helm template would.
func renderLinkerdCRDs(root string) (string, error) {
	ch, err := lifecycle.LoadChartFS(os.DirFS(filepath.Join(root, "test/charts")), "linkerd-crds")
	if err != nil {
		return "", err
	}
	return lifecycle.Render([]lifecycle.Release{{Name: "linkerd-crds", Namespace: "linkerd", Chart: ch}}, "v1.37.0")
}

// moduleRoot is the directory of this repository's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("locating go.mod: %w", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out))), nil
}
