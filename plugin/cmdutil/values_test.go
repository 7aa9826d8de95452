package cmdutil

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/cli/values"

	"github.com/kubectl-mesh/kubectl-mesh/internal/inputlimit"
)

// FuzzReadValues reads any values file and --set value as install, webhook
// install and addon install do: errors say they are about the values and,
// for a file, name it; what is read is values Helm can render (JSON-shaped).
func FuzzReadValues(f *testing.F) {
	f.Add([]byte("global:\n  proxy:\n    resources: {limits: {cpu: 1}}\n"), "pilot.env.A=b,meshConfig.accessLogFile=/dev/stdout")
	f.Add([]byte("a: [1, 2]\n"), "a[3]=x")
	f.Add([]byte("a: &a {b: 1}\nc: *a\n"), "list[65536]=1")
	f.Add(inputlimit.BillionLaughs(), "a.b.c=d")
	f.Add([]byte("\x01"), "{a}=b")
	f.Add([]byte("- 1\n"), "a=b,=c")
	f.Fuzz(func(t *testing.T, file []byte, set string) {
		path := filepath.Join(t.TempDir(), "values.yaml")
		if err := os.WriteFile(path, file, 0o600); err != nil {
			t.Fatal(err)
		}
		vals, err := ReadValues(&values.Options{ValueFiles: []string{path}, Values: []string{set}})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "reading values: ") {
				t.Errorf("error %q does not say it is about the values", err)
			}
			return
		}
		if _, err := json.Marshal(vals); err != nil {
			t.Errorf("values read as %v, which Helm cannot render: %v", vals, err)
		}
	})
}
