package manifest

import "slices"

// clusterScoped lists the cluster-scoped kinds a manifest may hold, by
// group. Offline there is no RESTMapper, so this decides which objects
// without a namespace get the default one, as kubectl apply would.
var clusterScoped = map[string][]string{
	"":                             {"Namespace", "Node", "PersistentVolume", "ComponentStatus"},
	"rbac.authorization.k8s.io":    {"ClusterRole", "ClusterRoleBinding"},
	"apiextensions.k8s.io":         {"CustomResourceDefinition"},
	"admissionregistration.k8s.io": {"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding"},
	"apiregistration.k8s.io":       {"APIService"},
	"storage.k8s.io":               {"StorageClass", "CSIDriver", "CSINode", "VolumeAttachment"},
	"scheduling.k8s.io":            {"PriorityClass"},
	"node.k8s.io":                  {"RuntimeClass"},
	"networking.k8s.io":            {"IngressClass"},
	"certificates.k8s.io":          {"CertificateSigningRequest"},
	"flowcontrol.apiserver.k8s.io": {"FlowSchema", "PriorityLevelConfiguration"},
	"gateway.networking.k8s.io":    {"GatewayClass"},
	"cert-manager.io":              {"ClusterIssuer"},
	"openreports.io":               {"ClusterReport"},
}

// ClusterScoped reports whether objects of group/kind have no namespace.
func ClusterScoped(group, kind string) bool {
	return slices.Contains(clusterScoped[group], kind)
}

// meshKinds are the kinds of the mesh API groups. A kind in one of these
// groups that is not listed is most likely a typo, which would otherwise
// pass every check unseen.
var meshKinds = map[string][]string{
	"networking.istio.io":       {"VirtualService", "DestinationRule", "Gateway", "ServiceEntry", "Sidecar", "EnvoyFilter", "WorkloadEntry", "WorkloadGroup", "ProxyConfig"},
	"security.istio.io":         {"AuthorizationPolicy", "PeerAuthentication", "RequestAuthentication"},
	"telemetry.istio.io":        {"Telemetry"},
	"extensions.istio.io":       {"WasmPlugin"},
	"install.istio.io":          {"IstioOperator"},
	"policy.linkerd.io":         {"Server", "ServerAuthorization", "AuthorizationPolicy", "MeshTLSAuthentication", "NetworkAuthentication", "HTTPRoute", "GRPCRoute", "HTTPLocalRateLimitPolicy", "EgressNetwork"},
	"linkerd.io":                {"ServiceProfile"},
	"split.smi-spec.io":         {"TrafficSplit"},
	"access.smi-spec.io":        {"TrafficTarget"},
	"specs.smi-spec.io":         {"HTTPRouteGroup", "TCPRoute", "UDPRoute"},
	"gateway.networking.k8s.io": {"GatewayClass", "Gateway", "HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute", "UDPRoute", "ReferenceGrant", "BackendTLSPolicy", "ListenerSet", "BackendTrafficPolicy"},
}

// UnknownMeshKind reports a kind in a mesh API group that the group does not have.
func UnknownMeshKind(group, kind string) bool {
	kinds, ok := meshKinds[group]
	return ok && !slices.Contains(kinds, kind)
}
