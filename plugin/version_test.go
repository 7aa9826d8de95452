package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	fakediscovery "k8s.io/client-go/discovery/fake"
	kubetesting "k8s.io/client-go/testing"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-mesh/kubectl-mesh/internal/buildinfo"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil/cmdtesting"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh/istio"
)

func TestVersion(t *testing.T) {
	server := &version.Info{GitVersion: "v1.37.2", Major: "1", Minor: "37"}
	unreachable := errors.New("dial tcp 127.0.0.1:6443: connect: connection refused")
	client := buildinfo.Get().Version
	istioLine := "Istio Default: " + istio.DefaultVersion + " (tested: " + istio.TestedVersions + ")\n"

	tests := []struct {
		name       string
		opts       VersionOptions
		serverErr  error
		wantOut    string // exact, for text output
		wantServer string // for structured output; "" means absent
		wantErr    string
	}{
		{name: "text with server", wantOut: "Client Version: " + client + "\n" + istioLine + "Server Version: v1.37.2\n"},
		{name: "client only needs no server", opts: VersionOptions{ClientOnly: true}, serverErr: unreachable, wantOut: "Client Version: " + client + "\n" + istioLine},
		{name: "unreachable server prints the client version, then fails", serverErr: unreachable, wantOut: "Client Version: " + client + "\n" + istioLine, wantErr: "reading the server version: dial tcp"},
		{name: "json", opts: VersionOptions{Output: "json"}, wantServer: "v1.37.2"},
		{name: "yaml", opts: VersionOptions{Output: "yaml"}, wantServer: "v1.37.2"},
		{name: "json client only", opts: VersionOptions{Output: "json", ClientOnly: true}},
		{name: "unknown output format names the flag", opts: VersionOptions{Output: "table"}, wantErr: `--output: unknown format "table" (allowed: json, yaml)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			streams, _, out, _ := genericiooptions.NewTestIOStreams()
			o := tc.opts
			o.IOStreams = streams
			o.factory = fakeServer(t, server, tc.serverErr)

			err := o.Validate()
			if err == nil {
				err = o.Run(context.Background())
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}

			switch o.Output {
			case "":
				if tc.wantErr == "" || tc.wantOut != "" {
					if got := out.String(); got != tc.wantOut {
						t.Errorf("output:\n%q\nwant:\n%q", got, tc.wantOut)
					}
				}
			case "json", "yaml":
				got := decodeVersion(t, o.Output, out.Bytes())
				if got.ClientVersion.Version != client {
					t.Errorf("clientVersion.version = %q, want %q", got.ClientVersion.Version, client)
				}
				want := mesh.PinnedRelease{Repository: istio.ReleaseRepo, Default: istio.DefaultVersion, Tested: istio.TestedVersions}
				if len(got.Meshes) != 1 || got.Meshes["istio"] != want {
					t.Errorf("meshes = %+v, want istio: %+v", got.Meshes, want)
				}
				gotServer := ""
				if got.ServerVersion != nil {
					gotServer = got.ServerVersion.GitVersion
				}
				if gotServer != tc.wantServer {
					t.Errorf("serverVersion.gitVersion = %q, want %q", gotServer, tc.wantServer)
				}
			}
		})
	}
}

func decodeVersion(t *testing.T, format string, data []byte) VersionInfo {
	t.Helper()
	var v VersionInfo
	var err error
	if format == "json" {
		err = json.Unmarshal(data, &v)
	} else {
		err = yaml.UnmarshalStrict(data, &v)
	}
	if err != nil {
		t.Fatalf("decoding %s output: %v\n%s", format, err, data)
	}
	return v
}

// fakeServer is a fake factory whose apiserver has the version, or fails.
func fakeServer(t *testing.T, server *version.Info, serverErr error) *cmdtesting.Factory {
	f := cmdtesting.NewFactory(t)
	disc := f.Clientset.Discovery().(*fakediscovery.FakeDiscovery)
	disc.FakedServerVersion = server
	if serverErr != nil {
		disc.PrependReactor("get", "version", func(kubetesting.Action) (bool, runtime.Object, error) {
			return true, nil, serverErr
		})
	}
	return f
}

// The command wiring: flags reach the options, and no server is contacted
// with --client.
func TestVersionCommandClientOnly(t *testing.T) {
	f := cmdtesting.NewFactory(t)
	out, _, err := f.Run(t, "", []string{"version", "--client", "-o", "json"}, NewCmdVersion)
	if err != nil {
		t.Fatalf("version --client: %v", err)
	}
	if got := decodeVersion(t, "json", []byte(out)); got.ServerVersion != nil {
		t.Errorf("--client printed a server version: %+v", got.ServerVersion)
	}
	if strings.Contains(out, "serverVersion") || f.Connects != 0 {
		t.Errorf("--client asked for %d clients; output:\n%s", f.Connects, out)
	}
}
