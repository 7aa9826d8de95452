package plugin

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/kubectl-mesh/kubectl-mesh/internal/buildinfo"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
)

var (
	versionLong = templates.LongDesc(`
		Print the client version of kubectl mesh, the Istio releases it installs
		by default and was tested with, and the Kubernetes version of the cluster
		it talks to.

		When the cluster cannot be reached, the client version is printed and the
		command fails, as kubectl version does.`)

	versionExample = templates.Examples(`
		# Print the client and server versions
		kubectl mesh version

		# Print the client version only; needs no cluster
		kubectl mesh version --client

		# Print both versions as JSON, for scripts
		kubectl mesh version -o json`)
)

// VersionInfo is what `kubectl mesh version -o json|yaml` prints.
type VersionInfo struct {
	ClientVersion buildinfo.Info `json:"clientVersion"`
	// Meshes are, by mesh, the release install and upgrade take by
	// default and the range tested; other versions get a warning.
	Meshes        map[string]mesh.PinnedRelease `json:"meshes,omitempty"`
	ServerVersion *version.Info                 `json:"serverVersion,omitempty"`
}

// VersionOptions holds the flags and clients of `kubectl mesh version`.
type VersionOptions struct {
	ClientOnly bool
	Output     string

	factory cmdutil.Factory
	genericiooptions.IOStreams
}

// NewCmdVersion returns `kubectl mesh version`.
func NewCmdVersion(streams genericiooptions.IOStreams, f cmdutil.Factory) *cobra.Command {
	o := &VersionOptions{IOStreams: streams}
	cmd := &cobra.Command{
		Use:     "version [--client] [-o json|yaml]",
		Short:   "Print the client and server version information",
		Long:    versionLong,
		Example: versionExample,
		Args:    cobra.NoArgs,
		RunE:    cmdutil.RunOptions(f, o),
	}
	cmd.Flags().BoolVar(&o.ClientOnly, "client", false, "If true, print the client version only; no cluster is needed.")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "Output format: one of json, yaml. Empty prints plain text.")
	return cmd
}

// Complete keeps the factory; the server is asked only without --client.
func (o *VersionOptions) Complete(f cmdutil.Factory, _ *cobra.Command, _ []string) error {
	o.factory = f
	return nil
}

// Validate checks the flags.
func (o *VersionOptions) Validate() error {
	if o.Output == "" {
		return nil
	}
	return cmdutil.ValidateOutputFormat(o.Output, "json", "yaml")
}

// Run prints the versions. A server that cannot be reached is an error, but
// only after the client version has been printed.
func (o *VersionOptions) Run(_ context.Context) error {
	info := VersionInfo{ClientVersion: buildinfo.Get(), Meshes: map[string]mesh.PinnedRelease{}}
	var pinners []mesh.Pinner
	for _, m := range o.factory.Meshes() {
		if p, ok := m.(mesh.Pinner); ok {
			pinners = append(pinners, p)
			info.Meshes[p.Name()] = p.PinnedRelease()
		}
	}
	var serverErr error
	if !o.ClientOnly {
		info.ServerVersion, serverErr = o.serverVersion()
	}

	if o.Output != "" {
		if err := cmdutil.PrintStructured(o.Out, o.Output, info); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(o.Out, "Client Version: %s\n", info.ClientVersion.Version)
		for _, p := range pinners {
			r := info.Meshes[p.Name()]
			fmt.Fprintf(o.Out, "%s Default: %s (tested: %s)\n", mesh.Title(p.Name()), r.Default, r.Tested)
		}
		if info.ServerVersion != nil {
			fmt.Fprintf(o.Out, "Server Version: %s\n", info.ServerVersion.GitVersion)
		}
	}
	if serverErr != nil {
		return fmt.Errorf("reading the server version: %w", serverErr)
	}
	return nil
}

func (o *VersionOptions) serverVersion() (*version.Info, error) {
	client, err := o.factory.ToDiscoveryClient()
	if err != nil {
		return nil, err
	}
	return client.ServerVersion()
}
