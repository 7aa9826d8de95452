# METADATA
# title: Istio webhook has no usable client configuration
# description: |
#   Istio's validation webhook (istiod-default-validator, istio-validator*)
#   and sidecar injector (istio-sidecar-injector*) reach istiod through each
#   webhook's clientConfig: a Service in the cluster, or a URL for an
#   external control plane. A webhook with neither, or a URL that does not
#   parse, cannot be called; a URL naming an IP address breaks as soon as
#   the control plane's address changes, and its certificate must carry
#   that IP.
# custom:
#   id: MESH1223
#   severity: warning
#   enforcement: warn
#   kinds: [admissionregistration.k8s.io/ValidatingWebhookConfiguration, admissionregistration.k8s.io/MutatingWebhookConfiguration]
#   aliases: [IST0163, IST0164]
#   remediation: |
#     Set clientConfig.url to https://<istiod host name>:15017/... for an
#     external control plane (istioctl install with the external profile
#     writes it), or clientConfig.service for istiod in the cluster.
package mesh.istio.webhook_client_config

import data.mesh.lib.k8s
import rego.v1

istio_webhook if {
	k8s.subject.kind == "ValidatingWebhookConfiguration"
	name := k8s.subject.metadata.name
	name == "istiod-default-validator"
} else if {
	k8s.subject.kind == "ValidatingWebhookConfiguration"
	startswith(k8s.subject.metadata.name, "istio-validator")
} else if {
	k8s.subject.kind == "MutatingWebhookConfiguration"
	startswith(k8s.subject.metadata.name, "istio-sidecar-injector")
}

blank(v) if v == null
else if v == ""

url_host(url) := host if {
	is_string(url)
	[_, rest] := regex.find_all_string_submatch_n(`^[a-zA-Z][a-zA-Z0-9+.-]*://(.*)$`, url, 1)[0]
	authority := split(split(split(rest, "/")[0], "?")[0], "#")[0]
	host := hostname(authority)
}

# The host of an authority: [v6] addresses keep what is inside the
# brackets; otherwise what comes before the port.
hostname(authority) := inner if {
	[_, inner] := regex.find_all_string_submatch_n(`^(?:[^@]*@)?\[([^\]]*)\]`, authority, 1)[0]
} else := host if {
	no_user := regex.replace(authority, `^[^@]*@`, "")
	host := split(no_user, ":")[0]
}

ip(host) if net.cidr_is_valid(concat("/", [host, "32"]))
else if net.cidr_is_valid(concat("/", [host, "128"]))

violation contains {"msg": msg} if {
	istio_webhook
	some i, hook in object.get(k8s.subject, "webhooks", [])
	config := object.get(hook, "clientConfig", {})
	blank(object.get(config, "url", null))
	blank(object.get(config, "service", null))
	msg := sprintf("webhooks[%d] (%s): clientConfig has neither url nor service, so the API server cannot call istiod", [i, hook.name])
}

violation contains {"msg": msg} if {
	istio_webhook
	some i, hook in object.get(k8s.subject, "webhooks", [])
	url := hook.clientConfig.url
	is_string(url)
	url != ""
	not url_host(url)
	msg := sprintf("webhooks[%d] (%s): clientConfig.url %q is not a URL", [i, hook.name, url])
}

violation contains {"msg": msg} if {
	istio_webhook
	some i, hook in object.get(k8s.subject, "webhooks", [])
	host := url_host(hook.clientConfig.url)
	ip(host)
	msg := sprintf("webhooks[%d] (%s): clientConfig.url names the IP address %s: use the external control plane's host name", [i, hook.name, host])
}
