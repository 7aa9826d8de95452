package plugin

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

func TestRootHelpReadsLikeKubectl(t *testing.T) {
	streams, _, out, _ := genericiooptions.NewTestIOStreams()
	root := NewCmdRoot(streams)
	root.SetArgs([]string{"--help"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	help := out.String()
	for _, want := range []string{
		"kubectl mesh [command]", // display name, not the binary's
		"--kubeconfig", "--context", "--namespace", "-n,",
		"-v, --v Level", // klog verbosity stays visible
		"version", "completion",
	} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q:\n%s", want, help)
		}
	}
	for _, hidden := range []string{"--logtostderr", "--vmodule", "--log_file", "--skip_headers"} {
		if strings.Contains(help, hidden) {
			t.Errorf("help shows klog flag %s", hidden)
		}
	}
}

func TestUnknownCommandFails(t *testing.T) {
	streams, _, _, _ := genericiooptions.NewTestIOStreams()
	root := NewCmdRoot(streams)
	root.SetArgs([]string{"instal"})
	err := root.Execute()
	if err == nil || !strings.Contains(err.Error(), `unknown command "instal"`) {
		t.Fatalf("got %v, want an unknown command error", err)
	}
	if ExitCode(err) != ExitError {
		t.Errorf("exit code %d, want %d", ExitCode(err), ExitError)
	}
}

func TestCompletion(t *testing.T) {
	tests := []struct {
		shell string
		want  string
	}{
		{"bash", "__start_kubectl-mesh"},
		{"zsh", "#compdef kubectl-mesh"},
		{"fish", "complete -c kubectl-mesh"},
		{"powershell", "Register-ArgumentCompleter"},
	}
	for _, tc := range tests {
		t.Run(tc.shell, func(t *testing.T) {
			streams, _, out, _ := genericiooptions.NewTestIOStreams()
			root := NewCmdRoot(streams)
			root.SetArgs([]string{"completion", tc.shell})
			if err := root.Execute(); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), tc.want) {
				t.Errorf("%s completion lacks %q", tc.shell, tc.want)
			}
		})
	}
	streams, _, _, _ := genericiooptions.NewTestIOStreams()
	root := NewCmdRoot(streams)
	root.SetArgs([]string{"completion", "tcsh"})
	if err := root.Execute(); err == nil {
		t.Error("completion tcsh: want an error for an unsupported shell")
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, ExitOK},
		{"plain error", errors.New("boom"), ExitError},
		{"violations", &ExitCodeError{Code: ExitViolation}, ExitViolation},
		{"wrapped violations", fmt.Errorf("checking: %w", &ExitCodeError{Code: ExitViolation, Err: errors.New("2 violations")}), ExitViolation},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ExitCode(tc.err); got != tc.want {
				t.Errorf("ExitCode(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
}
