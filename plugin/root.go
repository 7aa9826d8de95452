// Package plugin holds the cobra commands of `kubectl mesh`. Commands are thin:
// they parse flags into an Options struct (Complete, Validate, Run) and call
// the packages that do the work.
package plugin

import (
	"bytes"
	"flag"
	"io"
	"strings"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/addoncmd"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/appcmd"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh/all"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/meshcmd"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/patterncmd"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perfcmd"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/policycmd"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/telemetrycmd"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/webhookcmd"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/klog/v2"
	"k8s.io/kubectl/pkg/cmd/options"
	"k8s.io/kubectl/pkg/util/templates"
)

var (
	rootLong = templates.LongDesc(`
		kubectl mesh installs, upgrades and checks Istio and Linkerd, translates one
		mesh-agnostic pattern file into mesh resources, runs load tests with fortio, and
		evaluates best-practice policies on mesh resources, in the cluster and in CI.`)

	rootExample = templates.Examples(`
		# Check the cluster, then install Istio
		kubectl mesh precheck istio
		kubectl mesh install istio

		# Translate a pattern and apply it
		kubectl mesh apply -f canary.yaml

		# Check mesh resources in CI, without a cluster
		kubectl mesh check -f manifests/`)
)

// NewCmdRoot returns the `kubectl mesh` command with every subcommand,
// grouped by product area in its help as kubectl groups its own.
func NewCmdRoot(streams genericiooptions.IOStreams) *cobra.Command {
	configFlags := genericclioptions.NewConfigFlags(true)
	f := cmdutil.NewFactory(configFlags, all.Registry())

	cmd := &cobra.Command{
		Use:     "kubectl-mesh",
		Short:   "Operate Istio and Linkerd from kubectl and CI",
		Long:    rootLong,
		Example: rootExample,
		Annotations: map[string]string{
			// Usage lines read "kubectl mesh ..." as kubectl users expect.
			cobra.CommandDisplayNameAnnotation: "kubectl mesh",
		},
		SilenceUsage:  true,
		SilenceErrors: true, // main prints the error once and maps it to an exit code
		// Runnable, as kubectl's root is, so its help points at "kubectl mesh options".
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.SetIn(streams.In)
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)

	flags := cmd.PersistentFlags()
	configFlags.AddFlags(flags)
	addKlogVerbosityFlag(flags)

	groups := templates.CommandGroups{
		{
			Message: "Mesh Lifecycle Commands:",
			Commands: []*cobra.Command{
				meshcmd.NewCmdPrecheck(streams, f),
				meshcmd.NewCmdInstall(streams, f),
				meshcmd.NewCmdUpgrade(streams, f),
				meshcmd.NewCmdUninstall(streams, f),
				meshcmd.NewCmdStatus(streams, f),
				meshcmd.NewCmdRevision(streams, f),
				meshcmd.NewCmdInject(streams, f),
				appcmd.NewCmdApp(streams, f),
				addoncmd.NewCmdAddon(streams, f),
			},
		},
		{
			Message: "Pattern Commands:",
			Commands: []*cobra.Command{
				patterncmd.NewCmdRender(streams, f),
				patterncmd.NewCmdApply(streams, f),
				patterncmd.NewCmdDiff(streams, f),
				patterncmd.NewCmdDelete(streams, f),
				patterncmd.NewCmdList(streams, f),
			},
		},
		{
			Message: "Performance Commands:",
			Commands: []*cobra.Command{
				perfcmd.NewCmdPerf(streams, f),
				telemetrycmd.NewCmdMetrics(streams, f),
			},
		},
		{
			Message: "Compliance Commands:",
			Commands: []*cobra.Command{
				policycmd.NewCmdCheck(streams, f),
				policycmd.NewCmdPolicies(streams, f),
				webhookcmd.NewCmdWebhook(streams, f),
			},
		},
	}
	groups.Add(cmd)
	cmd.AddCommand(
		NewCmdVersion(streams, f),
		NewCmdCompletion(streams),
		options.NewCmdOptions(streams.Out),
	)
	// kubectl's help: commands by group, the global flags behind
	// "kubectl mesh options", "[options]" in usage lines.
	templates.ActsAsRootCommand(cmd, []string{"options"}, groups...)
	// Flag errors stay one line (kubectl's template appends a "See ... --help"
	// line): main prints "Error: " and the message, the way CI logs read it.
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return err })
	useDisplayNameInUsage(cmd)
	disableFlagsInUseLine(cmd)
	return cmd
}

// useDisplayNameInUsage makes the hint at the end of kubectl's usage text
// read "kubectl mesh <command> --help": the template spells the root by its
// Name, kubectl-mesh, which the completion scripts need.
func useDisplayNameInUsage(cmd *cobra.Command) {
	usage := cmd.UsageFunc()
	cmd.SetUsageFunc(func(c *cobra.Command) error {
		out := c.OutOrStderr()
		var buf bytes.Buffer
		c.SetOut(&buf)
		err := usage(c)
		c.SetOut(out)
		text := strings.ReplaceAll(buf.String(), `Use "`+cmd.Name()+" ", `Use "`+cmd.DisplayName()+" ")
		if _, werr := io.WriteString(out, text); err == nil {
			err = werr
		}
		return err
	})
}

// disableFlagsInUseLine leaves "[options]" in usage lines to kubectl's help
// template, as every kubectl command does.
func disableFlagsInUseLine(cmd *cobra.Command) {
	cmd.DisableFlagsInUseLine = true
	for _, c := range cmd.Commands() {
		disableFlagsInUseLine(c)
	}
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
