package apply

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/metadata"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
)

// fakeMeta is a metadata client over fixed resourceVersions keyed by
// "resource/namespace/name". It records its requests and pages lists by
// opts.Limit, as the apiserver does.
type fakeMeta struct {
	versions map[string]string
	listErr  error
	mu       sync.Mutex
	calls    []string
}

func (f *fakeMeta) Resource(gvr schema.GroupVersionResource) metadata.Getter {
	return fakeMetaResource{f: f, resource: gvr.Resource}
}

func (f *fakeMeta) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

// requests is the recorded calls, sorted: workers run in any order.
func (f *fakeMeta) requests() string {
	out := slices.Clone(f.calls)
	sort.Strings(out)
	return strings.Join(out, "\n")
}

type fakeMetaResource struct {
	metadata.ResourceInterface // unused methods
	f                          *fakeMeta
	resource, namespace        string
}

func (r fakeMetaResource) Namespace(ns string) metadata.ResourceInterface {
	r.namespace = ns
	return r
}

func (r fakeMetaResource) Get(_ context.Context, name string, _ metav1.GetOptions, _ ...string) (*metav1.PartialObjectMetadata, error) {
	r.f.record(fmt.Sprintf("get %s %s/%s", r.resource, r.namespace, name))
	v, ok := r.f.versions[r.resource+"/"+r.namespace+"/"+name]
	if !ok {
		return nil, apierrors.NewNotFound(schema.GroupResource{Resource: r.resource}, name)
	}
	return &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: name, ResourceVersion: v}}, nil
}

func (r fakeMetaResource) List(_ context.Context, opts metav1.ListOptions) (*metav1.PartialObjectMetadataList, error) {
	r.f.record(fmt.Sprintf("list %s %s limit=%d continue=%q", r.resource, r.namespace, opts.Limit, opts.Continue))
	if r.f.listErr != nil {
		return nil, r.f.listErr
	}
	var names []string
	prefix := r.resource + "/" + r.namespace + "/"
	for k := range r.f.versions {
		if name, ok := strings.CutPrefix(k, prefix); ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	from, _ := strconv.Atoi(opts.Continue)
	to := len(names)
	if opts.Limit > 0 && from+int(opts.Limit) < to {
		to = from + int(opts.Limit)
	}
	list := &metav1.PartialObjectMetadataList{}
	for _, name := range names[from:to] {
		list.Items = append(list.Items, metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: name, ResourceVersion: r.f.versions[prefix+name]}})
	}
	if to < len(names) {
		list.Continue = strconv.Itoa(to)
	}
	return list, nil
}

func TestObserve(t *testing.T) {
	vs := func(n int) []translate.Object {
		var out []translate.Object
		for i := range n {
			out = append(out, translate.Object{Unstructured: obj("networking.istio.io/v1", "VirtualService", "", fmt.Sprintf("vs-%d", i))})
		}
		return out
	}
	others := []translate.Object{
		{Unstructured: obj("networking.istio.io/v1", "DestinationRule", "", "dr-0")},
		{Unstructured: obj("networking.istio.io/v1", "DestinationRule", "", "dr-1")},
		{Unstructured: obj("v1", "Namespace", "", "shop"), Shared: true},
	}
	live := map[string]string{
		"virtualservices/shop/vs-1":      "11",
		"virtualservices/shop/vs-3":      "13",
		"virtualservices/shop/unrelated": "99",
		"destinationrules/shop/dr-1":     "21",
		"namespaces//shop":               "1",
	}
	forbidden := apierrors.NewForbidden(schema.GroupResource{Group: "networking.istio.io", Resource: "virtualservices"}, "", errors.New("no list"))
	tests := []struct {
		name     string
		objs     []translate.Object
		listErr  error
		want     string // name=exists/version per item
		requests string
	}{
		{
			name: "a group of listMin or more is listed, page by page; smaller groups are read one by one",
			objs: append(vs(4), others...),
			want: "vs-0=- vs-1=11 vs-2=- vs-3=13 dr-0=- dr-1=21 shop=1",
			requests: `get destinationrules shop/dr-0
get destinationrules shop/dr-1
get namespaces /shop
list virtualservices shop limit=500 continue=""`,
		},
		{
			name: "below listMin every object is read",
			objs: vs(2),
			want: "vs-0=- vs-1=11",
			requests: `get virtualservices shop/vs-0
get virtualservices shop/vs-1`,
		},
		{
			name:    "a refused list falls back to gets",
			objs:    vs(4),
			listErr: forbidden,
			want:    "vs-0=- vs-1=11 vs-2=- vs-3=13",
			requests: `get virtualservices shop/vs-0
get virtualservices shop/vs-1
get virtualservices shop/vs-2
get virtualservices shop/vs-3
list virtualservices shop limit=500 continue=""`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeMeta{versions: live, listErr: tt.listErr}
			c := testClient()
			c.meta = f
			items, err := c.prepare(Set{Name: "p", Namespace: "shop"}, tt.objs)
			if err != nil {
				t.Fatal(err)
			}
			seen := c.observe(t.Context(), items, 3)
			var got []string
			for i, o := range seen {
				v := "-"
				if o.exists {
					v = o.version
				}
				if o.err != nil {
					v = "error: " + o.err.Error()
				}
				got = append(got, items[i].ref.Name+"="+v)
			}
			if g := strings.Join(got, " "); g != tt.want {
				t.Errorf("observed %s, want %s", g, tt.want)
			}
			if g := f.requests(); g != tt.requests {
				t.Errorf("requests:\n%s\nwant:\n%s", g, tt.requests)
			}
		})
	}
}

// TestListVersionsPages: a namespace larger than a page is read whole.
func TestListVersionsPages(t *testing.T) {
	live := map[string]string{}
	for i := range listPage + 2 {
		live[fmt.Sprintf("virtualservices/shop/vs-%04d", i)] = strconv.Itoa(i)
	}
	f := &fakeMeta{versions: live}
	c := testClient()
	c.meta = f
	items, err := c.prepare(Set{Name: "p", Namespace: "shop"}, []translate.Object{{Unstructured: obj("networking.istio.io/v1", "VirtualService", "", "vs-0501")}})
	if err != nil {
		t.Fatal(err)
	}
	versions, err := c.listVersions(t.Context(), items[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(versions) != listPage+2 || versions["vs-0501"] != "501" {
		t.Errorf("listed %d versions, vs-0501=%q; want %d and 501", len(versions), versions["vs-0501"], listPage+2)
	}
	want := `list virtualservices shop limit=500 continue=""
list virtualservices shop limit=500 continue="500"`
	if g := f.requests(); g != want {
		t.Errorf("requests:\n%s\nwant:\n%s", g, want)
	}
}

func TestObserveReportsErrors(t *testing.T) {
	c := testClient()
	c.meta = &fakeMeta{versions: map[string]string{}}
	items, err := c.prepare(Set{Name: "p", Namespace: "shop"}, []translate.Object{{Unstructured: obj("v1", "Service", "", "a")}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if got := c.observe(ctx, items, 1); !errors.Is(got[0].err, context.Canceled) {
		t.Errorf("observe with a cancelled context = %+v, want context.Canceled", got[0])
	}
}

func TestActionAfter(t *testing.T) {
	tests := []struct {
		name    string
		before  observed
		version string
		want    Action
	}{
		{"absent before", observed{}, "7", Created},
		{"same version", observed{exists: true, version: "7"}, "7", Unchanged},
		{"new version", observed{exists: true, version: "7"}, "8", Configured},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := actionAfter(tt.before, tt.version); got != tt.want {
				t.Errorf("actionAfter = %s, want %s", got, tt.want)
			}
		})
	}
}
