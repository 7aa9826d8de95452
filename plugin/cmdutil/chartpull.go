package cmdutil

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"k8s.io/client-go/util/homedir"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
)

// shadowsKubectl is said of the flags that hide kubectl's global flags of
// the same name, as helm's do.
const shadowsKubectl = "; on this command it is helm pull's flag, not kubectl's: the cluster's comes from the kubeconfig"

// AddChartPullFlags adds helm pull's flags for reaching a chart repository
// or OCI registry, with helm's names, defaults and wording. They go with
// --repo, and not with --offline, which pulls nothing.
func AddChartPullFlags(cmd *cobra.Command, o *lifecycle.PullOptions) {
	f := cmd.Flags()
	f.StringVar(&o.Username, "username", "", "Chart repository username where to locate the requested chart"+shadowsKubectl)
	f.StringVar(&o.Password, "password", "", "Chart repository password where to locate the requested chart"+shadowsKubectl)
	f.BoolVar(&o.PassCredentials, "pass-credentials", false, "Pass credentials to all domains")
	f.StringVar(&o.CAFile, "ca-file", "", "Verify certificates of HTTPS-enabled servers using this CA bundle")
	f.StringVar(&o.CertFile, "cert-file", "", "Identify HTTPS client using this SSL certificate file")
	f.StringVar(&o.KeyFile, "key-file", "", "Identify HTTPS client using this SSL key file")
	f.BoolVar(&o.InsecureSkipTLSVerify, "insecure-skip-tls-verify", false, "Skip TLS certificate checks for the chart download"+shadowsKubectl)
	f.BoolVar(&o.PlainHTTP, "plain-http", false, "Use insecure HTTP connections for the chart download")
	f.BoolVar(&o.Verify, "verify", false, "Verify the package before using it")
	f.StringVar(&o.Keyring, "keyring", defaultKeyring(), "Location of public keys used for verification")
	if f.Lookup("offline") == nil {
		return
	}
	for _, name := range []string{"username", "password", "pass-credentials", "ca-file", "cert-file", "key-file", "insecure-skip-tls-verify", "plain-http", "verify"} {
		cmd.MarkFlagsMutuallyExclusive("offline", name)
	}
}

// defaultKeyring is helm's: GnuPG's legacy public keyring when there is
// one, else the keybox of GnuPG 2.1 and later.
func defaultKeyring() string {
	home := filepath.Join(homedir.HomeDir(), ".gnupg")
	if v, ok := os.LookupEnv("GNUPGHOME"); ok {
		home = v
	}
	legacy := filepath.Join(home, "pubring.gpg")
	if _, err := os.Stat(legacy); !errors.Is(err, fs.ErrNotExist) {
		return legacy
	}
	return filepath.Join(home, "pubring.kbx")
}
