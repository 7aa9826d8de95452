package cmdutil

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"sigs.k8s.io/yaml"
)

// ValidateOutputFormat checks an -o value against the formats a command
// supports, naming the flag in the error as kubectl does.
func ValidateOutputFormat(format string, allowed ...string) error {
	if slices.Contains(allowed, format) {
		return nil
	}
	return UnknownValue("output", "format", format, allowed...)
}

// PrintStructured writes v as JSON (indented, like kubectl) or YAML.
func PrintStructured(w io.Writer, format string, v any) error {
	switch format {
	case "json":
		data, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return fmt.Errorf("encoding JSON: %w", err)
		}
		_, err = fmt.Fprintln(w, string(data))
		return err
	case "yaml":
		data, err := yaml.Marshal(v)
		if err != nil {
			return fmt.Errorf("encoding YAML: %w", err)
		}
		_, err = w.Write(data)
		return err
	default:
		return UnknownValue("output", "format", format, "json", "yaml")
	}
}

// PrintObjects writes Kubernetes objects as kubectl -o prints several: a
// YAML stream, or a JSON v1 List.
func PrintObjects(w io.Writer, format string, items []map[string]any) error {
	if format == "json" {
		data, err := json.MarshalIndent(map[string]any{"apiVersion": "v1", "kind": "List", "items": items}, "", "    ")
		if err != nil {
			return fmt.Errorf("encoding JSON: %w", err)
		}
		_, err = fmt.Fprintln(w, string(data))
		return err
	}
	for i, item := range items {
		data, err := yaml.Marshal(item)
		if err != nil {
			return fmt.Errorf("encoding YAML: %w", err)
		}
		if i > 0 {
			fmt.Fprintln(w, "---")
		}
		if _, err := w.Write(data); err != nil {
			return err
		}
	}
	return nil
}
