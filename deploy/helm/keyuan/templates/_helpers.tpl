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

{{/*
<repository>:<tag>, or <repository>@<digest> when a digest is pinned (the service's own, else
image.digest; the tag is then only informative and left out so that nothing but the digest
decides what runs).
*/}}
{{- define "keyuan.image" -}}
{{- $root := .root }}
{{- $img := .svc.image | default dict }}
{{- $repo := $img.repository | default (printf "%s/%s" (trimSuffix "/" $root.Values.image.registry) .name) }}
{{- $digest := $img.digest | default $root.Values.image.digest }}
{{- if $digest }}
{{- printf "%s@%s" $repo $digest }}
{{- else }}
{{- $tag := $img.tag | default $root.Values.image.tag | default $root.Chart.AppVersion }}
{{- printf "%s:%s" $repo (toString $tag) }}
{{- end }}
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
{{- $_ := set $data (printf "%sSECRET_KEY_FILE" $prefix) (printf "%s/%s" $root.Values.identity.mountPath $root.Values.identity.sealKeyKey) }}
{{- end }}
{{- with include "keyuan.personalDataKey" . }}
{{- $_ := set $data (printf "%sPERSONAL_DATA_KEYS_FILE" $prefix) (printf "%s/%s" $root.Values.personalData.mountPath .) }}
{{- end }}
{{- if ($svc.storage | default dict).enabled }}
{{- $s3 := $root.Values.storage.s3 }}
{{- $_ := set $data "CRM_STORAGE_BACKEND" "s3" }}
{{- $_ := set $data "CRM_STORAGE_S3_BUCKET" (required (printf "storage.s3.bucket is required: services.%s.storage.enabled is true" $name) $s3.bucket) }}
{{- $_ := set $data "CRM_STORAGE_S3_ENDPOINT" (toString $s3.endpoint) }}
{{- $_ := set $data "CRM_STORAGE_S3_REGION" (toString $s3.region) }}
{{- $_ := set $data "CRM_STORAGE_S3_PATH_STYLE" (toString $s3.pathStyle | lower) }}
{{- $_ := set $data "CRM_STORAGE_S3_PREFIX" (toString $s3.prefix) }}
{{- end }}
{{- if $root.Values.otlpEndpoint }}
{{- $_ := set $data "OTEL_EXPORTER_OTLP_ENDPOINT" (toString $root.Values.otlpEndpoint) }}
{{- $_ := set $data "OTEL_SERVICE_NAME" (printf "keyuan-%s" $name) }}
{{- end }}
{{- if eq $svc.type "grpc" }}
{{- $_ := set $data (printf "%sGRPC_HOST" $prefix) (toString $root.Values.grpcBindHost) }}
{{- $_ := set $data (printf "%sGRPC_PORT" $prefix) (toString $svc.ports.grpc) }}
{{- else }}
{{- /* From ports.http, so that the process listens where the Service and probes point. */}}
{{- $_ := set $data (printf "%sHTTP_HOST" $prefix) (toString $root.Values.httpBindHost) }}
{{- $_ := set $data (printf "%sHTTP_PORT" $prefix) (toString $svc.ports.http) }}
{{- end }}
{{- if $svc.ports.metrics }}
{{- $_ := set $data (printf "%sMETRICS_PORT" $prefix) (toString $svc.ports.metrics) }}
{{- end }}
{{- range $peer := $svc.upstreams | default list }}
{{- /* A missing, disabled or non-gRPC upstream fails the render in keyuan.validate. */}}
{{- $peerSvc := get $root.Values.services $peer }}
{{- if and $peerSvc $peerSvc.enabled (eq $peerSvc.type "grpc") }}
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
{{- $s3 := $root.Values.storage.s3 }}
{{- /* Not for migration Jobs: they touch no objects. */}}
{{- if and ($svc.storage | default dict).enabled $s3.existingSecret (not .migration) }}
- name: CRM_STORAGE_S3_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ $s3.existingSecret }}
      key: {{ $s3.accessKeyIdKey }}
- name: CRM_STORAGE_S3_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $s3.existingSecret }}
      key: {{ $s3.secretAccessKeyKey }}
{{- end }}
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
            - key: {{ $root.Values.identity.sealKeyKey }}
              path: {{ $root.Values.identity.sealKeyKey }}
      {{- end }}
{{- end }}

{{/*
The component's own NATS user (crmkit.natsauth): a file from nats.auth.existingSecret, for every
component (each runs the kit's relay and consumers; the gateway publishes user_changed and keeps
the notification inbox). Empty when NATS authentication is off. Returns the key in the Secret, which is also the file's name.
*/}}
{{- define "keyuan.natsCredentialKey" -}}
{{- $auth := .root.Values.nats.auth }}
{{- if $auth.existingSecret }}
{{- $suffix := ternary "nk" "creds" (eq $auth.type "nkey") }}
{{- (.svc.nats | default dict).secretKey | default (printf "%s.%s" .name $suffix) }}
{{- end }}
{{- end }}

{{/* The env variable pointing at the credential file (Deployment only: migrations use no NATS). */}}
{{- define "keyuan.natsEnv" -}}
{{- $key := include "keyuan.natsCredentialKey" . }}
{{- if $key -}}
{{- $auth := .root.Values.nats.auth -}}
- name: {{ ternary "CRM_NATS_NKEY_SEED_FILE" "CRM_NATS_CREDS_FILE" (eq $auth.type "nkey") }}
  value: {{ printf "%s/%s" $auth.mountPath $key | quote }}
{{- end }}
{{- end }}

{{- define "keyuan.natsVolumeMount" -}}
{{- if include "keyuan.natsCredentialKey" . -}}
- name: nats-credentials
  mountPath: {{ .root.Values.nats.auth.mountPath }}
  readOnly: true
{{- end }}
{{- end }}

{{/* Only this service's own key of the Secret: a pod never holds another service's NATS user. */}}
{{- define "keyuan.natsVolume" -}}
{{- $key := include "keyuan.natsCredentialKey" . }}
{{- if $key -}}
- name: nats-credentials
  secret:
    secretName: {{ .root.Values.nats.auth.existingSecret }}
    # 0440 + fsGroup: readable by the non-root user only.
    defaultMode: 0440
    items:
      - key: {{ $key }}
        path: {{ $key }}
{{- end }}
{{- end }}

{{/*
The service's personal-data keyring (crmkit.pii), for services with personalData.enabled: its key
in personalData.existingSecret, which is also the file's name under personalData.mountPath.
Empty for the other services. Fails when no Secret is named: the chart never generates a keyring
(a fresh one would leave the data sealed under the real one unreadable).
*/}}
{{- define "keyuan.personalDataKey" -}}
{{- $pd := .svc.personalData | default dict }}
{{- if $pd.enabled }}
{{- $_ := required (printf "personalData.existingSecret is required: services.%s.personalData.enabled is true and %s cannot run without its personal-data keyring. Create the Secret with the keyring (python -m crmkit.pii init %s.keys; see deploy/README.md, \"Personal-data keys\") and name it in personalData.existingSecret; the chart never generates one" .name .name .name) (.root.Values.personalData | default dict).existingSecret }}
{{- $pd.secretKey | default (printf "%s.keys" .name) }}
{{- end }}
{{- end }}

{{/* Mounted in the Deployment and the migration Job alike: migrations seal existing data. */}}
{{- define "keyuan.personalDataVolumeMount" -}}
{{- if include "keyuan.personalDataKey" . -}}
- name: personal-data
  mountPath: {{ .root.Values.personalData.mountPath }}
  readOnly: true
{{- end }}
{{- end }}

{{/* Only this service's own keyring of the Secret: a pod never holds another service's keys. */}}
{{- define "keyuan.personalDataVolume" -}}
{{- $key := include "keyuan.personalDataKey" . }}
{{- if $key -}}
- name: personal-data
  secret:
    secretName: {{ .root.Values.personalData.existingSecret }}
    # 0440 + fsGroup: readable by the non-root user only.
    defaultMode: 0440
    items:
      - key: {{ $key | quote }}
        path: {{ $key | quote }}
{{- end }}
{{- end }}

{{/*
Checks across values that values.schema.json cannot express. Rendered once (validate.yaml);
a failure stops `helm install/upgrade/template` with the message.
*/}}
{{- define "keyuan.validate" -}}
{{- $root := . }}
{{- $services := .Values.services | default dict }}
{{- $digestRepos := dict }}
{{- range $name, $svc := $services }}
{{- if $svc.enabled }}
{{- range $peer := $svc.upstreams | default list }}
{{- $peerSvc := get $services $peer }}
{{- if not $peerSvc }}
{{- fail (printf "services.%s.upstreams lists %q, but there is no services.%s: add it, or remove %q from services.%s.upstreams" $name $peer $peer $peer $name) }}
{{- end }}
{{- if ne $peerSvc.type "grpc" }}
{{- fail (printf "services.%s.upstreams lists %q, which is not a gRPC service (type %q)" $name $peer $peerSvc.type) }}
{{- end }}
{{- if not $peerSvc.enabled }}
{{- fail (printf "services.%s.enabled is false, but services.%s.upstreams lists %q: %s would have no address for it. Enable %s, or remove %q from services.%s.upstreams (%s then answers 503 on the routes that need it)" $peer $name $peer $name $peer $peer $name $name) }}
{{- end }}
{{- end }}
{{- $as := $svc.autoscaling | default dict }}
{{- if $as.enabled }}
{{- $min := include "keyuan.minReplicas" (dict "svc" $svc) | int }}
{{- if lt $min 1 }}
{{- fail (printf "services.%s: autoscaling needs a minimum of at least 1 replica (services.%s.replicas or autoscaling.minReplicas)" $name $name) }}
{{- end }}
{{- if gt $min (int $as.maxReplicas) }}
{{- fail (printf "services.%s: the autoscaling minimum (%d, from %s) is above autoscaling.maxReplicas (%d)" $name $min (ternary "autoscaling.minReplicas" "replicas" (hasKey $as "minReplicas")) (int $as.maxReplicas)) }}
{{- end }}
{{- end }}
{{- $img := $svc.image | default dict }}
{{- if and $root.Values.image.digest (not $img.digest) }}
{{- $repo := $img.repository | default (printf "%s/%s" (trimSuffix "/" $root.Values.image.registry) $name) }}
{{- $_ := set $digestRepos $repo $name }}
{{- end }}
{{- end }}
{{- end }}
{{- /* The test clock lets a caller move a service's time: end-to-end tests only, never here. */}}
{{- include "keyuan.refuseTestClock" (dict "where" "config" "names" (keys (.Values.config | default dict))) }}
{{- include "keyuan.refuseTestClock" (dict "where" "extraEnv" "names" (include "keyuan.envNames" .Values.extraEnv | fromJsonArray)) }}
{{- range $name, $svc := $services }}
{{- include "keyuan.refuseTestClock" (dict "where" (printf "services.%s.config" $name) "names" (keys ($svc.config | default dict))) }}
{{- include "keyuan.refuseTestClock" (dict "where" (printf "services.%s.extraEnv" $name) "names" (include "keyuan.envNames" $svc.extraEnv | fromJsonArray)) }}
{{- end }}
{{- if gt (len $digestRepos) 1 }}
{{- fail (printf "image.digest pins one image, but it would apply to %d different repositories (%s): each service has its own image, so set services.<name>.image.digest instead" (len $digestRepos) (keys $digestRepos | sortAlpha | join ", ")) }}
{{- end }}
{{- $egress := .Values.networkPolicy.egress }}
{{- if and .Values.networkPolicy.enabled $egress.restrict .Values.otlpEndpoint }}
{{- $endpointPort := regexFind ":[0-9]+(/|$)" (toString .Values.otlpEndpoint) | trimAll ":/" }}
{{- if and $endpointPort (ne (int $endpointPort) (int $egress.otlp.port)) }}
{{- fail (printf "otlpEndpoint uses port %s but networkPolicy.egress.otlp.port is %d: with networkPolicy.egress.restrict the traces would be dropped. Set networkPolicy.egress.otlp.port to %s" $endpointPort (int $egress.otlp.port) $endpointPort) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Fails when one of .names (env variable names set at .where) is a service's test-clock switch
(CRM_<NAME>_TEST_CLOCK_CONTROL, crmkit.clock_control), in any case: the services read their
settings case-insensitively.
*/}}
{{- define "keyuan.refuseTestClock" -}}
{{- range $env := .names }}
{{- if regexMatch "(?i)TEST_CLOCK_CONTROL" (toString $env) }}
{{- fail (printf "%s sets %s: the test clock lets any caller move the service's time (crm.testing.v1.ClockControlService) and is for end-to-end tests only; the chart never enables it" $.where $env) }}
{{- end }}
{{- end }}
{{- end }}

{{/* The names of a list of EnvVar objects, as a JSON array (include returns text). */}}
{{- define "keyuan.envNames" -}}
{{- $names := list }}
{{- range . }}
{{- $names = append $names (toString .name) }}
{{- end }}
{{- toJson $names }}
{{- end }}

{{/*
The HPA's minimum: autoscaling.minReplicas when given, else the service's `replicas` (so that
`replicas` keeps meaning "at least this many" when the HPA owns the replica count).
*/}}
{{- define "keyuan.minReplicas" -}}
{{- $as := .svc.autoscaling | default dict }}
{{- if hasKey $as "minReplicas" }}{{ $as.minReplicas }}{{ else if hasKey .svc "replicas" }}{{ .svc.replicas }}{{ else }}1{{ end }}
{{- end }}

{{/*
Labels of the `helm test` pods. They carry the release's selector labels, so the release's
egress policy covers them, and component "helm-test", which the services' ingress policies
admit (networkpolicy.yaml).
*/}}
{{- define "keyuan.testComponent" -}}helm-test{{- end }}

{{/* periodSeconds, failureThreshold, timeoutSeconds of one probe, with the given defaults. */}}
{{- define "keyuan.probeTiming" -}}
{{- $p := .probe | default dict -}}
periodSeconds: {{ $p.periodSeconds | default .period }}
failureThreshold: {{ $p.failureThreshold | default .failures }}
timeoutSeconds: {{ $p.timeoutSeconds | default 2 }}
{{- end }}

{{/*
Startup/liveness check of a gRPC service: the process accepts connections on its gRPC port, or,
with probes.liveness.grpcService, the grpc.health.v1 status of that service name (one that the
process keeps SERVING for as long as it runs, whatever its dependencies do).
*/}}
{{- define "keyuan.grpcAliveCheck" -}}
{{- with .liveness.grpcService -}}
grpc:
  port: {{ $.svc.ports.grpc }}
  service: {{ . | quote }}
{{- else -}}
tcpSocket:
  port: grpc
{{- end }}
{{- end }}
