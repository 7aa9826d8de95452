package perfcmd

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/clusterinfo"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/portforward"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/store"
)

// inClusterResolution is the histogram resolution of an in-cluster run
// when --resolution is not given.
const inClusterResolution = 100 * time.Microsecond

var perfLong = templates.LongDesc(`
	Load tests with fortio whose results can gate a CI pipeline and be compared
	across meshes and versions. Results are stored in the Service Mesh
	Performance (SMP) shape under $XDG_DATA_HOME/kubectl-mesh/perf
	(~/.local/share/kubectl-mesh/perf; --results-dir or $KUBECTL_MESH_PERF_DIR
	to change it).`)

var perfExample = templates.Examples(`
	# Load a Service for 30 seconds at 100 QPS and store the result
	kubectl mesh perf run svc/reviews -n bookinfo --qps 100 --duration 30s

	# Compare the last two runs, then write an HTML report
	kubectl mesh perf list
	kubectl mesh perf compare reviews-before reviews-after
	kubectl mesh perf report reviews-before reviews-after`)

// NewCmdPerf creates `kubectl mesh perf` and its subcommands.
func NewCmdPerf(streams genericiooptions.IOStreams, f cmdutil.Factory) *cobra.Command {
	results := &resultsDir{}
	cmd := &cobra.Command{
		Use:     "perf",
		Short:   "Run load tests, store and compare their results, write reports",
		Long:    perfLong,
		Example: perfExample,
	}
	cmd.AddCommand(
		NewCmdPerfRun(streams, f, results),
		NewCmdPerfList(streams, f, results),
		NewCmdPerfShow(streams, f, results),
		NewCmdPerfDelete(streams, f, results),
		NewCmdPerfCompare(streams, f, results),
		NewCmdPerfBaseline(streams, f, results),
		NewCmdPerfReport(streams, f, results),
	)
	// Each command that reads results has --results-dir as its own flag, so
	// kubectl's help, which leaves inherited flags to "kubectl mesh options",
	// shows it where it applies.
	addResultsDirFlag(cmd, results)
	return cmd
}

func addResultsDirFlag(cmd *cobra.Command, results *resultsDir) {
	if cmd.HasSubCommands() {
		for _, c := range cmd.Commands() {
			addResultsDirFlag(c, results)
		}
		return
	}
	cmd.Flags().StringVar(&results.dir, "results-dir", "", "Directory of stored results (default $KUBECTL_MESH_PERF_DIR, else $XDG_DATA_HOME/kubectl-mesh/perf)")
}

// resultsDir is the --results-dir flag shared by the perf subcommands.
type resultsDir struct{ dir string }

func (r *resultsDir) open() (*store.Store, error) {
	dir := r.dir
	if dir == "" {
		var err error
		if dir, err = store.DefaultDir(); err != nil {
			return nil, err
		}
	}
	return store.Open(dir)
}

// clusterFacts is what a run records of the cluster, and the clients a
// svc/ target or an in-cluster run needs.
type clusterFacts struct {
	config *rest.Config
	client kubernetes.Interface
	mesh   *smp.MeshConfig
	env    *smp.Environment
	err    error
}

// clusterFacts connects to the cluster and reads its mesh and environment.
// A URL target runs without a cluster: the result then records neither,
// with a warning.
func (o *PerfRunOptions) clusterFacts(ctx context.Context) *clusterFacts {
	facts := &clusterFacts{}
	c, _, err := o.factory.MeshCluster(o.ErrOut)
	if err == nil {
		facts.config, facts.client = c.Config, c.Clientset
		// A URL target does not need the cluster: a stale kubeconfig
		// context should not hold the run up for long.
		timeout := 15 * time.Second
		if !isClusterTarget(o.Target) && !o.InCluster {
			timeout = 3 * time.Second
		}
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		if facts.env, err = clusterinfo.Environment(ctx, c.Clientset); err == nil {
			facts.mesh, err = clusterinfo.Mesh(ctx, o.factory.Meshes(), *c)
		}
	}
	if err != nil {
		facts.err = err
		facts.mesh, facts.env = nil, nil
		if !isClusterTarget(o.Target) && !o.InCluster {
			fmt.Fprintf(o.ErrOut, "Warning: the result records no mesh or cluster: %v\n", err)
		}
	}
	return facts
}

// serviceURL is the in-cluster URL of a svc/NAME[:PORT] target:
// NAME.NAMESPACE.svc, which the pod's DNS search list completes whatever the
// cluster domain, and the service port (a name is looked up).
func serviceURL(ctx context.Context, client kubernetes.Interface, namespace, target, path string) (string, error) {
	t, err := portforward.ParseTarget(target)
	if err != nil {
		return "", err
	}
	if t.Kind != portforward.KindService {
		return "", fmt.Errorf("target %s: --in-cluster reaches Services (svc/NAME[:PORT]) or URLs", target)
	}
	svc, err := client.CoreV1().Services(namespace).Get(ctx, t.Name, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("target %s: %w", target, err)
	}
	port, err := servicePort(svc, t.Port)
	if err != nil {
		return "", fmt.Errorf("target %s: %w", target, err)
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return fmt.Sprintf("http://%s.%s.svc:%d%s", t.Name, namespace, port, path), nil
}

func servicePort(svc *corev1.Service, want string) (int32, error) {
	var names []string
	for _, p := range svc.Spec.Ports {
		if want == "" && len(svc.Spec.Ports) == 1 {
			return p.Port, nil
		}
		if p.Name == want || fmt.Sprint(p.Port) == want {
			return p.Port, nil
		}
		names = append(names, fmt.Sprintf("%s %d", p.Name, p.Port))
	}
	if want == "" {
		return 0, fmt.Errorf("service %s/%s has several ports (%s): name one as svc/%s:PORT", svc.Namespace, svc.Name, strings.Join(names, ", "), svc.Name)
	}
	return 0, fmt.Errorf("service %s/%s has no port %s (ports: %s)", svc.Namespace, svc.Name, want, strings.Join(names, ", "))
}

// newResultID is a unique, sortable id: the time and 4 random bytes.
func newResultID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

// parseLabels reads repeated --label key=value flags.
func parseLabels(pairs []string) (map[string]string, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	labels := make(map[string]string, len(pairs))
	for _, pair := range pairs {
		k, v, ok := strings.Cut(pair, "=")
		if !ok {
			return nil, fmt.Errorf("--label %q: want key=value", pair)
		}
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			return nil, fmt.Errorf("--label %q: key: %s", pair, strings.Join(errs, "; "))
		}
		if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
			return nil, fmt.Errorf("--label %q: value: %s", pair, strings.Join(errs, "; "))
		}
		labels[k] = v
	}
	return labels, nil
}
