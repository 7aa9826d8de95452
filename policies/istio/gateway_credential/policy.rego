# METADATA
# title: Gateway credentialName names no usable Secret
# description: |
#   A Gateway server terminating TLS with tls.credentialName gets its
#   certificate from the Secret of that name in the namespace of the gateway
#   workload (the pods spec.selector picks, in istio-system for the default
#   ingress gateway), not in the Gateway's namespace. When that Secret does
#   not exist, or holds no certificate (tls.crt, or cert for Istio's generic
#   format) that parses and is still valid, the gateway cannot serve the
#   server's hosts over TLS. Gateways whose selector matches no workload are
#   left to MESH1104. A namespace of which the inventory holds no Secret at
#   all is not judged: files seldom carry Secrets, and a cluster check that
#   may not list them sees none.
# custom:
#   id: MESH1118
#   severity: error
#   enforcement: warn
#   kinds: [networking.istio.io/Gateway]
#   inventory: [Secret, Pod, apps/Deployment, apps/StatefulSet, apps/DaemonSet, apps/ReplicaSet, batch/Job, batch/CronJob]
#   needs: [Secret]
#   aliases: [IST0101, IST0161]
#   remediation: |
#     Create the TLS Secret (kubectl create secret tls NAME --cert --key) in
#     the namespace of the gateway deployment, or fix credentialName; renew
#     an expired certificate.
package mesh.istio.gateway_credential

import data.mesh.lib.certs as x509
import data.mesh.lib.gateway
import data.mesh.lib.index
import data.mesh.lib.istio_traffic as traffic
import data.mesh.lib.k8s
import rego.v1

# The credential names of the servers, with where they are.
credentials contains [i, name] if {
	some i, server in gateway.servers(k8s.subject)
	some name in gateway.credential_names(server)
}

# The namespaces of the gateway workloads, of those where Secrets are known.
namespaces := {ns |
	some ns in traffic.gateway_namespaces(gateway.selector(k8s.subject))
	data.inventory.namespace[ns].v1.Secret
} if count(credentials) > 0

# "ns/name" names a Secret in ns; a bare name one in the workload's
# namespace; either may start with kubernetes://, which Istio removes first.
secret_ref(name, ns) := [substring(ref, 0, i), substring(ref, i + 1, -1)] if {
	ref := trim_prefix(name, "kubernetes://")
	i := indexof(ref, "/")
	i > 0
} else := [ns, trim_prefix(name, "kubernetes://")]

violation contains {"msg": msg} if {
	some [i, name] in credentials
	some ns in namespaces
	[secret_ns, secret_name] := secret_ref(name, ns)
	not data.inventory.namespace[secret_ns].v1.Secret[secret_name]
	msg := sprintf("spec.servers[%d].tls.credentialName %q: no Secret %s in namespace %s, where the gateway workload runs", [i, name, secret_name, secret_ns])
}

# The Secrets the servers name, found.
secrets[[secret_ns, secret_name]] := secret if {
	some [_, name] in credentials
	some ns in namespaces
	[secret_ns, secret_name] := secret_ref(name, ns)
	secret := data.inventory.namespace[secret_ns].v1.Secret[secret_name]
}

# What is wrong with each Secret; undefined when it is usable. The index
# parsed each Secret's certificate once (index.secret_certificates).
problems[key] := "holds no certificate (tls.crt, or cert)" if {
	some key, _ in secrets
	not index.secret_certificates[concat("/", key)]
}

problems[key] := "holds no PEM certificate that parses" if {
	some key, _ in secrets
	some cert in index.secret_certificates[concat("/", key)]
	cert.parses == false
}

problems[key] := sprintf("holds a certificate (%s) that expired on %s", [x509.cert_name(cert), cert.NotAfter]) if {
	some key, _ in secrets
	some cert in index.secret_certificates[concat("/", key)]
	x509.expired(cert, now)
}

violation contains {"msg": msg} if {
	count(problems) > 0
	some [i, name] in credentials
	some ns in namespaces
	[secret_ns, secret_name] := secret_ref(name, ns)
	problem := problems[[secret_ns, secret_name]]
	msg := sprintf("spec.servers[%d].tls.credentialName %q: Secret %s/%s %s", [i, name, secret_ns, secret_name, problem])
}

now := time.now_ns()

