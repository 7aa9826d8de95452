package patterncmd

import (
	"context"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"
)

var (
	renderLong = templates.LongDesc(`
		Translate patterns into the resources of a mesh and print them, without
		changing the cluster. A pattern (kubectl-mesh.io/v1alpha1) states traffic,
		resilience and security intent once; render shows what it becomes for
		Istio, Linkerd, SMI or Gateway API (gamma).

		The mesh is --mesh, else spec.mesh; a Meshery pattern whose components
		all belong to one mesh targets that mesh. render never contacts a
		cluster. A feature the mesh cannot express is an error naming
		the field and the mesh; --allow-partial renders the rest with a warning.`)

	renderExample = templates.Examples(`
		# What a pattern becomes for Istio
		kubectl mesh render -f canary.yaml --mesh istio

		# The same intent for Linkerd, as JSON
		kubectl mesh render -f canary.yaml --mesh linkerd -o json

		# Check the rendered resources against the policy library
		kubectl mesh render -f canary.yaml --mesh istio | kubectl mesh check -f -`)
)

// RenderOptions holds the flags of kubectl mesh render.
type RenderOptions struct {
	patternSource
	Output string
	genericiooptions.IOStreams
}

// NewCmdRender creates `kubectl mesh render -f PATTERN`.
func NewCmdRender(streams genericiooptions.IOStreams, f cmdutil.Factory) *cobra.Command {
	o := &RenderOptions{IOStreams: streams}
	o.stdin, o.warnings = streams.In, streams.ErrOut
	cmd := &cobra.Command{
		Use:     "render -f PATTERN",
		Short:   "Print the mesh resources a pattern translates into",
		Long:    renderLong,
		Example: renderExample,
		Args:    cobra.NoArgs,
		RunE:    cmdutil.RunOptions(f, o),
	}
	o.addFlags(cmd, "render")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "yaml", "Output format: yaml or json")
	return cmd
}

// Validate checks the flags.
func (o *RenderOptions) Validate() error {
	if err := cmdutil.ValidateOutputFormat(o.Output, "yaml", "json"); err != nil {
		return err
	}
	return o.validate()
}

// Run renders and prints: a YAML stream, or a JSON v1 List as kubectl -o json prints.
func (o *RenderOptions) Run(ctx context.Context) error {
	rendered, err := o.render(ctx, false)
	if err != nil {
		return err
	}
	var items []map[string]any
	for _, r := range rendered {
		for _, obj := range r.Objects {
			items = append(items, obj.Object)
		}
	}
	return cmdutil.PrintObjects(o.Out, o.Output, items)
}
