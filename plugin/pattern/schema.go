package pattern

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// schemaNode is one JSON schema (draft-07) node; fields in the order the
// file shows them.
type schemaNode struct {
	Schema               string                 `json:"$schema,omitempty"`
	ID                   string                 `json:"$id,omitempty"`
	Ref                  string                 `json:"$ref,omitempty"`
	Title                string                 `json:"title,omitempty"`
	Description          string                 `json:"description,omitempty"`
	Type                 string                 `json:"type,omitempty"`
	Enum                 []string               `json:"enum,omitempty"`
	Pattern              string                 `json:"pattern,omitempty"`
	Minimum              *float64               `json:"minimum,omitempty"`
	ExclusiveMinimum     *float64               `json:"exclusiveMinimum,omitempty"`
	Maximum              *float64               `json:"maximum,omitempty"`
	Required             []string               `json:"required,omitempty"`
	Properties           map[string]*schemaNode `json:"properties,omitempty"`
	AdditionalProperties any                    `json:"additionalProperties,omitempty"`
	Items                *schemaNode            `json:"items,omitempty"`
	Definitions          map[string]*schemaNode `json:"definitions,omitempty"`
}

// SchemaID is the $id of the Pattern JSON schema.
const SchemaID = "https://github.com/kubectl-mesh/kubectl-mesh/blob/main/docs/pattern.schema.json"

// JSONSchema is the draft-07 JSON schema of a Pattern document, generated
// from the Go types and the field table (docs/pattern.schema.json).
func JSONSchema() ([]byte, error) {
	g := &schemaGen{defs: map[string]*schemaNode{}, fields: fieldDocs(), types: typeDocs()}
	root, err := g.structSchema(reflect.TypeFor[Pattern]())
	if err != nil {
		return nil, err
	}
	root.Schema = "http://json-schema.org/draft-07/schema#"
	root.ID = SchemaID
	root.Title = "kubectl mesh Pattern (" + APIVersion + ")"
	delete(g.defs, "Pattern")
	root.Definitions = g.defs
	b, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the pattern schema: %w", err)
	}
	return append(b, '\n'), nil
}

type schemaGen struct {
	defs   map[string]*schemaNode
	fields map[string]fieldDoc
	types  map[string]string
}

func (g *schemaGen) structSchema(t reflect.Type) (*schemaNode, error) {
	n := &schemaNode{Type: "object", Description: g.types[t.Name()], Properties: map[string]*schemaNode{}, AdditionalProperties: false}
	for _, f := range structFields(t) {
		doc, ok := g.fields[t.Name()+"."+f.name]
		if !ok {
			return nil, fmt.Errorf("field %s.%s has no entry in fieldDocs", t.Name(), f.name)
		}
		prop, err := g.typeSchema(f.typ)
		if err != nil {
			return nil, err
		}
		if prop.Ref != "" { // draft-07 ignores siblings of $ref
			prop = &schemaNode{Description: doc.desc, Ref: prop.Ref}
			n.Properties[f.name] = prop
		} else {
			prop.Description = doc.desc
			prop.Enum = doc.enum
			prop.Pattern = doc.pattern
			if doc.exclMin {
				prop.ExclusiveMinimum = doc.min
			} else {
				prop.Minimum = doc.min
			}
			prop.Maximum = doc.max
			n.Properties[f.name] = prop
		}
		if f.required {
			n.Required = append(n.Required, f.name)
		}
	}
	return n, nil
}

func (g *schemaGen) typeSchema(t reflect.Type) (*schemaNode, error) {
	switch t.Kind() {
	case reflect.Pointer:
		return g.typeSchema(t.Elem())
	case reflect.String:
		return &schemaNode{Type: "string"}, nil
	case reflect.Int32, reflect.Int64, reflect.Int:
		return &schemaNode{Type: "integer"}, nil
	case reflect.Float64:
		return &schemaNode{Type: "number"}, nil
	case reflect.Bool:
		return &schemaNode{Type: "boolean"}, nil
	case reflect.Slice:
		items, err := g.typeSchema(t.Elem())
		if err != nil {
			return nil, err
		}
		return &schemaNode{Type: "array", Items: items}, nil
	case reflect.Map:
		if t.Elem().Kind() == reflect.Interface { // raw objects
			return &schemaNode{Type: "object", Required: []string{"apiVersion", "kind", "metadata"}}, nil
		}
		values, err := g.typeSchema(t.Elem())
		if err != nil {
			return nil, err
		}
		return &schemaNode{Type: "object", AdditionalProperties: values}, nil
	case reflect.Struct:
		if _, done := g.defs[t.Name()]; !done {
			g.defs[t.Name()] = nil // mark before recursing
			def, err := g.structSchema(t)
			if err != nil {
				return nil, err
			}
			g.defs[t.Name()] = def
		}
		return &schemaNode{Ref: "#/definitions/" + t.Name()}, nil
	}
	return nil, fmt.Errorf("no JSON schema for %s", t)
}

// structField is an exported field as JSON sees it.
type structField struct {
	name     string
	typ      reflect.Type
	required bool // no omitempty
}

func structFields(t reflect.Type) []structField {
	var out []structField
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		out = append(out, structField{name: name, typ: f.Type, required: !strings.Contains(opts, "omitempty")})
	}
	return out
}
