package istio

import "encoding/json"

// schemaKeys returns the top-level value keys a chart's values.schema.json
// allows when it forbids others (additionalProperties: false), else nil.
// Istio's gateway schema keeps its properties under $defs.values.
func schemaKeys(schema []byte) map[string]bool {
	if len(schema) == 0 {
		return nil
	}
	type object struct {
		Ref                  string                     `json:"$ref"`
		AdditionalProperties *bool                      `json:"additionalProperties"`
		Properties           map[string]json.RawMessage `json:"properties"`
		Defs                 map[string]json.RawMessage `json:"$defs"`
	}
	var root object
	if err := json.Unmarshal(schema, &root); err != nil {
		return nil
	}
	obj := root
	if len(root.Ref) > len("#/$defs/") && root.Ref[:len("#/$defs/")] == "#/$defs/" {
		raw, ok := root.Defs[root.Ref[len("#/$defs/"):]]
		if !ok || json.Unmarshal(raw, &obj) != nil {
			return nil
		}
	}
	if obj.AdditionalProperties == nil || *obj.AdditionalProperties {
		return nil
	}
	keys := map[string]bool{}
	for k := range obj.Properties {
		keys[k] = true
	}
	return keys
}
