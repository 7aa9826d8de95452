package policies

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

// FuzzParseJSONObject holds the webhook's JSON decoder to encoding/json
// (numbers kept as written) followed by ast.InterfaceToValue, which it
// replaces: the same value for every object encoding/json reads, an error
// for everything else.
func FuzzParseJSONObject(f *testing.F) {
	for _, seed := range []string{
		`{}`,
		` {"a": 1, "b": [true, false, null, -0.5e+10, 9007199254740993], "c": {"d": [], "e": {}}} `,
		`{"esc": "tab\there \"quoted\" \\ \/ \u00e9 \ud83d\ude00 \ud800", "utf8": "é😀"}`,
		`{"dup": 1, "dup": 2}`,
		"{\"bad utf8\": \"\xff\xfe\"}",
		`{"n": [0, -1, 1.0, 1E3, 2e-3, 123456789012345678901234567890]}`,
		`[1]`, `{"a": 01}`, `{"a": 1.}`, `{"a": "open`,
		`{"apiVersion":"networking.istio.io/v1","kind":"VirtualService","metadata":{"name":"r","namespace":"s"},"spec":{"hosts":["r"],"http":[{"route":[{"destination":{"host":"r","subset":"v1"},"weight":100}]}]}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ParseJSONObject(data)
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var want map[string]any
		stdErr := dec.Decode(&want)
		if stdErr == nil && len(bytes.Trim(data[dec.InputOffset():], " \t\r\n")) > 0 {
			stdErr = errTrailing
		}
		if stdErr == nil && want == nil {
			stdErr = errTrailing // null is no object
		}
		if stdErr == nil {
			// OPA's own conversion refuses numbers it cannot evaluate.
			_, stdErr = ast.InterfaceToValue(want)
		}
		if stdErr == nil {
			// So does the parser in a value that a later duplicate key
			// replaces, which the conversion never sees.
			stdErr = checkNumbers(data)
		}
		switch {
		case stdErr != nil && err == nil:
			t.Fatalf("%q: parsed as %v; encoding/json refuses it: %v", data, got, stdErr)
		case stdErr == nil && err != nil:
			t.Fatalf("%q: %v; encoding/json reads it", data, err)
		case stdErr == nil:
			if w := ast.MustInterfaceToValue(want); got.Compare(w) != 0 {
				t.Fatalf("%q:\n got %v\nwant %v", data, got, w)
			}
		}
	})
}

// checkNumbers refuses data when OPA refuses one of its numbers.
func checkNumbers(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // read whole by Decode already: the end
		}
		if n, ok := tok.(json.Number); ok {
			if _, err := ast.NumberChecked(string(n)); err != nil {
				return err
			}
		}
	}
}

var errTrailing = jsonError("not one object")

type jsonError string

func (e jsonError) Error() string { return string(e) }
