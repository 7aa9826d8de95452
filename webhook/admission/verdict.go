package admission

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
)

const (
	// maxWarningRunes is where the apiserver starts truncating a warning
	// (k8s.io/apiserver/pkg/endpoints/filters/warning.go, and the
	// AdmissionResponse.warnings documentation).
	maxWarningRunes = 256
	// maxWarnings keeps the warnings under the apiserver's 4096-rune total,
	// past which it truncates every warning.
	maxWarnings = 16
)

// verdictFor turns findings into a response: every deny finding refuses
// the request (403), warn findings and policies that failed at run time or
// ran past their deadline become warnings, audit findings only count.
func verdictFor(findings []policies.Finding, failed failures) outcome {
	var denies, warns []string
	for _, f := range findings {
		line := f.PolicyID + ": " + oneLine(f.Message)
		switch f.Enforcement {
		case policies.EnforcementDeny:
			denies = append(denies, line)
		case policies.EnforcementWarn:
			warns = append(warns, line)
		}
	}
	// Findings come sorted by policy and message; one broken host can
	// yield the same message twice.
	denies, warns = slices.Compact(denies), slices.Compact(warns)
	if len(failed.cut) > 0 {
		warns = append(warns, fmt.Sprintf("policies %s ran past their deadline (%s) and were not enforced", strings.Join(failed.cut, ", "), failed.deadline))
	}
	if len(failed.failed) > 0 {
		warns = append(warns, fmt.Sprintf("policies %s failed at run time and were not enforced; the webhook log has the error", strings.Join(failed.failed, ", ")))
	}
	warnings := limitWarnings(warns)

	if len(denies) > 0 {
		return outcome{resp: admission.Denied(strings.Join(denies, "; ")).WithWarnings(warnings...), verdict: verdictDenied}
	}
	resp := admission.Allowed("").WithWarnings(warnings...)
	if len(warnings) > 0 {
		return outcome{resp: resp, verdict: verdictWarned}
	}
	return outcome{resp: resp, verdict: verdictAllowed}
}

// limitWarnings keeps each warning whole and readable by the apiserver: no
// control characters (it drops such a warning), at most maxWarningRunes
// runes each, at most maxWarnings of them.
func limitWarnings(warns []string) []string {
	if len(warns) > maxWarnings {
		more := len(warns) - (maxWarnings - 1)
		warns = append(warns[:maxWarnings-1:maxWarnings-1],
			fmt.Sprintf("%d more warnings; kubectl mesh check -f on the object lists them all", more))
	}
	out := make([]string, len(warns))
	for i, w := range warns {
		out[i] = truncate(oneLine(w), maxWarningRunes)
	}
	return out
}

// oneLine replaces control characters and runs of white space with one
// space, and invalid UTF-8 with U+FFFD.
func oneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// truncate cuts s to at most n runes, ending in an ellipsis when cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// failures are the policies that decided nothing on a review.
type failures struct {
	failed   []string      // failed at run time, sorted
	cut      []string      // ran past their deadline, sorted
	deadline time.Duration // the deadline they ran past
}

// policyFailures splits the engine's error into the policies that failed
// at run time, those cut off at their deadline, and anything else, which
// the caller treats as unexpected.
func policyFailures(err error) (f failures, unexpected error) {
	errs := []error{err}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		errs = joined.Unwrap()
	}
	var others []error
	for _, e := range errs {
		pe, ok := errors.AsType[*policies.PolicyError](e)
		if !ok {
			others = append(others, e)
			continue
		}
		if de, ok := errors.AsType[*policies.DeadlineError](pe); ok {
			f.cut, f.deadline = append(f.cut, pe.PolicyID), de.Timeout
			continue
		}
		f.failed = append(f.failed, pe.PolicyID)
	}
	slices.Sort(f.failed)
	slices.Sort(f.cut)
	f.failed, f.cut = slices.Compact(f.failed), slices.Compact(f.cut)
	return f, errors.Join(others...)
}
