# METADATA
# title: Inventory index
# description: |
#   Lookup tables derived from data.inventory alone, so that a lookup by host
#   or by namespace costs a map access instead of a walk over every object.
#   This file specifies the tables; the engine computes the same ones in Go
#   (policies/index.go, held equal by TestIndexMatchesRego) and policies read
#   the stored value. Rules here must never read input (the engine refuses
#   them). In Rego unit tests the rules are simply evaluated against the
#   mocked inventory, so tests need nothing special.
package mesh.lib.index

import data.mesh.lib.gateway
import rego.v1

_group_of(api_version) := g if {
	[g, _] := split(api_version, "/")
}

_group_of(api_version) := "" if not contains(api_version, "/")

# refs[group][kind] lists [namespace, apiVersion, name] of every namespaced
# object of group/kind.
refs[group] := {kind: list |
	some kind in {k | some ns, av, k; data.inventory.namespace[ns][av][k]; _group_of(av) == group}
	# The group is checked once per apiVersion, not once per object.
	list := [[ns, av, name] |
		some ns, av
		data.inventory.namespace[ns][av][kind]
		_group_of(av) == group
		some name
		data.inventory.namespace[ns][av][kind][name]
	]
} if {
	some group in {_group_of(av) | some ns, av; data.inventory.namespace[ns][av]}
}

_pod_template_kinds := {"apps": {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"}, "batch": {"Job"}}

# workloads[ns]: Pods and pod-template workloads with the labels and
# annotations of the pods they run, as {"kind", "name", "labels", "annotations"}.
workloads[ns] := {w |
	some av, name
	pod := data.inventory.namespace[ns][av].Pod[name]
	av == "v1"
	w := {
		"kind": "Pod", "name": name,
		"labels": object.get(pod, ["metadata", "labels"], {}),
		"annotations": object.get(pod, ["metadata", "annotations"], {}),
	}
} | {w |
	# Kinds are picked before objects are walked: a namespace of
	# thousands of Istio objects costs nothing here.
	some av
	data.inventory.namespace[ns][av]
	some kind in _pod_template_kinds[_group_of(av)]
	some name
	obj := data.inventory.namespace[ns][av][kind][name]
	w := {
		"kind": kind, "name": name,
		"labels": object.get(obj, ["spec", "template", "metadata", "labels"], {}),
		"annotations": object.get(obj, ["spec", "template", "metadata", "annotations"], {}),
	}
} if {
	some ns, _ in data.inventory.namespace
}

# pod_label_sets[ns]: the distinct label sets of pods in ns, CronJob pod
# templates included.
pod_label_sets[ns] := {w.labels | some w in workloads[ns]} | {l |
	some av, name
	cj := data.inventory.namespace[ns][av].CronJob[name]
	_group_of(av) == "batch"
	l := object.get(cj, ["spec", "jobTemplate", "spec", "template", "metadata", "labels"], {})
} if {
	some ns, _ in data.inventory.namespace
}

# As istio.fqdn: short names resolve in the object's namespace.
_fqdn(host, ns) := host if contains(host, ".")
else := host if host == "*"
else := concat(".", [host, ns, "svc.cluster.local"])

# destination_rules_by_host[fqdn]: [namespace, apiVersion, name] of the
# DestinationRules whose spec.host resolves to fqdn.
destination_rules_by_host[fqdn] contains [ns, av, name] if {
	some ns, av
	data.inventory.namespace[ns][av].DestinationRule
	_group_of(av) == "networking.istio.io"
	some name
	dr := data.inventory.namespace[ns][av].DestinationRule[name]
	fqdn := _fqdn(dr.spec.host, ns)
}

# wildcard_destination_rules: [namespace, apiVersion, name] of the
# DestinationRules whose spec.host is a wildcard.
wildcard_destination_rules contains [ns, av, name] if {
	some ns, av
	data.inventory.namespace[ns][av].DestinationRule
	_group_of(av) == "networking.istio.io"
	some name
	dr := data.inventory.namespace[ns][av].DestinationRule[name]
	startswith(dr.spec.host, "*")
}

# secret_certificates["<namespace>/<name>"]: what the first certificate
# of a Secret says (tls.crt, else cert; base64 in data, else stringData),
# named as crypto.x509.parse_certificates names it: {"NotAfter",
# "Subject": {"CommonName"}}; {} when its PEM holds no certificate;
# {"parses": false} when it is no PEM of certificates. Parsed once per
# inventory, not at each review of a Gateway naming the Secret (MESH1118).
secret_certificates[key] contains facts if {
	some ns, name
	secret := data.inventory.namespace[ns].v1.Secret[name]
	text := _certificate_text(secret)
	key := concat("/", [ns, name])
	facts := _certificate_facts(text)
}

_certificate_text(secret) := base64.decode(secret.data["tls.crt"]) if base64.is_valid(secret.data["tls.crt"])
else := base64.decode(secret.data.cert) if base64.is_valid(secret.data.cert)
else := text if text := secret.stringData["tls.crt"]
else := text if text := secret.stringData.cert

_certificate_facts(text) := _first_certificate(certs) if {
	i := indexof(text, "-----BEGIN")
	i >= 0
	certs := crypto.x509.parse_certificates(substring(text, i, -1))
} else := {"parses": false}

_first_certificate(certs) := {"NotAfter": certs[0].NotAfter, "Subject": {"CommonName": certs[0].Subject.CommonName}} if count(certs) > 0
else := {}

# services_by_selector_label["<namespace> <key>=<value>"]: the names of the
# Services of namespace whose spec.selector holds that label, so that a
# pod's labels find the Services selecting it without walking the namespace.
services_by_selector_label[key] contains name if {
	some ns, name
	svc := data.inventory.namespace[ns].v1.Service[name]
	some k, v in object.get(svc, ["spec", "selector"], {})
	key := concat("", [ns, " ", k, "=", v])
}

# wildcard_virtual_services: [namespace, apiVersion, name] of the
# VirtualServices with a wildcard host in spec.hosts.
wildcard_virtual_services contains [ns, av, name] if {
	some ns, av
	data.inventory.namespace[ns][av].VirtualService
	_group_of(av) == "networking.istio.io"
	some name
	vs := data.inventory.namespace[ns][av].VirtualService[name]
	some host in object.get(vs, ["spec", "hosts"], [])
	startswith(host, "*")
}

# virtual_services_by_host[fqdn]: [namespace, apiVersion, name] of the
# VirtualServices with a spec.hosts entry that resolves to fqdn.
virtual_services_by_host[fqdn] contains [ns, av, name] if {
	some ns, av
	data.inventory.namespace[ns][av].VirtualService
	_group_of(av) == "networking.istio.io"
	some name
	vs := data.inventory.namespace[ns][av].VirtualService[name]
	some host in object.get(vs, ["spec", "hosts"], [])
	fqdn := _fqdn(host, ns)
}

# service_entries_by_host[fqdn]: [namespace, apiVersion, name] of the
# ServiceEntries with a spec.hosts entry that resolves to fqdn.
service_entries_by_host[fqdn] contains [ns, av, name] if {
	some ns, av
	data.inventory.namespace[ns][av].ServiceEntry
	_group_of(av) == "networking.istio.io"
	some name
	se := data.inventory.namespace[ns][av].ServiceEntry[name]
	some host in object.get(se, ["spec", "hosts"], [])
	fqdn := _fqdn(host, ns)
}

# service_entry_hosts: every host some ServiceEntry declares.
service_entry_hosts contains host if {
	some ns, av, name
	se := data.inventory.namespace[ns][av].ServiceEntry[name]
	_group_of(av) == "networking.istio.io"
	some host in object.get(se, ["spec", "hosts"], [])
}

_gateways contains [ns, av, name, gw] if {
	some ns, av, name
	gw := data.inventory.namespace[ns][av].Gateway[name]
	_group_of(av) == "networking.istio.io"
}

# gateway_listeners["<selector> <port>/<bind> <class>"]: [namespace,
# apiVersion, name, server index] of every Gateway server with that
# selector, listener and class (tls, http or tcp).
gateway_listeners[key] contains [ns, av, name, j] if {
	some [ns, av, name, gw] in _gateways
	some j, server in gateway.servers(gw)
	key := concat(" ", [gateway.selector_key(gw), gateway.listener(server), gateway.class(server)])
}

# gateway_tls_hosts["<selector> <port>/<bind> <host>"]: the servers with tls
# settings that serve host on that selector and listener.
gateway_tls_hosts[key] contains [ns, av, name, j] if {
	some [ns, av, name, gw] in _gateways
	some j, server in gateway.servers(gw)
	gateway.has_tls(server)
	some host in gateway.hosts(server)
	key := concat(" ", [gateway.selector_key(gw), gateway.listener(server), host])
}

# gateway_certificates["<port>/<bind> <certificate>"]: the terminating
# servers presenting that certificate on that listener, whatever their selector.
gateway_certificates[key] contains [ns, av, name, j] if {
	some [ns, av, name, gw] in _gateways
	some j, server in gateway.servers(gw)
	gateway.terminates(server)
	some certificate in gateway.certificates(server)
	key := concat(" ", [gateway.listener(server), certificate])
}

# Where pods and pod templates keep their labels, by group and kind.
_pod_label_paths := {
	"": {"Pod": ["metadata", "labels"]},
	"apps": {
		"Deployment": ["spec", "template", "metadata", "labels"],
		"StatefulSet": ["spec", "template", "metadata", "labels"],
		"DaemonSet": ["spec", "template", "metadata", "labels"],
		"ReplicaSet": ["spec", "template", "metadata", "labels"],
	},
	"batch": {
		"Job": ["spec", "template", "metadata", "labels"],
		"CronJob": ["spec", "jobTemplate", "spec", "template", "metadata", "labels"],
	},
}

# pod_sources_by_label[ns]["key=value"]: [apiVersion, kind, name] of the
# Pods and pod-template workloads of ns whose pods carry that label, so
# that a selector finds its pods without walking the namespace.
pod_sources_by_label[ns][pair] contains [av, kind, name] if {
	some ns, av
	data.inventory.namespace[ns][av]
	some kind, path in _pod_label_paths[_group_of(av)]
	some name
	obj := data.inventory.namespace[ns][av][kind][name]
	some k, v in object.get(obj, path, {})
	pair := concat("=", [k, v])
}

# pod_label_namespaces["key=value"]: the namespaces with pods carrying that
# label, so that a selector of any namespace (a gateway's, a root
# namespace's policy) finds its pods without walking every namespace.
pod_label_namespaces[pair] contains ns if {
	some ns, by_label in pod_sources_by_label
	some pair, _ in by_label
}

# pod_label_sets_by_label[ns]["key=value"]: the distinct pod label sets of
# ns that carry that label.
pod_label_sets_by_label[ns][pair] contains labels if {
	some ns, av
	data.inventory.namespace[ns][av]
	some kind, path in _pod_label_paths[_group_of(av)]
	some name
	obj := data.inventory.namespace[ns][av][kind][name]
	labels := object.get(obj, path, {})
	some k, v in labels
	pair := concat("=", [k, v])
}
