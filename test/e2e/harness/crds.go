package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/kubectl-mesh/kubectl-mesh/test/sandbox"
)

// CRDFiles are the CRDs of Istio and of OpenReports from the modules this
// tree builds against (the Go module cache): the real schemas, never
// copies.
func CRDFiles() ([]string, error) {
	dir := func(module string) (string, error) {
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", module).Output()
		if err != nil {
			return "", fmt.Errorf("locating the %s module: %w", module, err)
		}
		return strings.TrimSpace(string(out)), nil
	}
	istio, err := dir("istio.io/istio")
	if err != nil {
		return nil, err
	}
	reports, err := dir("github.com/openreports/reports-api")
	if err != nil {
		return nil, err
	}
	return []string{
		filepath.Join(istio, "manifests", "charts", "base", "files", "crd-all.gen.yaml"),
		filepath.Join(reports, "config", "crd", "openreports.io_reports.yaml"),
		filepath.Join(reports, "config", "crd", "openreports.io_clusterreports.yaml"),
	}, nil
}

// InstallCRDs applies CRDFiles to c and waits until they are established:
// an Options.Setup for packages that write Istio objects and read audit
// reports.
func InstallCRDs(ctx context.Context, c *sandbox.Cluster) error {
	files, err := CRDFiles()
	if err != nil {
		return err
	}
	apply := []string{"apply", "--server-side"}
	for _, f := range files {
		apply = append(apply, "-f", f)
	}
	for _, args := range [][]string{apply, {"wait", "--for=condition=Established", "--timeout=60s", "crd", "--all"}} {
		cmd := exec.CommandContext(ctx, KubectlPath, args...)
		cmd.Env = append(os.Environ(), "KUBECONFIG="+c.Kubeconfig)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("kubectl %s: %w\n%s", strings.Join(args, " "), err, out)
		}
	}
	return nil
}
