package portforward

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
)

// endpoint is where a target resolves to: a pod and its container port.
type endpoint struct {
	Pod  *corev1.Pod
	Port int32
}

// resolve finds the pod and the container port t reaches, the way
// kubectl port-forward does.
func resolve(ctx context.Context, client kubernetes.Interface, namespace string, t Target) (endpoint, error) {
	if t.Kind == KindPod {
		pod, err := client.CoreV1().Pods(namespace).Get(ctx, t.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return endpoint{}, fmt.Errorf("pod %s/%s not found", namespace, t.Name)
		}
		if err != nil {
			return endpoint{}, fmt.Errorf("getting pod %s/%s: %w", namespace, t.Name, err)
		}
		if pod.Status.Phase != corev1.PodRunning {
			return endpoint{}, fmt.Errorf("pod %s/%s is not running (phase %s)", namespace, t.Name, pod.Status.Phase)
		}
		port, err := podPort(pod, t.Port)
		if err != nil {
			return endpoint{}, err
		}
		return endpoint{Pod: pod, Port: port}, nil
	}

	svc, err := client.CoreV1().Services(namespace).Get(ctx, t.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return endpoint{}, fmt.Errorf("service %s/%s not found", namespace, t.Name)
	}
	if err != nil {
		return endpoint{}, fmt.Errorf("getting service %s/%s: %w", namespace, t.Name, err)
	}
	// The service port is checked before any pod is looked for, so a typo
	// in the port is reported as such even when no pod runs.
	sp, err := servicePort(svc, t.Port)
	if err != nil {
		return endpoint{}, err
	}
	pod, err := pickPod(ctx, client, svc)
	if err != nil {
		return endpoint{}, err
	}
	port, err := targetPort(svc, sp, pod)
	if err != nil {
		return endpoint{}, err
	}
	return endpoint{Pod: pod, Port: port}, nil
}

// servicePort finds the service port named by port (a number or a name);
// an empty port means the Service's only port.
func servicePort(svc *corev1.Service, port string) (corev1.ServicePort, error) {
	ports := svc.Spec.Ports
	var found []corev1.ServicePort
	switch n, err := strconv.Atoi(port); {
	case port == "":
		found = ports
	case err == nil:
		for _, p := range ports {
			if int(p.Port) == n {
				found = append(found, p)
			}
		}
	default:
		for _, p := range ports {
			if p.Name == port {
				found = append(found, p)
			}
		}
	}
	ref := svc.Namespace + "/" + svc.Name
	switch {
	case len(ports) == 0:
		return corev1.ServicePort{}, fmt.Errorf("service %s has no ports", ref)
	case port == "" && len(ports) > 1:
		return corev1.ServicePort{}, fmt.Errorf("service %s has several ports (%s): name one, as in svc/%s:%s",
			ref, listServicePorts(ports), svc.Name, portRef(ports[0]))
	case len(found) == 0:
		what := "port " + port
		if _, err := strconv.Atoi(port); err != nil {
			what = fmt.Sprintf("port named %q", port)
		}
		return corev1.ServicePort{}, fmt.Errorf("service %s has no %s (ports: %s)", ref, what, listServicePorts(ports))
	}
	// A port number can appear twice, once per protocol; only TCP forwards.
	for _, p := range found {
		if p.Protocol == "" || p.Protocol == corev1.ProtocolTCP {
			return p, nil
		}
	}
	return corev1.ServicePort{}, fmt.Errorf("service %s port %s is %s: port-forward supports TCP only", ref, portRef(found[0]), found[0].Protocol)
}

// targetPort translates a service port to the container port of pod, as
// kubectl's LookupContainerPortNumberByServicePort does.
func targetPort(svc *corev1.Service, sp corev1.ServicePort, pod *corev1.Pod) (int32, error) {
	// A headless Service has no port mapping: the pod serves the port itself.
	if svc.Spec.ClusterIP == corev1.ClusterIPNone {
		return sp.Port, nil
	}
	tp := sp.TargetPort
	if tp.Type == intstr.Int {
		if tp.IntVal == 0 {
			return sp.Port, nil
		}
		return tp.IntVal, nil
	}
	if n, ok := containerPortByName(pod, tp.StrVal); ok {
		return n, nil
	}
	return 0, fmt.Errorf("pod %s/%s has no container port named %q (the targetPort of service %s/%s port %s)",
		pod.Namespace, pod.Name, tp.StrVal, svc.Namespace, svc.Name, portRef(sp))
}

// podPort resolves port (a number, a container port name, or empty for the
// pod's only declared port) to a container port number.
func podPort(pod *corev1.Pod, port string) (int32, error) {
	if n, err := strconv.Atoi(port); err == nil {
		return int32(n), nil
	}
	if port != "" {
		if n, ok := containerPortByName(pod, port); ok {
			return n, nil
		}
		return 0, fmt.Errorf("pod %s/%s has no container port named %q", pod.Namespace, pod.Name, port)
	}
	var all []corev1.ContainerPort
	for _, c := range pod.Spec.Containers {
		all = append(all, c.Ports...)
	}
	if len(all) == 1 {
		return all[0].ContainerPort, nil
	}
	if len(all) == 0 {
		return 0, fmt.Errorf("pod %s/%s declares no container port: name one, as in pod/%s:8080", pod.Namespace, pod.Name, pod.Name)
	}
	names := make([]string, 0, len(all))
	for _, p := range all {
		names = append(names, strings.TrimSpace(p.Name+" "+strconv.Itoa(int(p.ContainerPort))))
	}
	return 0, fmt.Errorf("pod %s/%s has several container ports (%s): name one, as in pod/%s:%d",
		pod.Namespace, pod.Name, strings.Join(names, ", "), pod.Name, all[0].ContainerPort)
}

// containerPortByName looks in containers, then init containers (sidecars
// declare theirs there), as kubectl does.
func containerPortByName(pod *corev1.Pod, name string) (int32, bool) {
	for _, cs := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for _, c := range cs {
			for _, p := range c.Ports {
				if p.Name == name {
					return p.ContainerPort, true
				}
			}
		}
	}
	return 0, false
}

// pickPod returns a running, ready pod selected by svc, preferring the one
// ready the longest (kubectl's ActivePods order), then the oldest, then by
// name so that the choice is stable.
func pickPod(ctx context.Context, client kubernetes.Interface, svc *corev1.Service) (*corev1.Pod, error) {
	ready, err := ReadyPods(ctx, client, svc)
	if err != nil {
		return nil, err
	}
	return ready[0], nil
}

// ReadyPods are the running, ready pods svc selects, in pickPod's order;
// none is an error that says why.
func ReadyPods(ctx context.Context, client kubernetes.Interface, svc *corev1.Service) ([]*corev1.Pod, error) {
	ref := svc.Namespace + "/" + svc.Name
	if len(svc.Spec.Selector) == 0 {
		return nil, fmt.Errorf("service %s has no selector: port-forward needs the pods it selects; name a pod instead, as in pod/NAME:PORT", ref)
	}
	list, err := client.CoreV1().Pods(svc.Namespace).List(ctx, metav1.ListOptions{
		LabelSelector: labels.SelectorFromSet(svc.Spec.Selector).String(),
	})
	if err != nil {
		return nil, fmt.Errorf("listing the pods of service %s: %w", ref, err)
	}
	var ready []*corev1.Pod
	for i := range list.Items {
		if p := &list.Items[i]; usable(p) {
			ready = append(ready, p)
		}
	}
	if len(ready) == 0 {
		if n := len(list.Items); n > 0 {
			return nil, fmt.Errorf("service %s has no running pods (%d selected, none running and ready)", ref, n)
		}
		return nil, fmt.Errorf("service %s has no running pods", ref)
	}
	sort.SliceStable(ready, func(i, j int) bool {
		ti, tj := readySince(ready[i]), readySince(ready[j])
		if !ti.Equal(&tj) {
			return ti.Before(&tj)
		}
		ci, cj := ready[i].CreationTimestamp, ready[j].CreationTimestamp
		if !ci.Equal(&cj) {
			return ci.Before(&cj)
		}
		return ready[i].Name < ready[j].Name
	})
	return ready, nil
}

// usable is true for a pod that is running, ready and not being deleted.
func usable(p *corev1.Pod) bool {
	if p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func readySince(p *corev1.Pod) metav1.Time {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.LastTransitionTime
		}
	}
	return metav1.Time{}
}

// portRef names a service port the way a user would write it after the colon.
func portRef(p corev1.ServicePort) string {
	if p.Name != "" {
		return p.Name
	}
	return strconv.Itoa(int(p.Port))
}

// listServicePorts prints ports as "http 80, grpc 9090" (name, then number).
func listServicePorts(ports []corev1.ServicePort) string {
	out := make([]string, 0, len(ports))
	for _, p := range ports {
		s := strconv.Itoa(int(p.Port))
		if p.Name != "" {
			s = p.Name + " " + s
		}
		if p.Protocol != "" && p.Protocol != corev1.ProtocolTCP {
			s += "/" + string(p.Protocol)
		}
		out = append(out, s)
	}
	return strings.Join(out, ", ")
}
