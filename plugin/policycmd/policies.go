package policycmd

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/table"
	"github.com/kubectl-mesh/kubectl-mesh/policies"
)

var (
	policiesLong = templates.LongDesc(`
		List and describe the policies that kubectl mesh check, the admission
		webhook and the audit evaluate: the embedded library and, with
		--policy-dir, your own. Each policy's METADATA (title, ID, severity,
		enforcement, kinds, aliases, remediation) is the source of what is shown.`)

	policiesExample = templates.Examples(`
		# Every policy, then one in full
		kubectl mesh policies list
		kubectl mesh policies describe MESH1101`)

	policiesListLong = templates.LongDesc(`
		List the policies from their METADATA: ID, severity, enforcement, the mesh
		family and title; -o wide adds the istioctl and Kiali codes they match.`)

	policiesDescribeLong = templates.LongDesc(`
		Show everything about a policy: what it checks, why, the kinds it reviews,
		its enforcement and how to fix a finding. A policy is named by its ID or by
		the istioctl analyze or Kiali code it matches.`)

	policiesListExample = templates.Examples(`
		# List every policy
		kubectl mesh policies list

		# List the Linkerd policies with their istioctl and Kiali aliases
		kubectl mesh policies list --mesh linkerd -o wide

		# Include your own policies
		kubectl mesh policies list --policy-dir ./policies`)

	policiesDescribeExample = templates.Examples(`
		# Describe a policy by ID
		kubectl mesh policies describe MESH1101

		# Or by the istioctl analyze code it matches
		kubectl mesh policies describe IST0118`)
)

// NewCmdPolicies returns `kubectl mesh policies`.
func NewCmdPolicies(streams genericiooptions.IOStreams, f cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "policies",
		Short:   "List and describe the policies check and the webhook evaluate",
		Long:    policiesLong,
		Example: policiesExample,
		Args:    cobra.NoArgs,
	}
	cmd.AddCommand(newCmdPoliciesList(streams, f), newCmdPoliciesDescribe(streams, f))
	return cmd
}

// PoliciesListOptions holds the flags of `kubectl mesh policies list`.
type PoliciesListOptions struct {
	Output     string
	Mesh       string
	PolicyDirs []string
	genericiooptions.IOStreams
}

func newCmdPoliciesList(streams genericiooptions.IOStreams, f cmdutil.Factory) *cobra.Command {
	o := &PoliciesListOptions{IOStreams: streams, Output: "table"}
	cmd := &cobra.Command{
		Use:     "list [--mesh MESH] [-o table|wide|json|yaml]",
		Aliases: []string{"ls"},
		Short:   "List the policies, from their METADATA",
		Long:    policiesListLong,
		Example: policiesListExample,
		Args:    cobra.NoArgs,
		RunE:    cmdutil.RunOptions(f, o),
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", o.Output, "Output format: table, wide, json, yaml")
	cmdutil.AddMeshFlag(cmd, &o.Mesh, meshFamilies, "Only the policies of this family")
	cmd.Flags().StringSliceVar(&o.PolicyDirs, "policy-dir", nil, "Directories of custom Rego policies to list with the library")
	return cmd
}

var meshFamilies = []string{"istio", "linkerd", "smi", "gamma", "any", "custom"}

// Complete has nothing to fill in.
func (o *PoliciesListOptions) Complete(_ cmdutil.Factory, _ *cobra.Command, _ []string) error {
	return nil
}

// Validate checks --mesh and -o.
func (o *PoliciesListOptions) Validate() error {
	if err := cmdutil.ValidateOutputFormat(o.Output, "table", "wide", "json", "yaml"); err != nil {
		return err
	}
	if err := cmdutil.ValidateMeshFlag(o.Mesh, meshFamilies...); err != nil {
		return err
	}
	return nil
}

func (o *PoliciesListOptions) Run(ctx context.Context) error {
	metas, err := loadPolicyMetadata(ctx, o.PolicyDirs)
	if err != nil {
		return err
	}
	if o.Mesh != "" {
		metas = slices.DeleteFunc(metas, func(m policies.Metadata) bool { return m.Mesh() != o.Mesh })
	}
	if o.Output == "json" || o.Output == "yaml" {
		if metas == nil {
			metas = []policies.Metadata{}
		}
		return cmdutil.PrintStructured(o.Out, o.Output, metas)
	}
	// The default table fits table.Width: kinds by name alone, the first
	// and how many more (MESH5005 reviews 20 kinds); the mesh is the ID's
	// family (MESH1nnn Istio, ...). -o wide has them all.
	header := []string{"ID", "SEVERITY", "ENFORCEMENT", "KINDS"}
	width := table.Width
	if o.Output == "wide" {
		header = []string{"ID", "MESH", "SEVERITY", "ENFORCEMENT", "KINDS", "ALIASES"}
		width = 0
	}
	var rows [][]string
	for _, m := range metas {
		var row []string
		if o.Output == "wide" {
			row = []string{m.ID, m.Mesh(), m.Severity.String(), string(m.Enforcement), kindList(m.Kinds), table.OrNone(strings.Join(m.Aliases, ","))}
		} else {
			kinds := make([]string, len(m.Kinds))
			for i, k := range m.Kinds {
				kinds[i] = k.Kind
			}
			row = []string{m.ID, m.Severity.String(), string(m.Enforcement), kindsCell(kinds)}
		}
		rows = append(rows, append(row, m.Title))
	}
	return table.Print(o.Out, append(header, "TITLE"), rows, width)
}

// kindsWidth bounds the KINDS cell of the default table, so that a title of
// up to 58 runes fits in table.Width beside it ("VirtualService +19 more").
const kindsWidth = 23

// kindsCell is the KINDS cell of the default table: the kinds compactly,
// or how many when that is too wide (two webhook configuration kinds). One
// kind too long keeps its start, which names it ("MutatingWebhookConfigu…").
func kindsCell(kinds []string) string {
	cell := table.Compact(kinds)
	switch {
	case utf8.RuneCountInString(cell) <= kindsWidth:
		return cell
	case len(kinds) > 1:
		return fmt.Sprintf("%d kinds", len(kinds))
	}
	return string([]rune(cell)[:kindsWidth-1]) + "…"
}

// PoliciesDescribeOptions holds the flags of `kubectl mesh policies describe`.
type PoliciesDescribeOptions struct {
	PolicyDirs []string

	ids []string
	genericiooptions.IOStreams
}

func newCmdPoliciesDescribe(streams genericiooptions.IOStreams, f cmdutil.Factory) *cobra.Command {
	o := &PoliciesDescribeOptions{IOStreams: streams}
	cmd := &cobra.Command{
		Use:     "describe ID...",
		Short:   "Show everything about a policy: what it checks, why, and how to fix it",
		Long:    policiesDescribeLong,
		Example: policiesDescribeExample,
		Args:    cobra.MinimumNArgs(1),
		RunE:    cmdutil.RunOptions(f, o),
	}
	cmd.Flags().StringSliceVar(&o.PolicyDirs, "policy-dir", nil, "Directories of custom Rego policies to describe with the library")
	return cmd
}

// Complete reads the IDs.
func (o *PoliciesDescribeOptions) Complete(_ cmdutil.Factory, _ *cobra.Command, args []string) error {
	o.ids = args
	return nil
}

// Validate has nothing to check: an ID that names no policy is an error of Run.
func (o *PoliciesDescribeOptions) Validate() error { return nil }

// Run describes each policy the IDs name.
func (o *PoliciesDescribeOptions) Run(ctx context.Context) error {
	ids := o.ids
	metas, err := loadPolicyMetadata(ctx, o.PolicyDirs)
	if err != nil {
		return err
	}
	for i, id := range ids {
		var matched []policies.Metadata
		for _, m := range metas {
			if m.Names(id) {
				matched = append(matched, m)
			}
		}
		if len(matched) == 0 {
			return fmt.Errorf("no policy has the ID or alias %q (see kubectl mesh policies list)", id)
		}
		for j, m := range matched {
			if i > 0 || j > 0 {
				fmt.Fprintln(o.Out)
			}
			describePolicy(o.Out, m)
		}
	}
	return nil
}

func describePolicy(w io.Writer, m policies.Metadata) {
	field := func(name, value string) { fmt.Fprintf(w, "%-13s%s\n", name+":", value) }
	field("ID", m.ID)
	field("Title", m.Title)
	field("Mesh", m.Mesh())
	field("Severity", m.Severity.String())
	field("Enforcement", string(m.Enforcement))
	field("Kinds", kindList(m.Kinds))
	field("Looks up", table.OrNone(kindList(m.Inventory)))
	if len(m.Needs) > 0 {
		field("Needs", m.NeedsString()+" in the input")
	}
	field("Operations", strings.Join(m.Operations, ", "))
	field("Aliases", table.OrNone(strings.Join(m.Aliases, ", ")))
	field("Source", fmt.Sprintf("%s:%d", m.File, m.Line))
	fmt.Fprintln(w, "Description:")
	fmt.Fprintln(w, indent(m.Description))
	if m.Remediation != "" {
		fmt.Fprintln(w, "Remediation:")
		fmt.Fprintln(w, indent(m.Remediation))
	}
}

func loadPolicyMetadata(ctx context.Context, dirs []string) ([]policies.Metadata, error) {
	var custom []policies.Source
	for _, dir := range dirs {
		sources, err := policies.LoadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("--policy-dir: %w", err)
		}
		custom = append(custom, sources...)
	}
	engine, err := policies.New(ctx, policies.Options{Custom: custom})
	if err != nil {
		return nil, err
	}
	return engine.Policies(), nil
}

func kindList(kinds []policies.Kind) string {
	s := make([]string, len(kinds))
	for i, k := range kinds {
		s[i] = k.String()
	}
	return strings.Join(s, ",")
}

func indent(text string) string {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	for i, l := range lines {
		lines[i] = "  " + strings.TrimSpace(l)
	}
	return strings.Join(lines, "\n")
}
