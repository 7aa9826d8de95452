package smi_test

import (
	"strings"
	"testing"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate/smi"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate/translatetest"
)

// TestTranslate renders each testdata pattern through translate.Run and
// compares the YAML (or the gaps error) with testdata/<name>.golden.
func TestTranslate(t *testing.T) {
	translatetest.Grid(t, smi.New(), []translatetest.Case{
		{Name: "canary"},
		{Name: "header-match"},
		{Name: "order"},
		{Name: "order", AllowPartial: true},
		{Name: "traffic"},
		{Name: "traffic", AllowPartial: true},
		{Name: "security"},
		{Name: "namespaces"},
		{Name: "namespaces", AllowPartial: true},
	}, nil)
}

// TestTranslateErrors: input validation should have caught these; they
// are still errors naming the field.
func TestTranslateErrors(t *testing.T) {
	cases := []struct {
		name    string
		service pattern.Service
		want    string
	}{
		{
			name: "unknown split version",
			service: pattern.Service{Name: "a", Versions: []pattern.Version{{Name: "v1", Service: "a-v1"}},
				Traffic: &pattern.Traffic{Routes: []pattern.Route{{Split: []pattern.Backend{{Version: "v9", Weight: 100}}}}}},
			want: `spec.services[0].traffic.routes[0].split[0]: service a has no version "v9"`,
		},
		{
			name: "generated version service without ports",
			service: pattern.Service{Name: "a", Versions: []pattern.Version{{Name: "v2"}},
				Traffic: &pattern.Traffic{Routes: []pattern.Route{{Split: []pattern.Backend{{Version: "v2", Weight: 100}}}}}},
			want: `spec.services[0].versions[0]: version "v2" needs a Service of its own`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := &pattern.Pattern{Metadata: pattern.Metadata{Name: "p", Namespace: "ns"},
				Spec: pattern.Spec{Services: []pattern.Service{tc.service}}}
			_, err := translate.Run(smi.New(), p, translate.Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestCapabilities: one entry with a note per feature, and SMI supports
// only splits, matches and access from service accounts.
func TestCapabilities(t *testing.T) {
	caps := smi.New().Capabilities()
	some := map[pattern.Feature]bool{
		pattern.FeatureSplit: true, pattern.FeatureHeaderMatch: true, pattern.FeaturePathMatch: true,
		pattern.FeatureAllowFromSA: true, pattern.FeatureAllowMethodsPath: true, pattern.FeatureRaw: true,
	}
	for _, f := range pattern.Features {
		c, ok := caps[f]
		if !ok || c.Note == "" {
			t.Errorf("%s: missing or without a note: %+v", f, c)
		}
		if (c.Support != translate.None) != some[f] {
			t.Errorf("%s: support %v, want some support: %v", f, c.Support, some[f])
		}
	}
	if len(caps) != len(pattern.Features) {
		t.Errorf("got %d capabilities, want %d", len(caps), len(pattern.Features))
	}
}
