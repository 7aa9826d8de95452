package custompolicy

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
)

func TestSourcesFromConfigMap(t *testing.T) {
	tests := []struct {
		name string
		cm   *corev1.ConfigMap
		want []string // Source names, in order
	}{
		{"only .rego keys, in key order",
			&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "acme"}, Data: map[string]string{
				"z.rego": "z", "README.md": "r", "a.rego": "a", "m.rego.bak": "m", "deny-latest.rego": "d",
			}},
			[]string{"configmap/acme/a.rego", "configmap/acme/deny-latest.rego", "configmap/acme/z.rego"}},
		{"no .rego key", &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "acme"}, Data: map[string]string{"x": "y"}}, nil},
		{"generateName before the name is set",
			&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{GenerateName: "acme-"}, Data: map[string]string{"p.rego": "p"}},
			[]string{"configmap/acme-/p.rego"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, s := range SourcesFromConfigMap(tt.cm) {
				got = append(got, s.Name)
				key := s.Name[strings.LastIndex(s.Name, "/")+1:]
				if s.Text != tt.cm.Data[key] {
					t.Errorf("%s: text %q, want %q", s.Name, s.Text, tt.cm.Data[key])
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("sources %q, want %q", got, tt.want)
			}
		})
	}
}

func TestIsPolicyConfigMap(t *testing.T) {
	labelled := map[string]string{PolicyLabel: "true"}
	tests := []struct {
		name string
		cm   *corev1.ConfigMap
		want bool
	}{
		{"labelled in the namespace", &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "mesh", Labels: labelled}}, true},
		{"labelled elsewhere", &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "other", Labels: labelled}}, false},
		{"label not true", &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "mesh", Labels: map[string]string{PolicyLabel: "false"}}}, false},
		{"no label", &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "mesh"}}, false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsPolicyConfigMap(tt.cm, "mesh"); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestBlame(t *testing.T) {
	names := []string{"acme", "acme-2", "team"}
	tests := []struct {
		name string
		err  error
		want []string
	}{
		{"located error, wrapped and joined",
			fmt.Errorf("loading policies: %w", errors.Join(
				&policies.LocatedError{File: "configmap/acme-2/p.rego", Line: 3, Err: errors.New("x")},
				&policies.LocatedError{File: "configmap/team/q.rego", Line: 1, Err: errors.New("y")},
			)),
			[]string{"acme-2", "team"}},
		{"mentioned in the text only", errors.New("policy ID A1 is already used by configmap/acme/a.rego:1"), []string{"acme"}},
		{"points at none", errors.New("enforcement override for unknown policy ACME9"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := blame(tt.err, names); !slices.Equal(got, tt.want) {
				t.Errorf("blame %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	long := strings.Repeat("é", 600) // 1200 bytes
	got := truncate(long, maxNoteBytes)
	if len(got) > maxNoteBytes {
		t.Errorf("%d bytes, want at most %d", len(got), maxNoteBytes)
	}
	if !strings.HasSuffix(got, " …") || !strings.HasPrefix(got, "éé") {
		t.Errorf("truncated to %q", got)
	}
	if !utf8.ValidString(got) || !strings.HasPrefix(long, strings.TrimSuffix(got, " …")) {
		t.Errorf("cut inside a character: %q", got)
	}
	if short := "short"; truncate(short, maxNoteBytes) != short {
		t.Errorf("a short note was changed")
	}
}
