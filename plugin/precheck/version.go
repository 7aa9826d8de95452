package precheck

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/version"
	"k8s.io/client-go/discovery"
)

// checkAPI reads the server version, which also proves the cluster answers.
func checkAPI(disc discovery.DiscoveryInterface) (Result, string) {
	r := Result{Category: CategoryAPI, Name: "can query the Kubernetes API"}
	info, err := disc.ServerVersion()
	if err != nil {
		r.Status, r.Message, r.Err = StatusFailed, err.Error(), fmt.Errorf("reading the server version: %w", err)
		r.Hint = "check the kubeconfig (--kubeconfig, --context) and that the cluster is up"
		return r, ""
	}
	r.Status, r.Message = StatusOK, "Kubernetes "+info.GitVersion
	return r, info.GitVersion
}

// checkVersion compares the server's minor version with the mesh's range.
func checkVersion(s meshSpec, gitVersion string) Result {
	r := Result{Category: CategoryVersion, Name: "Kubernetes version is supported by " + s.title}
	supported := fmt.Sprintf("Kubernetes 1.%d to 1.%d", s.minMinor, s.maxTestedMinor)
	v, err := version.ParseGeneric(gitVersion)
	if err != nil {
		r.Status = StatusWarning
		r.Message = fmt.Sprintf("cannot parse the server version %q: %v", gitVersion, err)
		r.Hint = fmt.Sprintf("make sure the cluster runs Kubernetes 1.%d to 1.%d (%s)", s.minMinor, s.maxTestedMinor, s.supportURL)
		return r
	}
	minor := int(v.Minor())
	switch {
	case v.Major() != 1 || minor < s.minMinor:
		r.Status = StatusFailed
		r.Message = fmt.Sprintf("%s is older than %s supports (%s)", gitVersion, s.title, supported)
		r.Hint = fmt.Sprintf("upgrade the cluster to Kubernetes 1.%d or newer (%s)", s.minMinor, s.supportURL)
	case minor > s.maxTestedMinor:
		r.Status = StatusWarning
		r.Message = fmt.Sprintf("%s is newer than %s is tested on (%s)", gitVersion, s.title, supported)
		r.Hint = "newer versions usually work; see " + s.supportURL
	default:
		r.Status = StatusOK
		r.Message = fmt.Sprintf("%s (supported: %s)", gitVersion, supported)
	}
	return r
}
