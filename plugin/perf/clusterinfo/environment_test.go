package clusterinfo

import (
	"context"
	"errors"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/version"
	fakediscovery "k8s.io/client-go/discovery/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"
)

func node(name string, labels map[string]string, cpu, mem string) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	n.Status.Capacity = corev1.ResourceList{}
	if cpu != "" {
		n.Status.Capacity[corev1.ResourceCPU] = resource.MustParse(cpu)
	}
	if mem != "" {
		n.Status.Capacity[corev1.ResourceMemory] = resource.MustParse(mem)
	}
	return n
}

func TestEnvironment(t *testing.T) {
	tests := []struct {
		name    string
		nodes   []runtime.Object
		version string
		listErr error
		want    *smp.Environment
		wantErr string
	}{
		{
			name: "nodes",
			nodes: []runtime.Object{
				node("node-b", map[string]string{"node.kubernetes.io/instance-type": "m6i.xlarge"}, "4", "16Gi"),
				node("node-a", map[string]string{"beta.kubernetes.io/instance-type": "n2-standard-8"}, "8", "32880400Ki"),
				node("node-c", nil, "500m", "1000M"),
				node("node-d", map[string]string{"node.kubernetes.io/instance-type": ""}, "", ""),
			},
			version: "v1.37.2",
			want: &smp.Environment{KubernetesVersion: "v1.37.2", Nodes: []smp.Node{
				{Name: "node-a", Type: "n2-standard-8", Cores: 8, MemMB: 32109},
				{Name: "node-b", Type: "m6i.xlarge", Cores: 4, MemMB: 16384},
				{Name: "node-c", Type: "unknown", Cores: 1, MemMB: 953},
				{Name: "node-d", Type: "unknown"},
			}},
		},
		{
			name:    "no nodes",
			version: "v1.36.0+k3s1",
			want:    &smp.Environment{KubernetesVersion: "v1.36.0+k3s1"},
		},
		{
			name:    "nodes forbidden",
			version: "v1.37.2",
			listErr: errors.New(`nodes is forbidden: User "dev" cannot list resource "nodes"`),
			wantErr: `listing the nodes: nodes is forbidden: User "dev" cannot list resource "nodes"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := fake.NewClientset(tt.nodes...)
			client.Discovery().(*fakediscovery.FakeDiscovery).FakedServerVersion = &version.Info{GitVersion: tt.version}
			if tt.listErr != nil {
				client.PrependReactor("list", "nodes", func(k8stesting.Action) (bool, runtime.Object, error) {
					return true, nil, tt.listErr
				})
			}
			got, err := Environment(context.Background(), client)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("Environment() error = %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Environment(): %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Environment() = %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestEnvironmentPages checks that every page of nodes is read.
func TestEnvironmentPages(t *testing.T) {
	client := fake.NewClientset()
	pages := map[string]*corev1.NodeList{
		"":   {ListMeta: metav1.ListMeta{Continue: "p2"}, Items: []corev1.Node{*node("n1", nil, "2", "")}},
		"p2": {Items: []corev1.Node{*node("n2", nil, "4", "")}},
	}
	var limits []int64
	client.PrependReactor("list", "nodes", func(a k8stesting.Action) (bool, runtime.Object, error) {
		opts := a.(k8stesting.ListActionImpl).ListOptions
		limits = append(limits, opts.Limit)
		page, ok := pages[opts.Continue]
		if !ok {
			return true, nil, errors.New("unknown continue token " + opts.Continue)
		}
		return true, page, nil
	})
	got, err := Environment(context.Background(), client)
	if err != nil {
		t.Fatalf("Environment(): %v", err)
	}
	want := []smp.Node{{Name: "n1", Type: "unknown", Cores: 2}, {Name: "n2", Type: "unknown", Cores: 4}}
	if !reflect.DeepEqual(got.Nodes, want) {
		t.Errorf("nodes = %+v, want %+v", got.Nodes, want)
	}
	if !reflect.DeepEqual(limits, []int64{nodePage, nodePage}) {
		t.Errorf("list limits = %v, want two pages of %d", limits, nodePage)
	}
}
