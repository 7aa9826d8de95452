package pattern

import (
	"fmt"
	"reflect"
	"strings"
)

// FieldReference is the field reference of docs/patterns.md: one table
// per type, from the Go types and the field table, so it cannot drift.
func FieldReference() string {
	fields, types := fieldDocs(), typeDocs()
	var b strings.Builder
	queue := []reflect.Type{reflect.TypeFor[Pattern]()}
	seen := map[reflect.Type]bool{queue[0]: true}
	for len(queue) > 0 {
		t := queue[0]
		queue = queue[1:]
		fmt.Fprintf(&b, "### %s\n\n%s\n\n", t.Name(), types[t.Name()])
		b.WriteString("| Field | Type | Default | Description |\n|---|---|---|---|\n")
		for _, f := range structFields(t) {
			doc := fields[t.Name()+"."+f.name]
			desc := doc.desc
			if f.required {
				desc = "**Required.** " + desc
			}
			if len(doc.enum) > 0 {
				desc += " One of: " + strings.Join(doc.enum, ", ") + "."
			}
			if r := rangeText(doc); r != "" {
				desc += " " + r
			}
			def := "—"
			if doc.def != "" {
				def = doc.def
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", f.name, typeText(f.typ), escapeCell(def), escapeCell(desc))
			for _, s := range structsOf(f.typ) {
				if !seen[s] {
					seen[s] = true
					queue = append(queue, s)
				}
			}
		}
		b.WriteString("\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func rangeText(doc fieldDoc) string {
	switch {
	case doc.min != nil && doc.max != nil && doc.exclMin:
		return fmt.Sprintf("More than %g, at most %g.", *doc.min, *doc.max)
	case doc.min != nil && doc.max != nil:
		return fmt.Sprintf("From %g to %g.", *doc.min, *doc.max)
	case doc.min != nil:
		return fmt.Sprintf("At least %g.", *doc.min)
	}
	return ""
}

func typeText(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return typeText(t.Elem())
	case reflect.Slice:
		return "[]" + typeText(t.Elem())
	case reflect.Map:
		if t.Elem().Kind() == reflect.Interface {
			return "object"
		}
		return "map[string]" + typeText(t.Elem())
	case reflect.Struct:
		return fmt.Sprintf("[%s](#%s)", t.Name(), strings.ToLower(t.Name()))
	case reflect.Int32, reflect.Int64, reflect.Int:
		return "integer"
	case reflect.Float64:
		return "number"
	}
	return t.Kind().String()
}

// structsOf are the struct types a field type refers to.
func structsOf(t reflect.Type) []reflect.Type {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map:
		return structsOf(t.Elem())
	case reflect.Struct:
		return []reflect.Type{t}
	}
	return nil
}

func escapeCell(s string) string {
	return strings.ReplaceAll(s, "|", `\|`)
}
