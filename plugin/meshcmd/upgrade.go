package meshcmd

import (
	"github.com/kubectl-mesh/kubectl-mesh/plugin/cmdutil"
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"
)

var upgradeLong = templates.LongDesc(`Upgrade an installed mesh in place: each component's Helm release is upgraded
in order and waited for. A component whose upgrade fails (invalid values, or not
ready in time) is rolled back to its previous revision, which keeps running, and
the upgrade stops there. Without --version, Istio goes to the newest release
this kubectl mesh was tested with (kubectl mesh version shows it), Linkerd to its
repository's latest; --repo and --offline are as for install.

For Istio, --revision installs a new control plane next to the running one (a
canary). Move namespaces to it with kubectl mesh revision tag set or
kubectl mesh inject enable --revision, restart their workloads, then remove the
old revision with kubectl mesh uninstall istio --revision OLD.

Linkerd keeps its trust anchor and issuer across upgrades unless you give new
ones with the --identity-* flags.`)

var upgradeExample = templates.Examples(`  # In place, to the default release from Istio's Helm repository
  kubectl mesh upgrade istio

  # In place, to another release
  kubectl mesh upgrade istio --version 1.31.3

  # A canary revision next to the running control plane
  kubectl mesh upgrade istio --revision canary

  # Linkerd to a chart version from its edge repository
  kubectl mesh upgrade linkerd --version 2026.2.1`)

// NewCmdUpgrade creates `kubectl mesh upgrade istio|linkerd`.
func NewCmdUpgrade(streams genericiooptions.IOStreams, f cmdutil.Factory) *cobra.Command {
	return newCmdMeshInstall(streams, f, true)
}
