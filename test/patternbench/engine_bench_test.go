package patternbench

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh/all"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/apply"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/targets"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
	"k8s.io/cli-runtime/pkg/genericclioptions"
)

// BenchmarkEngineApply1000 is the apply engine alone, in process, on the
// objects of BenchmarkPatternApply1000, for each worker count: what a CPU
// profile (-cpuprofile) of kubectl mesh apply would show, without the
// process start, loading and translation. "create" applies into a fresh
// namespace, "unchanged" applies the same objects again.
func BenchmarkEngineApply1000(b *testing.B) {
	flags := genericclioptions.NewConfigFlags(false)
	*flags.KubeConfig = cluster.Kubeconfig
	// The commands' factory, so the engine runs with their rate limit.
	cfg, err := cmdutil.NewFactory(flags, all.Registry()).ToRESTConfig()
	if err != nil {
		b.Fatal(err)
	}
	counts := []int{8, 16, 32, 64}
	if os.Getenv("PATTERNBENCH_WORKERS_DESCENDING") != "" {
		// The other order, to tell the worker count from the machine's
		// load drifting during a run.
		slices.Reverse(counts)
	}
	for _, workers := range counts {
		iteration := 0
		for _, again := range []bool{false, true} {
			name := fmt.Sprintf("workers=%d/create", workers)
			if again {
				name = fmt.Sprintf("workers=%d/unchanged", workers)
			}
			b.Run(name, func(b *testing.B) {
				c, err := apply.New(cfg)
				if err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					b.StopTimer()
					iteration++
					ns := fmt.Sprintf("engine-%d-%d", workers, iteration)
					run(b, "/usr/bin/kubectl", "create", "namespace", ns)
					set, objs := translated(b, ns)
					if again {
						if _, err := c.Apply(b.Context(), set, objs, apply.Options{Workers: workers}); err != nil {
							b.Fatal(err)
						}
					}
					b.StartTimer()
					report, err := c.Apply(b.Context(), set, objs, apply.Options{Workers: workers})
					b.StopTimer()
					if err != nil {
						b.Fatal(err)
					}
					want := apply.Created
					if again {
						want = apply.Unchanged
					}
					for _, r := range report.Results {
						if r.Action != want {
							b.Fatalf("%s: %s, want %s", r.Ref, r.Action, want)
						}
					}
					run(b, "/usr/bin/kubectl", "delete", "namespace", ns, "--timeout=5m") // waits: a deletion still running would slow the next measurement
					b.StartTimer()
				}
			})
		}
	}
}

// translated is the generated pattern rendered for Istio into ns.
func translated(b *testing.B, ns string) (apply.Set, []translate.Object) {
	b.Helper()
	ps, err := pattern.Load(strings.NewReader(generatePattern(services)), "bench.yaml", pattern.LoadOptions{DefaultNamespace: ns})
	if err != nil || len(ps) != 1 {
		b.Fatalf("loading the pattern: %d, %v", len(ps), err)
	}
	t, err := targets.Get("istio")
	if err != nil {
		b.Fatal(err)
	}
	res, err := translate.Run(t, ps[0], translate.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if len(res.Objects) != 4*services {
		b.Fatalf("the pattern renders %d objects, want %d", len(res.Objects), 4*services)
	}
	return apply.Set{Name: ps[0].Metadata.Name, Namespace: ns, Mesh: "istio"}, res.Objects
}
