package policies_test

import (
	"context"
	"flag"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/profiler"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
	"github.com/kubectl-mesh/kubectl-mesh/policies/manifest"
	"github.com/kubectl-mesh/kubectl-mesh/policies/scan"
)

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var profilePolicies = flag.Bool("profile", false, "BenchmarkPolicies: trace with OPA's profiler and log each policy's costliest Rego lines")

// BenchmarkPolicies measures each policy alone (with the helpers) on its
// own fixtures: every fixture object is in the inventory, and every one the
// policy routes to is reviewed. review-us is the time of one review, review-cpu-us
// its CPU time; make bench lists the ten costliest, so a slow new policy
// shows up. Where its time goes:
//
//	go test ./policies -run '^$' -bench 'BenchmarkPolicies/istio/NAME$' -benchtime 200x -profile -v
func BenchmarkPolicies(b *testing.B) {
	ctx := context.Background()
	lib := library(b)
	for _, d := range listPolicyDirs(b) {
		b.Run(d.String(), func(b *testing.B) {
			own := filepath.ToSlash(filepath.Join("policies", d.path, "policy.rego"))
			sources := slices.DeleteFunc(slices.Clone(lib), func(s policies.Source) bool {
				return !strings.HasPrefix(s.Name, "policies/lib/") && s.Name != own
			})
			engine, err := policies.New(ctx, policies.Options{Library: sources})
			if err != nil {
				b.Fatal(err)
			}
			metas := engine.Policies()
			if len(metas) != 1 {
				b.Fatalf("%s: %d policies compiled, want 1", d, len(metas))
			}
			allowed, denied := fixtures(b, d)
			objects, errs := manifest.ReadPaths(slices.Concat(allowed, denied), false, nil)
			if len(errs) > 0 {
				b.Fatal(errs)
			}
			// scan.Run gives objects their namespaces and sets the inventory.
			if res := scan.Run(ctx, engine, objects, scan.Options{}); len(res.Errors) > 0 {
				b.Fatal(res.Errors)
			}
			var reviews []*policies.Review
			for _, o := range objects {
				group, _, _ := strings.Cut(o.APIVersion(), "/")
				if !strings.Contains(o.APIVersion(), "/") {
					group = ""
				}
				if !metas[0].Matches(group, o.Kind(), "CREATE") {
					continue
				}
				v, err := policies.ToValue(o.Content)
				if err != nil {
					b.Fatal(err)
				}
				reviews = append(reviews, policies.NewReview(v, nil))
			}
			var p *profiler.Profiler
			if *profilePolicies {
				p = profiler.New()
				policies.Trace(engine, p)
			}
			cpu := cpuTime()
			for b.Loop() {
				for _, r := range reviews {
					if _, err := engine.Review(ctx, r); err != nil {
						b.Fatal(err)
					}
				}
			}
			reviewed := float64(b.N * len(reviews))
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/reviewed/1e3, "review-us")
			// CPU time, GC included: steadier than wall time on a shared machine.
			b.ReportMetric(float64((cpuTime()-cpu).Nanoseconds())/reviewed/1e3, "review-cpu-us")
			if p != nil {
				logProfile(b, p, reviewed)
			}
		})
	}
}
