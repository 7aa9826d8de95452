package cmdutil

import (
	"os"
	"path/filepath"
	"testing"

	"k8s.io/cli-runtime/pkg/genericclioptions"
)

const kubeconfig = `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: ctx, context: {cluster: c, user: u, namespace: shop}}]
current-context: ctx
`

func factoryFor(t *testing.T, config, namespace string) Factory {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	flags := genericclioptions.NewConfigFlags(true)
	*flags.KubeConfig, *flags.Namespace = path, namespace
	return NewFactory(flags, nil)
}

// The namespace is -n, else the context's, else "default" without a
// kubeconfig; only -n is explicit.
func TestFactoryNamespace(t *testing.T) {
	tests := []struct {
		name, config, flag string
		want               string
		explicit           bool
	}{
		{"-n", kubeconfig, "web", "web", true},
		{"the context's", kubeconfig, "", "shop", false},
		{"no kubeconfig", "", "", "default", false},
		{"-n without a kubeconfig", "", "web", "web", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns, explicit, err := factoryFor(t, tt.config, tt.flag).Namespace()
			if err != nil || ns != tt.want || explicit != tt.explicit {
				t.Errorf("Namespace() = %q, %v, %v; want %q, %v", ns, explicit, err, tt.want, tt.explicit)
			}
		})
	}
	if _, _, err := factoryFor(t, "not: [yaml", "").Namespace(); err == nil {
		t.Error("a broken kubeconfig read as a namespace")
	}
}

// Every client's config carries the one rate limit, unless it sets its own.
func TestFactoryRateLimit(t *testing.T) {
	cfg, err := factoryFor(t, kubeconfig, "").ToRESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.QPS != clientQPS || cfg.Burst != clientBurst {
		t.Errorf("QPS %v, burst %d; want %v, %d", cfg.QPS, cfg.Burst, float32(clientQPS), clientBurst)
	}
	cfg.QPS = 5
	if withClientRate(cfg).QPS != 5 {
		t.Error("a config's own rate was overridden")
	}
}
