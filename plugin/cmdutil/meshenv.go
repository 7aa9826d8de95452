package plugin

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh/all"
)

// meshEnv is how the mesh commands reach the meshes and the cluster:
// the registry is the only list of meshes they know, and command tests
// replace both with fakes.
type meshEnv struct {
	registry mesh.Registry
	// connect returns the cluster of the kubeconfig flags and the Helm
	// actions on it; log receives Helm's warnings.
	connect func(log io.Writer) (*mesh.Cluster, releaseActions, error)
}

// releaseActions are the Helm actions the commands take (lifecycle.Client).
type releaseActions interface {
	Apply(ctx context.Context, rels []lifecycle.Release, opts lifecycle.Options) ([]lifecycle.Result, error)
	Uninstall(ctx context.Context, name, namespace string, timeout time.Duration) (bool, error)
}

func newMeshEnv(configFlags *genericclioptions.ConfigFlags) meshEnv {
	return meshEnv{
		registry: all.Registry(),
		connect: func(log io.Writer) (*mesh.Cluster, releaseActions, error) {
			c, err := newMeshCluster(configFlags, log)
			if err != nil {
				return nil, nil, err
			}
			return c, c.Helm, nil
		},
	}
}

// meshFlag is the mesh --mesh names.
func (e meshEnv) meshFlag(name string) (mesh.Mesh, error) {
	m, err := e.registry.Get(name)
	if err != nil {
		return nil, fmt.Errorf("--mesh: %w", err)
	}
	return m, nil
}

// addMeshFlag adds --mesh, one of the registry's meshes.
func (e meshEnv) addMeshFlag(cmd *cobra.Command, target *string, usage string) {
	addMeshFlag(cmd, target, e.registry.Names(), usage)
}

// newMeshCluster connects to the cluster of the kubeconfig flags.
func newMeshCluster(configFlags *genericclioptions.ConfigFlags, log io.Writer) (*mesh.Cluster, error) {
	cfg, err := configFlags.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("loading the kubeconfig: %w", err)
	}
	cfg = lifecycle.WithFastClient(cfg)
	clientset, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating the Kubernetes client: %w", err)
	}
	helm, err := lifecycle.New(configFlags, log)
	if err != nil {
		return nil, err
	}
	return &mesh.Cluster{Config: cfg, Clientset: clientset, Helm: helm}, nil
}
