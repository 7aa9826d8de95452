package perf

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/clusterinfo"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/portforward"
	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
)

// pfEchoServer answers "echo <path>" on loopback: the simulated pod's port
// is forwarded to it by kwok.
func pfEchoServer(t *testing.T) (*httptest.Server, int) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "echo %s", r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	return srv, srv.Listener.Addr().(*net.TCPAddr).Port
}

// pfEchoObjects is a pod behind two Services (a numeric and a named
// targetPort) and the kwok PortForward that sends its port 8080 to port.
func pfEchoObjects(ns string, port int) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: echo, namespace: %[1]s}
spec:
  selector: {app: echo}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: echo-named, namespace: %[1]s}
spec:
  selector: {app: echo}
  ports:
  - {name: http, port: 80, targetPort: web}
  - {name: grpc, port: 9090, targetPort: 9090}
---
apiVersion: v1
kind: Pod
metadata: {name: echo-0, namespace: %[1]s, labels: {app: echo}}
spec:
  containers:
  - name: echo
    image: fortio/fortio:1.75.3
    ports: [{name: web, containerPort: 8080}]
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: PortForward
metadata: {name: echo-0, namespace: %[1]s}
spec:
  forwards:
  - ports: [8080]
    target: {address: 127.0.0.1, port: %[2]d}
`, ns, port)
}

func TestPortForwardReachesTheService(t *testing.T) {
	_, port := pfEchoServer(t)
	ns := pfEchoNamespace(t, "perf-portforward", port)
	cfg, client := harness.RESTConfig(t), harness.KubeClient(t)

	tests := []struct {
		name, target string
		wantPort     int32
	}{
		{name: "only port", target: "svc/echo", wantPort: 8080},
		{name: "port name", target: "svc/echo:http", wantPort: 8080},
		{name: "port number", target: "service/echo:80", wantPort: 8080},
		{name: "named targetPort", target: "svc/echo-named:http", wantPort: 8080},
		{name: "pod", target: "pod/echo-0:web", wantPort: 8080},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target, err := portforward.ParseTarget(tt.target)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			f, err := portforward.Open(ctx, cfg, client, ns, target)
			if err != nil {
				t.Fatalf("Open(%s): %v", tt.target, err)
			}
			defer f.Close()
			if f.Pod() != "echo-0" || f.RemotePort() != tt.wantPort {
				t.Errorf("forward reaches pod %s port %d, want echo-0 port %d", f.Pod(), f.RemotePort(), tt.wantPort)
			}
			if !strings.HasPrefix(f.LocalAddr(), "127.0.0.1:") {
				t.Errorf("LocalAddr() = %q, want 127.0.0.1:PORT", f.LocalAddr())
			}
			// Two requests: the forward serves more than one connection.
			for _, path := range []string{"/hello", "/again"} {
				if got := pfGet(t, f.URL("http", path)); got != "echo "+path {
					t.Errorf("GET %s = %q, want %q", path, got, "echo "+path)
				}
			}
		})
	}

	errTests := []struct {
		name, target, wantErr string
	}{
		{name: "missing service", target: "svc/missing", wantErr: "service " + ns + "/missing not found"},
		{name: "missing port", target: "svc/echo:8080", wantErr: "service " + ns + "/echo has no port 8080 (ports: http 80)"},
		{name: "several ports", target: "svc/echo-named", wantErr: "service " + ns + "/echo-named has several ports (http 80, grpc 9090): name one, as in svc/echo-named:http"},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			target, err := portforward.ParseTarget(tt.target)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			f, err := portforward.Open(ctx, cfg, client, ns, target)
			if err == nil {
				f.Close()
				t.Fatalf("Open(%s) succeeded, want %s", tt.target, tt.wantErr)
			}
			if err.Error() != tt.wantErr {
				t.Errorf("Open(%s) error = %v, want %s", tt.target, err, tt.wantErr)
			}
		})
	}
}

// TestPortForwardSurfacesALostPod checks that a forward whose pod stops
// answering ends with an error instead of hanging.
func TestPortForwardSurfacesALostPod(t *testing.T) {
	srv, port := pfEchoServer(t)
	ns := pfEchoNamespace(t, "perf-portforward-lost", port)
	cfg, client := harness.RESTConfig(t), harness.KubeClient(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	f, err := portforward.Open(ctx, cfg, client, ns, portforward.Target{Kind: portforward.KindService, Name: "echo"})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := pfGet(t, f.URL("http", "/")); got != "echo /" {
		t.Fatalf("GET / = %q before the server stopped", got)
	}

	srv.Close()
	resp, err := http.Get(f.URL("http", "/"))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("GET through the forward to a stopped server succeeded: %s", resp.Status)
	}
	select {
	case <-f.Done():
	case <-time.After(30 * time.Second): // a sanity bound, not a speed target
		t.Fatal("the forward did not end after its target stopped")
	}
	err = f.Err()
	t.Logf("Err() = %v", err)
	if err == nil || !strings.HasPrefix(err.Error(), "port-forward to pod "+ns+"/echo-0 port 8080: lost connection to pod") {
		t.Errorf("Err() = %v, want it to name the pod and the lost connection", err)
	}
}

func TestClusterEnvironment(t *testing.T) {
	client := harness.KubeClient(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	env, err := clusterinfo.Environment(ctx, client)
	if err != nil {
		t.Fatal(err)
	}

	var version struct {
		ServerVersion struct {
			GitVersion string `json:"gitVersion"`
		} `json:"serverVersion"`
	}
	out := harness.Must(t, harness.Kubectl(t, "version", "-o", "json")).Stdout
	if err := json.Unmarshal([]byte(out), &version); err != nil {
		t.Fatalf("reading kubectl version: %v\n%s", err, out)
	}
	if env.KubernetesVersion == "" || env.KubernetesVersion != version.ServerVersion.GitVersion {
		t.Errorf("kubernetes_version = %q, want kubectl's server version %q", env.KubernetesVersion, version.ServerVersion.GitVersion)
	}

	names := strings.Fields(harness.Must(t, harness.Kubectl(t, "get", "nodes", "-o", "jsonpath={.items[*].metadata.name}")).Stdout)
	if len(env.Nodes) != len(names) || len(names) == 0 {
		t.Fatalf("nodes = %+v, want the %d nodes %v", env.Nodes, len(names), names)
	}
	for i, n := range env.Nodes {
		cpu := harness.Must(t, harness.Kubectl(t, "get", "node", names[i], "-o", "jsonpath={.status.capacity.cpu}")).Stdout
		if n.Name != names[i] || n.Type != "unknown" || fmt.Sprint(n.Cores) != cpu {
			t.Errorf("node %d = %+v, want name %s, type unknown, %s cores", i, n, names[i], cpu)
		}
	}
}

// pfWaitServed waits until the pod is ready and kwok forwards its port: kwok
// picks up a new PortForward object a moment after the pod is ready, and a
// connection made before then is refused.
// pfEchoNamespace creates namespace name holding pfEchoObjects forwarded
// to port, and waits until kwok serves the forward.
func pfEchoNamespace(t *testing.T, name string, port int) string {
	t.Helper()
	ns := harness.Namespace(t, name)
	harness.Must(t, harness.KubectlStdin(t, pfEchoObjects(ns, port), "apply", "-f", "-"))
	pfWaitServed(t, ns)
	return ns
}

func pfWaitServed(t *testing.T, ns string) {
	t.Helper()
	harness.Must(t, harness.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", "pod/echo-0", "--timeout=90s"))
	cfg, client := harness.RESTConfig(t), harness.KubeClient(t)
	target := portforward.Target{Kind: portforward.KindPod, Name: "echo-0", Port: "8080"}
	var last error
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		last = func() error {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			f, err := portforward.Open(ctx, cfg, client, ns, target)
			if err != nil {
				return err
			}
			defer f.Close()
			c := &http.Client{Timeout: 5 * time.Second}
			resp, err := c.Get(f.URL("http", "/"))
			if err != nil {
				return err
			}
			return resp.Body.Close()
		}()
		if last == nil {
			return
		}
	}
	t.Fatalf("kwok does not forward pod %s/echo-0: %v", ns, last)
}

// pfGet returns the body of a GET, failing t on any error.
func pfGet(t *testing.T, url string) string {
	t.Helper()
	c := &http.Client{Timeout: 20 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %q %v", url, resp.Status, body, err)
	}
	return string(body)
}
