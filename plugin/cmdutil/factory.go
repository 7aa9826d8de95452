package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/apply"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/webhookinstall"
)

// Factory is how every command reaches the cluster, as kubectl's
// cmdutil.Factory is: it makes each client from the kubeconfig flags, with
// the client-side rate limit set once for all of them, and resolves the
// namespace one way. Command tests give commands cmdtesting.Factory, the
// one fake.
type Factory interface {
	// RESTClientGetter's configs carry the rate limit (Helm and
	// webhookinstall take the Factory as their getter).
	genericclioptions.RESTClientGetter
	// Namespace is -n, else the kubeconfig context's namespace, else
	// "default"; explicit reports whether -n named it.
	Namespace() (namespace string, explicit bool, err error)
	KubernetesClientSet() (kubernetes.Interface, error)
	DynamicClient() (dynamic.Interface, error)
	// ApplyClient applies, diffs, lists and deletes apply sets (patterns,
	// apps).
	ApplyClient() (*apply.Client, error)
	// Meshes is the one list of meshes: --mesh values, completion, errors.
	Meshes() mesh.Registry
	// MeshCluster is the cluster as the mesh adapters see it, and the Helm
	// releases on it; Helm's warnings go to log.
	MeshCluster(log io.Writer) (*mesh.Cluster, Releases, error)
	// Webhook is the mesh-webhook release in namespace.
	Webhook(namespace string, log io.Writer) (WebhookReleases, error)
}

// Releases are the Helm actions the mesh commands take (lifecycle.Client).
type Releases interface {
	Apply(ctx context.Context, rels []lifecycle.Release, opts lifecycle.Options) ([]lifecycle.Result, error)
	Uninstall(ctx context.Context, name, namespace string, timeout time.Duration) (bool, error)
	// List is the latest revision of every release whose labels include sel.
	List(ctx context.Context, sel map[string]string) ([]lifecycle.ReleaseInfo, error)
}

// WebhookReleases are the webhook commands' actions (webhookinstall.Client).
type WebhookReleases interface {
	Install(ctx context.Context, ch *chart.Chart, o webhookinstall.InstallOptions) (*lifecycle.Result, error)
	Uninstall(ctx context.Context, ch *chart.Chart, o webhookinstall.UninstallOptions) (*webhookinstall.UninstallResult, error)
	Status(ctx context.Context) (*webhookinstall.Status, error)
}

// Client-side rate limit of every client: client-go's default, 5 requests/s,
// throttles Helm's readiness waits (they list ReplicaSets and Pods per
// Deployment), precheck's access reviews and the apply worker pool, whose
// size bounds the load instead; the apiserver's priority and fairness
// protects it from a burst.
const (
	clientQPS   = 1000
	clientBurst = 2000
)

// withClientRate sets the rate limit on a config that sets none of its own.
func withClientRate(cfg *rest.Config) *rest.Config {
	if cfg.QPS == 0 && cfg.RateLimiter == nil {
		cfg.QPS, cfg.Burst = clientQPS, clientBurst
	}
	return cfg
}

type factory struct {
	*genericclioptions.ConfigFlags
	meshes mesh.Registry
}

// NewFactory returns the Factory of the kubeconfig flags and the meshes
// kubectl mesh ships.
func NewFactory(flags *genericclioptions.ConfigFlags, meshes mesh.Registry) Factory {
	wrap := flags.WrapConfigFn
	flags.WrapConfigFn = func(cfg *rest.Config) *rest.Config {
		if wrap != nil {
			cfg = wrap(cfg)
		}
		return withClientRate(cfg)
	}
	return &factory{ConfigFlags: flags, meshes: meshes}
}

func (f *factory) Namespace() (string, bool, error) {
	if f.ConfigFlags.Namespace != nil && *f.ConfigFlags.Namespace != "" {
		return *f.ConfigFlags.Namespace, true, nil
	}
	ns, _, err := f.ToRawKubeConfigLoader().Namespace()
	if clientcmd.IsEmptyConfig(err) {
		// No kubeconfig: commands that need no cluster (render, client
		// dry runs) work as kubectl's do.
		return "default", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("reading the namespace from the kubeconfig: %w", err)
	}
	if ns == "" {
		ns = "default"
	}
	return ns, false, nil
}

func (f *factory) restConfig() (*rest.Config, error) {
	cfg, err := f.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("loading the kubeconfig: %w", err)
	}
	return cfg, nil
}

func (f *factory) KubernetesClientSet() (kubernetes.Interface, error) {
	cfg, err := f.restConfig()
	if err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating the Kubernetes client: %w", err)
	}
	return cs, nil
}

func (f *factory) DynamicClient() (dynamic.Interface, error) {
	cfg, err := f.restConfig()
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating the dynamic client: %w", err)
	}
	return dyn, nil
}

func (f *factory) ApplyClient() (*apply.Client, error) {
	cfg, err := f.restConfig()
	if err != nil {
		return nil, err
	}
	return apply.New(cfg)
}

func (f *factory) Meshes() mesh.Registry { return f.meshes }

func (f *factory) MeshCluster(log io.Writer) (*mesh.Cluster, Releases, error) {
	cfg, err := f.restConfig()
	if err != nil {
		return nil, nil, err
	}
	clientset, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("creating the Kubernetes client: %w", err)
	}
	helm, err := lifecycle.New(f, log)
	if err != nil {
		return nil, nil, err
	}
	return &mesh.Cluster{Config: cfg, Clientset: clientset, Helm: helm}, helm, nil
}

func (f *factory) Webhook(namespace string, log io.Writer) (WebhookReleases, error) {
	return webhookinstall.New(f, namespace, log)
}

// MeshOrDetected is the mesh --mesh names, else the one installed in the
// cluster; install says what to do when none is (after "no mesh is
// installed in the cluster: ").
func MeshOrDetected(ctx context.Context, f Factory, c mesh.Cluster, name, install string) (mesh.Mesh, error) {
	if name != "" {
		return MeshFlag(f, name)
	}
	m, err := f.Meshes().Detect(ctx, c)
	if errors.Is(err, mesh.ErrNoMeshInstalled) {
		return nil, fmt.Errorf("%w: %s", err, install)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: choose with --mesh", err)
	}
	return m, nil
}

// MeshFlag is the mesh --mesh names, from the factory's registry.
func MeshFlag(f Factory, name string) (mesh.Mesh, error) {
	m, err := f.Meshes().Get(name)
	if err != nil {
		return nil, fmt.Errorf("--mesh: %w", err)
	}
	return m, nil
}

// NamespaceOverride is -n, or "" without it: for commands whose default
// namespace is their own (a mesh's control plane, the webhook's) or that
// read files, which need no kubeconfig. Namespace reads the kubeconfig only
// without -n, so an error there means "no -n".
func NamespaceOverride(f Factory) string {
	ns, explicit, err := f.Namespace()
	if err != nil || !explicit {
		return ""
	}
	return ns
}
