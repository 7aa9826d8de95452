package cmdutil

import (
	"fmt"

	"helm.sh/helm/v4/pkg/cli/values"
	"helm.sh/helm/v4/pkg/getter"

	"github.com/kubectl-mesh/kubectl-mesh/internal/inputlimit"
)

// ReadValues merges the Helm values given with -f/--values, --set and
// --set-string, as helm does, after bounding what each values file may
// cost (internal/inputlimit): Helm's YAML decoding follows aliases. Values
// files are read from disk only, never fetched.
func ReadValues(o *values.Options) (map[string]any, error) {
	if err := inputlimit.CheckYAMLFiles(o.ValueFiles); err != nil {
		return nil, fmt.Errorf("reading values: %w", err)
	}
	vals, err := o.MergeValues(getter.Providers{})
	if err != nil {
		return nil, fmt.Errorf("reading values: %w", err)
	}
	return vals, nil
}
