// Package release tests the release path: hack/dist.sh and the Krew manifest.
package release

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// krewPlugin is the part of Krew's v1alpha2 Plugin that installation reads.
type krewPlugin struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Version          string `json:"version"`
		Homepage         string `json:"homepage"`
		ShortDescription string `json:"shortDescription"`
		Description      string `json:"description"`
		Caveats          string `json:"caveats"`
		Platforms        []struct {
			Selector struct {
				MatchLabels map[string]string `json:"matchLabels"`
			} `json:"selector"`
			URI    string `json:"uri"`
			SHA256 string `json:"sha256"`
			Files  []struct {
				From string `json:"from"`
				To   string `json:"to"`
			} `json:"files"`
			Bin string `json:"bin"`
		} `json:"platforms"`
	} `json:"spec"`
}

// make dist builds archives whose checksums, names and contents match the
// manifest it writes, and the binary inside runs as `kubectl mesh`.
func TestDistArchiveMatchesKrewManifest(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("builds and runs the linux/amd64 archive")
	}
	const version = "v0.0.1-test"
	out := t.TempDir()
	cmd := exec.Command("../../hack/dist.sh", out)
	cmd.Env = append(os.Environ(), "VERSION="+version, "PLATFORMS=linux/amd64",
		"LDFLAGS=-X github.com/kubectl-mesh/kubectl-mesh/internal/buildinfo.version="+version)
	if output, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hack/dist.sh: %v\n%s", err, output)
	}

	manifest := readManifest(t, filepath.Join(out, "krew.yaml"))
	if manifest.Spec.Version != version {
		t.Errorf("spec.version = %q, want %q", manifest.Spec.Version, version)
	}
	var found bool
	for _, p := range manifest.Spec.Platforms {
		labels := p.Selector.MatchLabels
		if labels["os"] != "linux" || labels["arch"] != "amd64" {
			continue
		}
		found = true
		archive := filepath.Join(out, filepath.Base(p.URI))
		data, err := os.ReadFile(archive)
		if err != nil {
			t.Fatalf("the manifest's uri names %s, which dist did not build: %v", filepath.Base(p.URI), err)
		}
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != p.SHA256 {
			t.Errorf("sha256 in manifest %s, archive has %s", p.SHA256, got)
		}
		dir := extract(t, archive)
		for _, f := range p.Files {
			if _, err := os.Stat(filepath.Join(dir, f.From)); err != nil {
				t.Errorf("files: %s is not in the archive", f.From)
			}
		}
		got, err := exec.Command(filepath.Join(dir, p.Bin), "version", "--client").CombinedOutput()
		if err != nil || !strings.Contains(string(got), "Client Version: "+version) {
			t.Errorf("%s version --client: %v\n%s", p.Bin, err, got)
		}
	}
	if !found {
		t.Fatal("no linux/amd64 platform in the manifest")
	}
}

// The committed template is a valid manifest once filled in, for every
// platform, and names archives the way dist.sh builds them.
func TestKrewTemplate(t *testing.T) {
	data, err := os.ReadFile("../../krew.yaml")
	if err != nil {
		t.Fatal(err)
	}
	filled := regexp.MustCompile(`\{\{SHA256_[a-z0-9]+_[a-z0-9]+\}\}`).ReplaceAllString(string(data), strings.Repeat("0", 64))
	filled = strings.ReplaceAll(filled, "{{VERSION}}", "v1.2.3")
	if strings.Contains(filled, "{{") {
		t.Fatalf("unknown placeholder left in krew.yaml")
	}
	path := filepath.Join(t.TempDir(), "krew.yaml")
	if err := os.WriteFile(path, []byte(filled), 0o600); err != nil {
		t.Fatal(err)
	}
	m := readManifest(t, path)
	if m.APIVersion != "krew.googlecontainertools.github.com/v1alpha2" || m.Kind != "Plugin" || m.Metadata.Name != "mesh" {
		t.Errorf("header: %s %s %s", m.APIVersion, m.Kind, m.Metadata.Name)
	}
	if m.Spec.ShortDescription == "" {
		t.Error("shortDescription is empty")
	}
	seen := map[string]bool{}
	for _, p := range m.Spec.Platforms {
		os, arch := p.Selector.MatchLabels["os"], p.Selector.MatchLabels["arch"]
		key := os + "/" + arch
		if seen[key] {
			t.Errorf("%s: listed twice", key)
		}
		seen[key] = true
		if want := "/v1.2.3/kubectl-mesh_v1.2.3_" + os + "_" + arch + ".tar.gz"; !strings.HasSuffix(p.URI, want) {
			t.Errorf("%s: uri %s does not end in %s", key, p.URI, want)
		}
		wantBin := "kubectl-mesh"
		if os == "windows" {
			wantBin += ".exe"
		}
		if p.Bin != wantBin {
			t.Errorf("%s: bin %q, want %q", key, p.Bin, wantBin)
		}
		var hasBin, hasLicense bool
		for _, f := range p.Files {
			hasBin = hasBin || f.From == p.Bin
			hasLicense = hasLicense || f.From == "LICENSE"
		}
		if !hasBin || !hasLicense {
			t.Errorf("%s: files must include %s and LICENSE", key, p.Bin)
		}
	}
	for _, want := range []string{"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64", "windows/amd64"} {
		if !seen[want] {
			t.Errorf("no platform %s", want)
		}
	}
}

func readManifest(t *testing.T, path string) krewPlugin {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m krewPlugin
	if err := yaml.UnmarshalStrict(data, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

func extract(t *testing.T, archive string) string {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return dir
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		dst := filepath.Join(dir, filepath.Clean("/"+h.Name))
		out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, os.FileMode(h.Mode))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, tr); err != nil {
			t.Fatal(err)
		}
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
