package plugin

import (
	"go/build"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/kubectl-mesh/kubectl-mesh/"

// The layout docs/architecture.md describes, kept true: commands live in the
// area packages (plugin/*cmd) over plugin/cmdutil; the libraries beside them
// know nothing of cobra; a command package imports no other area's and no
// concrete mesh adapter (plugin/mesh/all, imported here and by the fake
// factory, is the one list).
func TestLayout(t *testing.T) {
	err := filepath.WalkDir(".", func(dir string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		pkg, err := build.ImportDir(dir, 0)
		if err != nil {
			return nil // no Go files
		}
		path := filepath.ToSlash(filepath.Join("plugin", dir))
		command := dir == "." || strings.HasSuffix(dir, "cmd") || strings.HasPrefix(path, "plugin/cmdutil")
		for _, imp := range pkg.Imports {
			local, ours := strings.CutPrefix(imp, module)
			switch {
			case !ours && imp != "github.com/spf13/cobra":
			case !command && imp == "github.com/spf13/cobra":
				t.Errorf("%s imports cobra: commands belong in a plugin/*cmd package", path)
			case !command && (strings.HasSuffix(local, "cmd") || strings.HasPrefix(local, "plugin/cmdutil")):
				t.Errorf("%s is a library but imports the command package %s", path, local)
			case dir != "." && command && strings.HasSuffix(local, "cmd") && local != path:
				t.Errorf("%s imports another area's commands, %s: share through plugin/cmdutil", path, local)
			case command && dir != "." && path != "plugin/cmdutil/cmdtesting" && slices.Contains([]string{"plugin/mesh/istio", "plugin/mesh/linkerd", "plugin/mesh/all"}, local):
				t.Errorf("%s imports the adapter %s: commands reach meshes through the Factory's registry", path, local)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
