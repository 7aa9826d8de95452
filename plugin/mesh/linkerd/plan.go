package linkerd

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
)

// Plan returns linkerd-crds then linkerd-control-plane, pulled from
// opts.Repo (Linkerd's edge repository by default) at opts.Version (the
// chart version, e.g. 2026.1.1, or the release name edge-26.1.1; empty
// means the latest), with the identity values Linkerd requires and the
// user's values merged over them for both charts.
//
// The identity comes from the --identity-* files when given; else, when
// a control plane is installed, from its release, so that an upgrade (or
// a repeated install) never rotates the trust anchor silently; else it is
// generated.
func (l *Linkerd) Plan(ctx context.Context, opts mesh.InstallOptions) ([]lifecycle.Release, error) {
	ns := namespaceOf(opts)
	if err := checkUserValues(opts.Values); err != nil {
		return nil, err
	}
	version, err := chartVersion(opts.Version)
	if err != nil {
		return nil, err
	}
	id, err := l.identity(ctx, opts, ns)
	if err != nil {
		return nil, err
	}
	repo := opts.Repo
	if repo == "" {
		repo = DefaultRepo
	}
	pull := l.pull
	if pull == nil {
		pull = opts.Pull.Pull
	}
	crds, err := pull(ctx, repo, CRDsChart, version)
	if err != nil {
		return nil, fmt.Errorf("pulling chart %s: %w", CRDsChart, err)
	}
	cp, err := pull(ctx, repo, ControlPlaneChart, version)
	if err != nil {
		return nil, fmt.Errorf("pulling chart %s: %w", ControlPlaneChart, err)
	}

	noWait := false
	return []lifecycle.Release{
		{
			Name:      CRDsChart,
			Namespace: ns,
			Component: CRDsChart,
			Chart:     crds,
			Values:    mergeValues(map[string]any{}, opts.Values),
			Labels:    releaseLabels(CRDsChart),
			// CRDs only: nothing becomes ready.
			Wait: &noWait,
		},
		{
			Name:      ControlPlaneChart,
			Namespace: ns,
			Component: ControlPlaneChart,
			Chart:     cp,
			Values:    mergeValues(id.values(), opts.Values),
			Labels:    releaseLabels(ControlPlaneChart),
		},
	}, nil
}

func releaseLabels(component string) map[string]string {
	return map[string]string{LabelMesh: MeshName, LabelComponent: component, LabelRevision: "default"}
}

// identity picks the identity Plan installs; see Plan.
func (l *Linkerd) identity(ctx context.Context, opts mesh.InstallOptions, ns string) (*installedIdentity, error) {
	now := l.now()
	if opts.TrustAnchorsFile != "" || opts.IssuerCertFile != "" || opts.IssuerKeyFile != "" {
		id, err := LoadIdentity(opts.TrustAnchorsFile, opts.IssuerCertFile, opts.IssuerKeyFile, now)
		if err != nil {
			return nil, err
		}
		return &installedIdentity{Identity: *id}, nil
	}
	if helm := l.releases(opts.Cluster); helm != nil {
		kept, err := readInstalledIdentity(ctx, helm, ns)
		if err != nil {
			return nil, err
		}
		if kept != nil {
			return kept, nil
		}
		if opts.Upgrade {
			return nil, fmt.Errorf("linkerd is not installed in namespace %s (no %s release): install it with kubectl mesh install linkerd, or give -n", ns, ControlPlaneChart)
		}
	} else if opts.Upgrade {
		return nil, fmt.Errorf("an upgrade keeps the installed trust anchor and issuer, which are read from the cluster: to render an upgrade without one, give %s, %s and %s", FlagTrustAnchors, FlagIssuerCert, FlagIssuerKey)
	}
	id, err := GenerateIdentity(now, 0, opts.IssuerValidity)
	if err != nil {
		return nil, err
	}
	return &installedIdentity{Identity: *id}, nil
}

// installedIdentity is an Identity plus the identity settings that must
// survive an upgrade with it (an external CA such as cert-manager).
type installedIdentity struct {
	Identity
	externalCA any
	scheme     string
}

// values are the chart values of Linkerd's contract for the identity.
func (id *installedIdentity) values() map[string]any {
	issuer := map[string]any{}
	if id.IssuerCertPEM != "" || id.IssuerKeyPEM != "" {
		issuer["tls"] = map[string]any{"crtPEM": id.IssuerCertPEM, "keyPEM": id.IssuerKeyPEM}
	}
	if id.scheme != "" {
		issuer["scheme"] = id.scheme
	}
	identity := map[string]any{"issuer": issuer}
	if id.externalCA != nil {
		identity["externalCA"] = id.externalCA
	}
	return map[string]any{
		"identityTrustAnchorsPEM": id.TrustAnchorsPEM,
		"identity":                identity,
	}
}

// readInstalledIdentity reads the identity from the installed control
// plane release's values; nil when there is no such release.
func readInstalledIdentity(ctx context.Context, helm releaseReader, ns string) (*installedIdentity, error) {
	rel, err := helm.Get(ctx, ControlPlaneChart, ns)
	if err != nil {
		return nil, fmt.Errorf("reading release %s in namespace %s: %w", ControlPlaneChart, ns, err)
	}
	// An uninstalled release kept in history (--keep-history) is gone.
	if rel == nil || rel.Status == "uninstalled" {
		return nil, nil
	}
	id := &installedIdentity{}
	id.TrustAnchorsPEM, _ = lookup(rel.Values, "identityTrustAnchorsPEM").(string)
	id.IssuerCertPEM, _ = lookup(rel.Values, "identity", "issuer", "tls", "crtPEM").(string)
	id.IssuerKeyPEM, _ = lookup(rel.Values, "identity", "issuer", "tls", "keyPEM").(string)
	id.scheme, _ = lookup(rel.Values, "identity", "issuer", "scheme").(string)
	id.externalCA = lookup(rel.Values, "identity", "externalCA")
	if strings.TrimSpace(id.TrustAnchorsPEM) == "" {
		return nil, fmt.Errorf("release %s in namespace %s has no identityTrustAnchorsPEM in its values, so its trust anchor cannot be kept: give it with %s (and the issuer with %s and %s)", ControlPlaneChart, ns, FlagTrustAnchors, FlagIssuerCert, FlagIssuerKey)
	}
	if id.scheme != "kubernetes.io/tls" && (strings.TrimSpace(id.IssuerCertPEM) == "" || strings.TrimSpace(id.IssuerKeyPEM) == "") {
		return nil, fmt.Errorf("release %s in namespace %s has no issuer certificate and key in its values, so they cannot be kept: give them with %s and %s (and the trust anchor with %s)", ControlPlaneChart, ns, FlagIssuerCert, FlagIssuerKey, FlagTrustAnchors)
	}
	return id, nil
}

// checkUserValues refuses identity key material in --set/-f values: the
// flags validate it, and values would bypass the trust anchor checks.
func checkUserValues(values map[string]any) error {
	for _, path := range [][]string{
		{"identityTrustAnchorsPEM"},
		{"identity", "issuer", "tls", "crtPEM"},
		{"identity", "issuer", "tls", "keyPEM"},
	} {
		if v := lookup(values, path...); v != nil {
			return fmt.Errorf("values: %s is set by kubectl mesh: give the identity with %s, %s and %s instead", strings.Join(path, "."), FlagTrustAnchors, FlagIssuerCert, FlagIssuerKey)
		}
	}
	return nil
}

// chartVersion maps a Linkerd release name to its chart version in the
// edge repository (edge-26.1.1 is chart 2026.1.1); chart versions and
// constraints pass through.
func chartVersion(v string) (string, error) {
	if rest, ok := strings.CutPrefix(v, "edge-"); ok {
		parts := strings.Split(rest, ".")
		if len(parts) != 3 || len(parts[0]) != 2 {
			return "", fmt.Errorf("--version %s: want an edge release such as edge-26.1.1 or a chart version such as 2026.1.1", v)
		}
		return "20" + rest, nil
	}
	if strings.HasPrefix(v, "stable-") {
		return "", errors.New("--version " + v + ": Linkerd's open-source Helm repository publishes edge releases (edge-26.1.1 or chart version 2026.1.1); for a stable release give --repo with your vendor's repository and its chart version")
	}
	return v, nil
}

// lookup returns the value at path in nested values maps, or nil.
func lookup(values map[string]any, path ...string) any {
	var cur any = values
	for _, k := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	return cur
}

// mergeValues merges src over dst recursively (maps merge, other values
// replace) and returns dst; src is not modified and shares nothing with dst.
func mergeValues(dst, src map[string]any) map[string]any {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			dm, ok := dst[k].(map[string]any)
			if !ok {
				dm = map[string]any{}
			}
			dst[k] = mergeValues(dm, sm)
			continue
		}
		dst[k] = v
	}
	return dst
}
