package policycmd

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/kubectl-mesh/kubectl-mesh/internal/meshgen"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil/cmdtesting"
)

// checkBenchNamespaces gives 5,000 Istio objects (and 4,100 Services,
// Deployments and Namespaces they refer to).
const checkBenchNamespaces = 5000 / meshgen.IstioObjectsPerNamespace

func writeBenchManifests(b *testing.B) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "mesh.yaml")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := meshgen.Write(f, checkBenchNamespaces); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkCheck5000IstioObjects runs kubectl mesh check in process over
// generated files: reading, inventory, every policy, JSON output.
func BenchmarkCheck5000IstioObjects(b *testing.B) {
	path := writeBenchManifests(b)
	for b.Loop() {
		_, errOut, err := cmdtesting.NewFactory(b).Run(b, "", []string{"check", "-f", path, "-o", "json"}, NewCmdCheck)
		if cmdutil.ExitCode(err) != cmdutil.ExitViolation {
			b.Fatalf("exit code %d, want 3 (the generated files have findings): %v\n%s", cmdutil.ExitCode(err), err, errOut)
		}
	}
}

// BenchmarkCheckBinary5000IstioObjects runs the built binary, as CI does,
// and reports its peak resident set size.
func BenchmarkCheckBinary5000IstioObjects(b *testing.B) {
	path := writeBenchManifests(b)
	bin := filepath.Join(b.TempDir(), "kubectl-mesh")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/kubectl-mesh").CombinedOutput(); err != nil {
		b.Fatalf("building kubectl-mesh: %v\n%s", err, out)
	}
	var peakKiB int64
	for b.Loop() {
		cmd := exec.Command(bin, "check", "-f", path, "-o", "json")
		cmd.Stdout, cmd.Stderr = nil, nil
		err := cmd.Run()
		if exit := new(exec.ExitError); !errors.As(err, &exit) || exit.ExitCode() != cmdutil.ExitViolation {
			b.Fatalf("exit %v, want 3", err)
		}
		if rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss; rss > peakKiB {
			peakKiB = rss
		}
	}
	b.ReportMetric(float64(peakKiB)/1024, "peak-RSS-MiB")
}
