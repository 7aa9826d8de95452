// Package cmdrun runs programs (kubectl, kubectl-mesh) against a sandbox
// cluster for the end-to-end tests, keeping their output and exit code.
package cmdrun

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Result is one run of a program.
type Result struct {
	Stdout, Stderr string
	Code           int
}

func (r Result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
}

// Run runs bin with args and stdin, with KUBECONFIG set to kubeconfig. A
// program that exits non-zero is a Result; one that cannot start fails t.
// The program ends with the test; run from a Cleanup, where the test's
// context is already done, it runs to its end.
func Run(t testing.TB, kubeconfig, stdin, bin string, args ...string) Result {
	t.Helper()
	ctx := t.Context()
	if ctx.Err() != nil {
		ctx = context.Background()
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		r.Code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("running %s %s: %v", bin, strings.Join(args, " "), err)
	}
	// With -v, or when the test fails, every command shows how long it took.
	t.Logf("%s %s: exit %d after %s", filepath.Base(bin), strings.Join(args, " "), r.Code, time.Since(start).Round(time.Millisecond))
	return r
}

// Must fails t unless r exited 0.
func Must(t testing.TB, r Result) Result {
	t.Helper()
	if r.Code != 0 {
		t.Fatalf("command failed: %v", r)
	}
	return r
}

// Namespace creates namespace name with kubectl for one test and deletes it
// (without waiting) when the test ends.
func Namespace(t testing.TB, kubeconfig, name string) string {
	t.Helper()
	Must(t, Run(t, kubeconfig, "", "/usr/bin/kubectl", "create", "namespace", name))
	t.Cleanup(func() {
		// t's context is done by now: a plain command.
		cmd := exec.Command("/usr/bin/kubectl", "delete", "namespace", name, "--wait=false")
		cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
		_ = cmd.Run()
	})
	return name
}

// Build builds the packages' commands into dir, so that a test never runs
// a stale bin/; with the Go build cache it is a link step.
func Build(dir string, packages ...string) error {
	args := append([]string{"build", "-o", dir + string(os.PathSeparator)}, packages...)
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("building %s: %v\n%s", strings.Join(packages, " "), err, out)
	}
	return nil
}

// SyncBuffer collects a process's output while a test reads it: a
// bytes.Buffer safe for one writer and concurrent readers.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
