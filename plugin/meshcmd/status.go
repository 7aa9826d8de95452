package meshcmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/kubectl/pkg/util/templates"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/addon"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/table"
)

var statusExample = templates.Examples(`  # Every mesh found in the cluster
  kubectl mesh status

  # Istio only, as JSON
  kubectl mesh status istio -o json`)

// MeshStatusOptions holds the flags of kubectl mesh status.
type MeshStatusOptions struct {
	Output string

	meshes  []mesh.Mesh
	factory cmdutil.Factory
	genericiooptions.IOStreams
}

// NewCmdStatus creates `kubectl mesh status [istio|linkerd]`.
func NewCmdStatus(streams genericiooptions.IOStreams, factory cmdutil.Factory) *cobra.Command {
	o := &MeshStatusOptions{IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "status [istio|linkerd]",
		Short: "Show the installed meshes: versions, revisions, readiness, proxies and certificates",
		Long: templates.LongDesc(`Show each installed mesh: its control plane revisions and their components'
readiness, the data-plane proxies by version (a proxy whose version differs
from its control plane's is skewed), and for Linkerd the trust anchor's and
issuer's expiry (warned about within 60 days, as linkerd check does).`),
		Example:   statusExample,
		Args:      cobra.MaximumNArgs(1),
		ValidArgs: factory.Meshes().Names(),
		RunE:      cmdutil.RunOptions(factory, o),
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "Output format: json or yaml (default: tables)")
	return cmd
}

// Complete picks the meshes to show.
func (o *MeshStatusOptions) Complete(f cmdutil.Factory, _ *cobra.Command, args []string) error {
	o.factory = f
	if len(args) == 1 {
		m, err := f.Meshes().Get(args[0])
		if err != nil {
			return err
		}
		o.meshes = []mesh.Mesh{m}
		return nil
	}
	o.meshes = f.Meshes()
	return nil
}

// Validate checks the output format.
func (o *MeshStatusOptions) Validate() error {
	if o.Output == "" {
		return nil
	}
	return cmdutil.ValidateOutputFormat(o.Output, "json", "yaml")
}

// Run reads each mesh's status and prints it.
func (o *MeshStatusOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	cluster, helm, err := o.factory.MeshCluster(io.Discard)
	if err != nil {
		return err
	}
	var statuses []*mesh.Status
	for _, m := range o.meshes {
		st, err := m.Status(ctx, *cluster)
		if err != nil {
			return fmt.Errorf("reading the status of %s: %w", m.Name(), err)
		}
		statuses = append(statuses, st)
	}
	switch o.Output {
	case "json":
		enc := json.NewEncoder(o.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(statuses)
	case "yaml":
		data, err := yaml.Marshal(statuses)
		if err != nil {
			return err
		}
		_, err = o.Out.Write(data)
		return err
	}
	printStatuses(o.Out, statuses, time.Now())
	return o.printAddons(ctx, cluster, helm)
}

// printAddons lists the add-ons installed for the meshes shown (kubectl
// mesh addon status has the details); -o json|yaml keeps to the meshes.
func (o *MeshStatusOptions) printAddons(ctx context.Context, cluster *mesh.Cluster, helm cmdutil.Releases) error {
	rels, err := helm.List(ctx, nil)
	if err != nil {
		return err
	}
	var rows [][]string
	for _, rel := range rels {
		if !addon.IsAddon(rel) || rel.Status == "uninstalled" || !slices.ContainsFunc(o.meshes, func(m mesh.Mesh) bool { return m.Name() == rel.Labels[addon.LabelMesh] }) {
			continue
		}
		st, err := addon.ReadStatus(ctx, cluster.Clientset, rel)
		if err != nil {
			return err
		}
		rows = append(rows, []string{st.Name, st.Namespace, st.Mesh, st.Version, table.YesNo(st.Ready), st.URL})
	}
	if len(rows) == 0 {
		return nil
	}
	fmt.Fprintln(o.Out)
	return table.Print(o.Out, []string{"ADD-ON", "NAMESPACE", "MESH", "VERSION", "READY", "URL"}, rows, table.Width)
}

func printStatuses(out io.Writer, statuses []*mesh.Status, now time.Time) {
	installed := 0
	for i, st := range statuses {
		if !st.Installed {
			continue
		}
		installed++
		if i > 0 {
			fmt.Fprintln(out)
		}
		fmt.Fprintf(out, "%s %s in %s\n\n", mesh.Title(st.Mesh), st.Version, st.Namespace)
		var rows [][]string
		for _, rev := range st.Revisions {
			for _, c := range rev.Components {
				rows = append(rows, []string{rev.Name, rev.Version, table.OrDash(strings.Join(rev.Tags, ",")),
					c.Name, table.YesNo(c.Ready), table.OrDash(c.Replicas), c.Message})
			}
		}
		_ = table.Print(out, []string{"REVISION", "VERSION", "TAGS", "COMPONENT", "READY", "REPLICAS", "MESSAGE"}, rows, table.Width)
		if len(st.Proxies) > 0 {
			rows = nil
			for _, p := range st.Proxies {
				rows = append(rows, []string{p.Version, table.OrDash(p.Revision), strconv.Itoa(p.Pods), table.YesNo(p.Skew)})
			}
			fmt.Fprintln(out)
			_ = table.Print(out, []string{"PROXY VERSION", "REVISION", "PODS", "SKEW"}, rows, table.Width)
		}
		if len(st.Certificates) > 0 {
			rows = nil
			for _, c := range st.Certificates {
				rows = append(rows, []string{c.Name, c.Subject, c.NotAfter.UTC().Format(time.DateOnly), daysLeft(c.NotAfter, now)})
			}
			fmt.Fprintln(out)
			_ = table.Print(out, []string{"CERTIFICATE", "SUBJECT", "EXPIRES", "IN"}, rows, table.Width)
		}
		for _, warning := range st.Warnings {
			fmt.Fprintf(out, "Warning: %s\n", warning)
		}
	}
	if installed == 0 {
		var names []string
		for _, st := range statuses {
			names = append(names, st.Mesh)
		}
		fmt.Fprintf(out, "No mesh installed (looked for %s).\n", strings.Join(names, ", "))
	}
}

func daysLeft(t, now time.Time) string {
	d := t.Sub(now)
	if d <= 0 {
		return "expired"
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}
