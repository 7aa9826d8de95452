package meshcmd

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/kubectl-mesh/kubectl-mesh/test/cmdrun"
	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
)

// Ctrl-C while an install waits for istiod leaves a state that the next
// run repairs: the interrupted release is undone and a re-run installs.
// Both runs install the embedded charts (--offline), which need no
// repository.
func TestInterruptedInstallIsRepairedByARerun(t *testing.T) {
	// istiod's pods can never schedule: the install waits until interrupted.
	cmd := harness.Command(context.Background(), harness.Bin("kubectl-mesh"), "install", "istio", "--offline", "--profile", "minimal",
		"--set", "pilot.nodeSelector.kubectl-mesh-e2e=nowhere", "--timeout", "5m")
	var stdout, stderr cmdrun.SyncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, 2*time.Minute, true, func(context.Context) (bool, error) {
		return strings.Contains(stderr.String(), "istiod: installing"), nil
	})
	if err != nil {
		t.Fatalf("the install never reached istiod:\n%s", stderr.String())
	}
	time.Sleep(time.Second) // into the wait
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatalf("the interrupted install exited 0:\n%s", stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatalf("the install did not stop within a minute of Ctrl-C:\n%s", stderr.String())
	}

	r := harness.Must(t, harness.Mesh(t, "install", "istio", "--offline", "--profile", "minimal", "--timeout", "2m"))
	if !strings.HasPrefix(r.Stderr, "warning: --offline: ") || !strings.Contains(r.Stderr, "not for production") {
		t.Errorf("--offline without its notice first on stderr:\n%s", r.Stderr)
	}
	if st := istioStatus(t); !revisionReady(st, "default") {
		t.Errorf("istiod not ready after the re-run: %+v", st.Revisions)
	}
	harness.Must(t, harness.Mesh(t, "uninstall", "istio", "--force"))
}
