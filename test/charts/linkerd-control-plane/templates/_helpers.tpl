{{/* The control plane version: linkerdVersion, else the chart's appVersion. */}}
{{- define "linkerd.version" -}}
{{ .Values.linkerdVersion | default .Chart.AppVersion }}
{{- end -}}

{{- define "linkerd.created-by" -}}
linkerd.io/created-by: linkerd/helm {{ include "linkerd.version" . }}
{{- end -}}

{{/* A control plane Deployment; pass (dict "root" $ "component" "identity"). */}}
{{- define "linkerd.deployment" -}}
{{- $root := .root -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: linkerd-{{ .component }}
  namespace: {{ $root.Release.Namespace }}
  annotations:
    {{ include "linkerd.created-by" $root }}
  labels:
    app.kubernetes.io/name: {{ .component }}
    app.kubernetes.io/part-of: Linkerd
    app.kubernetes.io/version: {{ include "linkerd.version" $root }}
    linkerd.io/control-plane-component: {{ .component }}
    linkerd.io/control-plane-ns: {{ $root.Release.Namespace }}
spec:
  replicas: {{ $root.Values.controllerReplicas }}
  selector:
    matchLabels:
      linkerd.io/control-plane-component: {{ .component }}
      linkerd.io/control-plane-ns: {{ $root.Release.Namespace }}
  template:
    metadata:
      annotations:
        {{ include "linkerd.created-by" $root }}
      labels:
        linkerd.io/control-plane-component: {{ .component }}
        linkerd.io/control-plane-ns: {{ $root.Release.Namespace }}
        linkerd.io/workload-ns: {{ $root.Release.Namespace }}
    spec:
      containers:
      - name: {{ .container | default .component }}
        image: {{ $root.Values.controllerImage }}:{{ include "linkerd.version" $root }}
        imagePullPolicy: {{ $root.Values.imagePullPolicy }}
        args:
        - {{ .component }}
        - -controller-namespace={{ $root.Release.Namespace }}
        - -identity-trust-domain={{ $root.Values.identityTrustDomain | default $root.Values.clusterDomain }}
        securityContext:
          runAsUser: {{ $root.Values.controllerUID }}
          allowPrivilegeEscalation: false
        {{- with .volumeMounts }}
        volumeMounts:
          {{- toYaml . | nindent 8 }}
        {{- end }}
      serviceAccountName: linkerd-{{ .component }}
      {{- with .volumes }}
      volumes:
        {{- toYaml . | nindent 6 }}
      {{- end }}
{{- end -}}
