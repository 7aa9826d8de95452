package istio

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
)

// profile is what `istioctl install --set profile=X` installs, expressed as
// Helm releases: which components, and the charts' own `profile` value,
// which selects files/profile-X.yaml inside every Istio chart.
type profile struct {
	helmProfile string
	gateways    []gatewaySpec
	ambient     bool // cni and ztunnel
}

type gatewaySpec struct {
	name        string // release and Deployment name, as istioctl names it
	istioLabel  string // the istio= label Gateway resources select
	serviceType string
}

var _ mesh.Mesh = (*Istio)(nil)

func ingressGateway() gatewaySpec {
	return gatewaySpec{name: "istio-ingressgateway", istioLabel: "ingressgateway", serviceType: "LoadBalancer"}
}

// Profiles are the profiles --profile accepts.
func Profiles() []string { return []string{"default", "demo", "minimal", "ambient"} }

// profileNamed mirrors manifests/profiles/*.yaml.
func profileNamed(name string) (profile, error) {
	switch name {
	case "", "default":
		return profile{gateways: []gatewaySpec{ingressGateway()}}, nil
	case "demo":
		return profile{helmProfile: "demo", gateways: []gatewaySpec{ingressGateway(),
			{name: "istio-egressgateway", istioLabel: "egressgateway", serviceType: "ClusterIP"}}}, nil
	case "minimal":
		return profile{}, nil
	case "ambient":
		return profile{helmProfile: "ambient", ambient: true}, nil
	}
	return profile{}, fmt.Errorf("--profile %q: unknown Istio profile, use one of %s", name, strings.Join(Profiles(), ", "))
}

// ValidateInstall refuses Linkerd's identity flags, and --offline with a
// repository or version: the embedded charts are one version.
func (*Istio) ValidateInstall(opts mesh.InstallOptions) error {
	if opts.TrustAnchorsFile != "" || opts.IssuerCertFile != "" || opts.IssuerKeyFile != "" {
		return fmt.Errorf("--identity-* flags are Linkerd flags; %s manages its own identity", MeshName)
	}
	if opts.Offline {
		for _, f := range []struct{ flag, value string }{{"--repo", opts.Repo}, {"--version", opts.Version}} {
			if f.value != "" {
				return fmt.Errorf("--offline and %s cannot be combined: --offline installs the one version embedded in kubectl mesh", f.flag)
			}
		}
	}
	return nil
}

// RenderWarning is empty: Istio's manifests hold no secrets.
func (*Istio) RenderWarning() string { return "" }

// Plan returns the releases of the profile in the order they apply, from
// Istio's Helm repository at DefaultVersion unless opts say otherwise: base
// (CRDs, shared by all revisions), istiod (per revision), then cni and
// ztunnel (ambient, shared) and the gateways (per revision).
//
// The user's values (opts.Values) are merged over the profile's values for
// every chart; keys a chart's values schema does not allow (the gateway
// chart's is strict) are left out of that chart only.
func (i *Istio) Plan(ctx context.Context, opts mesh.InstallOptions) ([]lifecycle.Release, error) {
	prof, err := profileNamed(opts.Profile)
	if err != nil {
		return nil, err
	}
	if opts.Revision != "" {
		if errs := validation.IsDNS1123Label(opts.Revision); len(errs) > 0 || opts.Revision == DefaultRevision {
			return nil, fmt.Errorf("--revision %q: want a DNS label such as 1-31-1 or canary, other than %q", opts.Revision, DefaultRevision)
		}
	}
	ns := opts.Namespace
	if ns == "" {
		ns = DefaultNamespace
	}
	src := newChartSource(ctx, i, opts)
	rev := opts.Revision
	suffix := ""
	if rev != "" {
		suffix = "-" + rev
	}

	var rels []lifecycle.Release
	add := func(component, name string, vals map[string]any, wait *bool) error {
		ch, err := src.load(component)
		if err != nil {
			return err
		}
		if prof.helmProfile != "" {
			vals["profile"] = prof.helmProfile
		}
		setPath(vals, ns, "global", "istioNamespace")
		rels = append(rels, lifecycle.Release{
			Name:      name,
			Namespace: ns,
			Component: component,
			Chart:     ch,
			Values:    mergeValues(vals, allowedValues(ch, opts.Values)),
			Labels:    releaseLabels(component, rev),
			Wait:      wait,
		})
		return nil
	}
	noWait := false
	if err := add(compBase, "istio-base", map[string]any{}, &noWait); err != nil {
		return nil, err
	}
	if msg := src.warning(rels[0].Chart); msg != "" && opts.Warn != nil {
		opts.Warn(msg)
	}
	if err := add(compIstiod, "istiod"+suffix, map[string]any{"revision": rev}, nil); err != nil {
		return nil, err
	}
	if prof.ambient {
		if err := add(compCNI, "istio-cni", map[string]any{}, nil); err != nil {
			return nil, err
		}
		if err := add(compZtunnel, "ztunnel", map[string]any{"revision": rev, "istioNamespace": ns}, nil); err != nil {
			return nil, err
		}
	}
	for _, gw := range prof.gateways {
		vals := map[string]any{
			"revision": rev,
			"name":     gw.name + suffix,
			// Keep the labels Gateway resources select across revisions.
			"labels":  map[string]any{"app": gw.name, "istio": gw.istioLabel},
			"service": map[string]any{"type": gw.serviceType},
		}
		if err := add(compGateway, gw.name+suffix, vals, nil); err != nil {
			return nil, err
		}
	}
	return rels, nil
}

// releaseLabels are stored on each release so status and uninstall find it.
func releaseLabels(component, rev string) map[string]string {
	r := revisionOrDefault(rev)
	if component == compBase || component == compCNI {
		// Shared by every revision.
		r = DefaultRevision
	}
	return map[string]string{LabelMesh: MeshName, LabelComponent: component, LabelRevision: r}
}

// allowedValues drops the top-level keys a chart's strict values schema
// would refuse, so that values meant for istiod do not fail the gateway.
func allowedValues(ch *chart.Chart, user map[string]any) map[string]any {
	allowed := schemaKeys(ch.Schema)
	if allowed == nil {
		return user
	}
	out := map[string]any{}
	for k, v := range user {
		if allowed[k] {
			out[k] = v
		}
	}
	return out
}

// mergeValues returns base with over merged in, maps recursively, the
// rest replaced (Helm's coalescing of -f and --set).
func mergeValues(base, over map[string]any) map[string]any {
	out := maps.Clone(base)
	if out == nil {
		out = map[string]any{}
	}
	for k, v := range over {
		if bm, ok := out[k].(map[string]any); ok {
			if om, ok := v.(map[string]any); ok {
				out[k] = mergeValues(bm, om)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// setPath sets vals[path...] = v, creating maps on the way.
func setPath(vals map[string]any, v any, path ...string) {
	m := vals
	for _, p := range path[:len(path)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[path[len(path)-1]] = v
}

// sortedKeys is for stable messages.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
