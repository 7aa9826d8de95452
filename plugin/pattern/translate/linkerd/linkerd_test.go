package linkerd_test

import (
	"strings"
	"testing"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate/linkerd"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate/translatetest"
)

// TestTranslate renders each testdata pattern through translate.Run and
// compares the YAML (or the gaps error) with testdata/<name>.golden.
func TestTranslate(t *testing.T) {
	translatetest.Grid(t, linkerd.New(), []translatetest.Case{
		{Name: "canary"},
		{Name: "header-match"},
		{Name: "traffic"},
		{Name: "multi-port"},
		{Name: "retry-order"},
		{Name: "retry-order", AllowPartial: true},
		{Name: "resilience"},
		{Name: "resilience-gaps"},
		{Name: "resilience-gaps", AllowPartial: true},
		{Name: "security"},
		{Name: "injection"},
		{Name: "service-profile"},
		{Name: "service-profile-gaps"},
		{Name: "service-profile-gaps", AllowPartial: true},
		{Name: "unsupported"},
		{Name: "unsupported", AllowPartial: true},
	}, nil)
}

// TestTranslateErrors: settings Linkerd needs but the pattern left out,
// and input validation should have caught, are errors naming the field.
func TestTranslateErrors(t *testing.T) {
	versions := []pattern.Version{{Name: "v1", Labels: map[string]string{"version": "v1"}, Service: "a-v1"}}
	route := func(r pattern.Route) *pattern.Traffic { return &pattern.Traffic{Routes: []pattern.Route{r}} }
	cases := []struct {
		name    string
		service pattern.Service
		want    string
	}{
		{
			name:    "allow without ports",
			service: pattern.Service{Name: "a", Security: &pattern.Security{Allow: []pattern.AllowRule{{From: pattern.Sources{ServiceAccounts: []string{"b"}}}}}},
			want:    "spec.services[0].ports: Linkerd Servers select a pod port, so spec.services[0].security.allow needs the ports of a",
		},
		{
			name:    "mtls without ports",
			service: pattern.Service{Name: "a", Security: &pattern.Security{MTLS: pattern.MTLSStrict}},
			want:    "spec.services[0].ports: Linkerd Servers select a pod port, so spec.services[0].security.mtls needs the ports of a",
		},
		{
			name:    "allow from nobody",
			service: pattern.Service{Name: "a", Ports: []pattern.Port{{Port: 80}}, Security: &pattern.Security{Allow: []pattern.AllowRule{{}}}},
			want:    "spec.services[0].security.allow[0].from: name at least one service account or namespace",
		},
		{
			name:    "generated version service without ports",
			service: pattern.Service{Name: "a", Versions: []pattern.Version{{Name: "v2"}}, Traffic: route(pattern.Route{Split: []pattern.Backend{{Version: "v2", Weight: 100}}})},
			want:    `spec.services[0].versions[0]: version "v2" needs a Service of its own`,
		},
		{
			name:    "only TCP ports",
			service: pattern.Service{Name: "a", Ports: []pattern.Port{{Port: 5432, Protocol: "TCP"}}, Traffic: route(pattern.Route{Timeout: "1s"})},
			want:    "spec.services[0].ports: Linkerd routes HTTP traffic, and every port of a is TCP",
		},
		{
			name:    "unknown split version",
			service: pattern.Service{Name: "a", Versions: versions, Traffic: route(pattern.Route{Split: []pattern.Backend{{Version: "v9", Weight: 100}}})},
			want:    `spec.services[0].traffic.routes[0].split[0]: service a has no version "v9"`,
		},
		{
			name:    "unknown split version in a ServiceProfile",
			service: pattern.Service{Name: "a", Versions: versions, Traffic: route(pattern.Route{Retries: &pattern.Retries{Attempts: 1, Budget: &pattern.RetryBudget{RetryRatio: 0.2}}, Split: []pattern.Backend{{Version: "v9", Weight: 100}}})},
			want:    `spec.services[0].traffic.routes[0].split[0]: service a has no version "v9"`,
		},
		{
			name:    "bad timeout",
			service: pattern.Service{Name: "a", Traffic: route(pattern.Route{Timeout: "soon"})},
			want:    `spec.services[0].traffic.routes[0].timeout: "soon" is not a duration`,
		},
		{
			name:    "timeout below a millisecond",
			service: pattern.Service{Name: "a", Traffic: route(pattern.Route{Timeout: "1500us"})},
			want:    `spec.services[0].traffic.routes[0].timeout: "1500us" must be a positive whole number of milliseconds`,
		},
		{
			name:    "bad per-try timeout",
			service: pattern.Service{Name: "a", Traffic: route(pattern.Route{Retries: &pattern.Retries{Attempts: 1, PerTryTimeout: "-1s"}})},
			want:    `spec.services[0].traffic.routes[0].retries.perTryTimeout: "-1s" must be a positive whole number of milliseconds`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := &pattern.Pattern{Metadata: pattern.Metadata{Name: "p", Namespace: "ns"},
				Spec: pattern.Spec{Services: []pattern.Service{tc.service}}}
			_, err := translate.Run(linkerd.New(), p, translate.Options{AllowPartial: true})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestCapabilities: one entry with a note per feature, and the features
// Linkerd has nothing for are None, so Run reports them.
func TestCapabilities(t *testing.T) {
	caps := linkerd.New().Capabilities()
	none := map[pattern.Feature]bool{
		pattern.FeatureFaultDelay: true, pattern.FeatureFaultAbort: true, pattern.FeatureMirror: true,
		pattern.FeatureCircuitBreaker: true, pattern.FeatureConnectionPool: true,
	}
	for _, f := range pattern.Features {
		c, ok := caps[f]
		if !ok || c.Note == "" {
			t.Errorf("%s: missing or without a note: %+v", f, c)
		}
		if (c.Support == translate.None) != none[f] {
			t.Errorf("%s: support %v, want None only for %v", f, c.Support, none[f])
		}
	}
	if len(caps) != len(pattern.Features) {
		t.Errorf("got %d capabilities, want %d", len(caps), len(pattern.Features))
	}
}
