package charts

import (
	"log/slog"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	release "helm.sh/helm/v4/pkg/release/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

const (
	anchor    = "-----BEGIN CERTIFICATE-----\nanchor\n-----END CERTIFICATE-----\n"
	issuerCrt = "-----BEGIN CERTIFICATE-----\nissuer\n-----END CERTIFICATE-----\n"
	issuerKey = "-----BEGIN EC PRIVATE KEY-----\nkey\n-----END EC PRIVATE KEY-----\n"
)

func identityValues() map[string]any {
	return map[string]any{
		"identityTrustAnchorsPEM": anchor,
		"identity": map[string]any{"issuer": map[string]any{"tls": map[string]any{
			"crtPEM": issuerCrt, "keyPEM": issuerKey,
		}}},
	}
}

func render(t *testing.T, dir string, values map[string]any) (string, error) {
	t.Helper()
	ch, err := loader.LoadDir(dir)
	if err != nil {
		t.Fatalf("loading %s: %v", dir, err)
	}
	return renderChart(ch, values)
}

func renderChart(ch *chart.Chart, values map[string]any) (string, error) {
	install := action.NewInstall(action.NewConfiguration(action.ConfigurationSetLogger(slog.DiscardHandler)))
	install.DryRunStrategy = action.DryRunClient
	install.ReleaseName = ch.Name()
	install.Namespace = "linkerd"
	// Helm's default outside the helm binary is v1.20, below kubeVersion.
	kv, err := common.ParseKubeVersion("v1.37.0")
	if err != nil {
		return "", err
	}
	install.KubeVersion = kv
	rel, err := install.Run(ch, values)
	if err != nil {
		return "", err
	}
	return rel.(*release.Release).Manifest, nil
}

// docs splits a manifest into kind/name -> document.
func docs(t *testing.T, manifest string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, d := range strings.Split(manifest, "\n---") {
		var meta struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(d), &meta); err != nil {
			t.Fatalf("decoding %q: %v", d, err)
		}
		if meta.Kind != "" {
			out[meta.Kind+"/"+meta.Metadata.Name] = d
		}
	}
	return out
}

func TestControlPlaneRendersIdentityAndDeployments(t *testing.T) {
	manifest, err := render(t, "linkerd-control-plane", identityValues())
	if err != nil {
		t.Fatalf("rendering: %v", err)
	}
	objs := docs(t, manifest)

	var cm corev1.ConfigMap
	if err := yaml.Unmarshal([]byte(objs["ConfigMap/linkerd-identity-trust-roots"]), &cm); err != nil {
		t.Fatal(err)
	}
	if got := cm.Data["ca-bundle.crt"]; strings.TrimSpace(got) != strings.TrimSpace(anchor) {
		t.Errorf("ca-bundle.crt = %q, want the trust anchors", got)
	}
	var sec corev1.Secret
	if err := yaml.Unmarshal([]byte(objs["Secret/linkerd-identity-issuer"]), &sec); err != nil {
		t.Fatal(err)
	}
	if string(sec.Data["crt.pem"]) != strings.TrimSpace(issuerCrt) || string(sec.Data["key.pem"]) != strings.TrimSpace(issuerKey) {
		t.Errorf("issuer Secret data %v, want crt.pem and key.pem as Linkerd's linkerd.io/tls scheme", sec.Data)
	}
	for _, name := range []string{"linkerd-destination", "linkerd-identity", "linkerd-proxy-injector"} {
		var d appsv1.Deployment
		if err := yaml.Unmarshal([]byte(objs["Deployment/"+name]), &d); err != nil || d.Name != name {
			t.Fatalf("Deployment %s missing or unreadable (%v)", name, err)
		}
		if img := d.Spec.Template.Spec.Containers[0].Image; img != "cr.l5d.io/linkerd/controller:edge-26.1.1" {
			t.Errorf("%s image %s, want cr.l5d.io/linkerd/controller:edge-26.1.1 (the appVersion)", name, img)
		}
		if d.Namespace != "linkerd" {
			t.Errorf("%s namespace %q, want the release namespace", name, d.Namespace)
		}
	}
	// Like Linkerd's chart, a Helm install does not render the namespace.
	if _, ok := objs["Namespace/linkerd"]; ok {
		t.Error("a Helm install rendered Namespace linkerd; only linkerd install (Release.Service CLI) does")
	}
}

func TestControlPlaneRequiresIdentity(t *testing.T) {
	tests := []struct {
		name string
		drop func(v map[string]any)
		want string
	}{
		{"trust anchors", func(v map[string]any) { delete(v, "identityTrustAnchorsPEM") }, "Please provide the identity trust anchors"},
		{"issuer certificate", func(v map[string]any) { delete(tlsOf(v), "crtPEM") }, "Please provide the identity issuer certificate"},
		{"issuer key", func(v map[string]any) { delete(tlsOf(v), "keyPEM") }, "Please provide the identity issue private key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := identityValues()
			tt.drop(v)
			_, err := render(t, "linkerd-control-plane", v)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func tlsOf(v map[string]any) map[string]any {
	return v["identity"].(map[string]any)["issuer"].(map[string]any)["tls"].(map[string]any)
}

func TestCRDsRendersPolicyCRDs(t *testing.T) {
	manifest, err := render(t, "linkerd-crds", nil)
	if err != nil {
		t.Fatalf("rendering: %v", err)
	}
	objs := docs(t, manifest)
	for _, name := range []string{"servers.policy.linkerd.io", "authorizationpolicies.policy.linkerd.io", "httproutes.policy.linkerd.io",
		"meshtlsauthentications.policy.linkerd.io", "serviceprofiles.linkerd.io"} {
		if _, ok := objs["CustomResourceDefinition/"+name]; !ok {
			t.Errorf("CRD %s not rendered; got %v", name, keys(objs))
		}
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// The injector's webhook is Linkerd's (a Service, the chart's own CA,
// failurePolicy Ignore) unless the stand-in's url and caBundle are given,
// and linkerd-config carries the proxy images without the issuer's key.
func TestControlPlaneRendersProxyInjector(t *testing.T) {
	webhook := func(t *testing.T, values map[string]any) admissionregistrationv1.MutatingWebhook {
		t.Helper()
		manifest, err := render(t, "linkerd-control-plane", values)
		if err != nil {
			t.Fatalf("rendering: %v", err)
		}
		var mwc admissionregistrationv1.MutatingWebhookConfiguration
		if err := yaml.UnmarshalStrict([]byte(docs(t, manifest)["MutatingWebhookConfiguration/linkerd-proxy-injector-webhook-config"]), &mwc); err != nil || len(mwc.Webhooks) != 1 {
			t.Fatalf("the injector's webhook configuration: %v %+v", err, mwc)
		}
		return mwc.Webhooks[0]
	}
	wh := webhook(t, identityValues())
	if s := wh.ClientConfig.Service; s == nil || s.Name != "linkerd-proxy-injector" || wh.ClientConfig.URL != nil || len(wh.ClientConfig.CABundle) == 0 {
		t.Errorf("default clientConfig %+v, want the Service and the chart's CA", wh.ClientConfig)
	}
	if *wh.FailurePolicy != admissionregistrationv1.Ignore {
		t.Errorf("failurePolicy %s, want Linkerd's default Ignore", *wh.FailurePolicy)
	}

	v := identityValues()
	v["proxyInjector"] = map[string]any{"url": "https://127.0.0.1:1/linkerd/linkerd/inject", "externalSecret": true, "caBundle": anchor}
	wh = webhook(t, v)
	if u := wh.ClientConfig.URL; u == nil || *u != "https://127.0.0.1:1/linkerd/linkerd/inject" || wh.ClientConfig.Service != nil {
		t.Errorf("clientConfig with url %+v, want the url alone", wh.ClientConfig)
	}
	if string(wh.ClientConfig.CABundle) != strings.TrimSpace(anchor) {
		t.Errorf("caBundle %q, want the given one", wh.ClientConfig.CABundle)
	}

	manifest, err := render(t, "linkerd-control-plane", identityValues())
	if err != nil {
		t.Fatal(err)
	}
	config := docs(t, manifest)["ConfigMap/linkerd-config"]
	for _, want := range []string{"linkerdVersion: edge-26.1.1", "name: cr.l5d.io/linkerd/proxy\n"} {
		if !strings.Contains(config, want) {
			t.Errorf("linkerd-config lacks %q:\n%s", want, config)
		}
	}
	if strings.Contains(config, "PRIVATE KEY") {
		t.Errorf("linkerd-config holds the issuer's key:\n%s", config)
	}
}

// The add-ons' stand-ins refuse what the real charts would render
// differently from them, so a change in kubectl mesh's values shows here.
func TestAddonStandInsRefuse(t *testing.T) {
	tests := []struct {
		chart  string
		values map[string]any
		want   string
	}{
		{"prometheus", nil, "the stand-in renders the server only"},
		{"grafana", map[string]any{"dashboards": map[string]any{"istio": map[string]any{"mesh": map[string]any{"revision": 1}}}}, "dashboard istio/mesh: give gnetId, url or json"},
	}
	for _, tt := range tests {
		t.Run(tt.chart, func(t *testing.T) {
			_, err := render(t, tt.chart, tt.values)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// Each add-on stand-in renders its Deployments and Services under the
// official chart's names.
func TestAddonStandInsRender(t *testing.T) {
	off := map[string]any{"enabled": false}
	tests := []struct {
		chart  string
		values map[string]any
		want   []string
	}{
		{"prometheus", map[string]any{"alertmanager": off, "prometheus-pushgateway": off, "kube-state-metrics": off, "prometheus-node-exporter": off},
			[]string{"Deployment/prometheus-server", "Service/prometheus-server", "ConfigMap/prometheus-server"}},
		{"grafana", nil, []string{"Deployment/grafana", "Service/grafana"}},
		{"jaeger", nil, []string{"Deployment/jaeger", "Service/jaeger"}},
		{"kiali-server", nil, []string{"Deployment/kiali", "Service/kiali", "ConfigMap/kiali"}},
		{"linkerd-viz", nil, []string{"Deployment/web", "Service/web", "Deployment/metrics-api"}},
		{"linkerd-jaeger", nil, []string{"Deployment/collector", "Deployment/jaeger", "Service/jaeger"}},
	}
	for _, tt := range tests {
		t.Run(tt.chart, func(t *testing.T) {
			manifest, err := render(t, tt.chart, tt.values)
			if err != nil {
				t.Fatal(err)
			}
			objs := docs(t, manifest)
			for _, w := range tt.want {
				if _, ok := objs[w]; !ok {
					t.Errorf("%s not rendered; got %v", w, keys(objs))
				}
			}
		})
	}
}
