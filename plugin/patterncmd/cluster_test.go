package patterncmd

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	clienttesting "k8s.io/client-go/testing"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil/cmdtesting"
)

// Resources the istio translation of canaryPattern writes, and the apply
// set's parent.
var (
	virtualServices  = schema.GroupVersionResource{Group: "networking.istio.io", Version: "v1", Resource: "virtualservices"}
	destinationRules = schema.GroupVersionResource{Group: "networking.istio.io", Version: "v1", Resource: "destinationrules"}
	configMaps       = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
)

// ratingsPattern is a second pattern, of two services.
const ratingsPattern = `apiVersion: kubectl-mesh.io/v1alpha1
kind: Pattern
metadata: {name: ratings}
spec:
  mesh: istio
  services:
  - name: ratings
    versions: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
    traffic: {routes: [{split: [{version: v1, weight: 50}, {version: v2, weight: 50}]}]}
  - name: details
    versions: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
    traffic: {routes: [{split: [{version: v1, weight: 50}, {version: v2, weight: 50}]}]}
`

// lastApplied is how long ago the fake cluster's patterns were applied,
// as list shows it.
const lastApplied = 90 * time.Minute

// newCluster is the fake factory with an apply client over a fake
// apiserver; objects go into the fake clientset (istiod, for detection).
func newCluster(t *testing.T, objects ...runtime.Object) (*cmdtesting.Factory, *dynamicfake.FakeDynamicClient) {
	t.Helper()
	f := cmdtesting.NewFactory(t, objects...)
	client, dyn := cmdtesting.NewApplyClient(t)
	client.Now = func() time.Time { return time.Now().Add(-lastApplied) }
	f.Apply, f.Dynamic = client, dyn
	return f, dyn
}

// mustRun runs a command that must succeed, to set a test up.
func mustRun(t *testing.T, f *cmdtesting.Factory, stdin string, args ...string) {
	t.Helper()
	if _, _, err := f.Run(t, stdin, args, commands...); err != nil {
		t.Fatalf("kubectl mesh %s: %v", strings.Join(args, " "), err)
	}
}

// stored lists the names of the objects of a resource in namespace.
func stored(t *testing.T, dyn *dynamicfake.FakeDynamicClient, gvr schema.GroupVersionResource, namespace string) string {
	t.Helper()
	list, err := dyn.Resource(gvr).Namespace(namespace).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range list.Items {
		names = append(names, u.GetName())
	}
	return strings.Join(names, ",")
}

// failWrites makes the fake apiserver refuse writes (apply patches and
// deletes) of objects of resource named name, as an admission webhook
// would.
func failWrites(dyn *dynamicfake.FakeDynamicClient, resource, name string) {
	deny := func(a clienttesting.Action) (bool, runtime.Object, error) {
		var n string
		switch a := a.(type) {
		case clienttesting.PatchActionImpl:
			n = a.Name
		case clienttesting.DeleteActionImpl:
			n = a.Name
		}
		if n != name {
			return false, nil, nil
		}
		return true, nil, errors.New(`admission webhook "validate.istio.io" denied the request`)
	}
	dyn.PrependReactor("patch", resource, deny)
	dyn.PrependReactor("delete", resource, deny)
}

// applyIstio applies patterns (in one stream) to namespace shop.
func applyIstio(t *testing.T, f *cmdtesting.Factory, patterns string) {
	t.Helper()
	mustRun(t, f, patterns, "apply", "-f", "-", "--mesh", "istio", "-n", "shop")
}
