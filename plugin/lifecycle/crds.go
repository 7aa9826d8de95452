package lifecycle

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
)

// FieldManager owns what kubectl-mesh applies outside Helm (CRDs of a
// release with ApplyCRDs).
const FieldManager = "kubectl-mesh"

// ChartCRDs decodes the CustomResourceDefinitions in the chart's crds/
// directory.
func ChartCRDs(ch *chart.Chart) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	for _, crd := range ch.CRDObjects() {
		dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(crd.File.Data), 4096)
		for {
			obj := &unstructured.Unstructured{}
			if err := dec.Decode(&obj.Object); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				return nil, fmt.Errorf("decoding %s: %w", crd.Name, err)
			}
			if len(obj.Object) == 0 {
				continue
			}
			if obj.GetKind() != "CustomResourceDefinition" {
				return nil, fmt.Errorf("%s: a %s in crds/, want only CustomResourceDefinitions", crd.Name, obj.GetKind())
			}
			out = append(out, obj)
		}
	}
	return out, nil
}

func (c *Client) dynamic() (dynamic.Interface, error) {
	if c.dyn != nil {
		return c.dyn, nil
	}
	cfg, err := c.getter.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("reading the kubeconfig: %w", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating the Kubernetes client: %w", err)
	}
	return dyn, nil
}

// applyCRDs server-side applies the chart's CRDs, so that an upgrade of
// the chart upgrades them too; the next release then refreshes discovery.
func (c *Client) applyCRDs(ctx context.Context, ch *chart.Chart) error {
	crds, err := ChartCRDs(ch)
	if err != nil || len(crds) == 0 {
		return err
	}
	dyn, err := c.dynamic()
	if err != nil {
		return err
	}
	for _, crd := range crds {
		if _, err := dyn.Resource(crdResource).Apply(ctx, crd.GetName(), crd, metav1.ApplyOptions{FieldManager: FieldManager, Force: true}); err != nil {
			return fmt.Errorf("applying CustomResourceDefinition %s: %w", crd.GetName(), err)
		}
	}
	c.discovered.Store(false)
	return nil
}

// waitTerminatingCRDs waits until those of the chart's CRDs that are being
// deleted (an uninstall --purge just before) are gone: Helm would take a
// terminating CRD for installed and wait the whole timeout for it to become
// Established. say hears which CRDs it waits for.
func (c *Client) waitTerminatingCRDs(ctx context.Context, ch *chart.Chart, timeout time.Duration, say func(string)) error {
	crds, err := ChartCRDs(ch)
	if err != nil || len(crds) == 0 {
		return err
	}
	dyn, err := c.dynamic()
	if err != nil {
		return err
	}
	// One GET per CRD, all at once: Istio's base chart has about fifteen.
	deleting := make([]bool, len(crds))
	errs := make([]error, len(crds))
	var wg sync.WaitGroup
	for i, crd := range crds {
		wg.Go(func() {
			live, err := dyn.Resource(crdResource).Get(ctx, crd.GetName(), metav1.GetOptions{})
			switch {
			case apierrors.IsNotFound(err):
			case err != nil:
				errs[i] = fmt.Errorf("reading CustomResourceDefinition %s: %w", crd.GetName(), err)
			default:
				deleting[i] = live.GetDeletionTimestamp() != nil
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	var terminating []string
	for i, crd := range crds {
		if deleting[i] {
			terminating = append(terminating, crd.GetName())
		}
	}
	if len(terminating) == 0 {
		return nil
	}
	say(fmt.Sprintf("waiting for CustomResourceDefinition %s, being deleted, to go", strings.Join(terminating, ", ")))
	return WaitCRDsDeleted(ctx, dyn, terminating, timeout, say)
}

// DeleteCRDs deletes the named CustomResourceDefinitions, and with them
// every object of their kinds, and returns those it deleted (a missing one
// is no error). With timeout > 0 it returns once they are gone,
// requeueing a stalled cleanup (warn, when not nil, hears of it).
func (c *Client) DeleteCRDs(ctx context.Context, names []string, timeout time.Duration, warn func(string)) ([]string, error) {
	dyn, err := c.dynamic()
	if err != nil {
		return nil, err
	}
	var deleted []string
	for _, name := range names {
		err := dyn.Resource(crdResource).Delete(ctx, name, metav1.DeleteOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return deleted, fmt.Errorf("deleting CustomResourceDefinition %s: %w", name, err)
		}
		deleted = append(deleted, name)
	}
	if timeout > 0 && len(deleted) > 0 {
		if err := WaitCRDsDeleted(ctx, dyn, deleted, timeout, warn); err != nil {
			return deleted, err
		}
	}
	return deleted, nil
}
