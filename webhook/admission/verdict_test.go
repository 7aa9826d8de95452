package admission

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
)

func TestWarningsFitTheAPIServer(t *testing.T) {
	long := strings.Repeat("é", 300)
	tests := []struct {
		name     string
		messages []string
		want     []string
	}{
		{"short warnings pass as they are", []string{"host reviews has no Service"}, []string{"ACME003: host reviews has no Service"}},
		{"control characters and runs of space become one space (the apiserver drops warnings with control characters)",
			[]string{"line one\n\tline two\r\n\x00end"}, []string{"ACME003: line one line two end"}},
		{"invalid UTF-8 is replaced", []string{"bad \xff byte"}, []string{"ACME003: bad \uFFFD byte"}},
		{"long warnings are cut to 256 runes with an ellipsis", []string{long},
			[]string{"ACME003: " + strings.Repeat("é", 256-len("ACME003: ")-1) + "…"}},
		{"identical findings warn once", []string{"same", "same"}, []string{"ACME003: same"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var findings []policies.Finding
			for _, m := range tt.messages {
				findings = append(findings, policies.Finding{PolicyID: "ACME003", Enforcement: policies.EnforcementWarn, Message: m})
			}
			got := verdictFor(findings, failures{}).resp.Warnings
			if !slices.Equal(got, tt.want) {
				t.Errorf("warnings:\n%q\nwant:\n%q", got, tt.want)
			}
			for _, w := range got {
				if n := utf8.RuneCountInString(w); n > maxWarningRunes {
					t.Errorf("warning of %d runes, more than %d", n, maxWarningRunes)
				}
			}
		})
	}
}

func TestManyWarningsAreSummarized(t *testing.T) {
	var findings []policies.Finding
	for i := range 40 {
		findings = append(findings, policies.Finding{PolicyID: "ACME003", Enforcement: policies.EnforcementWarn, Message: fmt.Sprintf("host h%02d has no Service", i)})
	}
	got := verdictFor(findings, failures{}).resp.Warnings
	if len(got) != maxWarnings {
		t.Fatalf("%d warnings, want %d", len(got), maxWarnings)
	}
	if got[0] != "ACME003: host h00 has no Service" || got[maxWarnings-2] != fmt.Sprintf("ACME003: host h%02d has no Service", maxWarnings-2) {
		t.Errorf("the first warnings are not kept in order: %q", got)
	}
	if want := fmt.Sprintf("%d more warnings", 40-maxWarnings+1); !strings.HasPrefix(got[maxWarnings-1], want) {
		t.Errorf("last warning %q, want it to start with %q", got[maxWarnings-1], want)
	}
	total := 0
	for _, w := range got {
		total += utf8.RuneCountInString(w)
	}
	if total > 4096 {
		t.Errorf("warnings total %d runes, past the apiserver's 4096", total)
	}
}

func policyErr(id, msg string) error {
	return &policies.PolicyError{PolicyID: id, Object: "VirtualService shop/a", Err: errors.New(msg)}
}

func TestPolicyFailures(t *testing.T) {
	tests := []struct {
		name           string
		err            error
		wantIDs        []string
		wantUnexpected bool
		wantCut        []string
	}{
		{"one policy", errors.Join(policyErr("ACME002", "eval_conflict_error")), []string{"ACME002"}, false, nil},
		{"several, sorted and once each", errors.Join(
			policyErr("MESH1101", "x"), policyErr("ACME002", "y"), policyErr("ACME002", "z"),
		), []string{"ACME002", "MESH1101"}, false, nil},
		{"a plain error", policyErr("ACME002", "x"), []string{"ACME002"}, false, nil},
		{"something else", errors.New("building the input of VirtualService shop/a: bad"), nil, true, nil},
		{"text that only looks like a policy error", errors.New("evaluating ACME002 on VirtualService shop/a: x"), nil, true, nil},
		{"a mix", errors.Join(policyErr("ACME002", "y"), errors.New("evaluating: broken")), []string{"ACME002"}, true, nil},
		{"one cut off at its deadline is not among the failed", errors.Join(policyErr("ACME002", "y"),
			&policies.PolicyError{PolicyID: "ACME009", Err: &policies.DeadlineError{Timeout: time.Second}}), []string{"ACME002"}, false, []string{"ACME009"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, unexpected := policyFailures(tt.err)
			if ids := f.failed; !slices.Equal(ids, tt.wantIDs) {
				t.Errorf("ids %q, want %q", ids, tt.wantIDs)
			}
			if want := tt.wantCut; !slices.Equal(f.cut, want) || (len(want) > 0 && f.deadline != time.Second) {
				t.Errorf("cut off %q after %s, want %q", f.cut, f.deadline, want)
			}
			if (unexpected != nil) != tt.wantUnexpected {
				t.Errorf("unexpected error %v, want one: %v", unexpected, tt.wantUnexpected)
			}
		})
	}
}
