package findings

import (
	"encoding/json"
	"fmt"
	"io"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
)

// document is the JSON and YAML shape: versioned like a Kubernetes object so
// scripts can rely on it.
type document struct {
	APIVersion string              `json:"apiVersion"`
	Kind       string              `json:"kind"`
	Summary    Summary             `json:"summary"`
	Findings   []policies.Finding  `json:"findings"`
	Unjudged   []policies.Unjudged `json:"unjudged,omitempty"`
	Errors     []string            `json:"errors,omitempty"`
}

func printStructured(w io.Writer, format string, r *Report) error {
	doc := document{
		APIVersion: "kubectl-mesh.io/v1alpha1",
		Kind:       "CheckReport",
		Summary:    r.Summary(),
		Findings:   r.Findings,
		Unjudged:   r.Unjudged,
	}
	if doc.Findings == nil {
		doc.Findings = []policies.Finding{}
	}
	for _, err := range r.Errors {
		doc.Errors = append(doc.Errors, err.Error())
	}
	if format == "yaml" {
		data, err := yaml.Marshal(doc)
		if err != nil {
			return fmt.Errorf("encoding YAML: %w", err)
		}
		_, err = w.Write(data)
		return err
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding JSON: %w", err)
	}
	_, err = fmt.Fprintln(w, string(data))
	return err
}
