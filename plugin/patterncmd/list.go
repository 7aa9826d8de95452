package patterncmd

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/apply"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/table"
)

var (
	listLong = templates.LongDesc(`
		List the patterns applied to the cluster: their mesh, how many objects
		they manage and when they were last applied. -o wide lists the objects.`)

	listExample = templates.Examples(`
		# Patterns in the current namespace
		kubectl mesh list

		# In every namespace, with their objects
		kubectl mesh list -A -o wide`)
)

// ListOptions holds the flags of kubectl mesh list.
type ListOptions struct {
	AllNamespaces bool
	Output        string

	namespace string
	factory   cmdutil.Factory
	genericiooptions.IOStreams
}

// NewCmdList creates `kubectl mesh list`.
func NewCmdList(streams genericiooptions.IOStreams, f cmdutil.Factory) *cobra.Command {
	o := &ListOptions{IOStreams: streams}
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the patterns applied to the cluster and their objects",
		Long:    listLong,
		Example: listExample,
		Args:    cobra.NoArgs,
		RunE:    cmdutil.RunOptions(f, o),
	}
	cmd.Flags().BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "List the patterns of every namespace")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "Output format: wide, json or yaml (default: a table)")
	return cmd
}

// patternListItem is one pattern as -o json|yaml prints it.
type patternListItem struct {
	Name        string      `json:"name"`
	Namespace   string      `json:"namespace"`
	Mesh        string      `json:"mesh,omitempty"`
	ApplySetID  string      `json:"applySetID"`
	LastApplied *time.Time  `json:"lastApplied,omitempty"`
	Objects     []apply.Ref `json:"objects"`
	Shared      []apply.Ref `json:"shared,omitempty"`
}

// Complete reads the namespace.
func (o *ListOptions) Complete(f cmdutil.Factory, _ *cobra.Command, _ []string) error {
	o.factory = f
	if o.AllNamespaces {
		return nil
	}
	var err error
	o.namespace, _, err = f.Namespace()
	return err
}

// Validate checks -o.
func (o *ListOptions) Validate() error {
	if o.Output == "" {
		return nil
	}
	return cmdutil.ValidateOutputFormat(o.Output, "wide", "json", "yaml")
}

// Run lists the patterns.
func (o *ListOptions) Run(ctx context.Context) error {
	namespace := o.namespace
	client, err := o.factory.ApplyClient()
	if err != nil {
		return err
	}
	sets, err := client.List(ctx, apply.KindPattern, namespace, apply.DefaultWorkers)
	if err != nil {
		return err
	}
	switch o.Output {
	case "json", "yaml":
		items := make([]patternListItem, 0, len(sets))
		for _, s := range sets {
			item := patternListItem{Name: s.Pattern, Namespace: s.Namespace, Mesh: s.Mesh, ApplySetID: s.ID, Objects: s.Members, Shared: s.Shared}
			if !s.LastApplied.IsZero() {
				item.LastApplied = &s.LastApplied
			}
			items = append(items, item)
		}
		return cmdutil.PrintStructured(o.Out, o.Output, items)
	}
	if len(sets) == 0 {
		where := "namespace " + namespace
		if o.AllNamespaces {
			where = "any namespace"
		}
		fmt.Fprintf(o.ErrOut, "No patterns found in %s.\n", where)
		return nil
	}
	printPatternSets(o.Out, sets, o.AllNamespaces, o.Output == "wide", time.Now())
	return nil
}

func printPatternSets(out io.Writer, sets []apply.PatternSet, withNamespace, wide bool, now time.Time) {
	w := tabwriter.NewWriter(out, 0, 4, 3, ' ', 0)
	header := "NAME\tMESH\tOBJECTS\tSHARED\tLAST APPLIED"
	if withNamespace {
		header = "NAMESPACE\t" + header
	}
	if wide {
		header += "\tMEMBERS"
	}
	fmt.Fprintln(w, header)
	for _, s := range sets {
		age := "<unknown>"
		if !s.LastApplied.IsZero() {
			age = duration.HumanDuration(now.Sub(s.LastApplied)) + " ago"
		}
		row := fmt.Sprintf("%s\t%s\t%d\t%d\t%s", s.Pattern, table.OrDash(s.Mesh), len(s.Members), len(s.Shared), age)
		if withNamespace {
			row = s.Namespace + "\t" + row
		}
		if wide {
			members := make([]string, len(s.Members))
			for i, m := range s.Members {
				members[i] = strings.ToLower(m.Kind) + "/" + m.Name
			}
			row += "\t" + table.OrDash(strings.Join(members, ","))
		}
		fmt.Fprintln(w, row)
	}
	_ = w.Flush()
}
