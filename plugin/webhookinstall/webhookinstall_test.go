package webhookinstall

import (
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	kubernetesfake "k8s.io/client-go/kubernetes/fake"
)

const testNamespace = "mesh-test"

// testChart is a small chart with the two OpenReports CRD names, a
// Deployment and a webhook configuration, like the real one.
func testChart(withCRDs bool) fstest.MapFS {
	fsys := fstest.MapFS{
		"Chart.yaml":  {Data: []byte("apiVersion: v2\nname: mesh-webhook\nversion: 0.1.0\nappVersion: v0.0.0-dev\n")},
		"values.yaml": {Data: []byte("replicas: 2\n")},
		"templates/deployment.yaml": {Data: []byte(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: mesh-webhook
  namespace: {{ .Release.Namespace }}
spec:
  replicas: {{ .Values.replicas }}
  template:
    spec:
      containers:
        - name: webhook
          args: ["--port=9443", "--cert-secret-name=mesh-webhook-certs"]
`)},
		"templates/vwc.yaml": {Data: []byte(`apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: mesh-webhook
webhooks: []
`)},
		"templates/NOTES.txt":    {Data: []byte("installed in {{ .Release.Namespace }}\n")},
		".helmignore":            {Data: []byte("*.bak\n")},
		"templates/old.yaml.bak": {Data: []byte("not: a template\n")},
		"templates/.hidden.yaml": {Data: []byte("{{ fail \"dotfiles in templates/ are ignored by Helm\" }}\n")},
	}
	if withCRDs {
		for _, name := range []string{"reports", "clusterreports"} {
			fsys["crds/openreports.io_"+name+".yaml"] = &fstest.MapFile{Data: []byte(`---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: ` + name + `.openreports.io
spec:
  group: openreports.io
`)}
		}
	}
	return fsys
}

func loadTestChart(t *testing.T, fsys fs.FS) *chart.Chart {
	t.Helper()
	ch, err := LoadChart(fsys, "v1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func TestLoadChartFollowsHelmignore(t *testing.T) {
	ch := loadTestChart(t, testChart(true))
	if ch.Metadata.AppVersion != "v1.2.3" {
		t.Errorf("appVersion %q, want the stamped v1.2.3", ch.Metadata.AppVersion)
	}
	var names []string
	for _, tpl := range ch.Templates {
		names = append(names, tpl.Name)
	}
	slices.Sort(names)
	if want := []string{"templates/NOTES.txt", "templates/deployment.yaml", "templates/vwc.yaml"}; !slices.Equal(names, want) {
		t.Errorf("templates %v, want %v (.helmignore and dotfiles skipped)", names, want)
	}
}

func TestCheckCRDs(t *testing.T) {
	if err := CheckCRDs(loadTestChart(t, testChart(true))); err != nil {
		t.Errorf("with CRDs: %v", err)
	}
	err := CheckCRDs(loadTestChart(t, testChart(false)))
	if !errors.Is(err, ErrNoCRDs) || !strings.Contains(err.Error(), "make chart-crds") {
		t.Errorf("without CRDs: got %v, want ErrNoCRDs naming make chart-crds", err)
	}
}

// A chart without its CRDs is refused before anything is read or written.
func TestInstallRefusesAChartWithoutCRDs(t *testing.T) {
	kube := kubernetesfake.NewClientset()
	c := &Client{namespace: testNamespace, kube: kube}
	_, err := c.Install(t.Context(), loadTestChart(t, testChart(false)), InstallOptions{CreateNamespace: true})
	if !errors.Is(err, ErrNoCRDs) {
		t.Fatalf("got %v, want ErrNoCRDs", err)
	}
	if n := len(kube.Actions()); n != 0 {
		t.Errorf("%d requests to the cluster, want none", n)
	}
}

func TestInstallWithoutNamespaceCreation(t *testing.T) {
	c := &Client{namespace: testNamespace, kube: kubernetesfake.NewClientset()}
	_, err := c.Install(t.Context(), loadTestChart(t, testChart(true)), InstallOptions{CreateNamespace: false})
	if err == nil || !strings.Contains(err.Error(), "namespace "+testNamespace+" not found") {
		t.Fatalf("got %v, want a namespace not found error", err)
	}
}

func TestRenderIsClientSide(t *testing.T) {
	rel, err := Render(t.Context(), loadTestChart(t, testChart(true)), RenderOptions{Namespace: "elsewhere", Values: map[string]any{"replicas": 4}, IncludeCRDs: true, KubeVersion: "v1.37.0"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"namespace: elsewhere", "replicas: 4", "name: reports.openreports.io", "kind: ValidatingWebhookConfiguration"} {
		if !strings.Contains(rel.Manifest, want) {
			t.Errorf("manifest lacks %q:\n%s", want, rel.Manifest)
		}
	}
	if !strings.Contains(rel.Info.Notes, "installed in elsewhere") {
		t.Errorf("notes %q", rel.Info.Notes)
	}
}

func TestCertSecretName(t *testing.T) {
	rel, err := Render(t.Context(), loadTestChart(t, testChart(true)), RenderOptions{Namespace: "x", KubeVersion: "v1.37.0"})
	if err != nil {
		t.Fatal(err)
	}
	if got := certSecretName(rel.Manifest); got != "mesh-webhook-certs" {
		t.Errorf("got %q, want mesh-webhook-certs", got)
	}
	if got := certSecretName("kind: Service\n"); got != "" {
		t.Errorf("got %q from a manifest without a Deployment", got)
	}
}
