// Package lifecyclebench compares kubectl mesh's install with a plain Helm
// SDK install of the same charts and values, to Ready, on a sandbox cluster
// (issue 5). The sandbox starts only when a benchmark runs.
package lifecyclebench

import (
	"context"
	"flag"
	"os"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/kube"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh/all"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh/istio"
	"github.com/kubectl-mesh/kubectl-mesh/test/sandbox"
)

var cluster *sandbox.Cluster

func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		os.Exit(m.Run()) // unit test runs: no cluster needed
	}
	os.Exit(sandbox.Main(sandbox.Options{}, func(_ context.Context, c *sandbox.Cluster) int {
		cluster = c
		return m.Run()
	}))
}

const timeout = 3 * time.Minute

// BenchmarkInstallIstioMinimal installs Istio's minimal profile (base and
// istiod) from the embedded charts until istiod is Ready, then uninstalls
// it untimed: through kubectl mesh's lifecycle engine, and through the Helm
// SDK's install action alone with the same charts, values and waiter.
func BenchmarkInstallIstioMinimal(b *testing.B) {
	ctx := context.Background()
	flags := genericclioptions.NewConfigFlags(false)
	*flags.KubeConfig = cluster.Kubeconfig
	getter := cmdutil.NewFactory(flags, all.Registry())
	plan, err := istio.New(istio.Config{}).Plan(ctx, mesh.InstallOptions{Profile: "minimal", Offline: true})
	if err != nil {
		b.Fatal(err)
	}
	client, err := lifecycle.New(getter, nil)
	if err != nil {
		b.Fatal(err)
	}
	uninstall := func(b *testing.B) {
		b.StopTimer()
		for i := len(plan) - 1; i >= 0; i-- {
			if _, err := client.Uninstall(ctx, plan[i].Name, plan[i].Namespace, timeout); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
	}

	b.Run("kubectl-mesh", func(b *testing.B) {
		for b.Loop() {
			if _, err := client.Apply(ctx, plan, lifecycle.Options{Wait: true, Timeout: timeout}); err != nil {
				b.Fatal(err)
			}
			uninstall(b)
		}
	})
	b.Run("helm-sdk", func(b *testing.B) {
		for b.Loop() {
			for _, r := range plan {
				cfg := action.NewConfiguration()
				if err := cfg.Init(getter, r.Namespace, "secret"); err != nil {
					b.Fatal(err)
				}
				in := action.NewInstall(cfg)
				in.ReleaseName, in.Namespace, in.CreateNamespace, in.Timeout = r.Name, r.Namespace, true, timeout
				in.WaitStrategy = kube.StatusWatcherStrategy
				if r.Wait != nil && !*r.Wait {
					in.WaitStrategy = kube.HookOnlyStrategy
				}
				if _, err := in.RunWithContext(ctx, r.Chart, r.Values); err != nil {
					b.Fatalf("helm install %s: %v", r.Name, err)
				}
			}
			uninstall(b)
		}
	})
}
