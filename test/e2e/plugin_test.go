package e2e

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-mesh/kubectl-mesh/plugin"
	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
)

// kubectl finds kubectl-mesh on PATH and runs it as `kubectl mesh`, which
// reports the sandbox apiserver's version.
func TestKubectlDiscoversPlugin(t *testing.T) {
	pathDir := t.TempDir()
	if err := os.Symlink(harness.Bin("kubectl-mesh"), filepath.Join(pathDir, "kubectl-mesh")); err != nil {
		t.Fatal(err)
	}
	// kubectl finds plugins on PATH: only kubectl-mesh is there.
	list := harness.Command(t.Context(), harness.KubectlPath, "plugin", "list", "--name-only")
	list.Env = append(list.Env, "PATH="+pathDir)
	out, err := list.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl plugin list: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "kubectl-mesh") {
		t.Fatalf("kubectl plugin list does not show kubectl-mesh:\n%s", out)
	}

	version := harness.Command(t.Context(), harness.KubectlPath, "mesh", "version", "-o", "json")
	version.Env = append(version.Env, "PATH="+pathDir)
	var stderr strings.Builder
	version.Stderr = &stderr
	out, err = version.Output()
	if err != nil {
		t.Fatalf("kubectl mesh version -o json: %v\n%s", err, stderr.String())
	}
	var got plugin.VersionInfo
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("decoding the version JSON: %v\n%s", err, out)
	}
	if got.ServerVersion == nil {
		t.Fatalf("no serverVersion in:\n%s", out)
	}

	want, err := harness.KubeClient(t).Discovery().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	if got.ServerVersion.GitVersion != want.GitVersion {
		t.Errorf("kubectl mesh version reports server %q, the sandbox apiserver is %q", got.ServerVersion.GitVersion, want.GitVersion)
	}
	if pinned := pinnedKubernetesVersion(t); got.ServerVersion.GitVersion != pinned {
		t.Errorf("server version %q, want %q pinned by test/tools/go.mod", got.ServerVersion.GitVersion, pinned)
	}
	if got.ClientVersion.Version == "" || got.ClientVersion.GoVersion == "" {
		t.Errorf("client version incomplete: %+v", got.ClientVersion)
	}
}

// pinnedKubernetesVersion reads the k8s.io/kubernetes version the sandbox is
// built from.
func pinnedKubernetesVersion(t *testing.T) string {
	t.Helper()
	f, err := os.Open("../tools/go.mod")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "k8s.io/kubernetes" {
			return fields[1]
		}
	}
	t.Fatal("k8s.io/kubernetes is not required in test/tools/go.mod")
	return ""
}
