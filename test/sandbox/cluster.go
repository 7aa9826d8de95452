package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Binaries the sandbox needs in its bin directory (`make sandbox-bin`).
var Binaries = []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd", "kwok", "kwokctl"}

// Options configure a sandbox cluster.
type Options struct {
	// BinDir holds Binaries. Default: $KUBECTL_MESH_SANDBOX_BIN, else bin/ at
	// the root of the kubectl-mesh module containing the working directory.
	BinDir string
	// Nodes is the number of simulated nodes. Default 2.
	Nodes int
	// StartTimeout bounds cluster creation. Default 3 minutes.
	StartTimeout time.Duration
	// Log receives progress and errors. Default os.Stderr.
	Log io.Writer
	// ExtraArgs are more component flags, as kwokctl's --extra-args
	// (COMPONENT=KEY=VALUE), after the sandbox's own, which they override.
	ExtraArgs []string
}

func (o *Options) setDefaults() {
	if o.Log == nil {
		o.Log = os.Stderr
	}
	if o.Nodes == 0 {
		o.Nodes = 2
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = 3 * time.Minute
	}
	if o.BinDir == "" {
		o.BinDir = os.Getenv(BinDirEnv)
	}
	if o.BinDir == "" {
		if root, err := moduleRoot(); err == nil {
			o.BinDir = filepath.Join(root, "bin")
		}
	}
	if abs, err := filepath.Abs(o.BinDir); err == nil {
		o.BinDir = abs
	}
}

// Cluster is a running sandbox cluster.
type Cluster struct {
	Name string
	// Kubeconfig is the path of a kubeconfig for the cluster, written in the
	// sandbox's own directory; the user's ~/.kube/config is never touched.
	Kubeconfig string
	// Dir is the sandbox's working directory, removed when it ends.
	Dir string
	// BinDir holds the sandbox binaries.
	BinDir string

	log io.Writer
}

// Start creates the cluster in dir and waits until its nodes are Ready.
func Start(ctx context.Context, opts Options, dir string) (*Cluster, error) {
	opts.setDefaults()
	if dir == "" {
		return nil, errors.New("starting the cluster: no work directory")
	}
	c := &Cluster{
		Name:       "sandbox",
		Kubeconfig: filepath.Join(dir, "kubeconfig"),
		Dir:        dir,
		BinDir:     opts.BinDir,
		log:        opts.Log,
	}
	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()

	started := time.Now()
	bin := func(name string) string { return filepath.Join(c.BinDir, name) }
	args := []string{"create", "cluster",
		"--runtime", "binary",
		"--kubeconfig", c.Kubeconfig,
		"--kube-apiserver-binary", bin("kube-apiserver"),
		"--kube-controller-manager-binary", bin("kube-controller-manager"),
		"--kube-scheduler-binary", bin("kube-scheduler"),
		"--etcd-binary", bin("etcd"),
		"--kwok-controller-binary", bin("kwok"),
		// Simulated pods get logs and port-forwards from kwok's CRDs: a
		// test points them at a file or at a server it runs on loopback.
		"--enable-crds", "Logs,ClusterLogs,PortForward,ClusterPortForward",
		"--wait", opts.StartTimeout.String(),
	}
	extra := append([]string{
		// Loopback is the only address there is. The apiserver refuses to
		// publish a loopback address in the kubernetes Service's endpoints,
		// which nothing in the sandbox needs, so that reconciler is off.
		"kube-apiserver=advertise-address=127.0.0.1",
		"kube-apiserver=endpoint-reconciler-type=none",
	}, opts.ExtraArgs...)
	for _, a := range kwokctlOrder(extra) {
		args = append(args, "--extra-args", a)
	}
	if err := c.kwokctl(ctx, args...); err != nil {
		return nil, fmt.Errorf("creating the cluster: %w", err)
	}
	if err := c.kwokctl(ctx, "scale", "node", "--replicas", strconv.Itoa(opts.Nodes)); err != nil {
		_ = c.Stop(context.Background())
		return nil, fmt.Errorf("creating %d nodes: %w", opts.Nodes, err)
	}
	if err := c.waitReady(ctx, opts.Nodes); err != nil {
		_ = c.Stop(context.Background())
		return nil, fmt.Errorf("waiting for the cluster: %w", err)
	}
	fmt.Fprintf(c.log, "sandbox: cluster ready with %d nodes in %s (kubeconfig %s)\n", opts.Nodes, time.Since(started).Round(100*time.Millisecond), c.Kubeconfig)
	return c, nil
}

// kwokctlOrder puts the first flag of each component before any second
// one, keeping each component's flags in their order (the last wins).
// kwokctl v0.8.0 files a component's flags under the position of its first
// one among all --extra-args and indexes its list of components with it:
// a component whose first flag comes after another component's second
// flag panics kwokctl (index out of range).
func kwokctlOrder(extra []string) []string {
	var firsts, rest []string
	seen := map[string]bool{}
	for _, a := range extra {
		component, _, _ := strings.Cut(a, "=")
		if seen[component] {
			rest = append(rest, a)
			continue
		}
		seen[component] = true
		firsts = append(firsts, a)
	}
	return append(firsts, rest...)
}

// Stop deletes the cluster and stops its processes.
func (c *Cluster) Stop(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := c.kwokctl(ctx, "delete", "cluster", "--kubeconfig", c.Kubeconfig); err != nil {
		return fmt.Errorf("deleting the cluster: %w", err)
	}
	return nil
}

// RESTConfig returns a client configuration for the cluster.
func (c *Cluster) RESTConfig() (*rest.Config, error) {
	return clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
}

func (c *Cluster) client() (kubernetes.Interface, error) {
	cfg, err := c.RESTConfig()
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}

// kwokctl runs kwokctl on this cluster with its state kept in c.Dir. Its
// output is shown only when it fails.
func (c *Cluster) kwokctl(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(c.BinDir, "kwokctl"), append(args, "--name", c.Name)...)
	cmd.Env = append(os.Environ(), "KWOK_WORKDIR="+filepath.Join(c.Dir, "kwok"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("kwokctl %s: %w\n%s", args[0], err, out.String())
	}
	return nil
}

// waitReady waits for the nodes to be Ready and for the default
// ServiceAccount, without which pods cannot be created.
func (c *Cluster) waitReady(ctx context.Context, nodes int) error {
	client, err := c.client()
	if err != nil {
		return err
	}
	var last error
	err = wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		list, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			last = err
			return false, nil
		}
		ready := 0
		for _, n := range list.Items {
			for _, cond := range n.Status.Conditions {
				if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
					ready++
				}
			}
		}
		if ready < nodes {
			last = fmt.Errorf("%d of %d nodes Ready", ready, nodes)
			return false, nil
		}
		_, err = client.CoreV1().ServiceAccounts(metav1.NamespaceDefault).Get(ctx, "default", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			last = errors.New("the default ServiceAccount does not exist yet")
			return false, nil
		}
		last = err
		return err == nil, nil
	})
	if err != nil && last != nil {
		return fmt.Errorf("%w: %v", err, last)
	}
	return err
}

func checkBinaries(dir string) error {
	for _, name := range Binaries {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("%s is missing from %s: run `make sandbox-bin` (about 15 minutes the first time) or set %s", name, dir, BinDirEnv)
		}
	}
	return nil
}

// moduleRoot finds the kubectl-mesh module above the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(data, []byte("module github.com/kubectl-mesh/kubectl-mesh\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the kubectl-mesh module")
		}
		dir = parent
	}
}
