package e2e

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
)

// An interrupted sandbox leaves no process behind: not on Ctrl-C, and not
// when its owner is killed outright. The next sandbox removes what a killed
// one could not.
func TestInterruptedSandboxLeavesNothingBehind(t *testing.T) {
	tests := []struct {
		name        string
		signal      syscall.Signal
		wantDirGone bool // removed by the owner itself
	}{
		{name: "Ctrl-C", signal: syscall.SIGINT, wantDirGone: true},
		{name: "kill -9 of the owner", signal: syscall.SIGKILL},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd, dir := startNestedSandbox(t)
			if pids := processesUsing(dir); len(pids) < 4 {
				t.Fatalf("found %d cluster processes using %s, want etcd, apiserver, controller-manager, scheduler and kwok", len(pids), dir)
			}

			if err := cmd.Process.Signal(tc.signal); err != nil {
				t.Fatal(err)
			}
			waitExit(t, cmd)
			deadline := time.Now().Add(10 * time.Second)
			for len(processesUsing(dir)) > 0 && time.Now().Before(deadline) {
				time.Sleep(100 * time.Millisecond)
			}
			if left := processesUsing(dir); len(left) > 0 {
				t.Fatalf("processes left behind after %s: %v", tc.name, left)
			}

			_, err := os.Stat(dir)
			if gone := os.IsNotExist(err); gone != tc.wantDirGone {
				t.Fatalf("work directory removed = %v, want %v", gone, tc.wantDirGone)
			}
			if !tc.wantDirGone {
				// The next sandbox sweeps the directory its killed owner left.
				next := exec.Command(harness.Bin("mesh-sandbox"), "--bin", harness.Cluster().BinDir, "--", "true")
				if out, err := next.CombinedOutput(); err != nil {
					t.Fatalf("next sandbox: %v\n%s", err, out)
				}
				if _, err := os.Stat(dir); !os.IsNotExist(err) {
					t.Errorf("the next sandbox did not remove the abandoned %s", dir)
				}
			}
		})
	}
}

// startNestedSandbox starts mesh-sandbox with a command that waits forever
// once the cluster answers, and returns the sandbox's work directory.
func startNestedSandbox(t *testing.T) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(harness.Bin("mesh-sandbox"), "--bin", harness.Cluster().BinDir, "--",
		"sh", "-c", `kubectl get --raw /readyz >/dev/null && echo "READY $MESH_SANDBOX_DIR" && exec sleep 600`)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if dir, ok := strings.CutPrefix(sc.Text(), "READY "); ok {
				ready <- dir
				return
			}
		}
		close(ready)
	}()
	select {
	case dir, ok := <-ready:
		if !ok || dir == "" {
			t.Fatalf("nested sandbox did not become ready:\n%s", stderr.String())
		}
		return cmd, dir
	case <-time.After(2 * time.Minute):
		t.Fatalf("nested sandbox not ready within 2 minutes:\n%s", stderr.String())
	}
	return nil, ""
}

func waitExit(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("the sandbox did not exit within a minute of the signal")
	}
}

// processesUsing lists the processes whose command line mentions dir: the
// cluster's components all take paths inside the sandbox's work directory.
func processesUsing(dir string) []string {
	entries, _ := os.ReadDir("/proc")
	var found []string
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(cmdline, []byte(dir)) {
			continue
		}
		// A process that has exited but is not reaped yet is not running.
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err == nil && bytes.Contains(stat, []byte(") Z ")) {
			continue
		}
		name := string(bytes.SplitN(cmdline, []byte{0}, 2)[0])
		found = append(found, e.Name()+":"+filepath.Base(name))
	}
	return found
}
