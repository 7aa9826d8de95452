package plugin

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-mesh/kubectl-mesh/internal/inputlimit"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
)

// runRootEnv makes the test binary run kubectl mesh with its arguments
// instead of the tests: a child process whose peak memory and CPU time the
// kernel accounts on their own.
const runRootEnv = "KUBECTL_MESH_TEST_RUN_ROOT"

func TestMain(m *testing.M) {
	if os.Getenv(runRootEnv) == "1" {
		streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
		root := NewCmdRoot(streams)
		root.SetArgs(os.Args[1:])
		err := root.Execute()
		if err != nil && err.Error() != "" {
			fmt.Fprintln(os.Stderr, "Error:", err)
		}
		os.Exit(cmdutil.ExitCode(err))
	}
	os.Exit(m.Run())
}

// The bounds a command keeps on any input file of 1 MB: peak memory (the
// kernel's max RSS of the process) and CPU time (user and system: unlike
// wall time, it does not grow when the machine is busy).
const (
	hostileMaxRSS = 300 << 20
	hostileMaxCPU = 5 * time.Second
	hostileSize   = 1 << 20
)

// hostileFiles are 1 MB files of each kind that costs a reader: YAML alias
// bombs, deep nesting, a huge scalar, many documents, and their JSON
// counterparts.
func hostileFiles(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	pad := func(b *bytes.Buffer, unit func(i int) string) []byte {
		for i := 0; b.Len() < hostileSize; i++ {
			b.WriteString(unit(i))
		}
		return b.Bytes()
	}
	half := hostileSize / 2
	files := map[string][]byte{
		"aliases.yaml": pad(&bytes.Buffer{}, func(int) string { return "---\n" + string(inputlimit.BillionLaughs()) }),
		"deep.yaml":    []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata: " + strings.Repeat("[", half-40) + strings.Repeat("]", half-40) + "\n"),
		"deep-block.yaml": pad(bytes.NewBufferString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata:\n"), func(i int) string {
			return strings.Repeat(" ", min(i, 2000)) + "a:\n"
		}),
		"scalar.yaml": []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n  big: " + strings.Repeat("x", hostileSize) + "\n"),
		"documents.yaml": pad(&bytes.Buffer{}, func(i int) string {
			return fmt.Sprintf("---\napiVersion: v1\nkind: Service\nmetadata: {name: s%d, namespace: n}\nspec: {ports: [{port: 80}]}\n", i)
		}),
		"deep.json":   []byte(`{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "deep"}, "data": ` + strings.Repeat("[", half-60) + strings.Repeat("]", half-60) + "}\n"),
		"scalar.json": []byte(`{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big"}, "data": {"big": "` + strings.Repeat("x", hostileSize) + `"}}` + "\n"),
		"keys.json": pad(bytes.NewBufferString(`{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "keys"}, "data": {"k": "v"`), func(i int) string {
			return fmt.Sprintf(`, "k%d": "v"`, i)
		}),
	}
	files["keys.json"] = append(files["keys.json"], "}}\n"...)
	paths := map[string]string{}
	for name, data := range files {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		paths[name] = path
	}
	return paths
}

// Every command that reads a YAML or JSON file stays within the bounds on
// each hostile file: check and render (objects and patterns), webhook
// install's values, perf show and compare's results. A command may refuse
// a file (exit 1) or find violations in it (exit 3), never crash.
func TestHostileFilesStayWithinBounds(t *testing.T) {
	if testing.Short() {
		t.Skip("runs kubectl mesh on 1 MB files")
	}
	files := hostileFiles(t)
	home := t.TempDir()
	kubeconfig := filepath.Join(home, "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte("apiVersion: v1\nkind: Config\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A ServiceEntry for TCP without addresses: MESH1122 reads the mesh
	// config for DNS auto-allocation.
	serviceEntry := filepath.Join(home, "serviceentry.yaml")
	if err := os.WriteFile(serviceEntry, []byte("apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: db, namespace: shop}\nspec: {hosts: [db.example.com], ports: [{number: 5432, name: tcp, protocol: TCP}], resolution: DNS}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	commands := []struct {
		name string
		args func(file string) []string
		json bool // reads JSON only
	}{
		{"check", func(f string) []string { return []string{"check", "-f", f} }, false},
		{"check --mesh-config", func(f string) []string { return []string{"check", "-f", serviceEntry, "--mesh-config", f} }, false},
		{"render", func(f string) []string { return []string{"render", "-f", f, "--mesh", "istio"} }, false},
		{"webhook install values", func(f string) []string {
			return []string{"webhook", "install", "--dry-run=client", "-o", "yaml", "-f", f}
		}, false},
		{"perf show", func(f string) []string { return []string{"perf", "show", f} }, true},
		{"perf compare", func(f string) []string { return []string{"perf", "compare", f, f} }, true},
	}
	for _, c := range commands {
		for name, file := range files {
			if c.json && !strings.HasSuffix(name, ".json") {
				continue
			}
			t.Run(c.name+"/"+name, func(t *testing.T) {
				cmd := exec.Command(os.Args[0], c.args(file)...)
				cmd.Env = append(os.Environ(), runRootEnv+"=1", "KUBECONFIG="+kubeconfig, "HOME="+home, "XDG_CONFIG_HOME="+home)
				var stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = nil, &stderr
				err := cmd.Run()
				state := cmd.ProcessState
				if state == nil {
					t.Fatalf("did not run: %v", err)
				}
				if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
					t.Fatalf("killed by %v: %s", ws.Signal(), tail(stderr.String()))
				}
				if code := state.ExitCode(); code != 0 && code != 1 && code != 3 {
					t.Errorf("exit %d: %s", code, tail(stderr.String()))
				}
				rss := state.SysUsage().(*syscall.Rusage).Maxrss << 10 // KiB on Linux
				cpu := state.UserTime() + state.SystemTime()
				t.Logf("exit %d, max RSS %d MB, CPU %s: %s", state.ExitCode(), rss>>20, cpu.Round(time.Millisecond), tail(stderr.String()))
				if rss > hostileMaxRSS {
					t.Errorf("max RSS %d MB, over %d MB", rss>>20, hostileMaxRSS>>20)
				}
				if cpu > hostileMaxCPU {
					t.Errorf("CPU time %s, over %s", cpu, hostileMaxCPU)
				}
			})
		}
	}
}

// tail is the last line of a command's error output, for logs.
func tail(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	last := lines[len(lines)-1]
	if len(last) > 200 {
		last = last[:200] + "…"
	}
	return last
}
