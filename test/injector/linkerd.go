package injector

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"
)

// Names Linkerd's proxy injector gives what it injects.
const (
	LinkerdProxy        = "linkerd-proxy"
	LinkerdInit         = "linkerd-init"
	LinkerdProxyVersion = "linkerd.io/proxy-version"
	linkerdInjectKey    = "linkerd.io/inject"
)

// linkerdNativeKeys ask for a native sidecar: beta is the annotation's
// current name, alpha what 2.15-2.16 read.
var linkerdNativeKeys = []string{"config.beta.linkerd.io/proxy-enable-native-sidecar", "config.alpha.linkerd.io/proxy-enable-native-sidecar"}

// LinkerdConfig is what Linkerd's proxy injector takes from its control
// plane (linkerd-config and the trust roots), as far as this stand-in uses
// it.
type LinkerdConfig struct {
	// Namespace is the control plane's namespace.
	Namespace string
	// Version is the control plane's version (linkerdVersion).
	Version string
	// ProxyImage and InitImage are the proxy's and proxy-init's images.
	ProxyImage, InitImage string
	// ProxyUID is the user the proxy runs as.
	ProxyUID int64
	// TrustRootSHA256 is the hex SHA-256 of the trust anchors' PEM.
	TrustRootSHA256 string
}

// ParseLinkerdConfig reads linkerd-config's "values" and the trust roots'
// PEM of the control plane in namespace: proxy.image.version, else
// linkerdVersion, tags the proxy, as Linkerd's injector does.
func ParseLinkerdConfig(namespace, values, trustRoots string) (LinkerdConfig, error) {
	var v struct {
		LinkerdVersion string `json:"linkerdVersion"`
		Proxy          struct {
			Image struct{ Name, Version string } `json:"image"`
			UID   int64                          `json:"uid"`
		} `json:"proxy"`
		ProxyInit struct {
			Image struct{ Name, Version string } `json:"image"`
		} `json:"proxyInit"`
	}
	if err := yaml.Unmarshal([]byte(values), &v); err != nil {
		return LinkerdConfig{}, fmt.Errorf("reading linkerd-config: %w", err)
	}
	version := cmp.Or(v.Proxy.Image.Version, v.LinkerdVersion)
	if version == "" || v.Proxy.Image.Name == "" || v.ProxyInit.Image.Name == "" || v.ProxyInit.Image.Version == "" {
		return LinkerdConfig{}, fmt.Errorf("linkerd-config has no linkerdVersion or no proxy and proxyInit images")
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(trustRoots)))
	return LinkerdConfig{
		Namespace:       namespace,
		Version:         version,
		ProxyImage:      v.Proxy.Image.Name + ":" + version,
		InitImage:       v.ProxyInit.Image.Name + ":" + v.ProxyInit.Image.Version,
		ProxyUID:        cmp.Or(v.Proxy.UID, 2102),
		TrustRootSHA256: hex.EncodeToString(sum[:]),
	}, nil
}

// InjectLinkerd returns pod, created in namespace, with Linkerd's proxy as its injector adds it,
// or false when the injector would leave it alone. As Linkerd's, the
// injector sees every pod its webhook selects and decides itself: the
// pod's linkerd.io/inject annotation, else its namespace's (nsAnnotations),
// must be enabled or ingress; pods on the host network and pods that
// carry the proxy already are skipped.
func InjectLinkerd(pod *corev1.Pod, namespace string, nsAnnotations map[string]string, cfg LinkerdConfig) (*corev1.Pod, bool) {
	mode, ok := pod.Annotations[linkerdInjectKey]
	if !ok {
		mode = nsAnnotations[linkerdInjectKey]
	}
	if (mode != "enabled" && mode != "ingress") || pod.Spec.HostNetwork || hasContainer(pod, LinkerdProxy) {
		return nil, false
	}
	out := pod.DeepCopy()
	native := false
	for _, k := range linkerdNativeKeys {
		if v, ok := pod.Annotations[k]; ok {
			native = v == "true"
			break
		}
	}

	initCtr := corev1.Container{
		Name:  LinkerdInit,
		Image: cfg.InitImage,
		Args: []string{"--incoming-proxy-port", "4143", "--outgoing-proxy-port", "4140", "--proxy-uid", fmt.Sprint(cfg.ProxyUID),
			"--inbound-ports-to-ignore", "4190,4191,4567,4568", "--outbound-ports-to-ignore", "4567,4568"},
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("20Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("20Mi")},
		},
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false),
			Capabilities:             &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN", "NET_RAW"}},
			Privileged:               ptr.To(false),
			ReadOnlyRootFilesystem:   ptr.To(true),
			RunAsGroup:               ptr.To[int64](65534),
			RunAsNonRoot:             ptr.To(true),
			RunAsUser:                ptr.To[int64](65534),
			SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		VolumeMounts: []corev1.VolumeMount{{Name: "linkerd-proxy-init-xtables-lock", MountPath: "/run"}},
	}
	proxy := linkerdProxyContainer(cfg, mode == "ingress")
	if native {
		proxy.RestartPolicy = ptr.To(corev1.ContainerRestartPolicyAlways)
		out.Spec.InitContainers = append([]corev1.Container{initCtr, proxy}, out.Spec.InitContainers...)
	} else {
		// First, so that linkerd-await holds the other containers until
		// the proxy is ready (config.linkerd.io/proxy-await, on by default).
		proxy.Lifecycle = &corev1.Lifecycle{PostStart: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{
			Command: []string{"/usr/lib/linkerd/linkerd-await", "--timeout=2m", "--port=4191"},
		}}}
		out.Spec.InitContainers = append([]corev1.Container{initCtr}, out.Spec.InitContainers...)
		out.Spec.Containers = append([]corev1.Container{proxy}, out.Spec.Containers...)
	}
	out.Spec.Volumes = append(out.Spec.Volumes,
		corev1.Volume{Name: "linkerd-proxy-init-xtables-lock", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		corev1.Volume{Name: "linkerd-identity-end-entity", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}}},
		corev1.Volume{Name: "linkerd-identity-token", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
			Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{
				Audience: "identity.l5d.io", ExpirationSeconds: ptr.To[int64](86400), Path: "linkerd-identity-token",
			}}},
		}}},
	)

	if out.Labels == nil {
		out.Labels = map[string]string{}
	}
	out.Labels["linkerd.io/control-plane-ns"] = cfg.Namespace
	out.Labels["linkerd.io/workload-ns"] = namespace
	if kind, name := workload(pod); kind != "" {
		out.Labels["linkerd.io/proxy-"+kind] = name
	}
	if out.Annotations == nil {
		out.Annotations = map[string]string{}
	}
	out.Annotations["linkerd.io/created-by"] = "linkerd/proxy-injector " + cfg.Version
	out.Annotations[LinkerdProxyVersion] = cfg.Version
	out.Annotations["linkerd.io/trust-root-sha256"] = cfg.TrustRootSHA256
	return out, true
}

// linkerdProxyContainer is the linkerd-proxy container of Linkerd's proxy
// template: its ports, probes, identity and control plane addresses.
func linkerdProxyContainer(cfg LinkerdConfig, ingress bool) corev1.Container {
	fieldEnv := func(name, path string) corev1.EnvVar {
		return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: path}}}
	}
	svc := func(name, port string) string {
		return name + "." + cfg.Namespace + ".svc.cluster.local.:" + port
	}
	env := []corev1.EnvVar{
		fieldEnv("_pod_name", "metadata.name"),
		fieldEnv("_pod_ns", "metadata.namespace"),
		fieldEnv("_pod_nodeName", "spec.nodeName"),
		{Name: "LINKERD2_PROXY_LOG", Value: "warn,linkerd=info,hickory=error,[{headers}]=off,[{request}]=off"},
		{Name: "LINKERD2_PROXY_DESTINATION_SVC_ADDR", Value: svc("linkerd-dst-headless", "8086")},
		{Name: "LINKERD2_PROXY_POLICY_SVC_ADDR", Value: svc("linkerd-policy", "8090")},
		{Name: "LINKERD2_PROXY_CONTROL_LISTEN_ADDR", Value: "[::]:4190"},
		{Name: "LINKERD2_PROXY_ADMIN_LISTEN_ADDR", Value: "[::]:4191"},
		{Name: "LINKERD2_PROXY_OUTBOUND_LISTEN_ADDRS", Value: "127.0.0.1:4140,[::1]:4140"},
		{Name: "LINKERD2_PROXY_INBOUND_LISTEN_ADDR", Value: "[::]:4143"},
		{Name: "LINKERD2_PROXY_IDENTITY_DIR", Value: "/var/run/linkerd/identity/end-entity"},
		{Name: "LINKERD2_PROXY_IDENTITY_TOKEN_FILE", Value: "/var/run/secrets/tokens/linkerd-identity-token"},
		{Name: "LINKERD2_PROXY_IDENTITY_SVC_ADDR", Value: svc("linkerd-identity-headless", "8080")},
	}
	if ingress {
		env = append(env, corev1.EnvVar{Name: "LINKERD2_PROXY_INGRESS_MODE", Value: "true"})
	}
	probe := func(path string) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intOrString(4191)}}, InitialDelaySeconds: 10, TimeoutSeconds: 1}
	}
	return corev1.Container{
		Name:  LinkerdProxy,
		Image: cfg.ProxyImage,
		Env:   env,
		Ports: []corev1.ContainerPort{
			{Name: "linkerd-proxy", ContainerPort: 4143, Protocol: corev1.ProtocolTCP},
			{Name: "linkerd-admin", ContainerPort: 4191, Protocol: corev1.ProtocolTCP},
		},
		LivenessProbe:  probe("/live"),
		ReadinessProbe: probe("/ready"),
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false),
			ReadOnlyRootFilesystem:   ptr.To(true),
			RunAsGroup:               ptr.To(cfg.ProxyUID),
			RunAsNonRoot:             ptr.To(true),
			RunAsUser:                ptr.To(cfg.ProxyUID),
			SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
		VolumeMounts: []corev1.VolumeMount{
			{Name: "linkerd-identity-end-entity", MountPath: "/var/run/linkerd/identity/end-entity"},
			{Name: "linkerd-identity-token", MountPath: "/var/run/secrets/tokens"},
		},
	}
}
