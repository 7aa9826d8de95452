// Package plugin holds the cobra commands of `kubectl mesh`. Commands are thin:
// they parse flags into an Options struct (Complete, Validate, Run) and call
// the packages that do the work.
package plugin

import (
	"flag"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/klog/v2"
)

// NewCmdRoot returns the `kubectl mesh` command with every subcommand.
func NewCmdRoot(streams genericiooptions.IOStreams) *cobra.Command {
	configFlags := genericclioptions.NewConfigFlags(true)

	cmd := &cobra.Command{
		Use:   "kubectl-mesh",
		Short: "Operate Istio and Linkerd from kubectl and CI",
		Long: `kubectl mesh installs, upgrades and checks Istio and Linkerd, translates one
mesh-agnostic pattern file into mesh resources, runs load tests with fortio, and
evaluates best-practice policies on mesh resources, in the cluster and in CI.`,
		Annotations: map[string]string{
			// Usage lines read "kubectl mesh ..." as kubectl users expect.
			cobra.CommandDisplayNameAnnotation: "kubectl mesh",
		},
		SilenceUsage:  true,
		SilenceErrors: true, // main prints the error once and maps it to an exit code
	}
	cmd.SetIn(streams.In)
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)

	flags := cmd.PersistentFlags()
	configFlags.AddFlags(flags)
	addKlogVerbosityFlag(flags)

	cmd.AddCommand(
		NewCmdVersion(streams, configFlags),
		NewCmdInstall(streams, configFlags),
		NewCmdUpgrade(streams, configFlags),
		NewCmdUninstall(streams, configFlags),
		NewCmdStatus(streams, configFlags),
		NewCmdPrecheck(streams, configFlags),
		NewCmdRevision(streams, configFlags),
		NewCmdInject(streams, configFlags),
		NewCmdRender(streams, configFlags),
		NewCmdApply(streams, configFlags),
		NewCmdDiff(streams, configFlags),
		NewCmdDelete(streams, configFlags),
		NewCmdList(streams, configFlags),
		NewCmdPerf(streams, configFlags),
		NewCmdCheck(streams, configFlags),
		NewCmdPolicies(streams),
		NewCmdWebhook(streams, configFlags),
		NewCmdCompletion(streams),
	)
	return cmd
}

// addKlogVerbosityFlag exposes klog's -v, as kubectl does, and keeps klog's
// other flags out of the help text.
func addKlogVerbosityFlag(flags *pflag.FlagSet) {
	goFlags := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(goFlags)
	goFlags.VisitAll(func(f *flag.Flag) {
		pf := pflag.PFlagFromGoFlag(f)
		if f.Name == "v" {
			pf.Shorthand = "v"
		} else {
			pf.Hidden = true
		}
		flags.AddFlag(pf)
	})
}
