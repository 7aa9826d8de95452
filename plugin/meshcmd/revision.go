package meshcmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/table"
)

var (
	revisionLong = templates.LongDesc(`
		Manage Istio control plane revisions. A revisioned control plane
		(kubectl mesh install istio --revision NAME) runs beside the others; revision
		tags give revisions stable names that namespaces enrol with, so a canary
		upgrade moves namespaces by moving a tag.`)

	revisionExample = templates.Examples(`
		# Install a canary revision, then point the prod tag at it
		kubectl mesh install istio --revision canary
		kubectl mesh revision tag set prod --revision canary --overwrite`)

	revisionTagLong = templates.LongDesc(`
		Istio revision tags, as istioctl tag: a tag is a stable name (prod, canary,
		default) for a control plane revision. Namespaces enrol with istio.io/rev=TAG,
		and moving the tag to a new revision moves every such namespace at once (their
		workloads pick the new proxies up when restarted). The "default" tag also
		serves namespaces labelled istio-injection=enabled.`)

	revisionTagExample = templates.Examples(`
		# Point prod at the canary revision
		kubectl mesh revision tag set prod --revision canary --overwrite

		# List tags, their revisions and the namespaces using them
		kubectl mesh revision tag list

		# Remove a tag no namespace uses any more
		kubectl mesh revision tag remove prod`)

	revisionTagSetLong = templates.LongDesc(`
		Point a revision tag at a control plane revision, creating the tag or, with
		--overwrite, moving it. Namespaces labelled istio.io/rev=TAG get the proxies
		of that revision for the pods created from then on.`)

	revisionTagSetExample = templates.Examples(`
		# Create the prod tag on the 1-30 revision
		kubectl mesh revision tag set prod --revision 1-30

		# Move prod to the canary revision
		kubectl mesh revision tag set prod --revision canary --overwrite`)

	revisionTagListLong = templates.LongDesc(`
		List the revision tags, the revision each points at and the namespaces
		that use each.`)

	revisionTagListExample = templates.Examples(`
		# The tags as a table
		kubectl mesh revision tag list

		# The tags as JSON
		kubectl mesh revision tag list -o json`)

	revisionTagRemoveLong = templates.LongDesc(`
		Remove a revision tag. A tag that namespaces still use is kept unless
		--force says otherwise: their new pods would get no proxy.`)

	revisionTagRemoveExample = templates.Examples(`
		# Remove a tag no namespace uses any more
		kubectl mesh revision tag remove prod

		# Remove it even while namespaces use it
		kubectl mesh revision tag remove prod --force`)
)

// NewCmdRevision creates `kubectl mesh revision tag set|list|remove`.
func NewCmdRevision(streams genericiooptions.IOStreams, factory cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "revision",
		Short:   "Manage Istio control plane revisions and their tags",
		Long:    revisionLong,
		Example: revisionExample,
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	tag := &cobra.Command{
		Use:     "tag",
		Short:   "Set, list and remove Istio revision tags",
		Long:    revisionTagLong,
		Example: revisionTagExample,
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	set := &RevisionTagSetOptions{IOStreams: streams}
	setCmd := &cobra.Command{
		Use:     "set TAG --revision REVISION",
		Short:   "Point a tag at a revision",
		Long:    revisionTagSetLong,
		Example: revisionTagSetExample,
		Args:    cobra.ExactArgs(1),
		RunE:    cmdutil.RunOptions(factory, set),
	}
	setCmd.Flags().StringVar(&set.Revision, "revision", "", "Control plane revision the tag points at")
	setCmd.Flags().BoolVar(&set.Overwrite, "overwrite", false, "Move an existing tag")
	list := &RevisionTagListOptions{IOStreams: streams}
	listCmd := &cobra.Command{
		Use:     "list",
		Short:   "List the tags, their revisions and the namespaces using them",
		Long:    revisionTagListLong,
		Example: revisionTagListExample,
		Args:    cobra.NoArgs,
		RunE:    cmdutil.RunOptions(factory, list),
	}
	listCmd.Flags().StringVarP(&list.Output, "output", "o", "", "Output format: json (default: a table)")
	remove := &RevisionTagRemoveOptions{IOStreams: streams}
	removeCmd := &cobra.Command{
		Use:     "remove TAG",
		Short:   "Remove a tag",
		Long:    revisionTagRemoveLong,
		Example: revisionTagRemoveExample,
		Args:    cobra.ExactArgs(1),
		RunE:    cmdutil.RunOptions(factory, remove),
	}
	removeCmd.Flags().BoolVar(&remove.Force, "force", false, "Remove the tag even while namespaces use it (their new pods get no proxy)")
	tag.AddCommand(setCmd, listCmd, removeCmd)
	cmd.AddCommand(tag)
	return cmd
}

// RevisionTagSetOptions holds the flags of `kubectl mesh revision tag set`.
type RevisionTagSetOptions struct {
	Revision  string
	Overwrite bool

	tag     string
	factory cmdutil.Factory
	tagger  mesh.Tagger
	genericiooptions.IOStreams
}

// Complete reads the tag.
func (o *RevisionTagSetOptions) Complete(f cmdutil.Factory, _ *cobra.Command, args []string) error {
	o.tag, o.factory = args[0], f
	var err error
	o.tagger, err = f.Meshes().Tagger()
	return err
}

// Validate checks that --revision is set.
func (o *RevisionTagSetOptions) Validate() error {
	if o.Revision == "" {
		return errors.New("--revision is required: the revision the tag points at")
	}
	return nil
}

// Run points the tag at the revision.
func (o *RevisionTagSetOptions) Run(ctx context.Context) error {
	c, _, err := o.factory.MeshCluster(o.ErrOut)
	if err != nil {
		return err
	}
	if err := o.tagger.SetTag(ctx, *c, o.tag, o.Revision, o.Overwrite); err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "revision tag %q points at revision %q\n", o.tag, o.Revision)
	return nil
}

// RevisionTagListOptions holds the flags of `kubectl mesh revision tag list`.
type RevisionTagListOptions struct {
	Output string

	factory cmdutil.Factory
	tagger  mesh.Tagger
	genericiooptions.IOStreams
}

// Complete finds the mesh with revision tags.
func (o *RevisionTagListOptions) Complete(f cmdutil.Factory, _ *cobra.Command, _ []string) error {
	o.factory = f
	var err error
	o.tagger, err = f.Meshes().Tagger()
	return err
}

// Validate checks -o.
func (o *RevisionTagListOptions) Validate() error {
	if o.Output == "" {
		return nil
	}
	return cmdutil.ValidateOutputFormat(o.Output, "json")
}

// Run lists the tags.
func (o *RevisionTagListOptions) Run(ctx context.Context) error {
	c, _, err := o.factory.MeshCluster(o.ErrOut)
	if err != nil {
		return err
	}
	tags, err := o.tagger.ListTags(ctx, *c)
	if err != nil {
		return err
	}
	if o.Output == "json" {
		enc := json.NewEncoder(o.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(tags)
	}
	if len(tags) == 0 {
		fmt.Fprintln(o.Out, "No revision tags.")
		return nil
	}
	w := tabwriter.NewWriter(o.Out, 0, 4, 3, ' ', 0)
	fmt.Fprintln(w, "TAG\tREVISION\tNAMESPACES")
	for _, t := range tags {
		fmt.Fprintf(w, "%s\t%s\t%s\n", t.Tag, t.Revision, table.OrDash(cmdutil.Summarize(t.Namespaces, 5)))
	}
	return w.Flush()
}

// RevisionTagRemoveOptions holds the flags of `kubectl mesh revision tag remove`.
type RevisionTagRemoveOptions struct {
	Force bool

	tag     string
	factory cmdutil.Factory
	tagger  mesh.Tagger
	genericiooptions.IOStreams
}

// Complete reads the tag.
func (o *RevisionTagRemoveOptions) Complete(f cmdutil.Factory, _ *cobra.Command, args []string) error {
	o.tag, o.factory = args[0], f
	var err error
	o.tagger, err = f.Meshes().Tagger()
	return err
}

// Validate has nothing to check.
func (o *RevisionTagRemoveOptions) Validate() error { return nil }

// Run removes the tag.
func (o *RevisionTagRemoveOptions) Run(ctx context.Context) error {
	c, _, err := o.factory.MeshCluster(o.ErrOut)
	if err != nil {
		return err
	}
	if err := o.tagger.RemoveTag(ctx, *c, o.tag, o.Force); err != nil {
		if errors.Is(err, mesh.ErrTagNotFound) {
			return fmt.Errorf("revision tag %q does not exist: kubectl mesh revision tag list shows the tags", o.tag)
		}
		return err
	}
	fmt.Fprintf(o.Out, "revision tag %q removed\n", o.tag)
	return nil
}
