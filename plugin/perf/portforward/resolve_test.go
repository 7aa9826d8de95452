package portforward

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes/fake"
)

const ns = "shop"

var epoch = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// service returns a Service selecting app=echo with ports.
func service(name string, ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.ServiceSpec{
			Selector:  map[string]string{"app": "echo"},
			ClusterIP: "10.96.0.10",
			Ports:     ports,
		},
	}
}

func svcPort(name string, port int32, target intstr.IntOrString) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Port: port, TargetPort: target, Protocol: corev1.ProtocolTCP}
}

type podOpt func(*corev1.Pod)

// pod returns a running, ready pod labelled app=echo, ready since epoch+readyMin.
func pod(name string, readyMin int, opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: ns,
			Labels:            map[string]string{"app": "echo"},
			CreationTimestamp: metav1.NewTime(epoch),
		},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name:  "echo",
			Ports: []corev1.ContainerPort{{Name: "web", ContainerPort: 8080}, {Name: "admin", ContainerPort: 9901}},
		}}},
		Status: corev1.PodStatus{
			Phase: corev1.PodRunning,
			Conditions: []corev1.PodCondition{{
				Type: corev1.PodReady, Status: corev1.ConditionTrue,
				LastTransitionTime: metav1.NewTime(epoch.Add(time.Duration(readyMin) * time.Minute)),
			}},
		},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func notReady(p *corev1.Pod) { p.Status.Conditions[0].Status = corev1.ConditionFalse }
func pending(p *corev1.Pod)  { p.Status.Phase = corev1.PodPending }
func deleting(p *corev1.Pod) {
	now := metav1.NewTime(epoch)
	p.DeletionTimestamp = &now
	p.Finalizers = []string{"example.com/hold"}
}
func otherApp(p *corev1.Pod) { p.Labels["app"] = "other" }
func onePort(p *corev1.Pod) {
	p.Spec.Containers[0].Ports = []corev1.ContainerPort{{Name: "web", ContainerPort: 8080}}
}
func sidecarPort(p *corev1.Pod) {
	always := corev1.ContainerRestartPolicyAlways
	p.Spec.InitContainers = []corev1.Container{{
		Name: "proxy", RestartPolicy: &always,
		Ports: []corev1.ContainerPort{{Name: "proxy-admin", ContainerPort: 15000}},
	}}
}

func TestResolve(t *testing.T) {
	http80 := svcPort("http", 80, intstr.FromString("web"))
	tests := []struct {
		name     string
		objects  []runtime.Object
		target   Target
		wantPod  string
		wantPort int32
		wantErr  string
	}{
		{
			name:    "named targetPort",
			objects: []runtime.Object{service("echo", http80), pod("echo-a", 0)},
			target:  Target{Kind: KindService, Name: "echo", Port: "80"},
			wantPod: "echo-a", wantPort: 8080,
		},
		{
			name:    "service port by name",
			objects: []runtime.Object{service("echo", svcPort("grpc", 9090, intstr.FromInt32(9091)), http80), pod("echo-a", 0)},
			target:  Target{Kind: KindService, Name: "echo", Port: "http"},
			wantPod: "echo-a", wantPort: 8080,
		},
		{
			name:    "numeric targetPort",
			objects: []runtime.Object{service("echo", svcPort("http", 80, intstr.FromInt32(8081))), pod("echo-a", 0)},
			target:  Target{Kind: KindService, Name: "echo", Port: "80"},
			wantPod: "echo-a", wantPort: 8081,
		},
		{
			name:    "targetPort omitted means the port",
			objects: []runtime.Object{service("echo", svcPort("http", 80, intstr.IntOrString{})), pod("echo-a", 0)},
			target:  Target{Kind: KindService, Name: "echo", Port: "http"},
			wantPod: "echo-a", wantPort: 80,
		},
		{
			name:    "targetPort named on a native sidecar",
			objects: []runtime.Object{service("echo", svcPort("admin", 15000, intstr.FromString("proxy-admin"))), pod("echo-a", 0, sidecarPort)},
			target:  Target{Kind: KindService, Name: "echo"},
			wantPod: "echo-a", wantPort: 15000,
		},
		{
			name: "headless service keeps the port",
			objects: []runtime.Object{func() *corev1.Service {
				s := service("echo", svcPort("http", 80, intstr.FromString("web")))
				s.Spec.ClusterIP = corev1.ClusterIPNone
				return s
			}(), pod("echo-a", 0)},
			target:  Target{Kind: KindService, Name: "echo"},
			wantPod: "echo-a", wantPort: 80,
		},
		{
			name:    "single port needs no PORT",
			objects: []runtime.Object{service("echo", http80), pod("echo-a", 0)},
			target:  Target{Kind: KindService, Name: "echo"},
			wantPod: "echo-a", wantPort: 8080,
		},
		{
			name: "not ready, pending, deleting and unselected pods are skipped",
			objects: []runtime.Object{service("echo", http80),
				pod("echo-a", 0, notReady), pod("echo-b", 0, pending), pod("echo-c", 0, deleting),
				pod("echo-d", 0, otherApp), pod("echo-e", 5)},
			target:  Target{Kind: KindService, Name: "echo"},
			wantPod: "echo-e", wantPort: 8080,
		},
		{
			name:    "the pod ready the longest wins",
			objects: []runtime.Object{service("echo", http80), pod("echo-a", 9), pod("echo-b", 2), pod("echo-c", 4)},
			target:  Target{Kind: KindService, Name: "echo"},
			wantPod: "echo-b", wantPort: 8080,
		},
		{
			name:    "ties go by name",
			objects: []runtime.Object{service("echo", http80), pod("echo-c", 1), pod("echo-b", 1)},
			target:  Target{Kind: KindService, Name: "echo"},
			wantPod: "echo-b", wantPort: 8080,
		},
		{
			name:    "no pods",
			objects: []runtime.Object{service("echo", http80), pod("other", 0, otherApp)},
			target:  Target{Kind: KindService, Name: "echo"},
			wantErr: "service shop/echo has no running pods",
		},
		{
			name:    "no ready pods",
			objects: []runtime.Object{service("echo", http80), pod("echo-a", 0, notReady), pod("echo-b", 0, pending)},
			target:  Target{Kind: KindService, Name: "echo"},
			wantErr: "service shop/echo has no running pods (2 selected, none running and ready)",
		},
		{
			name:    "several ports and none named",
			objects: []runtime.Object{service("echo", http80, svcPort("", 9090, intstr.FromInt32(9090))), pod("echo-a", 0)},
			target:  Target{Kind: KindService, Name: "echo"},
			wantErr: "service shop/echo has several ports (http 80, 9090): name one, as in svc/echo:http",
		},
		{
			name:    "missing port number",
			objects: []runtime.Object{service("echo", svcPort("http", 9080, intstr.FromInt32(9080))), pod("echo-a", 0)},
			target:  Target{Kind: KindService, Name: "echo", Port: "8080"},
			wantErr: "service shop/echo has no port 8080 (ports: http 9080)",
		},
		{
			name:    "missing port name",
			objects: []runtime.Object{service("echo", http80), pod("echo-a", 0)},
			target:  Target{Kind: KindService, Name: "echo", Port: "grpc"},
			wantErr: `service shop/echo has no port named "grpc" (ports: http 80)`,
		},
		{
			name:    "missing port reported before missing pods",
			objects: []runtime.Object{service("echo", http80)},
			target:  Target{Kind: KindService, Name: "echo", Port: "81"},
			wantErr: "service shop/echo has no port 81 (ports: http 80)",
		},
		{
			name:    "named targetPort the pod lacks",
			objects: []runtime.Object{service("echo", svcPort("http", 80, intstr.FromString("metrics"))), pod("echo-a", 0)},
			target:  Target{Kind: KindService, Name: "echo"},
			wantErr: `pod shop/echo-a has no container port named "metrics" (the targetPort of service shop/echo port http)`,
		},
		{
			name: "UDP port",
			objects: []runtime.Object{service("echo", corev1.ServicePort{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP}),
				pod("echo-a", 0)},
			target:  Target{Kind: KindService, Name: "echo", Port: "53"},
			wantErr: "service shop/echo port dns is UDP: port-forward supports TCP only",
		},
		{
			name: "TCP twin of a UDP port",
			objects: []runtime.Object{service("echo",
				corev1.ServicePort{Name: "dns-udp", Port: 53, Protocol: corev1.ProtocolUDP},
				corev1.ServicePort{Name: "dns-tcp", Port: 53, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(5353)}),
				pod("echo-a", 0)},
			target:  Target{Kind: KindService, Name: "echo", Port: "53"},
			wantPod: "echo-a", wantPort: 5353,
		},
		{
			name:    "service without ports",
			objects: []runtime.Object{service("echo"), pod("echo-a", 0)},
			target:  Target{Kind: KindService, Name: "echo"},
			wantErr: "service shop/echo has no ports",
		},
		{
			name: "service without selector",
			objects: []runtime.Object{func() *corev1.Service {
				s := service("external", http80)
				s.Spec.Selector = nil
				return s
			}()},
			target:  Target{Kind: KindService, Name: "external"},
			wantErr: "service shop/external has no selector: port-forward needs the pods it selects; name a pod instead, as in pod/NAME:PORT",
		},
		{
			name:    "missing service",
			objects: []runtime.Object{pod("echo-a", 0)},
			target:  Target{Kind: KindService, Name: "missing"},
			wantErr: "service shop/missing not found",
		},
		{
			name:    "pod by number",
			objects: []runtime.Object{pod("echo-a", 0)},
			target:  Target{Kind: KindPod, Name: "echo-a", Port: "9000"},
			wantPod: "echo-a", wantPort: 9000,
		},
		{
			name:    "pod by port name",
			objects: []runtime.Object{pod("echo-a", 0)},
			target:  Target{Kind: KindPod, Name: "echo-a", Port: "admin"},
			wantPod: "echo-a", wantPort: 9901,
		},
		{
			name:    "pod with one port needs no PORT",
			objects: []runtime.Object{pod("echo-a", 0, onePort)},
			target:  Target{Kind: KindPod, Name: "echo-a"},
			wantPod: "echo-a", wantPort: 8080,
		},
		{
			name:    "pod with several ports and none named",
			objects: []runtime.Object{pod("echo-a", 0)},
			target:  Target{Kind: KindPod, Name: "echo-a"},
			wantErr: "pod shop/echo-a has several container ports (web 8080, admin 9901): name one, as in pod/echo-a:8080",
		},
		{
			name:    "pod without the port name",
			objects: []runtime.Object{pod("echo-a", 0)},
			target:  Target{Kind: KindPod, Name: "echo-a", Port: "grpc"},
			wantErr: `pod shop/echo-a has no container port named "grpc"`,
		},
		{
			name:    "pod not running",
			objects: []runtime.Object{pod("echo-a", 0, pending)},
			target:  Target{Kind: KindPod, Name: "echo-a", Port: "8080"},
			wantErr: "pod shop/echo-a is not running (phase Pending)",
		},
		{
			name:    "missing pod",
			target:  Target{Kind: KindPod, Name: "echo-a", Port: "8080"},
			wantErr: "pod shop/echo-a not found",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := fake.NewClientset(tt.objects...)
			ep, err := resolve(context.Background(), client, ns, tt.target)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("resolve(%s) error = %v, want %s", tt.target, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("resolve(%s): %v", tt.target, err)
			}
			if ep.Pod.Name != tt.wantPod || ep.Port != tt.wantPort {
				t.Errorf("resolve(%s) = pod %s port %d, want pod %s port %d", tt.target, ep.Pod.Name, ep.Port, tt.wantPod, tt.wantPort)
			}
		})
	}
}
