package webhookinstall

import (
	"errors"
	"fmt"
	"io"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/kube"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
)

// Client runs Helm actions on the mesh-webhook release in one namespace.
type Client struct {
	namespace string
	helm      *action.Configuration
	kube      kubernetes.Interface
	dynamic   dynamic.Interface
	// warn tells the user what Helm's logger does not (a stalled CRD cleanup).
	warn func(msg string)
}

// New returns a Client for the cluster the getter points at (kubectl's
// --kubeconfig, --context, ... flags) and the release in namespace. Helm's
// warnings go to logOut.
func New(getter genericclioptions.RESTClientGetter, namespace string, logOut io.Writer) (*Client, error) {
	if namespace == "" {
		return nil, errors.New("the release namespace must not be empty")
	}
	cfg := action.NewConfiguration(action.ConfigurationSetLogger(
		lifecycle.WarningHandler(logOut)))
	// Secrets, as the helm CLI stores them: `helm list -n NAMESPACE` shows the release.
	if err := cfg.Init(getter, namespace, "secret"); err != nil {
		return nil, fmt.Errorf("setting up Helm: %w", err)
	}
	// The objects of the chart go to the release namespace, not to the
	// kubeconfig context's namespace.
	if kc, ok := cfg.KubeClient.(*kube.Client); ok {
		kc.Namespace = namespace
	}
	restConfig, err := getter.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("reading the kubeconfig: %w", err)
	}
	kubeClient, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		return nil, fmt.Errorf("creating the Kubernetes client: %w", err)
	}
	dyn, err := dynamic.NewForConfig(restConfig)
	if err != nil {
		return nil, fmt.Errorf("creating the Kubernetes client: %w", err)
	}
	warn := func(msg string) { fmt.Fprintln(logOut, "warning: "+msg) }
	return &Client{namespace: namespace, helm: cfg, kube: kubeClient, dynamic: dyn, warn: warn}, nil
}

// Namespace is the release namespace.
func (c *Client) Namespace() string { return c.namespace }
