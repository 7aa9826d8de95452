package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// virtualServiceCRD stands in for Istio's CRD: the check only needs the API
// to serve the kind. (The lifecycle e2e installs Istio's own CRDs.)
const virtualServiceCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: virtualservices.networking.istio.io
spec:
  group: networking.istio.io
  names: {kind: VirtualService, listKind: VirtualServiceList, plural: virtualservices, singular: virtualservice, shortNames: [vs]}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
`

const checkObjects = `apiVersion: v1
kind: Namespace
metadata: {name: check-shop}
---
apiVersion: v1
kind: Namespace
metadata: {name: check-other}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: check-shop}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: check-shop}
spec:
  hosts: [reviews]
  http:
  - route: [{destination: {host: reviews}}]
    timeout: 5s
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings, namespace: check-shop}
spec:
  hosts: [ratings]
  http:
  - route: [{destination: {host: ratings}}]
    timeout: 5s
---
# Resolves only through a lookup in another namespace.
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews-from-other, namespace: check-other}
spec:
  hosts: [reviews.check-shop.svc.cluster.local]
  http:
  - route: [{destination: {host: reviews.check-shop.svc.cluster.local}}]
    timeout: 5s
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: details, namespace: check-other}
spec:
  hosts: [details]
  http:
  - route: [{destination: {host: details}}]
    timeout: 5s
`

// TestCheckAgainstCluster runs kubectl mesh check on objects in the
// sandbox's apiserver: namespace scope, all namespaces, TYPE NAME, and the
// same objects piped from kubectl get.
func TestCheckAgainstCluster(t *testing.T) {
	kubectl(t, "apply", "-f", "-").stdin(virtualServiceCRD).run()
	kubectl(t, "wait", "--for=condition=Established", "crd/virtualservices.networking.istio.io", "--timeout=30s").run()
	kubectl(t, "apply", "-f", "-").stdin(checkObjects).run()

	tests := []struct {
		name     string
		args     []string
		stdin    string
		wantCode int
		want     []string // "ID namespace/Kind/name", exactly
	}{
		{"one namespace", []string{"-n", "check-shop"}, "", 3,
			[]string{"MESH1101 check-shop/VirtualService/ratings"}},
		{"all namespaces, lookups across namespaces", []string{"-A"}, "", 3,
			[]string{"MESH1101 check-other/VirtualService/details", "MESH1101 check-shop/VirtualService/ratings"}},
		{"TYPE NAME of a clean object", []string{"virtualservice", "reviews", "-n", "check-shop"}, "", 0, nil},
		{"TYPE/NAME of a broken object", []string{"vs/ratings", "-n", "check-shop"}, "", 3,
			[]string{"MESH1101 check-shop/VirtualService/ratings"}},
		{"kubectl get -o yaml piped in", []string{"-f", "-"}, kubectl(t, "get", "vs,svc", "-A", "-o", "yaml").run(), 3,
			[]string{"MESH1101 check-other/VirtualService/details", "MESH1101 check-shop/VirtualService/ratings"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"check", "--policy", "MESH1101", "-o", "json"}, tt.args...)
			cmd := exec.Command(filepath.Join(binDir, "kubectl-mesh"), args...)
			cmd.Env = append(os.Environ(), "KUBECONFIG="+cluster.Kubeconfig)
			cmd.Stdin = strings.NewReader(tt.stdin)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			if exit, ok := err.(*exec.ExitError); ok {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.wantCode {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, stdout.String(), stderr.String())
			}
			var report struct {
				Findings []struct {
					PolicyID string
					Resource struct{ Kind, Namespace, Name string }
				}
			}
			if err := json.Unmarshal(stdout.Bytes(), &report); err != nil {
				t.Fatalf("%v\n%s", err, stdout.String())
			}
			var got []string
			for _, f := range report.Findings {
				// Other tests share the cluster: -A sees their objects too.
				if !strings.HasPrefix(f.Resource.Namespace, "check-") {
					continue
				}
				got = append(got, f.PolicyID+" "+f.Resource.Namespace+"/"+f.Resource.Kind+"/"+f.Resource.Name)
			}
			got = slices.Compact(got) // one finding per broken host and per broken destination
			if !slices.Equal(got, tt.want) {
				t.Errorf("findings %q, want %q", got, tt.want)
			}
		})
	}
}

type kubectlCmd struct {
	t   *testing.T
	cmd *exec.Cmd
}

func kubectl(t *testing.T, args ...string) *kubectlCmd {
	cmd := exec.Command("/usr/bin/kubectl", args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+cluster.Kubeconfig)
	return &kubectlCmd{t: t, cmd: cmd}
}

func (k *kubectlCmd) stdin(s string) *kubectlCmd {
	k.cmd.Stdin = strings.NewReader(s)
	return k
}

func (k *kubectlCmd) run() string {
	k.t.Helper()
	out, err := k.cmd.Output()
	if err != nil {
		stderr := ""
		if exit, ok := err.(*exec.ExitError); ok {
			stderr = string(exit.Stderr)
		}
		k.t.Fatalf("kubectl %s: %v\n%s", strings.Join(k.cmd.Args[1:], " "), err, stderr)
	}
	return string(out)
}
