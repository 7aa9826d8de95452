package plugin

import (
	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"
)

var (
	completionLong = templates.LongDesc(`
		Output shell completion code for kubectl mesh.

		kubectl completes plugin commands by running an executable named
		kubectl_complete-mesh on the PATH; the release archive ships one. To
		complete the kubectl-mesh binary itself, load the code this command prints.`)

	completionExample = templates.Examples(`
		# Load completion for kubectl-mesh in the current bash session
		source <(kubectl mesh completion bash)

		# Install zsh completion
		kubectl mesh completion zsh > "${fpath[1]}/_kubectl-mesh"`)
)

// NewCmdCompletion returns `kubectl mesh completion SHELL`.
func NewCmdCompletion(streams genericiooptions.IOStreams) *cobra.Command {
	shells := []string{"bash", "zsh", "fish", "powershell"}
	return &cobra.Command{
		Use:                   "completion bash|zsh|fish|powershell",
		Short:                 "Output shell completion code for the specified shell",
		Long:                  completionLong,
		Example:               completionExample,
		DisableFlagsInUseLine: true,
		ValidArgs:             shells,
		Args:                  cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(streams.Out, true)
			case "zsh":
				return root.GenZshCompletion(streams.Out)
			case "fish":
				return root.GenFishCompletion(streams.Out, true)
			case "powershell":
				return root.GenPowerShellCompletionWithDesc(streams.Out)
			}
			return cmdutil.UnknownValue("", "shell", args[0], "bash", "zsh", "fish", "powershell")
		},
	}
}
