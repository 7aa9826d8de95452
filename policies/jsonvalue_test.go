package policies

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

// ParseJSONObject must read exactly what encoding/json (numbers kept as
// written) followed by ast.InterfaceToValue read, which it replaces.
func TestParseJSONObjectMatchesEncodingJSON(t *testing.T) {
	for _, doc := range []string{
		`{}`,
		` {"a": 1, "b": [true, false, null, -0.5e+10, 9007199254740993], "c": {"d": [], "e": {}}} `,
		`{"esc": "tab\there \"quoted\" \\ \/ \u00e9 \ud83d\ude00", "utf8": "é😀", "empty": ""}`,
		`{"dup": 1, "dup": 2}`,
		"{\"bad utf8\": \"\xff\xfe\"}",
		`{"n": [0, -1, 1.0, 1E3, 2e-3, 123456789012345678901234567890]}`,
	} {
		got, err := ParseJSONObject([]byte(doc))
		if err != nil {
			t.Errorf("%s: %v", doc, err)
			continue
		}
		dec := json.NewDecoder(bytes.NewReader([]byte(doc)))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		if want := ast.MustInterfaceToValue(m); got.Compare(want) != 0 {
			t.Errorf("%s:\n got %v\nwant %v", doc, got, want)
		}
	}
}

func TestParseJSONObjectRefusesWhatEncodingJSONRefuses(t *testing.T) {
	for _, doc := range []string{
		``, `[1]`, `"s"`, `{"a": 1} {"b": 2}`, `{"a" 1}`, `{"a": 1,}`, `{a: 1}`, `{"a": [1 2]}`,
		`{"a": 01}`, `{"a": 1.}`, `{"a": -}`, `{"a": 1e}`, `{"a": tru}`, "{\"a\": \"x\ny\"}", `{"a": "\x"}`, `{"a": "open`,
	} {
		if v, err := ParseJSONObject([]byte(doc)); err == nil {
			t.Errorf("%q parsed as %v, want an error", doc, v)
		}
	}
}
