package meshcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/precheck"
)

var (
	precheckLong = templates.LongDesc(`
		Check that the cluster is ready for installing Istio or Linkerd, as
		istioctl x precheck and linkerd check --pre do; both meshes when none is
		named. Nothing is changed.

		The checks: the cluster answers; its Kubernetes version is supported by
		the mesh; you may create, upgrade and delete everything the install
		writes (SelfSubjectAccessReviews); no control plane of the same mesh
		installed by another tool (istioctl, linkerd install), nor of the other
		mesh; the CRDs already served (Istio's, Gateway API) are recent enough;
		the control plane namespace is fit.

		-n names the control plane namespace (istio-system, linkerd by default).

		Exit status: 0 when no check failed (warnings allowed), 3 when one did
		(for CI gates), 1 when the cluster could not be reached or read.`)

	precheckExample = templates.Examples(`
		# Check the cluster for both meshes
		kubectl mesh precheck

		# Check it for Istio only, as JSON for scripts
		kubectl mesh precheck istio -o json

		# Gate a pipeline on the checks for Linkerd
		kubectl mesh precheck linkerd || exit 1`)
)

// PrecheckReport is what -o json|yaml prints.
type PrecheckReport struct {
	// Success is false when a check failed.
	Success bool             `json:"success"`
	Meshes  []PrecheckResult `json:"meshes"`
}

// PrecheckResult is the checks for one mesh.
type PrecheckResult struct {
	Mesh      string            `json:"mesh"`
	Namespace string            `json:"namespace"`
	Success   bool              `json:"success"`
	Checks    []precheck.Result `json:"checks"`
	Summary   map[string]int    `json:"summary"`
}

// PrecheckOptions holds the flags of `kubectl mesh precheck`.
type PrecheckOptions struct {
	Output string
	Meshes []string

	namespace string
	registry  mesh.Registry
	factory   cmdutil.Factory
	genericiooptions.IOStreams
}

// NewCmdPrecheck returns `kubectl mesh precheck`.
func NewCmdPrecheck(streams genericiooptions.IOStreams, factory cmdutil.Factory) *cobra.Command {
	o := &PrecheckOptions{IOStreams: streams, Output: "table"}
	cmd := &cobra.Command{
		Use:       "precheck [istio|linkerd] [-o table|json|yaml]",
		Short:     "Check that the cluster is ready for installing Istio or Linkerd",
		Long:      precheckLong,
		Example:   precheckExample,
		ValidArgs: factory.Meshes().Names(),
		Args:      cobra.MaximumNArgs(2),
		RunE:      cmdutil.RunOptions(factory, o),
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", o.Output, "Output format: table, json or yaml")
	return cmd
}

// Complete picks the meshes and the control plane namespace.
func (o *PrecheckOptions) Complete(f cmdutil.Factory, _ *cobra.Command, args []string) error {
	o.factory, o.registry = f, f.Meshes()
	o.Meshes = args
	if len(o.Meshes) == 0 {
		o.Meshes = o.registry.Names()
	}
	o.namespace = cmdutil.NamespaceOverride(f)
	return nil
}

// Validate checks the arguments and flags.
func (o *PrecheckOptions) Validate() error {
	for _, m := range o.Meshes {
		if _, err := o.registry.Get(m); err != nil {
			return err
		}
	}
	if len(o.Meshes) == 2 && o.Meshes[0] == o.Meshes[1] {
		return fmt.Errorf("mesh %q given twice", o.Meshes[0])
	}
	return cmdutil.ValidateOutputFormat(o.Output, "table", "json", "yaml")
}

// Run checks each mesh, prints the results and maps them to an exit code.
func (o *PrecheckOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	// The clientset's discovery reads the cluster without a cache, so CRDs
	// installed a moment ago count.
	clientset, err := o.factory.KubernetesClientSet()
	if err != nil {
		return err
	}
	disc := clientset.Discovery()
	report := PrecheckReport{Success: true}
	var incomplete []error
	for _, mesh := range o.Meshes {
		namespace := o.namespace
		if namespace == "" {
			namespace = precheck.DefaultNamespace(mesh)
		}
		results := precheck.Run(ctx, clientset, disc, mesh, namespace)
		if err := precheck.Unreachable(results); err != nil {
			return fmt.Errorf("reaching the cluster: %w", err)
		}
		res := PrecheckResult{Mesh: mesh, Namespace: namespace, Success: true, Checks: results, Summary: map[string]int{}}
		for _, r := range results {
			res.Summary[string(r.Status)]++
			if r.Status == precheck.StatusFailed {
				res.Success, report.Success = false, false
			}
			if r.Err != nil {
				incomplete = append(incomplete, fmt.Errorf("%s: %s: %w", mesh, r.Name, r.Err))
			}
		}
		report.Meshes = append(report.Meshes, res)
	}

	if o.Output == "table" {
		printPrecheckTable(o.Out, report)
	} else if err := cmdutil.PrintStructured(o.Out, o.Output, report); err != nil {
		return err
	}
	if len(incomplete) > 0 {
		for _, e := range incomplete {
			fmt.Fprintln(o.ErrOut, "error:", e)
		}
		return &cmdutil.ExitCodeError{Code: cmdutil.ExitError, Err: fmt.Errorf("%d %s could not read the cluster: the precheck is incomplete",
			len(incomplete), cmdutil.Plural(len(incomplete), "check", "checks"))}
	}
	if !report.Success {
		return &cmdutil.ExitCodeError{Code: cmdutil.ExitViolation, Err: errors.New("precheck failed: fix the checks marked FAIL before installing")}
	}
	return nil
}

// printPrecheckTable prints the checks grouped by mesh and category, as
// linkerd check does, with ASCII status marks.
func printPrecheckTable(w io.Writer, report PrecheckReport) {
	marks := map[precheck.Status]string{precheck.StatusOK: "ok", precheck.StatusWarning: "warn", precheck.StatusFailed: "FAIL"}
	for i, m := range report.Meshes {
		if i > 0 {
			fmt.Fprintln(w)
		}
		title := fmt.Sprintf("%s (control plane namespace %s)", m.Mesh, m.Namespace)
		fmt.Fprintf(w, "%s\n%s\n", title, strings.Repeat("=", len(title)))
		category := ""
		for _, r := range m.Checks {
			if r.Category != category {
				category = r.Category
				fmt.Fprintf(w, "\n%s\n%s\n", category, strings.Repeat("-", len(category)))
			}
			line := r.Name
			if r.Message != "" {
				line += ": " + r.Message
			}
			fmt.Fprintf(w, "%-4s  %s\n", marks[r.Status], line)
			if r.Hint != "" {
				fmt.Fprintf(w, "      hint: %s\n", r.Hint)
			}
		}
		var counts []string
		for _, s := range []precheck.Status{precheck.StatusFailed, precheck.StatusWarning, precheck.StatusOK} {
			if n := m.Summary[string(s)]; n > 0 || s == precheck.StatusFailed {
				counts = append(counts, fmt.Sprintf("%d %s", n, s))
			}
		}
		verdict := "ready to install"
		if !m.Success {
			verdict = "NOT ready to install"
		}
		fmt.Fprintf(w, "\n%s: %s (%s)\n", m.Mesh, verdict, strings.Join(counts, ", "))
	}
}
