package webhookinstall

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
)

// Client manages the mesh-webhook release in one namespace: a one-release
// plan on the lifecycle engine, plus what only the webhook has (its
// namespace's Pod Security label, the purge, the status of its objects).
type Client struct {
	namespace string
	helm      releases
	kube      kubernetes.Interface
	// warn tells the user what Helm's logger does not (a stalled CRD cleanup).
	warn func(msg string)
}

// releases is what the Client uses of *lifecycle.Client; tests fake it.
type releases interface {
	Apply(ctx context.Context, rels []lifecycle.Release, opts lifecycle.Options) ([]lifecycle.Result, error)
	Get(ctx context.Context, name, namespace string) (*lifecycle.ReleaseInfo, error)
	Uninstall(ctx context.Context, name, namespace string, timeout time.Duration) (bool, error)
	DeleteCRDs(ctx context.Context, names []string, timeout time.Duration, warn func(string)) ([]string, error)
}

// New returns a Client for the cluster the getter points at (kubectl's
// --kubeconfig, --context, ... flags) and the release in namespace. Helm's
// warnings go to logOut.
func New(getter genericclioptions.RESTClientGetter, namespace string, logOut io.Writer) (*Client, error) {
	if namespace == "" {
		return nil, errors.New("the release namespace must not be empty")
	}
	helm, err := lifecycle.New(getter, logOut)
	if err != nil {
		return nil, err
	}
	restConfig, err := getter.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("reading the kubeconfig: %w", err)
	}
	// The getter's rate limit, as the releases' (the commands' factory).
	kubeClient, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		return nil, fmt.Errorf("creating the Kubernetes client: %w", err)
	}
	warn := func(msg string) { fmt.Fprintln(logOut, "warning: "+msg) }
	return &Client{namespace: namespace, helm: helm, kube: kubeClient, warn: warn}, nil
}

// Namespace is the release namespace.
func (c *Client) Namespace() string { return c.namespace }
