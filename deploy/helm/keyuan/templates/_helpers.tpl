{{/*
Naming and labels. Per-service helpers take a dict: (dict "root" $ "name" "customer" "svc" $svc).
*/}}

{{- define "keyuan.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "keyuan.fullname" -}}
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

{{- define "keyuan.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels shared by every object of the release. */}}
{{- define "keyuan.labels" -}}
helm.sh/chart: {{ include "keyuan.chart" . }}
app.kubernetes.io/name: {{ include "keyuan.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: keyuan
{{- end }}

{{/* Selector labels of the whole release (every component). */}}
{{- define "keyuan.releaseSelectorLabels" -}}
app.kubernetes.io/name: {{ include "keyuan.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Resource name of one service: <fullname>-<name>. */}}
{{- define "keyuan.componentName" -}}
{{- printf "%s-%s" (include "keyuan.fullname" .root) .name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "keyuan.componentSelectorLabels" -}}
{{ include "keyuan.releaseSelectorLabels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{- define "keyuan.componentLabels" -}}
{{ include "keyuan.labels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{/* Python module and env prefix derived from the service key. */}}
{{- define "keyuan.module" -}}
{{- printf "crm_%s" (.name | replace "-" "_") }}
{{- end }}

{{- define "keyuan.envPrefix" -}}
{{- printf "CRM_%s_" (.name | replace "-" "_" | upper) }}
{{- end }}

{{- define "keyuan.image" -}}
{{- $root := .root }}
{{- $img := .svc.image | default dict }}
{{- $repo := $img.repository | default (printf "%s/%s" (trimSuffix "/" $root.Values.image.registry) .name) }}
{{- $tag := $img.tag | default $root.Values.image.tag | default $root.Chart.AppVersion }}
{{- printf "%s:%s" $repo (toString $tag) }}
{{- end }}

{{/* Name and port of the port Prometheus scrapes: `metrics` if defined, else `http`. */}}
{{- define "keyuan.metricsPortName" -}}
{{- if .svc.ports.metrics }}metrics{{ else }}http{{ end }}
{{- end }}

{{/* The service's main port name: grpc or http. */}}
{{- define "keyuan.mainPortName" -}}
{{- if eq .svc.type "grpc" }}grpc{{ else if eq .svc.type "http" }}http{{ else }}{{ fail (printf "services.%s.type must be grpc or http" .name) }}{{ end }}
{{- end }}

{{/*
Plain (non-secret) settings of one service as a YAML map: the ConfigMap's data, and the
inline env of its migration Job (a pre-install hook runs before the ConfigMap exists).
*/}}
{{- define "keyuan.configData" -}}
{{- $root := .root }}
{{- $name := .name }}
{{- $svc := .svc }}
{{- $prefix := include "keyuan.envPrefix" . }}
{{- $data := dict }}
{{- $_ := set $data "CRM_NATS_URL" (toString $root.Values.nats.url) }}
{{- $_ := set $data "CRM_STREAM_REPLICAS" (toString $root.Values.nats.streamReplicas) }}
{{- $_ := set $data "CRM_LOG_LEVEL" (toString $root.Values.logLevel) }}
{{- $_ := set $data "CRM_LOG_JSON" (toString $root.Values.logJson | lower) }}
{{- $_ := set $data "CRM_STATE_DIR" "/tmp/keyuan" }}
{{- $_ := set $data "CRM_IDENTITY_PUBLIC_KEY_FILE" (printf "%s/%s" $root.Values.identity.mountPath $root.Values.identity.publicKeyKey) }}
{{- if ($svc.identity | default dict).sign }}
{{- $_ := set $data "CRM_IDENTITY_PRIVATE_KEY_FILE" (printf "%s/%s" $root.Values.identity.mountPath $root.Values.identity.privateKeyKey) }}
{{- end }}
{{- if $root.Values.otlpEndpoint }}
{{- $_ := set $data "OTEL_EXPORTER_OTLP_ENDPOINT" (toString $root.Values.otlpEndpoint) }}
{{- $_ := set $data "OTEL_SERVICE_NAME" (printf "keyuan-%s" $name) }}
{{- end }}
{{- if eq $svc.type "grpc" }}
{{- $_ := set $data (printf "%sGRPC_HOST" $prefix) (toString $root.Values.grpcBindHost) }}
{{- $_ := set $data (printf "%sGRPC_PORT" $prefix) (toString $svc.ports.grpc) }}
{{- if $svc.ports.metrics }}
{{- $_ := set $data (printf "%sMETRICS_PORT" $prefix) (toString $svc.ports.metrics) }}
{{- end }}
{{- end }}
{{- range $peer := $svc.upstreams | default list }}
{{- $peerSvc := get $root.Values.services $peer }}
{{- if not $peerSvc }}
{{- fail (printf "services.%s.upstreams: unknown service %q" $name $peer) }}
{{- end }}
{{- if ne $peerSvc.type "grpc" }}
{{- fail (printf "services.%s.upstreams: %q is not a gRPC service" $name $peer) }}
{{- end }}
{{- if $peerSvc.enabled }}
{{- $addr := printf "%s:%v" (include "keyuan.componentName" (dict "root" $root "name" $peer)) $peerSvc.ports.grpc }}
{{- $_ := set $data (printf "%s%s_ADDR" $prefix ($peer | replace "-" "_" | upper)) $addr }}
{{- end }}
{{- end }}
{{- range $k, $v := $root.Values.config }}
{{- $_ := set $data $k (toString $v) }}
{{- end }}
{{- range $k, $v := $svc.config }}
{{- $_ := set $data $k (toString $v) }}
{{- end }}
{{- toYaml $data }}
{{- end }}

{{/* Secret-backed env of one service (database URL, bootstrap admin password). */}}
{{- define "keyuan.secretEnv" -}}
{{- $root := .root }}
{{- $svc := .svc -}}
- name: {{ include "keyuan.envPrefix" . }}DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ required "database.existingSecret is required" $root.Values.database.existingSecret }}
      key: {{ ($svc.database | default dict).secretKey | default .name }}
{{- if and $svc.bootstrapAdmin $root.Values.bootstrapAdmin.existingSecret }}
- name: CRM_BOOTSTRAP_ADMIN_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.bootstrapAdmin.existingSecret }}
      key: {{ $root.Values.bootstrapAdmin.key }}
{{- end }}
{{- end }}

{{/* Pod-level settings shared by Deployments and migration Jobs. */}}
{{- define "keyuan.podCommon" -}}
{{- $root := .root }}
{{- $svc := .svc -}}
automountServiceAccountToken: false
enableServiceLinks: false
{{- with $root.Values.serviceAccountName }}
serviceAccountName: {{ . }}
{{- end }}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml $root.Values.podSecurityContext | nindent 2 }}
{{- with ($svc.nodeSelector | default $root.Values.nodeSelector) }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with ($svc.tolerations | default $root.Values.tolerations) }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- end }}

{{/* The identity key volume: public key for everyone, private key only for signers. */}}
{{- define "keyuan.identityVolume" -}}
{{- $root := .root }}
{{- $svc := .svc -}}
- name: identity
  projected:
    # 0440 + fsGroup: readable by the non-root user only.
    defaultMode: 0440
    sources:
      - secret:
          name: {{ required "identity.existingSecret is required" $root.Values.identity.existingSecret }}
          items:
            - key: {{ $root.Values.identity.publicKeyKey }}
              path: {{ $root.Values.identity.publicKeyKey }}
      {{- if ($svc.identity | default dict).sign }}
      # Only the signer (the gateway) gets the private key.
      - secret:
          name: {{ $root.Values.identity.privateKeyExistingSecret | default $root.Values.identity.existingSecret }}
          items:
            - key: {{ $root.Values.identity.privateKeyKey }}
              path: {{ $root.Values.identity.privateKeyKey }}
      {{- end }}
{{- end }}
