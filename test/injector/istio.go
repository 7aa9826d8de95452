package injector

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"
)

// Names istiod's sidecar template gives what it injects.
const (
	IstioProxy      = "istio-proxy"
	IstioInit       = "istio-init"
	IstioValidation = "istio-validation" // the init container when Istio's CNI redirects traffic
	IstioStatus     = "sidecar.istio.io/status"
	istioInjectKey  = "sidecar.istio.io/inject"
	istioNativeKey  = "sidecar.istio.io/nativeSidecar"
	istioRevKey     = "istio.io/rev"
)

// IstioConfig is what istiod's injector takes from its revision's
// istio-sidecar-injector ConfigMap, as far as this stand-in uses it.
type IstioConfig struct {
	// Revision is istiod's revision ("default" for the unnamed one).
	Revision string
	// Image is the proxy image, hub/proxyv2:tag.
	Image string
	// CNI makes the init container istio-validation (pilot.cni.enabled).
	CNI bool
	// NativeSidecars puts istio-proxy among the init containers
	// (ENABLE_NATIVE_SIDECARS); a pod's sidecar.istio.io/nativeSidecar
	// annotation overrides it.
	NativeSidecars bool
}

// istioValues is the part of the ConfigMap's "values" read here.
type istioValues struct {
	Revision string `json:"revision"`
	Global   struct {
		Hub     string `json:"hub"`
		Tag     any    `json:"tag"` // Istio's charts allow a number
		Variant string `json:"variant"`
		Proxy   struct {
			Image string `json:"image"`
		} `json:"proxy"`
	} `json:"global"`
	Pilot struct {
		CNI struct {
			Enabled bool `json:"enabled"`
		} `json:"cni"`
		Env map[string]any `json:"env"`
	} `json:"pilot"`
}

// ParseIstioValues reads an istio-sidecar-injector ConfigMap's "values"
// the way istiod builds its proxy image: hub/image:tag[-variant], or
// global.proxy.image alone when it is a full reference.
func ParseIstioValues(values string) (IstioConfig, error) {
	var v istioValues
	if err := json.Unmarshal([]byte(values), &v); err != nil {
		return IstioConfig{}, fmt.Errorf("reading istiod's injector values: %w", err)
	}
	cfg := IstioConfig{Revision: v.Revision, CNI: v.Pilot.CNI.Enabled}
	if cfg.Revision == "" {
		cfg.Revision = "default"
	}
	cfg.NativeSidecars = fmt.Sprint(v.Pilot.Env["ENABLE_NATIVE_SIDECARS"]) == "true"
	image := v.Global.Proxy.Image
	if image == "" {
		image = "proxyv2"
	}
	if !strings.Contains(image, "/") {
		tag := fmt.Sprint(v.Global.Tag)
		if v.Global.Tag == nil || tag == "" || v.Global.Hub == "" {
			return IstioConfig{}, fmt.Errorf("istiod's injector values have no global.hub or global.tag")
		}
		image = v.Global.Hub + "/" + image + ":" + tag
		if v.Global.Variant != "" {
			image += "-" + v.Global.Variant
		}
	}
	cfg.Image = image
	return cfg, nil
}

// InjectIstio returns pod with istiod's sidecar as its injector adds it,
// or false when istiod would leave the pod alone: opted out (the
// sidecar.istio.io/inject label or annotation "false"), on the host
// network, or injected already. Which namespaces and pods reach the
// injector is the webhook's selectors' business, as for istiod.
func InjectIstio(pod *corev1.Pod, cfg IstioConfig) (*corev1.Pod, bool) {
	if pod.Labels[istioInjectKey] == "false" || pod.Annotations[istioInjectKey] == "false" ||
		pod.Spec.HostNetwork || pod.Annotations[IstioStatus] != "" || hasContainer(pod, IstioProxy) {
		return nil, false
	}
	out := pod.DeepCopy()
	native := cfg.NativeSidecars
	if v, ok := pod.Annotations[istioNativeKey]; ok {
		native = v != "false"
	}

	initName := IstioInit
	if cfg.CNI {
		initName = IstioValidation
	}
	initArgs := []string{"istio-iptables", "-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT", "-i", "*", "-x", "", "-b", "*", "-d", "15090,15021,15020", "--log_output_level=default:info"}
	if cfg.CNI {
		initArgs = append(initArgs, "--run-validation", "--skip-rule-apply")
	}
	initCtr := corev1.Container{
		Name:  initName,
		Image: cfg.Image,
		Args:  initArgs,
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("1Gi")},
		},
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false),
			Capabilities:             &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN", "NET_RAW"}, Drop: []corev1.Capability{"ALL"}},
			Privileged:               ptr.To(false),
			ReadOnlyRootFilesystem:   ptr.To(false),
			RunAsGroup:               ptr.To[int64](0),
			RunAsNonRoot:             ptr.To(false),
			RunAsUser:                ptr.To[int64](0),
		},
	}
	if cfg.CNI {
		initCtr.SecurityContext.Capabilities.Add = nil
		initCtr.SecurityContext.RunAsGroup, initCtr.SecurityContext.RunAsNonRoot, initCtr.SecurityContext.RunAsUser = ptr.To[int64](1337), ptr.To(true), ptr.To[int64](1337)
	}
	proxy := istioProxyContainer(cfg.Image)
	if native {
		proxy.RestartPolicy = ptr.To(corev1.ContainerRestartPolicyAlways)
		out.Spec.InitContainers = append([]corev1.Container{initCtr, proxy}, out.Spec.InitContainers...)
	} else {
		out.Spec.InitContainers = append([]corev1.Container{initCtr}, out.Spec.InitContainers...)
		out.Spec.Containers = append(out.Spec.Containers, proxy)
	}
	volumes := istioVolumes()
	out.Spec.Volumes = append(out.Spec.Volumes, volumes...)

	if out.Labels == nil {
		out.Labels = map[string]string{}
	}
	setDefault(out.Labels, "security.istio.io/tlsMode", "istio")
	name := cmp.Or(firstOf(pod.Labels, "service.istio.io/canonical-name", "app.kubernetes.io/name", "app"), workloadName(pod))
	out.Labels["service.istio.io/canonical-name"] = strings.Trim(name[:min(len(name), 63)], "-_.")
	out.Labels["service.istio.io/canonical-revision"] = cmp.Or(firstOf(pod.Labels, "service.istio.io/canonical-revision", "app.kubernetes.io/version", "version"), "latest")

	if out.Annotations == nil {
		out.Annotations = map[string]string{}
	}
	out.Annotations[istioRevKey] = cfg.Revision
	if len(pod.Spec.Containers) > 0 {
		setDefault(out.Annotations, "kubectl.kubernetes.io/default-container", pod.Spec.Containers[0].Name)
		setDefault(out.Annotations, "kubectl.kubernetes.io/default-logs-container", pod.Spec.Containers[0].Name)
	}
	setDefault(out.Annotations, "prometheus.io/path", "/stats/prometheus")
	setDefault(out.Annotations, "prometheus.io/port", "15020")
	setDefault(out.Annotations, "prometheus.io/scrape", "true")
	status := struct {
		InitContainers   []string `json:"initContainers"`
		Containers       []string `json:"containers"`
		Volumes          []string `json:"volumes"`
		ImagePullSecrets []string `json:"imagePullSecrets"`
		Revision         string   `json:"revision"`
	}{Containers: []string{IstioProxy}, InitContainers: []string{initName}, Revision: cfg.Revision}
	if native {
		status.Containers, status.InitContainers = nil, []string{initName, IstioProxy}
	}
	for _, v := range volumes {
		status.Volumes = append(status.Volumes, v.Name)
	}
	data, _ := json.Marshal(status) // strings only: cannot fail
	out.Annotations[IstioStatus] = string(data)
	return out, true
}

// istioProxyContainer is the istio-proxy container of istiod's sidecar
// template, its arguments, ports, probe, resources and mounts; of its
// environment only the pod's identity.
func istioProxyContainer(image string) corev1.Container {
	fieldEnv := func(name, path string) corev1.EnvVar {
		return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: path}}}
	}
	mounts := []corev1.VolumeMount{
		{Name: "workload-socket", MountPath: "/var/run/secrets/workload-spiffe-uds"},
		{Name: "credential-socket", MountPath: "/var/run/secrets/credential-uds"},
		{Name: "workload-certs", MountPath: "/var/run/secrets/workload-spiffe-credentials"},
		{Name: "istiod-ca-cert", MountPath: "/var/run/secrets/istio"},
		{Name: "istio-data", MountPath: "/var/lib/istio/data"},
		{Name: "istio-envoy", MountPath: "/etc/istio/proxy"},
		{Name: "istio-token", MountPath: "/var/run/secrets/tokens"},
		{Name: "istio-podinfo", MountPath: "/etc/istio/pod"},
	}
	return corev1.Container{
		Name:  IstioProxy,
		Image: image,
		Args: []string{"proxy", "sidecar", "--domain", "$(POD_NAMESPACE).svc.cluster.local",
			"--proxyLogLevel=warning", "--proxyComponentLogLevel=misc:error", "--log_output_level=default:info"},
		Ports: []corev1.ContainerPort{{Name: "http-envoy-prom", ContainerPort: 15090, Protocol: corev1.ProtocolTCP}},
		Env: []corev1.EnvVar{
			{Name: "PILOT_CERT_PROVIDER", Value: "istiod"},
			{Name: "CA_ADDR", Value: "istiod.istio-system.svc:15012"},
			fieldEnv("POD_NAME", "metadata.name"),
			fieldEnv("POD_NAMESPACE", "metadata.namespace"),
			fieldEnv("INSTANCE_IP", "status.podIP"),
			fieldEnv("SERVICE_ACCOUNT", "spec.serviceAccountName"),
			fieldEnv("HOST_IP", "status.hostIP"),
			{Name: "ISTIO_META_CLUSTER_ID", Value: "Kubernetes"},
			{Name: "ISTIO_META_MESH_ID", Value: "cluster.local"},
			{Name: "TRUST_DOMAIN", Value: "cluster.local"},
		},
		ReadinessProbe: &corev1.Probe{
			ProbeHandler:     corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz/ready", Port: intOrString(15021)}},
			PeriodSeconds:    15,
			TimeoutSeconds:   3,
			FailureThreshold: 4,
		},
		StartupProbe: &corev1.Probe{
			ProbeHandler:     corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz/ready", Port: intOrString(15021)}},
			PeriodSeconds:    1,
			TimeoutSeconds:   3,
			FailureThreshold: 600,
		},
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("1Gi")},
		},
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			Privileged:               ptr.To(false),
			ReadOnlyRootFilesystem:   ptr.To(true),
			RunAsGroup:               ptr.To[int64](1337),
			RunAsNonRoot:             ptr.To(true),
			RunAsUser:                ptr.To[int64](1337),
		},
		VolumeMounts: mounts,
	}
}

func istioVolumes() []corev1.Volume {
	empty := func(name string, medium corev1.StorageMedium) corev1.Volume {
		return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: medium}}}
	}
	field := func(path, p string) corev1.DownwardAPIVolumeFile {
		return corev1.DownwardAPIVolumeFile{Path: path, FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: p}}
	}
	return []corev1.Volume{
		empty("workload-socket", ""),
		empty("credential-socket", ""),
		empty("workload-certs", ""),
		empty("istio-envoy", corev1.StorageMediumMemory),
		empty("istio-data", ""),
		{Name: "istio-podinfo", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{
			Items: []corev1.DownwardAPIVolumeFile{field("labels", "metadata.labels"), field("annotations", "metadata.annotations")},
		}}},
		{Name: "istio-token", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
			Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{
				Audience: "istio-ca", ExpirationSeconds: ptr.To[int64](43200), Path: "istio-token",
			}}},
		}}},
		// istiod writes istio-ca-root-cert into every namespace; no istiod
		// runs here, and kwok starts the pod without it.
		{Name: "istiod-ca-cert", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "istio-ca-root-cert"},
		}}},
	}
}

func hasContainer(pod *corev1.Pod, name string) bool {
	has := func(c corev1.Container) bool { return c.Name == name }
	return slices.ContainsFunc(pod.Spec.Containers, has) || slices.ContainsFunc(pod.Spec.InitContainers, has)
}
