// Package checkbench compares `kubectl mesh check` with its peers offline, as
// issue 15 sets the targets: `istioctl analyze --use-kube=false` over the
// same files, and Gatekeeper's `gator test` with MESH1115 ported to a
// ConstraintTemplate (testdata/gatekeeper). Each benchmark runs both
// programs in pairs, alternating which goes first, and reports the CPU time
// (user+sys of the child), wall time and peak RSS of each and the medians of
// the per-pair ratios; hack/bench-summary.sh prints them against the targets
// (docs/architecture.md, "Measuring performance").
//
// istioctl and gator are built by `make bench-tools` (part of `make bench`,
// not of `make test`) into bin/ from their own modules under test/tools; the
// benchmarks skip when they are missing.
package checkbench

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kubectl-mesh/kubectl-mesh/internal/meshgen"
	"github.com/kubectl-mesh/kubectl-mesh/test/loadstat"
)

// 5,000 Istio objects (and the 4,100 Services, Deployments and Namespaces
// they refer to), as policycmd.BenchmarkCheck5000IstioObjects.
const benchNamespaces = 5000 / meshgen.IstioObjectsPerNamespace

// The Gatekeeper ports of the library's policies: MESH1115 by hand in
// mesh1115/, the others generated (port_test.go).
const (
	gatekeeperDir = "testdata/gatekeeper"
	mesh1115Dir   = gatekeeperDir + "/mesh1115"
)

// Exit codes: kubectl mesh exits 3 when it finds something at or above the
// severity; gator exits 1 on a violation of a deny constraint; istioctl
// analyze exits 79 when it finds an error.
const (
	meshViolation     = 3
	gatorViolation    = 1
	istioctlViolation = 79
)

// tool returns the path of a peer's binary in the repository's bin/, or
// skips: `go test ./...` stays fast and green without `make bench-tools`.
func tool(tb testing.TB, name string) string {
	tb.Helper()
	path, err := filepath.Abs(filepath.Join("..", "..", "bin", name))
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		tb.Skipf("bin/%s is missing: `make bench-tools` builds it (part of `make bench`, not of `make test`)", name)
	}
	return path
}

var (
	meshOnce sync.Once
	meshBin  string
	meshErr  error
	fileOnce sync.Once
	bigFile  string
	fileErr  error
	// scratch holds what the benchmarks of one process share: the
	// kubectl-mesh binary and the generated file. TestMain removes it.
	scratch string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "checkbench-")
	if err != nil {
		panic(err)
	}
	scratch = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// meshBinary builds kubectl-mesh from this tree once per test process, as
// CI runs it (a binary, not in process).
func meshBinary(tb testing.TB) string {
	tb.Helper()
	meshOnce.Do(func() {
		meshBin = filepath.Join(scratch, "kubectl-mesh")
		out, err := exec.Command("go", "build", "-o", meshBin, "../../cmd/kubectl-mesh").CombinedOutput()
		if err != nil {
			meshErr = &buildError{err: err, out: out}
		}
	})
	if meshErr != nil {
		tb.Fatalf("building kubectl-mesh: %v", meshErr)
	}
	return meshBin
}

type buildError struct {
	err error
	out []byte
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + string(e.out) }

// meshgenFile writes the 5,000-object file once per test process.
func meshgenFile(tb testing.TB) string {
	tb.Helper()
	fileOnce.Do(func() {
		bigFile = filepath.Join(scratch, "mesh.yaml")
		f, err := os.Create(bigFile)
		if err != nil {
			fileErr = err
			return
		}
		if err := meshgen.Write(f, benchNamespaces); err != nil {
			fileErr = err
		}
		if err := f.Close(); err != nil && fileErr == nil {
			fileErr = err
		}
	})
	if fileErr != nil {
		tb.Fatalf("writing the meshgen file: %v", fileErr)
	}
	return bigFile
}

// oneObjectFile writes the first VirtualService meshgen generates, alone.
func oneObjectFile(tb testing.TB) string {
	tb.Helper()
	var all bytes.Buffer
	if err := meshgen.Write(&all, 1); err != nil {
		tb.Fatal(err)
	}
	for doc := range bytes.SplitSeq(all.Bytes(), []byte("---\n")) {
		if bytes.Contains(doc, []byte("\nkind: VirtualService\n")) {
			path := filepath.Join(tb.TempDir(), "virtualservice.yaml")
			if err := os.WriteFile(path, doc, 0o644); err != nil {
				tb.Fatal(err)
			}
			return path
		}
	}
	tb.Fatal("meshgen wrote no VirtualService")
	return ""
}

// sample is one run of one program.
type sample struct {
	cpu, wall time.Duration
	rssKiB    int64
	stdout    []byte
}

// command is one side of a comparison: the program, its arguments and the
// exit codes that mean it did its job.
type command struct {
	name string
	argv []string
	exit []int
}

func (c command) run(tb testing.TB) sample {
	tb.Helper()
	cmd := exec.Command(c.argv[0], c.argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if cmd.ProcessState == nil {
		tb.Fatalf("%s: %v", c.name, err)
	}
	ok := false
	for _, code := range c.exit {
		ok = ok || cmd.ProcessState.ExitCode() == code
	}
	if !ok {
		tb.Fatalf("%s exited %d (want one of %v): %v\n%s", c.name, cmd.ProcessState.ExitCode(), c.exit, cmd.Args, stderr.Bytes())
	}
	return sample{
		cpu:    cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(),
		wall:   wall,
		rssKiB: cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss,
		stdout: stdout.Bytes(),
	}
}

// pairs counts the pairs run by this process, so that which side goes first
// alternates across iterations and across -count runs.
var pairs int

// compare runs ours and theirs in alternating pairs for b.N iterations and
// reports, under the prefixes ours.name and theirs.name, the median CPU time,
// wall time and the peak RSS of each, and the medians of the per-pair CPU and
// wall ratios (ours / theirs). check, when not nil, sees the first pair's
// outputs.
func compare(b *testing.B, ours, theirs command, check func(b *testing.B, ours, theirs []byte)) {
	var cpu, wall [2][]float64
	var cpuRatio, wallRatio []float64
	var rss [2]int64
	first := true
	for b.Loop() {
		var s [2]sample
		if pairs%2 == 0 {
			s[0], s[1] = ours.run(b), theirs.run(b)
		} else {
			s[1], s[0] = theirs.run(b), ours.run(b)
		}
		pairs++
		if first && check != nil {
			check(b, s[0].stdout, s[1].stdout)
		}
		first = false
		for i := range s {
			cpu[i] = append(cpu[i], s[i].cpu.Seconds())
			wall[i] = append(wall[i], s[i].wall.Seconds())
			rss[i] = max(rss[i], s[i].rssKiB)
		}
		cpuRatio = append(cpuRatio, s[0].cpu.Seconds()/s[1].cpu.Seconds())
		wallRatio = append(wallRatio, s[0].wall.Seconds()/s[1].wall.Seconds())
	}
	for i, name := range []string{ours.name, theirs.name} {
		b.ReportMetric(loadstat.Median(cpu[i]), name+"-cpu-s")
		b.ReportMetric(loadstat.Median(wall[i]), name+"-wall-s")
		b.ReportMetric(float64(rss[i])/1024, name+"-peak-RSS-MiB")
	}
	b.ReportMetric(loadstat.Median(cpuRatio), "cpu-ratio")
	b.ReportMetric(loadstat.Median(wallRatio), "wall-ratio")
}

func istioctlAnalyze(istioctl, file string) command {
	return command{
		name: "istioctl",
		argv: []string{istioctl, "analyze", "--use-kube=false", "-A", file},
		exit: []int{0, istioctlViolation},
	}
}

// BenchmarkCheckVsIstioctl5000 compares `kubectl mesh check -f FILE -o json`
// (every policy) with `istioctl analyze --use-kube=false -A FILE` over the
// 5,000-object meshgen file. Targets: CPU <= 0.8x istioctl's (aim 0.5x),
// wall time below istioctl's, peak RSS < 300 MiB.
func BenchmarkCheckVsIstioctl5000(b *testing.B) {
	istioctl := tool(b, "istioctl")
	file := meshgenFile(b)
	mesh := command{name: "mesh", argv: []string{meshBinary(b), "check", "-f", file, "-o", "json"}, exit: []int{meshViolation}}
	compare(b, mesh, istioctlAnalyze(istioctl, file), nil)
}

// BenchmarkCheckFloorVsIstioctl5000 is the floor of the comparison above:
// the same reading, conversion, inventory and index, with one trivial
// policy (a custom one reviewing every kind, finding nothing) instead of
// the library, against istioctl in the same run. What check costs above
// this is the library's policies.
func BenchmarkCheckFloorVsIstioctl5000(b *testing.B) {
	istioctl := tool(b, "istioctl")
	file := meshgenFile(b)
	dir := b.TempDir()
	floor := `# METADATA
# title: Floor
# description: Reviews every object and finds nothing.
# custom:
#   id: FLOOR001
#   severity: warning
#   enforcement: warn
#   kinds: ["*"]
package floor

import rego.v1

violation contains {"msg": "found"} if input.review.object.metadata.absent_field
`
	if err := os.WriteFile(filepath.Join(dir, "floor.rego"), []byte(floor), 0o644); err != nil {
		b.Fatal(err)
	}
	mesh := command{name: "floor", argv: []string{meshBinary(b), "check", "-f", file, "--policy-dir", dir, "--policy", "FLOOR001", "-o", "json"}, exit: []int{0}}
	compare(b, mesh, istioctlAnalyze(istioctl, file), nil)
}

// BenchmarkCheckVsIstioctlOneObject compares the same commands over a file
// of one VirtualService: what a call costs before any object (compiling,
// starting up). Target: wall time at most istioctl's.
func BenchmarkCheckVsIstioctlOneObject(b *testing.B) {
	istioctl := tool(b, "istioctl")
	file := oneObjectFile(b)
	mesh := command{name: "mesh", argv: []string{meshBinary(b), "check", "-f", file, "-o", "json"}, exit: []int{0, meshViolation}}
	compare(b, mesh, istioctlAnalyze(istioctl, file), nil)
}

// BenchmarkCheckFloorVsIstioctlOneObject is the floor of the one-object
// comparison: starting kubectl-mesh and printing its version, which reads
// no file and compiles no policy, against istioctl analyze of the one
// object in the same run.
func BenchmarkCheckFloorVsIstioctlOneObject(b *testing.B) {
	istioctl := tool(b, "istioctl")
	file := oneObjectFile(b)
	start := command{name: "start", argv: []string{meshBinary(b), "version", "--client"}, exit: []int{0}}
	compare(b, start, istioctlAnalyze(istioctl, file), nil)
}

// BenchmarkCheckVsGator5000 compares `kubectl mesh check --policy MESH1115`
// with `gator test` of the same policy as a ConstraintTemplate, over the
// 5,000-object meshgen file, both printing JSON. Target: CPU <= 0.5x gator's.
func BenchmarkCheckVsGator5000(b *testing.B) {
	gator := tool(b, "gator")
	file := meshgenFile(b)
	mesh := command{name: "mesh", argv: []string{meshBinary(b), "check", "--policy", "MESH1115", "-f", file, "-o", "json"}, exit: []int{0, meshViolation}}
	peer := command{name: "gator", argv: []string{gator, "test", "-f", mesh1115Dir, "-f", file, "-o", "json"}, exit: []int{0, gatorViolation}}
	compare(b, mesh, peer, func(b *testing.B, ours, theirs []byte) {
		m, g := meshFindings(b, ours), gatorFindings(b, theirs)
		if len(m) != len(g) {
			b.Fatalf("kubectl mesh found %d MESH1115 violations, gator %d", len(m), len(g))
		}
	})
}

// A finding as both tools can name it: the object and the message.
type finding struct{ kind, namespace, name, msg string }

func meshFindings(tb testing.TB, out []byte) map[finding]bool {
	tb.Helper()
	var report struct {
		Findings []struct {
			Message  string `json:"message"`
			Resource struct {
				Kind      string `json:"kind"`
				Namespace string `json:"namespace"`
				Name      string `json:"name"`
			} `json:"resource"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(out, &report); err != nil {
		tb.Fatalf("decoding kubectl mesh check -o json: %v\n%s", err, out)
	}
	found := map[finding]bool{}
	for _, f := range report.Findings {
		found[finding{f.Resource.Kind, f.Resource.Namespace, f.Resource.Name, f.Message}] = true
	}
	return found
}

func gatorFindings(tb testing.TB, out []byte) map[finding]bool {
	tb.Helper()
	var results []struct {
		Msg    string `json:"msg"`
		Object struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Namespace string `json:"namespace"`
				Name      string `json:"name"`
			} `json:"metadata"`
		} `json:"violatingObject"`
	}
	if err := json.Unmarshal(out, &results); err != nil {
		tb.Fatalf("decoding gator test -o json: %v\n%s", err, out)
	}
	found := map[finding]bool{}
	for _, r := range results {
		found[finding{r.Object.Kind, r.Object.Metadata.Namespace, r.Object.Metadata.Name, r.Msg}] = true
	}
	return found
}

// gatorPort is a Gatekeeper port of a library policy: the files gator reads
// for it, and the policy's directory under policies/istio, whose fixtures
// it must judge as kubectl mesh does.
type gatorPort struct {
	id, dir string
	files   []string
}

func gatorPorts() []gatorPort {
	ports := []gatorPort{{"MESH1115", "route_weights", []string{mesh1115Dir}}}
	for _, p := range generatedPorts {
		ports = append(ports, gatorPort{p.id, p.dir, []string{p.file()}})
	}
	return ports
}

// TestGatorPortFindsTheSameViolations keeps the ports honest: gator with a
// port finds exactly what kubectl mesh check --policy ID finds, on the
// policy's own fixtures (objects looked up included: gator syncs every object
// it reads into data.inventory), and for MESH1115 on
// testdata/route-weights.yaml (every case of its Rego tests as objects).
func TestGatorPortFindsTheSameViolations(t *testing.T) {
	gator := tool(t, "gator")
	mesh := meshBinary(t)
	for _, port := range gatorPorts() {
		fixtures, err := filepath.Glob(filepath.Join("..", "..", "policies", "istio", port.dir, "testdata", "*.yaml"))
		if err != nil || len(fixtures) == 0 {
			t.Fatalf("no fixtures of %s: %v", port.id, err)
		}
		if port.id == "MESH1115" {
			fixtures = append(fixtures, "testdata/route-weights.yaml")
		}
		for _, fixture := range fixtures {
			t.Run(port.id+"/"+filepath.Base(fixture), func(t *testing.T) {
				ours := command{name: "mesh", argv: []string{mesh, "check", "--policy", port.id, "-f", fixture, "-o", "json"}, exit: []int{0, meshViolation}}.run(t)
				argv := []string{gator, "test", "-o", "json", "-f", fixture}
				for _, f := range port.files {
					argv = append(argv, "-f", f)
				}
				theirs := command{name: "gator", argv: argv, exit: []int{0, gatorViolation}}.run(t)
				m, g := meshFindings(t, ours.stdout), gatorFindings(t, theirs.stdout)
				for f := range m {
					if !g[f] {
						t.Errorf("kubectl mesh found, gator did not: %+v", f)
					}
				}
				for f := range g {
					if !m[f] {
						t.Errorf("gator found, kubectl mesh did not: %+v", f)
					}
				}
				// An allowed-* fixture has no finding; any other has some, or
				// the comparison proves nothing.
				if allowed := strings.HasPrefix(filepath.Base(fixture), "allowed-"); allowed != (len(m) == 0) {
					t.Errorf("%d findings on %s", len(m), fixture)
				}
			})
		}
	}
}
