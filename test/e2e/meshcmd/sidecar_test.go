package meshcmd

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh/istio"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh/linkerd"
	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
	"github.com/kubectl-mesh/kubectl-mesh/test/helmrepo"
	"github.com/kubectl-mesh/kubectl-mesh/test/injector"
)

// Sidecar injection in the sandbox through the stand-in injector
// (test/injector): installed as its chart comes, Istio's injector webhook
// points at istiod's Service, which the sandbox cannot reach, and with its
// failurePolicy Fail a pod of an enrolled namespace is refused; upgraded
// with the stand-in's values, a Deployment becomes Available on the kwok
// nodes, its pods carry istio-proxy of the installed release (the
// adapter's HasProxy), and `kubectl mesh status` counts them.
func TestSidecarInjectionIstio(t *testing.T) {
	standIn := injector.Serve(t, harness.KubeClient(t))
	charts, err := helmrepo.IstioReleases(istio.DefaultVersion)
	if err != nil {
		t.Fatal(err)
	}
	repo := helmrepo.ServeCharts(t, charts...)
	install := []string{"--repo", repo, "--profile", "minimal", "--timeout", "2m"}
	harness.Must(t, harness.Mesh(t, append([]string{"install", "istio"}, install...)...))
	t.Cleanup(func() {
		harness.Must(t, harness.Mesh(t, "uninstall", "istio", "--purge", "--force", "--timeout", "2m"))
	})
	ns := harness.Namespace(t, "sidecar-istio")
	harness.Must(t, harness.Mesh(t, "inject", "enable", "-n", ns, "--mesh", "istio"))

	r := harness.Kubectl(t, "run", "refused", "-n", ns, "--image", "docker.io/library/nginx:1.29")
	if r.Code == 0 || !strings.Contains(r.Stderr, "sidecar-injector.istio.io") {
		t.Fatalf("a pod of an enrolled namespace without the stand-in: want it refused by istiod's unreachable webhook: %v", r)
	}

	harness.Must(t, harness.Mesh(t, append(append([]string{"upgrade", "istio"}, install...), standIn.IstioValues("")...)...))
	url := harness.Must(t, harness.Kubectl(t, "get", "mutatingwebhookconfiguration", "istio-sidecar-injector", "-o", "jsonpath={.webhooks[0].clientConfig.url}")).Stdout
	if url != standIn.IstioURL("istio-system", "default") {
		t.Fatalf("istio-sidecar-injector calls %q, want the stand-in", url)
	}
	pods := deployAndWait(t, ns, istio.New(istio.Config{}))
	for _, p := range pods {
		i := slices.IndexFunc(p.Spec.Containers, func(c corev1.Container) bool { return c.Name == injector.IstioProxy })
		if want := "docker.io/istio/proxyv2:" + istio.DefaultVersion; i < 0 || p.Spec.Containers[i].Image != want {
			t.Errorf("pod %s: containers %v, want istio-proxy running %s", p.Name, containerNames(p), want)
		}
	}
	assertProxies(t, "istio", mesh.ProxyInfo{Version: istio.DefaultVersion, Revision: "default", Pods: len(pods)})

	// A canary revision reads its own configuration, and its pods say so.
	harness.Must(t, harness.Mesh(t, append(append([]string{"upgrade", "istio", "--revision", "canary"}, install...), standIn.IstioValues("canary")...)...))
	canary := harness.Namespace(t, "sidecar-istio-canary")
	harness.Must(t, harness.Mesh(t, "inject", "enable", "-n", canary, "--mesh", "istio", "--revision", "canary"))
	for _, p := range deployAndWait(t, canary, istio.New(istio.Config{})) {
		if !strings.Contains(p.Annotations[injector.IstioStatus], `"revision":"canary"`) {
			t.Errorf("pod %s of the canary's namespace: %s %q", p.Name, injector.IstioStatus, p.Annotations[injector.IstioStatus])
		}
	}
	assertProxies(t, "istio",
		mesh.ProxyInfo{Version: istio.DefaultVersion, Revision: "canary", Pods: webReplicas},
		mesh.ProxyInfo{Version: istio.DefaultVersion, Revision: "default", Pods: webReplicas})
}

// Linkerd's chart registers its injector with failurePolicy Ignore: without
// the stand-in the pods of an enrolled namespace run without the proxy;
// with Linkerd upgraded to the stand-in's values, a restart of the
// Deployment gives them linkerd-proxy of the control plane's version, and
// `kubectl mesh status` counts them.
func TestSidecarInjectionLinkerd(t *testing.T) {
	standIn := injector.Serve(t, harness.KubeClient(t))
	repo := helmrepo.ServeCharts(t,
		helmrepo.Chart{Dir: filepath.Join(helmrepo.ChartsDir(), "linkerd-crds"), Version: "2026.1.1"},
		helmrepo.Chart{Dir: filepath.Join(helmrepo.ChartsDir(), "linkerd-control-plane"), Version: "2026.1.1", AppVersion: "edge-26.1.1"},
	)
	install := []string{"--repo", repo, "--version", "2026.1.1"}
	harness.Must(t, harness.Mesh(t, append([]string{"install", "linkerd"}, install...)...))
	t.Cleanup(func() {
		harness.Must(t, harness.Mesh(t, "uninstall", "linkerd", "--purge", "--force", "--timeout", "2m"))
	})
	ns := harness.Namespace(t, "sidecar-linkerd")
	harness.Must(t, harness.Mesh(t, "inject", "enable", "-n", ns, "--mesh", "linkerd"))
	adapter := linkerd.New()

	for _, p := range deployAndWait(t, ns, nil) {
		if adapter.HasProxy(&p) {
			t.Errorf("pod %s carries the proxy without the stand-in: %v", p.Name, containerNames(p))
		}
	}

	harness.Must(t, harness.Mesh(t, append(append([]string{"upgrade", "linkerd"}, install...), standIn.LinkerdValues()...)...))
	harness.Must(t, harness.Kubectl(t, "rollout", "restart", "deployment/web", "-n", ns))
	pods := deployAndWait(t, ns, adapter)
	for _, p := range pods {
		if img := p.Spec.Containers[0].Image; img != "cr.l5d.io/linkerd/proxy:edge-26.1.1" || p.Annotations["linkerd.io/proxy-version"] != "edge-26.1.1" {
			t.Errorf("pod %s: first container %s, proxy-version %q, want linkerd-proxy of edge-26.1.1", p.Name, img, p.Annotations["linkerd.io/proxy-version"])
		}
	}
	assertProxies(t, "linkerd", mesh.ProxyInfo{Version: "edge-26.1.1", Pods: len(pods)})
}

const webReplicas = 2

// deployAndWait applies Deployment web in ns (again: a restart rolls it)
// and waits until it is Available with every replica updated and no old
// pod left; with injector set, until every pod carries its proxy. It
// returns the pods.
func deployAndWait(t *testing.T, ns string, inj mesh.Injector) []corev1.Pod {
	t.Helper()
	harness.Must(t, harness.KubectlStdin(t, fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: %s
spec:
  replicas: %d
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web, version: v1}
    spec:
      containers:
      - name: web
        image: docker.io/library/nginx:1.29
        resources:
          requests: {cpu: 10m, memory: 16Mi}
`, ns, webReplicas), "apply", "-f", "-"))
	harness.Must(t, harness.Kubectl(t, "rollout", "status", "deployment/web", "-n", ns, "--timeout", "2m"))
	harness.Must(t, harness.Kubectl(t, "wait", "--for=condition=Available", "deployment/web", "-n", ns, "--timeout", "1m"))
	client := harness.KubeClient(t)
	var pods []corev1.Pod
	err := wait.PollUntilContextTimeout(t.Context(), 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		list, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
		if err != nil {
			return false, err
		}
		pods = list.Items
		if len(pods) != webReplicas {
			return false, nil // old pods still terminating
		}
		for i := range pods {
			if pods[i].Status.Phase != corev1.PodRunning || (inj != nil && !inj.HasProxy(&pods[i])) {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		var got []string
		for _, p := range pods {
			got = append(got, fmt.Sprintf("%s %s %v", p.Name, p.Status.Phase, containerNames(p)))
		}
		t.Fatalf("want %d running pods of web%s: %v; have %v", webReplicas, map[bool]string{true: " carrying the proxy"}[inj != nil], err, got)
	}
	return pods
}

// assertProxies waits until `kubectl mesh status MESH -o json` counts the
// proxies want says (in status's order), and nothing else, without a
// warning about them.
func assertProxies(t *testing.T, meshName string, want ...mesh.ProxyInfo) {
	t.Helper()
	var st mesh.Status
	err := wait.PollUntilContextTimeout(t.Context(), 500*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		if meshName == "istio" {
			st = istioStatus(t)
		} else {
			st = linkerdStatus(t)
		}
		return slices.Equal(st.Proxies, want), nil
	})
	if err != nil {
		t.Fatalf("status %s counts proxies %+v, want %+v", meshName, st.Proxies, want)
	}
	for _, w := range st.Warnings {
		if strings.Contains(w, "prox") {
			t.Errorf("status warns about the proxies: %s", w)
		}
	}
}

func containerNames(p corev1.Pod) []string {
	var names []string
	for _, c := range append(slices.Clone(p.Spec.InitContainers), p.Spec.Containers...) {
		names = append(names, c.Name)
	}
	return names
}
