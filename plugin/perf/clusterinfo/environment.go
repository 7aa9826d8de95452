// Package clusterinfo reads what an SMP result records of the cluster a
// load test ran against: its Kubernetes version and nodes, and the mesh.
package clusterinfo

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"
)

// Labels that name a node's machine type; the beta one is what clusters
// provisioned before Kubernetes 1.17 still carry.
const (
	instanceTypeLabel     = "node.kubernetes.io/instance-type"
	betaInstanceTypeLabel = "beta.kubernetes.io/instance-type"
)

// nodePage bounds one list call, so a large cluster is read in pages.
const nodePage = 500

// Environment reads the server version and the nodes (name, instance type,
// CPU cores and memory from their capacity), in the API's name order.
func Environment(ctx context.Context, client kubernetes.Interface) (*smp.Environment, error) {
	v, err := client.Discovery().ServerVersion()
	if err != nil {
		return nil, fmt.Errorf("reading the server version: %w", err)
	}
	env := &smp.Environment{KubernetesVersion: v.GitVersion}
	opts := metav1.ListOptions{Limit: nodePage}
	for {
		list, err := client.CoreV1().Nodes().List(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("listing the nodes: %w", err)
		}
		for i := range list.Items {
			env.Nodes = append(env.Nodes, nodeOf(&list.Items[i]))
		}
		if list.Continue == "" {
			return env, nil
		}
		opts.Continue = list.Continue
	}
}

func nodeOf(n *corev1.Node) smp.Node {
	typ := n.Labels[instanceTypeLabel]
	if typ == "" {
		typ = n.Labels[betaInstanceTypeLabel]
	}
	if typ == "" {
		typ = "unknown"
	}
	node := smp.Node{Name: n.Name, Type: typ}
	if cpu, ok := n.Status.Capacity[corev1.ResourceCPU]; ok {
		// Value rounds up: a node of 500m counts as one core.
		node.Cores = int32(min(cpu.Value(), int64(1<<31-1)))
	}
	if mem, ok := n.Status.Capacity[corev1.ResourceMemory]; ok {
		node.MemMB = mem.Value() / (1 << 20)
	}
	return node
}
