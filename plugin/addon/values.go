package addon

import (
	"strings"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
)

// target is what an add-on's values depend on.
type target struct {
	mesh string
	// meshNamespace is the control plane's namespace.
	meshNamespace string
	// prometheusURL is where the prometheus add-on answers.
	prometheusURL string
}

// prometheusValues are Istio's own for this chart
// (manifests/addons/values-prometheus.yaml): the server alone, without
// the exporters and alertmanager, at prometheus:9090 as Istio's docs and
// Kiali expect it. Istio's proxies (metrics merged by the sidecar) and
// istiod carry the prometheus.io/scrape annotations that the chart's
// kubernetes-pods job follows, which is how Istio's docs have Prometheus
// scrape them; Linkerd's are scraped by the jobs Linkerd's "bring your own
// Prometheus" guide adds.
func prometheusValues(t target) map[string]any {
	server := map[string]any{
		"persistentVolume":           map[string]any{"enabled": false},
		"service":                    map[string]any{"servicePort": 9090},
		"readinessProbeInitialDelay": 0,
		"global":                     map[string]any{"scrape_interval": "15s"},
		"fullnameOverride":           "prometheus",
	}
	v := map[string]any{
		"alertmanager":             map[string]any{"enabled": false},
		"prometheus-pushgateway":   map[string]any{"enabled": false},
		"kube-state-metrics":       map[string]any{"enabled": false},
		"prometheus-node-exporter": map[string]any{"enabled": false},
		"server":                   server,
	}
	switch t.mesh {
	case MeshIstio:
		// Scraped over plain text: a proxy of its own would need mTLS
		// certificates mounted for Prometheus to use.
		server["podLabels"] = map[string]any{"sidecar.istio.io/inject": "false"}
	case MeshLinkerd:
		v["extraScrapeConfigs"] = linkerdScrapeConfigs(t.meshNamespace)
	}
	return v
}

// linkerdScrapeConfigs are the jobs of Linkerd's guide to using an
// existing Prometheus (linkerd.io, "Bring your own Prometheus"): the
// control plane's admin ports and every meshed pod's proxy.
func linkerdScrapeConfigs(ns string) string {
	return strings.ReplaceAll(`- job_name: linkerd-controller
  kubernetes_sd_configs:
  - role: pod
    namespaces:
      names: [NS, linkerd-viz]
  relabel_configs:
  - source_labels: [__meta_kubernetes_pod_container_port_name]
    action: keep
    regex: admin-http
  - source_labels: [__meta_kubernetes_pod_container_name]
    action: replace
    target_label: component
- job_name: linkerd-proxy
  kubernetes_sd_configs:
  - role: pod
  relabel_configs:
  - source_labels: [__meta_kubernetes_pod_container_name, __meta_kubernetes_pod_container_port_name, __meta_kubernetes_pod_label_linkerd_io_control_plane_ns]
    action: keep
    regex: ^linkerd-proxy;linkerd-admin;NS$
  - source_labels: [__meta_kubernetes_namespace]
    action: replace
    target_label: namespace
  - source_labels: [__meta_kubernetes_pod_name]
    action: replace
    target_label: pod
  - source_labels: [__meta_kubernetes_pod_label_linkerd_io_proxy_job]
    action: replace
    target_label: k8s_job
  - action: labeldrop
    regex: __meta_kubernetes_pod_label_linkerd_io_proxy_job
  - action: labelmap
    regex: __meta_kubernetes_pod_label_linkerd_io_proxy_(.+)
  - action: labeldrop
    regex: __meta_kubernetes_pod_label_linkerd_io_proxy_(.+)
  - action: labelmap
    regex: __meta_kubernetes_pod_label_linkerd_io_(.+)
  - action: labelmap
    regex: __meta_kubernetes_pod_label_(.+)
    replacement: __tmp_pod_label_$1
  - action: labelmap
    regex: __tmp_pod_label_linkerd_io_(.+)
    replacement: __tmp_pod_label_$1
  - action: labeldrop
    regex: __tmp_pod_label_linkerd_io_(.+)
  - action: labelmap
    regex: __tmp_pod_label_(.+)
`, "NS", ns)
}

// grafanaValues: the Prometheus add-on as the default datasource, at
// port 3000 as Istio's docs have it, and the mesh's dashboards provisioned
// by reference, downloaded by the chart when Grafana starts: Istio's
// from Istio's repository at the release kubectl mesh installs (the ones
// Istio publishes to grafana.com with each release), Linkerd's by their
// grafana.com IDs and revisions as Linkerd's own Grafana values
// (linkerd2/grafana/values.yaml) list them.
func grafanaValues(t target) map[string]any {
	provider := t.mesh
	v := map[string]any{
		"service":       map[string]any{"port": 3000},
		"testFramework": map[string]any{"enabled": false},
		"datasources": map[string]any{"datasources.yaml": map[string]any{
			"apiVersion": 1,
			"datasources": []any{map[string]any{
				"name": "Prometheus", "type": "prometheus", "uid": "prometheus", "access": "proxy", "isDefault": true,
				"url": t.prometheusURL, "jsonData": map[string]any{"timeInterval": "15s"},
			}},
		}},
		"dashboardProviders": map[string]any{"dashboardproviders.yaml": map[string]any{
			"apiVersion": 1,
			"providers": []any{map[string]any{
				"name": provider, "orgId": 1, "folder": mesh.Title(t.mesh), "type": "file", "disableDeletion": false,
				"options": map[string]any{"path": "/var/lib/grafana/dashboards/" + provider},
			}},
		}},
	}
	dashboards := map[string]any{}
	switch t.mesh {
	case MeshIstio:
		v["podLabels"] = map[string]any{"sidecar.istio.io/inject": "false"}
		for name, file := range istioDashboards {
			dashboards[name] = map[string]any{"url": istioDashboardsURL + file}
		}
	case MeshLinkerd:
		for name, id := range linkerdDashboards {
			dashboards[name] = map[string]any{"gnetId": id[0], "revision": id[1], "datasource": "Prometheus"}
		}
	}
	v["dashboards"] = map[string]any{provider: dashboards}
	return v
}

// istioDashboardsURL is Istio's dashboards at the release kubectl mesh
// installs by default.
var istioDashboardsURL = "https://raw.githubusercontent.com/istio/istio/" + istioRelease + "/manifests/addons/dashboards/"

// istioDashboards are the files Istio's Grafana sample bundles
// (manifests/addons/gen.sh).
var istioDashboards = map[string]string{
	"istio-mesh":        "istio-mesh-dashboard.gen.json",
	"istio-service":     "istio-service-dashboard.json",
	"istio-workload":    "istio-workload-dashboard.json",
	"istio-performance": "istio-performance-dashboard.json",
	"istio-extension":   "istio-extension-dashboard.json",
	"pilot":             "pilot-dashboard.gen.json",
	"ztunnel":           "ztunnel-dashboard.gen.json",
}

// linkerdDashboards are grafana.com ID and revision.
var linkerdDashboards = map[string][2]int{
	"top-line":   {15474, 4},
	"health":     {15486, 3},
	"kubernetes": {15479, 2},
	"namespace":  {15478, 3},
	"deployment": {15475, 6},
	"pod":        {15477, 3},
	"service":    {15480, 3},
	"route":      {15481, 3},
	"authority":  {15482, 3},
	"prometheus": {15489, 2},
}

// jaegerValues: the chart's defaults are Jaeger v2 all-in-one with
// in-memory storage, what Istio's Jaeger sample runs. Istio's proxies send
// spans where meshConfig's extensionProviders point: this Service's zipkin
// (9411) and OTLP (4317) ports.
func jaegerValues(target) map[string]any {
	return map[string]any{}
}

// kialiValues: Kiali reads metrics from the Prometheus add-on and the
// mesh from Istio's namespace; tracing is off, as in Istio's values for
// this chart, since Kiali does not start without the tracing service it
// names.
func kialiValues(t target) map[string]any {
	return map[string]any{
		"istio_namespace": t.meshNamespace,
		"deployment":      map[string]any{"pod_labels": map[string]any{"sidecar.istio.io/inject": "false"}},
		"external_services": map[string]any{
			"prometheus": map[string]any{"url": t.prometheusURL},
			"tracing":    map[string]any{"enabled": false},
		},
	}
}

// linkerdExtensionValues: the extensions find the control plane by its
// namespace.
func linkerdExtensionValues(t target) map[string]any {
	return map[string]any{"linkerdNamespace": t.meshNamespace}
}
