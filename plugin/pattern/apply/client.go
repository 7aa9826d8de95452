package apply

import (
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/kubectl-mesh/kubectl-mesh/internal/buildinfo"
)

// DefaultWorkers is how many objects are sent to the apiserver at once.
// Measured on a 2-core sandbox (BenchmarkEngineApply1000), 64 applied
// 1,000 objects fastest: requests wait on etcd and admission as much as
// on CPU. The apiserver's priority and fairness still bounds the load.
const DefaultWorkers = 64

// Client talks to one cluster.
type Client struct {
	dyn dynamic.Interface
	// meta reads and applies members when only their metadata matters:
	// the apiserver then answers with metadata alone (protobuf), not the
	// whole object that the client would decode for nothing.
	meta   metadata.Interface
	mapper meta.ResettableRESTMapper
	// Tooling is the version in the tooling annotation.
	Tooling string
	// Now stamps the parent's last-applied annotation; tests fix it.
	Now func() time.Time
}

// New returns a Client for cfg. Its client-side rate limit is the caller's
// (the commands' factory sets one for every client): client-go's default, 5
// requests/s, would serialise the worker pool.
func New(cfg *rest.Config) (*Client, error) {
	if cfg == nil {
		return nil, errors.New("creating the apply client: no cluster configuration")
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating the dynamic client: %w", err)
	}
	md, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating the metadata client: %w", err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating the discovery client: %w", err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	return NewForClients(dyn, md, mapper), nil
}

// NewForClients returns a Client over the given clients: New's, or fakes
// in command tests (cmdtesting.NewApplyClient). The mapper is reset once
// when a kind is not found, for CRDs installed a moment ago.
func NewForClients(dyn dynamic.Interface, md metadata.Interface, mapper meta.ResettableRESTMapper) *Client {
	return &Client{dyn: dyn, meta: md, mapper: mapper, Tooling: buildinfo.Get().Version, Now: time.Now}
}

// mapping resolves a kind; a kind unknown to the cached discovery is
// looked up again once, for CRDs installed a moment ago.
func (c *Client) mapping(gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	m, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		c.mapper.Reset()
		m, err = c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	}
	if meta.IsNoMatchError(err) {
		return nil, fmt.Errorf("the cluster does not serve %s (is the mesh's CRD installed?)", gvk.GroupKind().WithVersion(gvk.Version))
	}
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", gvk, err)
	}
	return m, nil
}

// groupKindMapping resolves a kind at its preferred version.
func (c *Client) groupKindMapping(gk schema.GroupKind) (*meta.RESTMapping, error) {
	return c.mapping(gk.WithVersion(""))
}

// resource is the dynamic client for one mapping and namespace.
func (c *Client) resource(m *meta.RESTMapping, namespace string) dynamic.ResourceInterface {
	if m.Scope.Name() == meta.RESTScopeNameRoot {
		return c.dyn.Resource(m.Resource)
	}
	return c.dyn.Resource(m.Resource).Namespace(namespace)
}

// metadataResource is the metadata client for one mapping and namespace.
func (c *Client) metadataResource(m *meta.RESTMapping, namespace string) metadata.ResourceInterface {
	if m.Scope.Name() == meta.RESTScopeNameRoot {
		return c.meta.Resource(m.Resource)
	}
	return c.meta.Resource(m.Resource).Namespace(namespace)
}
