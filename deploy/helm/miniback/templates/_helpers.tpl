{{/* The chart's name, or nameOverride. */}}
{{- define "miniback.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The resources' base name: <release>-<chart> unless the release name already holds it. */}}
{{- define "miniback.fullname" -}}
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

{{- define "miniback.selectorLabels" -}}
app.kubernetes.io/name: {{ include "miniback.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "miniback.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "miniback.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "miniback.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "miniback.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The migration Job's ServiceAccount. The Job is a pre-install hook, and Helm
creates the release's own resources (the ServiceAccount too) only after the
pre-install hooks succeed, so the Job cannot run as an account the chart
creates: migrations.job.serviceAccountName if set; else the release's account
when it is not the chart's (serviceAccount.create=false: it exists already);
else the namespace's "default". The Job mounts no token either way.
*/}}
{{- define "miniback.migrationServiceAccountName" -}}
{{- if .Values.migrations.job.serviceAccountName }}
{{- .Values.migrations.job.serviceAccountName }}
{{- else if not .Values.serviceAccount.create }}
{{- include "miniback.serviceAccountName" . }}
{{- else }}
{{- print "default" }}
{{- end }}
{{- end }}

{{- define "miniback.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The Secret the container's credentials come from. */}}
{{- define "miniback.secretName" -}}
{{- default (include "miniback.fullname" .) .Values.existingSecret }}
{{- end }}

{{/*
The variables the chart sets from its other values, so they always agree
with the pod spec: the port the probes and Service use, the shutdown timeout
terminationGracePeriodSeconds is computed from, the migration mode, a data
directory on the writable /tmp, and the metrics port (off when disabled:
miniback would otherwise listen on :9090 in production). Setting one under config or secret is
refused.
*/}}
{{- define "miniback.chartManagedEnv" -}}
- name: MINIBACK_ADDR
  value: {{ printf ":%d" (int .Values.containerPort) | quote }}
- name: MINIBACK_SHUTDOWN_TIMEOUT
  value: {{ printf "%ds" (int .Values.shutdown.timeoutSeconds) | quote }}
- name: MINIBACK_SHUTDOWN_DRAIN
  value: {{ printf "%ds" (int .Values.shutdown.drainSeconds) | quote }}
- name: MINIBACK_MIGRATE_ON_START
  value: {{ ternary "true" "false" (eq .Values.migrations.mode "onStart") | quote }}
- name: MINIBACK_DATA_DIR
  value: /tmp/miniback
- name: MINIBACK_METRICS_ADDR
  value: {{ ternary (printf ":%d" (int .Values.metrics.port)) "off" .Values.metrics.enabled | quote }}
{{- end }}

{{/* Fails on values that would render a broken or unsafe release. */}}
{{- define "miniback.validate" -}}
{{- $managed := list "MINIBACK_ADDR" "MINIBACK_SHUTDOWN_TIMEOUT" "MINIBACK_SHUTDOWN_DRAIN" "MINIBACK_MIGRATE_ON_START" "MINIBACK_DATA_DIR" "MINIBACK_METRICS_ADDR" }}
{{- range $key, $_ := merge (dict) .Values.config .Values.secret }}
{{- if has $key $managed }}
{{- fail (printf "%s is set by the chart (containerPort, shutdown.timeoutSeconds, shutdown.drainSeconds, migrations.mode, metrics.enabled and metrics.port): do not set it under config or secret" $key) }}
{{- end }}
{{- end }}
{{- range $key, $_ := .Values.secret }}
{{- if hasKey $.Values.config $key }}
{{- fail (printf "%s is under both config and secret" $key) }}
{{- end }}
{{- end }}
{{- if not (has .Values.migrations.mode (list "onStart" "job")) }}
{{- fail (printf "migrations.mode must be onStart or job, not %q" .Values.migrations.mode) }}
{{- end }}
{{- if and (eq .Values.migrations.mode "job") (not .Values.existingSecret) }}
{{- fail "migrations.mode=job needs existingSecret: the hook Job runs before the chart's own Secret exists" }}
{{- end }}
{{- if and (eq .Values.migrations.mode "job") .Values.serviceAccount.create (eq (include "miniback.migrationServiceAccountName" .) (include "miniback.serviceAccountName" .)) }}
{{- fail (printf "migrations.job.serviceAccountName is %s, the ServiceAccount the chart creates: it does not exist yet when the pre-install hook Job runs; name an existing account, or leave it empty" (include "miniback.serviceAccountName" .)) }}
{{- end }}
{{- if and .Values.metrics.enabled (eq (int .Values.metrics.port) (int .Values.containerPort)) }}
{{- fail "metrics.port must differ from containerPort: metrics never share the API's listener" }}
{{- end }}
{{- if lt (int .Values.shutdown.timeoutSeconds) 1 }}
{{- fail "shutdown.timeoutSeconds must be at least 1" }}
{{- end }}
{{- end }}

{{/* terminationGracePeriodSeconds: preStop sleep + miniback's own drain + shutdown timeout + margin. */}}
{{- define "miniback.terminationGracePeriodSeconds" -}}
{{- add (int .Values.shutdown.preStopSleepSeconds) (int .Values.shutdown.drainSeconds) (int .Values.shutdown.timeoutSeconds) (int .Values.shutdown.marginSeconds) }}
{{- end }}

{{/* The non-empty config values as env entries (the migration Job's, which runs before the ConfigMap exists). */}}
{{- define "miniback.configEnv" -}}
{{- range $key, $value := .Values.config }}
{{- if ne (toString $value) "" }}
- name: {{ $key }}
  value: {{ include "miniback.envString" $value | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/* Pod-level settings the Deployment and the migration Job share (not the ServiceAccount). */}}
{{- define "miniback.podCommon" -}}
automountServiceAccountToken: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{- define "miniback.volumes" -}}
- name: tmp
  emptyDir:
    {{- with .Values.tmpVolume.sizeLimit }}
    sizeLimit: {{ . }}
    {{- end }}
{{- with .Values.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "miniback.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- with .Values.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
A value as an environment variable's text. YAML numbers reach templates as
float64, which toString would print as 1.048576e+06: a whole number is
printed as an integer.
*/}}
{{- define "miniback.envString" -}}
{{- if and (kindIs "float64" .) (eq . (float64 (int64 .))) }}
{{- int64 . | toString }}
{{- else }}
{{- toString . }}
{{- end }}
{{- end }}
