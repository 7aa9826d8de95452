package inputlimit

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckYAML(t *testing.T) {
	for _, tc := range []struct {
		name, doc, wantErr string
	}{
		{name: "plain document", doc: "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n"},
		{name: "a few aliases", doc: "x: &x {a: 1, b: [1, 2]}\ny: *x\nz: {<<: *x, c: 3}\n"},
		{name: "billion laughs", doc: string(BillionLaughs()), wantErr: "f.yaml:1: document contains excessive aliasing: aliases add more than 400000 nodes"},
		{name: "deep nesting", doc: string(Deep(MaxDepth + 5)), wantErr: "f.yaml:1: document nests deeper than 1000 levels"},
		{name: "nesting at the limit", doc: string(Deep(MaxDepth - 2))},
		{name: "depth through aliases", doc: "a: &a " + strings.Repeat("[", 600) + strings.Repeat("]", 600) + "\nb: " + strings.Repeat("[", 600) + "*a" + strings.Repeat("]", 600) + "\n",
			wantErr: "nests deeper than 1000 levels"},
		{name: "alias cycle", doc: "a: &a [1, *a]\n", wantErr: "f.yaml:1: document contains an alias to a node that contains the alias"},
		{name: "second document", doc: "a: 1\n---\n" + string(BillionLaughs()), wantErr: "f.yaml:3: document contains excessive aliasing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckYAML("f.yaml", []byte(tc.doc))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error = %v, want %q", err, tc.wantErr)
			}
			var le *Error
			if err != nil && !errors.As(err, &le) {
				t.Fatalf("error %v is not an *Error", err)
			}
		})
	}
}

func TestReadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.json")
	if err := os.WriteFile(path, make([]byte, MaxDocumentBytes+1), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFile(path)
	if want := path + ": is larger than 16 MiB"; err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %q", err, want)
	}
	if err := os.WriteFile(path, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if data, err := ReadFile(path); err != nil || string(data) != "{}" {
		t.Fatalf("ReadFile = %q, %v", data, err)
	}
}
