package meshcmd

import (
	"context"
	"errors"
	"testing"

	admitv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil/cmdtesting"
)

// revisionInjector is an Istio revision's own injector webhook, as
// istiod's chart makes it; "default" is the unrevisioned control plane.
func revisionInjector(rev string) *admitv1.MutatingWebhookConfiguration {
	name, service := "istio-sidecar-injector-"+rev, "istiod-"+rev
	if rev == "default" {
		name, service = "istio-sidecar-injector", "istiod"
	}
	path := "/inject"
	return &admitv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"istio.io/rev": rev, "app": "sidecar-injector"}},
		Webhooks: []admitv1.MutatingWebhook{{
			Name: "rev.namespace.sidecar-injector.istio.io",
			ClientConfig: admitv1.WebhookClientConfig{CABundle: []byte("CA"),
				Service: &admitv1.ServiceReference{Name: service, Namespace: "istio-system", Path: &path}},
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"istio.io/rev": rev}},
		}},
	}
}

func namespaceOnRev(name, rev string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"istio.io/rev": rev}}}
}

func TestRevisionTagCommands(t *testing.T) {
	revisions := []runtime.Object{revisionInjector("default"), revisionInjector("canary"), revisionInjector("1-30")}
	// prodOnCanary is the prod tag, on canary, used by shop and web.
	prodOnCanary := [][]string{{"set", "prod", "--revision", "canary"}}
	used := []runtime.Object{namespaceOnRev("shop", "prod"), namespaceOnRev("web", "prod"), namespaceOnRev("legacy", "1-30")}
	tests := []struct {
		name    string
		objects []runtime.Object // besides the revisions
		before  [][]string       // revision tag commands run first
		connect error
		args    []string
		wantOut string
		wantErr string
		wantTag string // the revision the prod tag points at afterwards
	}{
		{name: "set", args: []string{"set", "prod", "--revision", "canary"},
			wantOut: "revision tag \"prod\" points at revision \"canary\"\n", wantTag: "canary"},
		{name: "set an existing tag", before: prodOnCanary, args: []string{"set", "prod", "--revision", "1-30"},
			wantErr: `revision tag "prod" already exists (revision canary): use --overwrite to move it`, wantTag: "canary"},
		{name: "set --overwrite moves it", before: prodOnCanary, args: []string{"set", "prod", "--revision", "1-30", "--overwrite"},
			wantOut: "revision tag \"prod\" points at revision \"1-30\"\n", wantTag: "1-30"},
		{name: "set on a revision not installed", args: []string{"set", "prod", "--revision", "2-0"},
			wantErr: `cannot set revision tag "prod": revision "2-0" is not installed (no injector MutatingWebhookConfiguration labelled istio.io/rev=2-0)`},
		{name: "set a tag named like a revision", args: []string{"set", "canary", "--revision", "1-30"},
			wantErr: `cannot create revision tag "canary": a control plane revision has that name; choose another tag`},
		{name: "set without --revision", args: []string{"set", "prod"}, wantErr: "--revision is required: the revision the tag points at"},
		{name: "set without a tag", args: []string{"set", "--revision", "canary"}, wantErr: "accepts 1 arg(s), received 0"},
		{name: "list nothing", args: []string{"list"}, wantOut: "No revision tags.\n"},
		{name: "list", objects: used, before: [][]string{{"set", "prod", "--revision", "canary"}, {"set", "stable", "--revision", "1-30"}}, args: []string{"list"},
			wantOut: "TAG      REVISION   NAMESPACES\nprod     canary     shop, web\nstable   1-30       -\n", wantTag: "canary"},
		{name: "list -o json", objects: used, before: [][]string{{"set", "prod", "--revision", "canary"}, {"set", "stable", "--revision", "1-30"}}, args: []string{"list", "-o", "json"},
			wantOut: `[
  {
    "tag": "prod",
    "revision": "canary",
    "namespaces": [
      "shop",
      "web"
    ]
  },
  {
    "tag": "stable",
    "revision": "1-30"
  }
]
`, wantTag: "canary"},
		{name: "list -o json of nothing", args: []string{"list", "-o", "json"}, wantOut: "[]\n"},
		{name: "list -o yaml", args: []string{"list", "-o", "yaml"}, wantErr: `--output: unknown format "yaml" (allowed: json)`},
		{name: "remove", before: prodOnCanary, args: []string{"remove", "prod"}, wantOut: "revision tag \"prod\" removed\n"},
		{name: "remove a tag in use", objects: used, before: prodOnCanary, args: []string{"remove", "prod"}, wantTag: "canary",
			wantErr: `revision tag "prod" is still used by namespaces shop, web: move them to another revision or tag first, or use --force`},
		{name: "remove --force", objects: used, before: prodOnCanary, args: []string{"remove", "prod", "--force"}, wantOut: "revision tag \"prod\" removed\n"},
		{name: "remove a tag that does not exist", before: prodOnCanary, args: []string{"remove", "stable"}, wantTag: "canary",
			wantErr: `revision tag "stable" does not exist: kubectl mesh revision tag list shows the tags`},
		{name: "set, cluster unreachable", connect: errors.New("connection refused"), args: []string{"set", "prod", "--revision", "canary"}, wantErr: "connection refused"},
		{name: "list, cluster unreachable", connect: errors.New("connection refused"), args: []string{"list"}, wantErr: "connection refused"},
		{name: "remove, cluster unreachable", connect: errors.New("connection refused"), before: prodOnCanary, args: []string{"remove", "prod"}, wantErr: "connection refused", wantTag: "canary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := cmdtesting.NewFactory(t, append(revisions, tt.objects...)...)
			for _, args := range tt.before {
				if _, _, err := f.Run(t, "", append([]string{"revision", "tag"}, args...), NewCmdRevision); err != nil {
					t.Fatalf("revision tag %v: %v", args, err)
				}
			}
			f.ConnectErr = tt.connect
			out, _, err := f.Run(t, "", append([]string{"revision", "tag"}, tt.args...), NewCmdRevision)
			checkMeshCmd(t, out, err, tt.wantOut, tt.wantErr)
			if got := tagRevision(t, f); got != tt.wantTag {
				t.Errorf("the prod tag points at %q, want %q", got, tt.wantTag)
			}
		})
	}
}

// tagRevision is the revision of the prod tag's webhook, "" without one;
// the tag's Service must agree.
func tagRevision(t *testing.T, f *cmdtesting.Factory) string {
	t.Helper()
	ctx := context.Background()
	wh, err := f.Clientset.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(ctx, "istio-revision-tag-prod", metav1.GetOptions{})
	svc, svcErr := f.Clientset.CoreV1().Services("istio-system").Get(ctx, "istiod-revision-tag-prod", metav1.GetOptions{})
	if (err == nil) != (svcErr == nil) {
		t.Errorf("the tag's webhook (%v) and Service (%v) disagree", err, svcErr)
	}
	if err != nil {
		return ""
	}
	if wh.Labels["istio.io/tag"] != "prod" || svc.Labels["istio.io/rev"] != wh.Labels["istio.io/rev"] {
		t.Errorf("tag webhook labels %v, Service labels %v", wh.Labels, svc.Labels)
	}
	return wh.Labels["istio.io/rev"]
}

// TestRevisionTagsNeedATagger: the commands find the mesh with revision
// tags in the registry, and say so when none has them.
func TestRevisionTagsNeedATagger(t *testing.T) {
	for _, args := range [][]string{{"set", "prod", "--revision", "canary"}, {"list"}, {"remove", "prod"}} {
		t.Run(args[0], func(t *testing.T) {
			f := newFactory(t, &fakeMesh{name: "alpha"})
			out, _, err := f.Run(t, "", append([]string{"revision", "tag"}, args...), NewCmdRevision)
			checkMeshCmd(t, out, err, "", "no mesh kubectl mesh knows has revision tags")
			if f.Connects != 0 {
				t.Errorf("%d clients were made", f.Connects)
			}
		})
	}
}
