// Package procnode is a test-infrastructure stand-in for a kubelet: a Node
// of the sandbox whose Pods run as local processes, each listening on an IP
// of its own made local in the sandbox's network namespace
// (sandbox.AddLocalAddress). The kube-controller-manager builds the
// Service's EndpointSlices from these Pods' IPs and readiness as it would in
// any cluster, and the apiserver reaches them there, so a webhook
// registered by service: is called on real endpoints.
//
// Like a kubelet it: heartbeats the Node's Lease; starts a Pod's first
// container as a process (Options.Command builds it), sets the Pod's IP and
// phase; runs the container's HTTP readiness probe (path, port, period,
// failure threshold) and reports Ready; restarts a process that dies; and
// stops a deleted Pod as the kubelet does (preStop sleep, SIGTERM, SIGKILL
// after the grace period) before removing it. Nothing else of a kubelet is
// there: no images, volumes, or other probes.
package procnode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/kubectl-mesh/kubectl-mesh/test/sandbox"
)

// plegPeriod is how long the kubelet takes at most to see that a
// container exited: its pod lifecycle event generator relists every second.
const plegPeriod = time.Second

// Label is set to "true" on the Node, for a nodeSelector that puts Pods on
// it and nowhere else.
const Label = "kubectl-mesh.io/procnode"

// Options configure a Node.
type Options struct {
	Name   string
	Client kubernetes.Interface
	// Subnet gives the Pods their IPs: the .2, .3... of a /24 such as
	// 10.244.7.0, none of which may be in use.
	Subnet net.IP
	// Command builds the process of pod's first container, with the Pod's
	// IP; the Node starts it.
	Command func(pod *corev1.Pod, ip net.IP) (*exec.Cmd, error)
	// Log receives what the Node does, one line each.
	Log io.Writer
}

// Node runs the Pods scheduled to it until its context ends.
type Node struct {
	opts Options

	mu     sync.Mutex
	pods   map[types.UID]*pod
	nextIP int
}

// pod is one Pod the Node runs.
type pod struct {
	name, namespace string
	uid             types.UID
	ip              net.IP
	spec            corev1.Pod
	mu              sync.Mutex
	cmd             *exec.Cmd
	exited          chan struct{}
	restarts        int32
	terminating     bool
	stop            context.CancelFunc
}

// Start registers the Node, Ready, and runs its Pods in the background
// until ctx ends; then it kills what runs and deletes the Node.
func Start(ctx context.Context, opts Options) (*Node, error) {
	n := &Node{opts: opts, pods: map[types.UID]*pod{}, nextIP: 2}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: opts.Name, Labels: map[string]string{Label: "true", corev1.LabelHostname: opts.Name}},
	}
	if _, err := opts.Client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("registering node %s: %w", opts.Name, err)
	}
	if err := n.heartbeat(ctx); err != nil {
		return nil, err
	}
	go n.run(ctx)
	return n, nil
}

// Kill sends sig to the process of the named Pod, as a crash or the OOM
// killer would: the Node restarts it as the kubelet restarts a container.
func (n *Node) Kill(name string, sig syscall.Signal) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, p := range n.pods {
		if p.name == name {
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.cmd == nil || p.cmd.Process == nil {
				return fmt.Errorf("pod %s runs no process", name)
			}
			return p.cmd.Process.Signal(sig)
		}
	}
	return fmt.Errorf("no pod %s on node %s", name, n.opts.Name)
}

// IP is the named Pod's address, nil when the Node does not run it.
func (n *Node) IP(name string) net.IP {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, p := range n.pods {
		if p.name == name {
			return p.ip
		}
	}
	return nil
}

func (n *Node) logf(format string, args ...any) {
	if n.opts.Log != nil {
		fmt.Fprintf(n.opts.Log, "procnode %s: %s\n", n.opts.Name, fmt.Sprintf(format, args...))
	}
}

func (n *Node) run(ctx context.Context) {
	beat := time.NewTicker(5 * time.Second)
	sync := time.NewTicker(200 * time.Millisecond)
	defer beat.Stop()
	defer sync.Stop()
	for {
		select {
		case <-ctx.Done():
			n.shutdown()
			return
		case <-beat.C:
			if err := n.heartbeat(ctx); err != nil && ctx.Err() == nil {
				n.logf("heartbeat: %v", err)
			}
		case <-sync.C:
			if err := n.sync(ctx); err != nil && ctx.Err() == nil {
				n.logf("sync: %v", err)
			}
		}
	}
}

// heartbeat reports the Node Ready and renews its Lease, as the kubelet
// does, so that the node lifecycle controller never marks its Pods unready.
func (n *Node) heartbeat(ctx context.Context) error {
	now := metav1.Now()
	nodes := n.opts.Client.CoreV1().Nodes()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		node, err := nodes.Get(ctx, n.opts.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		node.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", LastHeartbeatTime: now, LastTransitionTime: now}}
		node.Status.Capacity = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("8"), corev1.ResourceMemory: resource.MustParse("16Gi"), corev1.ResourcePods: resource.MustParse("20")}
		node.Status.Allocatable = node.Status.Capacity
		node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}}
		_, err = nodes.UpdateStatus(ctx, node, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("reporting node %s ready: %w", n.opts.Name, err)
	}
	leases := n.opts.Client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	lease, err := leases.Get(ctx, n.opts.Name, metav1.GetOptions{})
	micro := metav1.NewMicroTime(time.Now())
	switch {
	case apierrors.IsNotFound(err):
		lease = &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: n.opts.Name},
			Spec:       coordinationv1.LeaseSpec{HolderIdentity: ptr.To(n.opts.Name), LeaseDurationSeconds: ptr.To(int32(40)), RenewTime: &micro},
		}
		_, err = leases.Create(ctx, lease, metav1.CreateOptions{})
	case err == nil:
		lease.Spec.RenewTime = &micro
		_, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("renewing the lease of node %s: %w", n.opts.Name, err)
	}
	return nil
}

// sync starts the Pods new on the Node and stops the deleted ones.
func (n *Node) sync(ctx context.Context) error {
	list, err := n.opts.Client.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("spec.nodeName", n.opts.Name).String()})
	if err != nil {
		return err
	}
	seen := map[types.UID]bool{}
	for i := range list.Items {
		obj := &list.Items[i]
		seen[obj.UID] = true
		n.mu.Lock()
		p := n.pods[obj.UID]
		n.mu.Unlock()
		switch {
		case p == nil && obj.DeletionTimestamp == nil && obj.Status.Phase != corev1.PodSucceeded && obj.Status.Phase != corev1.PodFailed:
			if err := n.startPod(ctx, obj); err != nil {
				n.logf("starting pod %s: %v", obj.Name, err)
			}
		case p == nil && obj.DeletionTimestamp != nil:
			// Never started here: nothing to stop.
			_ = n.opts.Client.CoreV1().Pods(obj.Namespace).Delete(ctx, obj.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To(int64(0)), Preconditions: &metav1.Preconditions{UID: &obj.UID}})
		case p != nil && obj.DeletionTimestamp != nil:
			p.mu.Lock()
			started := p.terminating
			p.terminating = true
			p.mu.Unlock()
			if !started {
				grace := int64(30)
				if obj.DeletionGracePeriodSeconds != nil {
					grace = *obj.DeletionGracePeriodSeconds
				}
				go n.terminate(p, time.Duration(grace)*time.Second)
			}
		}
	}
	// Pods deleted at once (grace 0) from elsewhere: stop their processes.
	n.mu.Lock()
	var gone []*pod
	for uid, p := range n.pods {
		if !seen[uid] {
			gone = append(gone, p)
		}
	}
	n.mu.Unlock()
	for _, p := range gone {
		p.mu.Lock()
		started := p.terminating
		p.terminating = true
		p.mu.Unlock()
		if !started {
			go n.terminate(p, 0)
		}
	}
	return nil
}

func (n *Node) startPod(ctx context.Context, obj *corev1.Pod) error {
	if len(obj.Spec.Containers) == 0 {
		return errors.New("no container")
	}
	n.mu.Lock()
	ip := net.IPv4(n.opts.Subnet.To4()[0], n.opts.Subnet.To4()[1], n.opts.Subnet.To4()[2], byte(n.nextIP)).To4()
	n.nextIP++
	n.mu.Unlock()
	if err := sandbox.AddLocalAddress(ip); err != nil {
		return err
	}
	podCtx, cancel := context.WithCancel(ctx)
	p := &pod{name: obj.Name, namespace: obj.Namespace, uid: obj.UID, ip: ip, spec: *obj.DeepCopy(), stop: cancel}
	n.mu.Lock()
	n.pods[obj.UID] = p
	n.mu.Unlock()
	if err := n.startProcess(p); err != nil {
		return err
	}
	now := metav1.Now()
	if err := n.setStatus(ctx, p, func(s *corev1.PodStatus) {
		s.Phase = corev1.PodRunning
		s.HostIP, s.HostIPs = "127.0.0.1", []corev1.HostIP{{IP: "127.0.0.1"}}
		s.PodIP, s.PodIPs = ip.String(), []corev1.PodIP{{IP: ip.String()}}
		s.StartTime = &now
		setCondition(s, corev1.PodScheduled, true)
		setCondition(s, corev1.PodInitialized, true)
		setReady(s, &p.spec, false, 0)
	}); err != nil {
		return err
	}
	n.logf("pod %s/%s runs on %s", obj.Namespace, obj.Name, ip)
	go n.supervise(podCtx, p)
	go n.probe(podCtx, p)
	return nil
}

func (n *Node) startProcess(p *pod) error {
	cmd, err := n.opts.Command(&p.spec, p.ip)
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the process of pod %s: %w", p.name, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	p.mu.Lock()
	p.cmd, p.exited = cmd, exited
	p.mu.Unlock()
	return nil
}

// supervise restarts the process when it exits while the Pod is not
// terminating (restartPolicy Always), a second later.
func (n *Node) supervise(ctx context.Context, p *pod) {
	for {
		p.mu.Lock()
		exited := p.exited
		p.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-exited:
		}
		p.mu.Lock()
		terminating := p.terminating
		p.restarts++
		restarts := p.restarts
		p.mu.Unlock()
		if terminating {
			return
		}
		// The kubelet sees a container exit at its next PLEG relist (every
		// second), reports it not ready then, and ready again only once the
		// readiness probe passes on the new one.
		select {
		case <-ctx.Done():
			return
		case <-time.After(plegPeriod):
		}
		err := n.setStatus(ctx, p, func(s *corev1.PodStatus) { setReady(s, &p.spec, false, restarts) })
		if err != nil && ctx.Err() == nil {
			n.logf("pod %s: reporting the exit: %v", p.name, err)
		}
		n.logf("pod %s: the process exited; ready=false; restarting it", p.name)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
		if err := n.startProcess(p); err != nil {
			n.logf("pod %s: %v", p.name, err)
			return
		}
	}
}

// probe runs the first container's HTTP readiness probe and reports the
// Pod Ready after successThreshold successes and unready after
// failureThreshold failures, as the kubelet's prober does.
func (n *Node) probe(ctx context.Context, p *pod) {
	c := p.spec.Spec.Containers[0]
	rp := c.ReadinessProbe
	if rp == nil || rp.HTTPGet == nil {
		_ = n.setStatus(ctx, p, func(s *corev1.PodStatus) { setReady(s, &p.spec, true, 0) })
		return
	}
	period := time.Duration(max(rp.PeriodSeconds, 1)) * time.Second
	failures := int(max(rp.FailureThreshold, 1))
	if rp.FailureThreshold == 0 {
		failures = 3
	}
	timeout := time.Duration(max(rp.TimeoutSeconds, 1)) * time.Second
	port := rp.HTTPGet.Port.IntValue()
	for _, cp := range c.Ports {
		if rp.HTTPGet.Port.StrVal != "" && cp.Name == rp.HTTPGet.Port.StrVal {
			port = int(cp.ContainerPort)
		}
	}
	url := "http://" + net.JoinHostPort(p.ip.String(), strconv.Itoa(port)) + rp.HTTPGet.Path
	client := http.Client{Timeout: timeout}
	ready, failed, seen := false, 0, int32(0)
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		p.mu.Lock()
		restarts := p.restarts
		p.mu.Unlock()
		if restarts != seen {
			// A new process: not ready (supervise said so) until it passes.
			ready, failed, seen = false, 0, restarts
		}
		ok := false
		if resp, err := client.Get(url); err == nil {
			ok = resp.StatusCode >= 200 && resp.StatusCode < 400
			resp.Body.Close()
		}
		switch {
		case ok:
			failed = 0
		default:
			failed++
		}
		if next := ok || (ready && failed < failures); next != ready {
			ready = next
			if err := n.setStatus(ctx, p, func(s *corev1.PodStatus) { setReady(s, &p.spec, ready, restarts) }); err != nil && ctx.Err() == nil {
				n.logf("pod %s: reporting readiness: %v", p.name, err)
			}
			n.logf("pod %s: ready=%v", p.name, ready)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// terminate stops a deleted Pod as the kubelet does: the preStop sleep,
// SIGTERM, SIGKILL once the grace period is over; then the Pod is removed.
func (n *Node) terminate(p *pod, grace time.Duration) {
	deadline := time.Now().Add(grace)
	if lc := p.spec.Spec.Containers[0].Lifecycle; grace > 0 && lc != nil && lc.PreStop != nil && lc.PreStop.Sleep != nil {
		n.logf("pod %s: preStop sleep %ds", p.name, lc.PreStop.Sleep.Seconds)
		time.Sleep(min(time.Duration(lc.PreStop.Sleep.Seconds)*time.Second, grace))
	}
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd != nil && cmd.Process != nil {
		n.logf("pod %s: SIGTERM", p.name)
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(time.Until(deadline)):
			n.logf("pod %s: grace period over; SIGKILL", p.name)
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	p.stop()
	_ = sandbox.RemoveLocalAddress(p.ip)
	err := n.opts.Client.CoreV1().Pods(p.namespace).Delete(context.Background(), p.name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To(int64(0)), Preconditions: &metav1.Preconditions{UID: &p.uid}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		n.logf("pod %s: removing: %v", p.name, err)
	}
	n.mu.Lock()
	delete(n.pods, p.uid)
	n.mu.Unlock()
	n.logf("pod %s: stopped", p.name)
}

// shutdown kills every process and removes the Node.
func (n *Node) shutdown() {
	n.mu.Lock()
	pods := make([]*pod, 0, len(n.pods))
	for _, p := range n.pods {
		pods = append(pods, p)
	}
	n.mu.Unlock()
	for _, p := range pods {
		p.mu.Lock()
		p.terminating = true
		cmd, exited := p.cmd, p.exited
		p.mu.Unlock()
		if cmd != nil && cmd.Process != nil {
			_ = cmd.Process.Kill()
			<-exited
		}
		_ = sandbox.RemoveLocalAddress(p.ip)
	}
	_ = n.opts.Client.CoreV1().Nodes().Delete(context.Background(), n.opts.Name, metav1.DeleteOptions{})
}

// setStatus changes the Pod's status through the status subresource.
func (n *Node) setStatus(ctx context.Context, p *pod, change func(*corev1.PodStatus)) error {
	pods := n.opts.Client.CoreV1().Pods(p.namespace)
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		obj, err := pods.Get(ctx, p.name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if obj.UID != p.uid {
			return fmt.Errorf("pod %s was replaced", p.name)
		}
		change(&obj.Status)
		_, err = pods.UpdateStatus(ctx, obj, metav1.UpdateOptions{})
		return err
	})
}

func setCondition(s *corev1.PodStatus, t corev1.PodConditionType, ok bool) {
	status := corev1.ConditionFalse
	if ok {
		status = corev1.ConditionTrue
	}
	for i := range s.Conditions {
		if s.Conditions[i].Type == t {
			if s.Conditions[i].Status != status {
				s.Conditions[i].Status, s.Conditions[i].LastTransitionTime = status, metav1.Now()
			}
			return
		}
	}
	s.Conditions = append(s.Conditions, corev1.PodCondition{Type: t, Status: status, LastTransitionTime: metav1.Now()})
}

// setReady reports the containers running, and ready or not.
func setReady(s *corev1.PodStatus, spec *corev1.Pod, ready bool, restarts int32) {
	setCondition(s, corev1.ContainersReady, ready)
	setCondition(s, corev1.PodReady, ready)
	s.ContainerStatuses = nil
	for _, c := range spec.Spec.Containers {
		s.ContainerStatuses = append(s.ContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, ImageID: c.Image, Ready: ready, Started: ptr.To(true), RestartCount: restarts,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}},
		})
	}
}
