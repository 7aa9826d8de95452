package precheck

import (
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/discovery"
)

// istioV1Groups serve v1 since Istio 1.22; the charts and kubectl mesh's
// patterns write v1.
func istioV1Groups() []string {
	return []string{"networking.istio.io", "security.istio.io", "telemetry.istio.io"}
}

// gatewayV1Kinds are the Gateway API resources both meshes use, with the
// Gateway API release that made each v1.
func gatewayV1Kinds() [][2]string {
	return [][2]string{{"gatewayclasses", "v1.0"}, {"gateways", "v1.0"}, {"httproutes", "v1.0"}, {"grpcroutes", "v1.1"}}
}

const gatewayGroup = "gateway.networking.k8s.io"

// checkCRDs looks at the versions the cluster serves for CRDs the install
// needs or shares: old ones are warnings, since the charts or their owner
// can upgrade them.
func checkCRDs(disc discovery.DiscoveryInterface, s meshSpec, groups map[string][]string, groupsErr error) []Result {
	var results []Result
	if s.name == Istio {
		results = append(results, checkIstioCRDs(groups, groupsErr))
	}
	return append(results, checkGatewayAPI(disc, s, groups, groupsErr))
}

func checkIstioCRDs(groups map[string][]string, groupsErr error) Result {
	r := Result{Category: CategoryCRDs, Name: "existing Istio CRDs serve v1"}
	if groupsErr != nil {
		return incomplete(r, groupsErr)
	}
	var old, present []string
	for _, g := range istioV1Groups() {
		versions, ok := groups[g]
		if !ok {
			continue
		}
		present = append(present, g)
		if !slices.Contains(versions, "v1") {
			old = append(old, fmt.Sprintf("%s serves %s", g, strings.Join(versions, ", ")))
		}
	}
	switch {
	case len(old) > 0:
		r.Status = StatusWarning
		r.Message = "CRDs from Istio before 1.22: " + strings.Join(old, "; ") + ", not v1"
		r.Hint = "the install's base chart upgrades them; if istioctl or another Helm release manages them, upgrade them there first"
	case len(present) > 0:
		r.Status, r.Message = StatusOK, strings.Join(present, ", ")+" serve v1"
	default:
		r.Status, r.Message = StatusOK, "none installed yet"
	}
	return r
}

func checkGatewayAPI(disc discovery.DiscoveryInterface, s meshSpec, groups map[string][]string, groupsErr error) Result {
	r := Result{Category: CategoryCRDs, Name: "Gateway API CRDs are v1.1 or newer"}
	if groupsErr != nil {
		return incomplete(r, groupsErr)
	}
	if _, ok := groups[gatewayGroup]; !ok {
		r.Status = StatusOK
		r.Message = "not installed (needed only for Gateway API routes)"
		if s.name == Istio {
			r.Message = "not installed (needed only for Gateway API routes and ambient waypoints)"
		}
		return r
	}
	served := map[string]bool{}
	list, err := disc.ServerResourcesForGroupVersion(gatewayGroup + "/v1")
	if err != nil && !apierrors.IsNotFound(err) {
		return incomplete(r, fmt.Errorf("reading %s/v1: %w", gatewayGroup, err))
	}
	if list != nil {
		for _, a := range list.APIResources {
			served[a.Name] = true
		}
	}
	var missing []string
	release := "v1.0"
	for _, k := range gatewayV1Kinds() {
		if !served[k[0]] {
			missing = append(missing, k[0])
			release = max(release, k[1])
		}
	}
	if len(missing) == 0 {
		r.Status, r.Message = StatusOK, "gatewayclasses, gateways, httproutes and grpcroutes serve v1"
		return r
	}
	r.Status = StatusWarning
	r.Message = fmt.Sprintf("%s not served as %s/v1: the Gateway API CRDs are older than %s", strings.Join(missing, ", "), gatewayGroup, release)
	r.Hint = "upgrade them to a current release: kubectl apply --server-side -f https://github.com/kubernetes-sigs/gateway-api/releases/download/<version>/standard-install.yaml"
	return r
}
