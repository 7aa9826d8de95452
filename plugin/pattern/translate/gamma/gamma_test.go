package gamma_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate/gamma"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate/translatetest"
)

// TestTranslate renders each testdata pattern through translate.Run and
// compares the YAML (or the error) with testdata/<name>.golden.
func TestTranslate(t *testing.T) {
	translatetest.Grid(t, gamma.New(), []translatetest.Case{
		{Name: "canary"},
		{Name: "header-match"},
		{Name: "traffic"},
		{Name: "gaps"},
		{Name: "gaps", AllowPartial: true},
		{Name: "route-order"},
		{Name: "route-order", AllowPartial: true},
	}, func(t *testing.T, res *translate.Result) {
		for _, o := range res.Objects {
			decodeStrict(t, o)
		}
	})
}

// TestGapsNameEveryNoneFeature: each feature GAMMA cannot express is a
// gap at its field path, for mesh gamma.
func TestGapsNameEveryNoneFeature(t *testing.T) {
	p := translatetest.Load(t, filepath.Join("testdata", "gaps.yaml"))
	_, err := translate.Run(gamma.New(), p, translate.Options{})
	var gapsErr *translate.GapsError
	if !errors.As(err, &gapsErr) {
		t.Fatalf("got %v, want a GapsError", err)
	}
	var got []string
	for _, g := range gapsErr.Gaps {
		if g.Mesh != pattern.MeshGAMMA {
			t.Errorf("gap %s names mesh %q", g, g.Mesh)
		}
		got = append(got, string(g.Feature)+" "+g.Path)
	}
	want := []string{
		"security.mtls spec.mtls",
		"injection spec.injection",
		"traffic.retries spec.services[0].traffic.routes[0].retries",
		"traffic.retries.budget spec.services[0].traffic.routes[0].retries.budget",
		"traffic.fault.delay spec.services[0].traffic.routes[0].fault.delay",
		"traffic.fault.abort spec.services[0].traffic.routes[0].fault.abort",
		"resilience.circuitBreaker spec.services[0].resilience.circuitBreaker",
		"resilience.outlierDetection spec.services[0].resilience.outlierDetection",
		"resilience.loadBalancer spec.services[0].resilience.loadBalancer",
		"resilience.connectionPool spec.services[0].resilience.connectionPool",
		"security.mtls spec.services[0].security.mtls",
		"security.allow.serviceAccounts spec.services[0].security.allow[0].from.serviceAccounts",
		"security.allow.namespaces spec.services[0].security.allow[0].from.namespaces",
		"security.allow.methodsAndPaths spec.services[0].security.allow[0]",
	}
	if !slices.Equal(got, want) {
		t.Errorf("gaps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestCapabilities: every feature has an entry with a note; the None
// features are exactly those without a Gateway API form.
func TestCapabilities(t *testing.T) {
	caps := gamma.New().Capabilities()
	var none []pattern.Feature
	for _, f := range pattern.Features {
		c, ok := caps[f]
		if !ok || c.Note == "" {
			t.Errorf("%s: missing, or without a note", f)
		}
		if c.Support == translate.None {
			none = append(none, f)
		}
	}
	want := []pattern.Feature{
		pattern.FeatureRetries, pattern.FeatureRetryBudget, pattern.FeatureFaultDelay, pattern.FeatureFaultAbort,
		pattern.FeatureCircuitBreaker, pattern.FeatureOutlierDetection, pattern.FeatureLoadBalancer,
		pattern.FeatureConnectionPool, pattern.FeatureMTLS, pattern.FeatureAllowFromSA, pattern.FeatureAllowFromNS,
		pattern.FeatureAllowMethodsPath, pattern.FeatureInjection,
	}
	if !slices.Equal(none, want) {
		t.Errorf("None features: got %v, want %v", none, want)
	}
}

// TestTranslateErrors: input the pattern validation should have caught
// is still an error naming the field.
func TestTranslateErrors(t *testing.T) {
	ports := []pattern.Port{{Port: 80}}
	routes := func(r ...pattern.Route) *pattern.Traffic { return &pattern.Traffic{Routes: r} }
	cases := []struct {
		name    string
		service pattern.Service
		want    string
	}{
		{
			name:    "no ports",
			service: pattern.Service{Name: "a", Traffic: routes(pattern.Route{})},
			want:    "spec.services[0].ports: gamma needs the HTTP ports of a: an HTTPRoute backendRef to a Service names its port",
		},
		{
			name:    "only tcp ports",
			service: pattern.Service{Name: "a", Ports: []pattern.Port{{Port: 5432, Protocol: "TCP"}}, Traffic: routes(pattern.Route{})},
			want:    "spec.services[0].ports: gamma needs the HTTP ports of a",
		},
		{
			name: "version without a service or ports",
			service: pattern.Service{Name: "a", Versions: []pattern.Version{{Name: "v1", Labels: map[string]string{"v": "1"}}},
				Traffic: routes(pattern.Route{Split: []pattern.Backend{{Version: "v1", Weight: 100}}})},
			want: `spec.services[0].versions[0]: version "v1" needs a Service of its own`,
		},
		{
			name:    "unknown split version",
			service: pattern.Service{Name: "a", Ports: ports, Traffic: routes(pattern.Route{Split: []pattern.Backend{{Version: "v9", Weight: 100}}})},
			want:    `spec.services[0].traffic.routes[0].split[0]: service a has no version "v9"`,
		},
		{
			name:    "unknown mirror version",
			service: pattern.Service{Name: "a", Ports: ports, Traffic: routes(pattern.Route{Mirror: &pattern.Mirror{Version: "shadow"}})},
			want:    `spec.services[0].traffic.routes[0].mirror.version: service a has no version "shadow"`,
		},
		{
			name:    "bad timeout",
			service: pattern.Service{Name: "a", Ports: ports, Traffic: routes(pattern.Route{Timeout: "soon"})},
			want:    `spec.services[0].traffic.routes[0].timeout: "soon" is not a duration`,
		},
		{
			name:    "sub-millisecond timeout",
			service: pattern.Service{Name: "a", Ports: ports, Traffic: routes(pattern.Route{Timeout: "1.0005s"})},
			want:    `spec.services[0].traffic.routes[0].timeout: "1.0005s" cannot be written as a Gateway API duration: whole milliseconds only`,
		},
		{
			name:    "timeout too long",
			service: pattern.Service{Name: "a", Ports: ports, Traffic: routes(pattern.Route{Timeout: "100000h"})},
			want:    `spec.services[0].traffic.routes[0].timeout: "100000h" is too long for a Gateway API duration`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := &pattern.Pattern{Metadata: pattern.Metadata{Name: "p", Namespace: "ns"}, Spec: pattern.Spec{Services: []pattern.Service{tc.service}}}
			_, err := translate.Run(gamma.New(), p, translate.Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// decodeStrict decodes an object back into its typed struct, rejecting
// unknown fields: what the translator wrote is what the API defines.
func decodeStrict(t *testing.T, o translate.Object) {
	t.Helper()
	var into any
	switch o.GetAPIVersion() + "/" + o.GetKind() {
	case "gateway.networking.k8s.io/v1/HTTPRoute":
		into = &gatewayv1.HTTPRoute{}
	case "v1/Service":
		into = &corev1.Service{}
	default:
		t.Errorf("unexpected object %s %s", o.GroupVersionKind(), o.GetName())
		return
	}
	data, err := json.Marshal(o.Object)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		t.Errorf("%s %s does not decode strictly: %v\n%s", o.GetKind(), o.GetName(), err, data)
	}
}
