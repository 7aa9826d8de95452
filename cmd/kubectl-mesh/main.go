// Command kubectl-mesh is the `kubectl mesh` plugin.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/cli-runtime/pkg/genericiooptions"
	_ "k8s.io/client-go/plugin/pkg/client/auth" // exec and OIDC credential plugins in kubeconfigs
	"k8s.io/client-go/rest"

	"github.com/kubectl-mesh/kubectl-mesh/plugin"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
)

func main() {
	// The first Ctrl-C cancels the command's context, so an install stops
	// waiting and leaves a release state a re-run repairs; a second one
	// kills the process as usual.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	// Admission warnings (the webhook's warn policies) print as kubectl
	// prints them, "Warning: ...", instead of as klog lines.
	rest.SetDefaultWarningHandler(rest.NewWarningWriter(streams.ErrOut, rest.WarningWriterOptions{Deduplicate: true}))
	err := plugin.NewCmdRoot(streams).ExecuteContext(ctx)
	stop()
	if err != nil && err.Error() != "" {
		fmt.Fprintln(os.Stderr, "Error:", err)
	}
	os.Exit(cmdutil.ExitCode(err))
}
