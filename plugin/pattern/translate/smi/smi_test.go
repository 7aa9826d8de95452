package smi_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate/smi"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestTranslate renders each testdata pattern through translate.Run and
// compares the YAML (or the gaps error) with testdata/<name>.golden.
func TestTranslate(t *testing.T) {
	cases := []struct {
		name         string
		allowPartial bool
	}{
		{name: "canary"},
		{name: "header-match"},
		{name: "order"},
		{name: "order", allowPartial: true},
		{name: "traffic"},
		{name: "traffic", allowPartial: true},
		{name: "security"},
		{name: "namespaces"},
		{name: "namespaces", allowPartial: true},
	}
	for _, tc := range cases {
		golden := tc.name
		if tc.allowPartial {
			golden += "-partial"
		}
		t.Run(golden, func(t *testing.T) {
			p := load(t, filepath.Join("testdata", tc.name+".yaml"))
			res, err := translate.Run(smi.New(), p, translate.Options{AllowPartial: tc.allowPartial})
			checkGolden(t, filepath.Join("testdata", golden+".golden"), render(res, err))
		})
	}
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

func load(t *testing.T, path string) *pattern.Pattern {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	patterns, err := pattern.Load(bytes.NewReader(data), path, pattern.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := pattern.Validate(patterns[0]); err != nil {
		t.Fatalf("%s is not a valid pattern: %v", path, err)
	}
	return patterns[0]
}

// render prints a translation as kubectl mesh render would: warnings as
// comments, then the objects as YAML documents; or the error.
func render(res *translate.Result, err error) string {
	var b strings.Builder
	if err != nil {
		var gapsErr *translate.GapsError
		fmt.Fprintf(&b, "error (gaps: %v): %v\n", errors.As(err, &gapsErr), err)
		return b.String()
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(&b, "# warning: %s\n", w)
	}
	for _, o := range res.Objects {
		data, err := yaml.Marshal(o.Object)
		if err != nil {
			return "error: " + err.Error()
		}
		b.WriteString("---\n")
		if o.Shared {
			b.WriteString("# shared\n")
		}
		b.Write(data)
	}
	return b.String()
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./plugin/pattern/translate/smi/ -run %s -update to create it)", err, t.Name())
	}
	if string(want) != got {
		t.Errorf("%s is stale; diff it against the output below and run go test ./plugin/pattern/translate/smi/ -run %s -update if the change is intended.\ngot:\n%s", path, t.Name(), got)
	}
}
