package reliability

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"

	"github.com/kubectl-mesh/kubectl-mesh/test/cmdrun"
	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
	"github.com/kubectl-mesh/kubectl-mesh/test/procnode"
	"github.com/kubectl-mesh/kubectl-mesh/test/soak"
)

const (
	failoverSystem = "failover-system"
	failoverNS     = "failover"
	// failoverRelease is the chart's release: its Deployment, Service and
	// webhook configuration carry this name.
	failoverRelease = "mesh-webhook"
)

// Issue 20, item 3: the chart's two replicas on a Node whose Pods are local
// processes (test/procnode), reached by the apiserver through the chart's
// Service and the EndpointSlices the controller-manager builds from the
// Pods' IPs and readiness (the sandbox's apiserver routes webhook calls to
// endpoints, --enable-aggregator-routing), failurePolicy Fail, under the
// soak's load at half capacity:
//   - a rolling restart, the eviction of one replica and a SIGTERM of one
//     replica's process fail no admission (the webhook serves on, not
//     ready, for --shutdown-delay), and after the eviction the audit's
//     leadership moves to the survivor at once, which writes the report
//     afterwards, with no duplicate and nothing stale;
//   - a SIGKILL of one replica's process fails at most the requests sent
//     to it until its endpoint leaves the Service, plus those in flight:
//     counted and bounded.
func TestReplicaFailover(t *testing.T) {
	ctx := t.Context()
	kube := harness.KubeClient(t)
	harness.Namespace(t, failoverNS)
	nodeLog := &cmdrun.SyncBuffer{}
	logs := &podLogs{logs: map[string]*cmdrun.SyncBuffer{}}
	node, err := procnode.Start(ctx, procnode.Options{
		Name: "webhook-node", Client: kube, Subnet: net.IPv4(10, 244, 7, 0), Log: nodeLog,
		Command: failoverCommand(t, kube, logs),
	})
	if err != nil {
		t.Fatal(err)
	}
	// A violation for the audit: a route to a host with no Service.
	harness.Must(t, harness.KubectlStdin(t, restartVirtualService(failoverNS, "orphan", "gone"), "apply", "-f", "-"))

	harness.Must(t, harness.Mesh(t, "webhook", "install", "-n", failoverSystem, "--timeout", "3m",
		"--set-string", `nodeSelector.kubectl-mesh\.io/procnode=true`,
		"--set-string", `webhook.namespaceSelector.matchLabels.kubernetes\.io/metadata\.name=`+failoverNS,
		"--set", "audit.interval=2s"))
	t.Cleanup(func() { harness.Mesh(t, "webhook", "uninstall", "-n", failoverSystem) })
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("node log:\n%s", nodeLog.String())
			for name, l := range logs.all() {
				var notable []string
				for line := range strings.Lines(l.String()) {
					if strings.Contains(line, `"level":"error"`) || strings.Contains(line, "listing again") || strings.Contains(line, "inventory synced") {
						notable = append(notable, line)
					}
				}
				t.Logf("pod %s log, errors and inventory:\n%s", name, strings.Join(notable[max(0, len(notable)-15):], ""))
			}
		}
	})

	rc := harness.RESTConfig(t)
	if err := soak.WaitCalled(ctx, rc, failoverNS, time.Minute); err != nil {
		t.Fatal(err)
	}
	load, err := soak.New(soak.Config{RESTConfig: rc, Namespace: failoverNS})
	if err != nil {
		t.Fatal(err)
	}
	capacity := load.Run(ctx, -1, 5*time.Second)
	rate := capacity.QPS / 2
	t.Logf("capacity through the Service: %s; load at %.1f/s", capacity, rate)

	t.Run("rolling restart fails no admission", func(t *testing.T) {
		w := underLoad(t, load, rate, func() {
			harness.Must(t, harness.Kubectl(t, "rollout", "restart", "deployment/"+failoverRelease, "-n", failoverSystem))
			harness.Must(t, harness.Kubectl(t, "rollout", "status", "deployment/"+failoverRelease, "-n", failoverSystem, "--timeout=3m"))
			failoverWaitSettled(t, kube)
		})
		if w.Failed > 0 || w.Wrong > 0 {
			t.Errorf("%d failed admissions, %d wrong verdicts: %v", w.Failed, w.Wrong, w.Examples)
		}
	})

	t.Run("eviction of the leader fails no admission and moves the audit", func(t *testing.T) {
		leader := failoverLeader(t, kube)
		var evicted time.Time
		w := underLoad(t, load, rate, func() {
			evicted = time.Now()
			eviction := &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: leader, Namespace: failoverSystem}}
			if err := kube.PolicyV1().Evictions(failoverSystem).Evict(ctx, eviction); err != nil {
				t.Fatalf("evicting %s: %v", leader, err)
			}
			failoverWaitSettled(t, kube)
		})
		if w.Failed > 0 || w.Wrong > 0 {
			t.Errorf("%d failed admissions, %d wrong verdicts: %v", w.Failed, w.Wrong, w.Examples)
		}
		survivor := failoverLeader(t, kube)
		if survivor == leader {
			t.Fatalf("%s still leads after its eviction", leader)
		}
		// The stopping leader releases the lease (ReleaseOnCancel): the
		// survivor takes it once the shutdown delay is over, not a lease
		// duration (15 s) later.
		lease, err := kube.CoordinationV1().Leases(failoverSystem).Get(ctx, "mesh-webhook-audit", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		shutdownDelay := failoverShutdownDelay(t, kube)
		took := lease.Spec.AcquireTime.Sub(evicted)
		t.Logf("%s took the audit over %s after %s was evicted (shutdown delay %s)", survivor, took.Round(100*time.Millisecond), leader, shutdownDelay)
		if took > shutdownDelay+5*time.Second {
			t.Errorf("the audit moved %s after the eviction, want within the shutdown delay (%s) and 5 s", took, shutdownDelay)
		}
		// The survivor reports what changed after the move, once: the
		// fixed violation leaves the report, the new one enters it.
		harness.Must(t, harness.Kubectl(t, "delete", "virtualservice", "orphan", "-n", failoverNS))
		harness.Must(t, harness.KubectlStdin(t, restartVirtualService(failoverNS, "orphan-new", "gone-new"), "apply", "-f", "-"))
		restartWaitReport(t, failoverNS, "after the move", nil, func(got []string) bool {
			return slices.Contains(got, "MESH1101 orphan-new") && !slices.Contains(got, "MESH1101 orphan")
		})
		list, err := harness.DynamicClient(t).Resource(reports).Namespace(failoverNS).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Items) != 1 {
			var names []string
			for _, r := range list.Items {
				names = append(names, r.GetName())
			}
			t.Errorf("%d audit reports in %s, want one: %v", len(list.Items), failoverNS, names)
		}
	})

	// A SIGTERM that no Pod deletion announced (a signal to the process,
	// a container runtime stopping it): the webhook reports not ready at
	// once and serves on for --shutdown-delay, so its endpoint leaves the
	// Service before it refuses connections; the Pod stays, and the Node
	// starts the process again.
	t.Run("SIGTERM of a replica's process fails no admission", func(t *testing.T) {
		victim := failoverPods(t, kube)[0].Name
		restarts := failoverRestarts(t, kube, victim)
		w := underLoad(t, load, rate, func() {
			if err := node.Kill(victim, syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			failoverWaitRestarted(t, kube, victim, restarts)
		})
		if w.Failed > 0 || w.Wrong > 0 {
			t.Errorf("%d failed admissions, %d wrong verdicts: %v", w.Failed, w.Wrong, w.Examples)
		}
	})

	// A process that dies fails what the apiserver sends it until the
	// kubelet sees the exit and the endpoint leaves; the Pod stays, and
	// the Node starts the process again.
	t.Run("SIGKILL of a replica's process fails only what reached it before its endpoint left", func(t *testing.T) {
		pods := failoverPods(t, kube)
		victim := pods[0].Name
		restarts := failoverRestarts(t, kube, victim)
		probe := pods[0].Spec.Containers[0].ReadinessProbe
		window := time.Duration(probe.PeriodSeconds*max(probe.FailureThreshold, 1))*time.Second + 2*time.Second
		var killed time.Time
		w := underLoad(t, load, rate, func() {
			killed = time.Now()
			if err := node.Kill(victim, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			failoverWaitRestarted(t, kube, victim, restarts)
		})
		// The apiserver picks one of the two endpoints at random and does
		// not retry: about half of what it sends while the dead endpoint is
		// listed fails. Bounded by all of it over the readiness window
		// (the longest a dead endpoint stays listed), plus one in flight
		// per thread.
		bound := int(rate*window.Seconds()) + 8
		t.Logf("SIGKILL of %s: %d failed admissions (bound %d: %.1f/s for the readiness window of %s, plus 8 in flight); back in %s",
			victim, w.Failed, bound, rate, window, time.Since(killed).Round(100*time.Millisecond))
		if w.Failed > bound || w.Wrong > 0 {
			t.Errorf("%d failed admissions (bound %d), %d wrong verdicts: %v", w.Failed, bound, w.Wrong, w.Examples)
		}
	})
}

// underLoad runs the load at rate while fault runs, and two seconds more.
func underLoad(t *testing.T, load *soak.Load, rate float64, fault func()) soak.Window {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan soak.Window, 1)
	go func() { done <- load.Run(ctx, rate, 10*time.Minute) }()
	time.Sleep(2 * time.Second)
	fault()
	time.Sleep(2 * time.Second)
	cancel()
	w := <-done
	t.Logf("under load: %s", w)
	return w
}

// failoverPods are the webhook's Pods, Running and not terminating.
func failoverPods(t *testing.T, kube kubernetes.Interface) []corev1.Pod {
	t.Helper()
	list, err := kube.CoreV1().Pods(failoverSystem).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []corev1.Pod
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// failoverWaitSettled waits until the webhook has two Pods, both Ready,
// and none terminating: the replicas that were stopped have exited, so the
// load ran across their whole shutdown.
func failoverWaitSettled(t *testing.T, kube kubernetes.Interface) {
	t.Helper()
	err := wait.PollUntilContextTimeout(t.Context(), 250*time.Millisecond, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		list, err := kube.CoreV1().Pods(failoverSystem).List(ctx, metav1.ListOptions{})
		if err != nil || len(list.Items) != 2 {
			return false, nil
		}
		for _, p := range list.Items {
			ready := false
			for _, c := range p.Status.Conditions {
				ready = ready || (c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue)
			}
			if !ready || p.DeletionTimestamp != nil {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("the webhook never settled on two ready replicas: %v", err)
	}
}

// failoverRestarts is how often the named Pod's process was restarted.
func failoverRestarts(t *testing.T, kube kubernetes.Interface, name string) int32 {
	t.Helper()
	p, err := kube.CoreV1().Pods(failoverSystem).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Status.ContainerStatuses) == 0 {
		return 0
	}
	return p.Status.ContainerStatuses[0].RestartCount
}

// failoverWaitRestarted waits until the Node restarted the process of the
// named Pod (more than restarts times) and the new process is ready.
func failoverWaitRestarted(t *testing.T, kube kubernetes.Interface, name string, restarts int32) {
	t.Helper()
	err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		p, err := kube.CoreV1().Pods(failoverSystem).Get(ctx, name, metav1.GetOptions{})
		if err != nil || len(p.Status.ContainerStatuses) == 0 || p.Status.ContainerStatuses[0].RestartCount <= restarts {
			return false, nil
		}
		c := http.Client{Timeout: time.Second}
		resp, err := c.Get("http://" + net.JoinHostPort(p.Status.PodIP, "8081") + "/readyz")
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		t.Fatalf("the killed replica %s never came back: %v", name, err)
	}
}

// failoverShutdownDelay is the --shutdown-delay the chart gives its Pods.
func failoverShutdownDelay(t *testing.T, kube kubernetes.Interface) time.Duration {
	t.Helper()
	pods := failoverPods(t, kube)
	if len(pods) == 0 {
		t.Fatal("no webhook Pod")
	}
	for _, a := range pods[0].Spec.Containers[0].Args {
		if v, ok := strings.CutPrefix(a, "--shutdown-delay="); ok {
			d, err := time.ParseDuration(v)
			if err != nil {
				t.Fatalf("the chart's %s: %v", a, err)
			}
			return d
		}
	}
	return 0
}

// failoverLeader is the Pod that leads the audit: the one whose
// leader_election_master_status is 1.
func failoverLeader(t *testing.T, kube kubernetes.Interface) string {
	t.Helper()
	var leaders []string
	err := wait.PollUntilContextTimeout(t.Context(), 250*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		leaders = nil
		for _, p := range failoverPods(t, kube) {
			if failoverLeads(p.Status.PodIP) {
				leaders = append(leaders, p.Name)
			}
		}
		return len(leaders) == 1, nil
	})
	if err != nil {
		t.Fatalf("want one running Pod leading the audit, found %v: %v", leaders, err)
	}
	return leaders[0]
}

// failoverLeads reads the leader election gauge of the replica at ip.
func failoverLeads(ip string) bool {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get("http://" + net.JoinHostPort(ip, "8080") + "/metrics")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return err == nil && strings.Contains(string(body), `leader_election_master_status{name="mesh-webhook-audit"} 1`)
}

// failoverCommand runs a Pod of the chart as a process, as a container
// runtime would: the chart's arguments with $(VAR) from the Pod's
// environment, the addresses it binds on every interface (":PORT") bound to
// the Pod's IP, its emptyDir volumes as directories of its own, HOSTNAME
// set to the Pod's name, and the API reached with a token of the Pod's
// ServiceAccount, so that it has the chart's RBAC and nothing more.
func failoverCommand(t *testing.T, kube kubernetes.Interface, logs *podLogs) func(*corev1.Pod, net.IP) (*exec.Cmd, error) {
	dir := t.TempDir()
	admin := harness.RESTConfig(t)
	bindAll := regexp.MustCompile(`^(--[a-z-]+=):(\d+)$`)
	return func(pod *corev1.Pod, ip net.IP) (*exec.Cmd, error) {
		c := pod.Spec.Containers[0]
		token, err := kube.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(context.Background(), pod.Spec.ServiceAccountName,
			&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To(int64(3600))}}, metav1.CreateOptions{})
		if err != nil {
			return nil, fmt.Errorf("a token for %s: %w", pod.Spec.ServiceAccountName, err)
		}
		podDir := filepath.Join(dir, pod.Name)
		kubeconfig := filepath.Join(podDir, "kubeconfig")
		cfg := clientcmdapi.NewConfig()
		cfg.Clusters["sandbox"] = &clientcmdapi.Cluster{Server: admin.Host, CertificateAuthorityData: admin.CAData, CertificateAuthority: admin.CAFile}
		cfg.AuthInfos["pod"] = &clientcmdapi.AuthInfo{Token: token.Status.Token}
		cfg.Contexts["pod"] = &clientcmdapi.Context{Cluster: "sandbox", AuthInfo: "pod", Namespace: pod.Namespace}
		cfg.CurrentContext = "pod"
		if err := os.MkdirAll(podDir, 0o700); err != nil {
			return nil, err
		}
		if err := clientcmd.WriteToFile(*cfg, kubeconfig); err != nil {
			return nil, err
		}
		env := map[string]string{}
		for _, e := range c.Env {
			switch {
			case e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace":
				env[e.Name] = pod.Namespace
			case e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name":
				env[e.Name] = pod.Name
			default:
				env[e.Name] = e.Value
			}
		}
		mounts := map[string]string{}
		for _, m := range c.VolumeMounts {
			mounts[m.MountPath] = filepath.Join(podDir, m.Name)
			if err := os.MkdirAll(mounts[m.MountPath], 0o700); err != nil {
				return nil, err
			}
		}
		var args []string
		for _, a := range c.Args {
			a = os.Expand(strings.NewReplacer("$(", "${", ")", "}").Replace(a), func(k string) string { return env[k] })
			if m := bindAll.FindStringSubmatch(a); m != nil {
				a = m[1] + net.JoinHostPort(ip.String(), m[2])
			}
			for path, local := range mounts {
				if name, value, ok := strings.Cut(a, "="); ok && (value == path || strings.HasPrefix(value, path+"/")) {
					a = name + "=" + local + strings.TrimPrefix(value, path)
				}
			}
			args = append(args, a)
		}
		args = append(args, "--host="+ip.String(), "--kubeconfig="+kubeconfig)
		cmd := exec.Command(harness.Bin("mesh-webhook"), args...)
		cmd.Env = append(os.Environ(), "HOSTNAME="+pod.Name, "KUBECONFIG=")
		log := logs.get(pod.Name)
		cmd.Stdout, cmd.Stderr = log, log
		return cmd, nil
	}
}

// podLogs keeps each Pod's process output, across restarts.
type podLogs struct {
	mu   sync.Mutex
	logs map[string]*cmdrun.SyncBuffer
}

func (p *podLogs) get(name string) *cmdrun.SyncBuffer {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.logs[name] == nil {
		p.logs[name] = &cmdrun.SyncBuffer{}
	}
	return p.logs[name]
}

func (p *podLogs) all() map[string]*cmdrun.SyncBuffer {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.logs)
}
