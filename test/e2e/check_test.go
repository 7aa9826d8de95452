package e2e

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
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
	harness.Must(t, harness.KubectlStdin(t, virtualServiceCRD, "apply", "-f", "-"))
	harness.Must(t, harness.Kubectl(t, "wait", "--for=condition=Established", "crd/virtualservices.networking.istio.io", "--timeout=30s"))
	harness.Must(t, harness.KubectlStdin(t, checkObjects, "apply", "-f", "-"))

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
		{"kubectl get -o yaml piped in", []string{"-f", "-"}, harness.Must(t, harness.Kubectl(t, "get", "vs,svc", "-A", "-o", "yaml")).Stdout, 3,
			[]string{"MESH1101 check-other/VirtualService/details", "MESH1101 check-shop/VirtualService/ratings"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"check", "--policy", "MESH1101", "-o", "json"}, tt.args...)
			r := harness.MeshStdin(t, tt.stdin, args...)
			if r.Code != tt.wantCode {
				t.Fatalf("%v\nwant exit code %d", r, tt.wantCode)
			}
			var report struct {
				Findings []struct {
					PolicyID string
					Resource struct{ Kind, Namespace, Name string }
				}
			}
			if err := json.Unmarshal([]byte(r.Stdout), &report); err != nil {
				t.Fatalf("%v\n%s", err, r.Stdout)
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
