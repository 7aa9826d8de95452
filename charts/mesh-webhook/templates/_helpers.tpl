{{/* Chart name, at most 63 characters (a DNS label). */}}
{{- define "mesh-webhook.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name of the objects. The release name alone when it already contains the
chart name, so `kubectl mesh webhook install` (release mesh-webhook) gives
plain mesh-webhook names.
*/}}
{{- define "mesh-webhook.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "mesh-webhook.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "mesh-webhook.labels" -}}
helm.sh/chart: {{ include "mesh-webhook.chart" . }}
{{ include "mesh-webhook.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kubectl-mesh
{{- end }}

{{- define "mesh-webhook.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mesh-webhook.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "mesh-webhook.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "mesh-webhook.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "mesh-webhook.configurationName" -}}
{{- default (include "mesh-webhook.fullname" .) .Values.webhook.configurationName }}
{{- end }}

{{- define "mesh-webhook.certSecretName" -}}
{{- default (printf "%s-certs" (include "mesh-webhook.fullname" .)) .Values.certificates.secretName }}
{{- end }}

{{- define "mesh-webhook.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Excluded namespaces: the configured ones and the release namespace. */}}
{{- define "mesh-webhook.excludedNamespaces" -}}
{{- $ns := .Values.webhook.excludedNamespaces | default list }}
{{- if not (has .Release.Namespace $ns) }}
{{- $ns = append $ns .Release.Namespace }}
{{- end }}
{{- toJson $ns }}
{{- end }}

{{/*
Fails the render on settings that would break admission: the webhook must
answer before the apiserver gives up on it.
*/}}
{{- define "mesh-webhook.validate" -}}
{{- $timeout := .Values.webhook.timeoutSeconds | int }}
{{- if or (lt $timeout 1) (gt $timeout 30) }}
{{- fail (printf "webhook.timeoutSeconds: %d is outside 1-30, the range the apiserver accepts" $timeout) }}
{{- end }}
{{- $eval := .Values.webhook.evaluationTimeout | toString }}
{{- $evalSeconds := 0.0 }}
{{- if regexMatch "^[0-9]+(\\.[0-9]+)?ms$" $eval }}
{{- $evalSeconds = divf (trimSuffix "ms" $eval | float64) 1000 }}
{{- else if regexMatch "^[0-9]+(\\.[0-9]+)?s$" $eval }}
{{- $evalSeconds = trimSuffix "s" $eval | float64 }}
{{- else }}
{{- fail (printf "webhook.evaluationTimeout: %q is not a duration in s or ms, for example 3s" $eval) }}
{{- end }}
{{- if ge $evalSeconds ($timeout | float64) }}
{{- fail (printf "webhook.evaluationTimeout: %s must be shorter than webhook.timeoutSeconds (%ds), or the apiserver gives up before the webhook answers" $eval $timeout) }}
{{- end }}
{{- if and .Values.metrics.serviceMonitor.enabled (not .Values.metrics.service.enabled) }}
{{- fail "metrics.serviceMonitor.enabled needs metrics.service.enabled: the ServiceMonitor selects the metrics Service" }}
{{- end }}
{{- if and .Values.metrics.service.enabled (eq (.Values.metrics.port | int) 0) }}
{{- fail "metrics.service.enabled needs metrics.port: port 0 turns the /metrics endpoint off" }}
{{- end }}
{{- end }}
