{{/*
The mesh-webhook flags, one per line, from the values. `mesh-webhook --help`
documents each flag.
*/}}
{{- define "mesh-webhook.args" -}}
- {{ printf "--port=%v" .Values.webhook.port | quote }}
- "--cert-dir=/certs"
- {{ printf "--metrics-bind-address=%s" (ternary "0" (printf ":%v" .Values.metrics.port) (eq (.Values.metrics.port | int) 0)) | quote }}
- {{ printf "--health-probe-bind-address=:%v" .Values.health.port | quote }}
- "--namespace=$(POD_NAMESPACE)"
- {{ printf "--excluded-namespaces=%s" (join "," (include "mesh-webhook.excludedNamespaces" . | fromJsonArray)) | quote }}
- {{ printf "--evaluation-timeout=%v" .Values.webhook.evaluationTimeout | quote }}
- {{ printf "--max-concurrent-reviews=%v" .Values.webhook.maxConcurrentReviews | quote }}
- {{ printf "--audit-interval=%v" .Values.audit.interval | quote }}
{{- range $id, $action := .Values.webhook.enforcementOverrides }}
- {{ printf "--enforcement-override=%s=%s" $id $action | quote }}
{{- end }}
- {{ printf "--cert-mode=%s" (ternary "external" "self" (eq .Values.certificates.mode "cert-manager")) | quote }}
- {{ printf "--webhook-config-name=%s" (include "mesh-webhook.configurationName" .) | quote }}
- {{ printf "--service-name=%s" (include "mesh-webhook.fullname" .) | quote }}
- {{ printf "--cert-secret-name=%s" (include "mesh-webhook.certSecretName" .) | quote }}
- {{ printf "--leader-elect=%t" .Values.leaderElection.enabled | quote }}
- {{ printf "--shutdown-delay=%vs" .Values.shutdownDelaySeconds | quote }}
- {{ printf "--zap-log-level=%v" .Values.logLevel | quote }}
{{- range .Values.extraArgs }}
- {{ . | quote }}
{{- end }}
{{- end }}
