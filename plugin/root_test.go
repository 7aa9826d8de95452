package plugin

import (
	"strings"
	"testing"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"
)

func TestRootHelpReadsLikeKubectl(t *testing.T) {
	help := func(args ...string) string {
		streams, _, out, _ := genericiooptions.NewTestIOStreams()
		root := NewCmdRoot(streams)
		root.SetArgs(args)
		if err := root.Execute(); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	root := help("--help")
	for _, want := range []string{
		// kubectl's CommandGroups, in this order
		"Mesh Lifecycle Commands:\n  precheck ", "\n\nPattern Commands:\n  render ",
		"\n\nPerformance Commands:\n  perf ", "\n\nCompliance Commands:\n  check ",
		"\n\nOther Commands:\n  completion ", "  version ",
		// the display name, not the binary's
		`Use "kubectl mesh <command> --help" for more information about a given command.`,
		`Use "kubectl mesh options" for a list of global command-line options (applies to all commands).`,
	} {
		if !strings.Contains(root, want) {
			t.Errorf("help lacks %q:\n%s", want, root)
		}
	}
	if strings.Contains(root, "kubectl-mesh") || strings.Contains(root, "--kubeconfig") {
		t.Errorf("help names the binary or lists the global flags (kubectl mesh options does):\n%s", root)
	}
	if sub := help("install", "--help"); !strings.Contains(sub, "Usage:\n  kubectl mesh install istio|linkerd [options]\n") || strings.Contains(sub, "--kubeconfig") {
		t.Errorf("install --help: want kubectl's usage line and no global flags:\n%s", sub)
	}
	options := help("options")
	for _, want := range []string{"--kubeconfig=", "--context=", "-n, --namespace=", "-v, --v=0"} {
		if !strings.Contains(options, want) {
			t.Errorf("options lacks %q:\n%s", want, options)
		}
	}
	for _, hidden := range []string{"--logtostderr", "--vmodule", "--log_file", "--skip_headers"} {
		if strings.Contains(options, hidden) {
			t.Errorf("options shows klog flag %s", hidden)
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
	if cmdutil.ExitCode(err) != cmdutil.ExitError {
		t.Errorf("exit code %d, want %d", cmdutil.ExitCode(err), cmdutil.ExitError)
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

// Every command, subcommands included, has kubectl's help text: Short, Long
// and Example, the examples indented as templates.Examples makes them.
func TestEveryCommandHasHelpText(t *testing.T) {
	streams, _, _, _ := genericiooptions.NewTestIOStreams()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		name := c.CommandPath()
		if c.Short == "" {
			t.Errorf("%s: no Short", name)
		}
		if c.Long == "" {
			t.Errorf("%s: no Long", name)
		}
		if c.Example == "" {
			t.Errorf("%s: no Example", name)
		} else if c.Example != templates.Examples(c.Example) {
			t.Errorf("%s: Example is not indented as templates.Examples makes it:\n%s", name, c.Example)
		}
		if strings.Contains(c.Use, "[flags]") || !c.DisableFlagsInUseLine {
			t.Errorf("%s: usage line %q: kubectl's help adds [options] itself", name, c.UseLine())
		}
		for _, sub := range c.Commands() {
			if sub.Name() != "help" {
				walk(sub)
			}
		}
	}
	walk(NewCmdRoot(streams))
}
