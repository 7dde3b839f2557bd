{{/*
The chart name, or nameOverride.
*/}}
{{- define "payment-orchestrator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name of the release's resources: fullnameOverride, else <release>-<chart>
(just <release> when it already contains the chart name), at most 63 characters.
*/}}
{{- define "payment-orchestrator.fullname" -}}
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

{{/*
A name derived from the full name with a suffix, still at most 63 characters.
Usage: include "payment-orchestrator.suffixedName" (list . "worker")
*/}}
{{- define "payment-orchestrator.suffixedName" -}}
{{- $root := index . 0 }}
{{- $suffix := index . 1 }}
{{- $full := include "payment-orchestrator.fullname" $root }}
{{- printf "%s-%s" ($full | trunc (int (sub 62 (len $suffix))) | trimSuffix "-") $suffix }}
{{- end }}

{{/*
chart-version, for the helm.sh/chart label.
*/}}
{{- define "payment-orchestrator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every resource (app.kubernetes.io/* and commonLabels).
*/}}
{{- define "payment-orchestrator.labels" -}}
helm.sh/chart: {{ include "payment-orchestrator.chart" . }}
{{ include "payment-orchestrator.selectorLabels" . }}
app.kubernetes.io/version: {{ default .Chart.AppVersion .Values.image.tag | trunc 63 | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: {{ include "payment-orchestrator.name" . }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Selector labels: name and instance. Workloads add app.kubernetes.io/component
(server, worker, migration) so that their selectors never overlap.
*/}}
{{- define "payment-orchestrator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "payment-orchestrator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The image: repository[:tag][@digest]; the tag defaults to the chart's appVersion.
*/}}
{{- define "payment-orchestrator.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/*
The ServiceAccount the server and reconciler pods run as.
*/}}
{{- define "payment-orchestrator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "payment-orchestrator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The ServiceAccount of the migration hook: the chart's own does not exist yet
when a pre-install hook runs, so it is used only when it is not created here.
*/}}
{{- define "payment-orchestrator.migration.serviceAccountName" -}}
{{- if .Values.migration.serviceAccountName }}
{{- .Values.migration.serviceAccountName }}
{{- else if not .Values.serviceAccount.create }}
{{- default "default" .Values.serviceAccount.name }}
{{- else }}
{{- "default" }}
{{- end }}
{{- end }}

{{/*
The Secret the pods read secret settings from: existingSecret, the target of
the ExternalSecret, or the chart's own.
*/}}
{{- define "payment-orchestrator.secretName" -}}
{{- if .Values.existingSecret }}
{{- .Values.existingSecret }}
{{- else if and .Values.externalSecret.enabled .Values.externalSecret.targetName }}
{{- .Values.externalSecret.targetName }}
{{- else }}
{{- include "payment-orchestrator.fullname" . }}
{{- end }}
{{- end }}

{{/*
The Secret the migration hook reads DATABASE_URL from. The release's own Secret
(or ExternalSecret) is created only after pre-install hooks have run, so the
hook gets its own hook-scoped copy (weight -10, before the Job's -5); an
existingSecret exists before the release and is used directly.
*/}}
{{- define "payment-orchestrator.migration.secretName" -}}
{{- if .Values.existingSecret }}
{{- .Values.existingSecret }}
{{- else }}
{{- include "payment-orchestrator.suffixedName" (list . "migration") }}
{{- end }}
{{- end }}

{{/*
The secret settings: environment variable -> value, for the chart's Secret.
DATABASE_URL and REDIS_URL always, a provider's credential when it is enabled.
*/}}
{{- define "payment-orchestrator.secretEnv" -}}
{{- $p := .Values.providers }}
DATABASE_URL: {{ .Values.database.url | quote }}
REDIS_URL: {{ .Values.redis.url | quote }}
{{- if $p.bizon.enabled }}
BIZON_PASSWORD: {{ $p.bizon.password | quote }}
{{- end }}
{{- if $p.paysuper.enabled }}
PAYSUPER_SECRET_KEY: {{ $p.paysuper.secretKey | quote }}
{{- end }}
{{- if $p.proxySolutions.enabled }}
PROXY_SOLUTIONS_API_KEY: {{ $p.proxySolutions.apiKey | quote }}
{{- end }}
{{- if $p.send2sell.enabled }}
SEND2SELL_TOKEN: {{ $p.send2sell.token | quote }}
{{- end }}
{{- end }}

{{/*
The secret settings: environment variable -> its externalSecret.remoteRefs
entry, for the ExternalSecret (same keys as payment-orchestrator.secretEnv).
*/}}
{{- define "payment-orchestrator.secretRemoteRefs" -}}
{{- $p := .Values.providers }}
{{- $r := .Values.externalSecret.remoteRefs }}
{{- $refs := dict "DATABASE_URL" $r.databaseUrl "REDIS_URL" $r.redisUrl }}
{{- if $p.bizon.enabled }}{{ $_ := set $refs "BIZON_PASSWORD" $r.bizonPassword }}{{ end }}
{{- if $p.paysuper.enabled }}{{ $_ := set $refs "PAYSUPER_SECRET_KEY" $r.paysuperSecretKey }}{{ end }}
{{- if $p.proxySolutions.enabled }}{{ $_ := set $refs "PROXY_SOLUTIONS_API_KEY" $r.proxySolutionsApiKey }}{{ end }}
{{- if $p.send2sell.enabled }}{{ $_ := set $refs "SEND2SELL_TOKEN" $r.send2sellToken }}{{ end }}
{{- toYaml $refs }}
{{- end }}

{{/*
One ExternalSecret data entry. Usage: include "payment-orchestrator.externalSecretData" (list "DATABASE_URL" $ref)
*/}}
{{- define "payment-orchestrator.externalSecretData" -}}
{{- $name := index . 0 }}
{{- $ref := index . 1 -}}
- secretKey: {{ $name }}
  remoteRef:
    key: {{ $ref.key | quote }}
    {{- if $ref.property }}
    property: {{ $ref.property | quote }}
    {{- end }}
{{- end }}

{{/*
The longest call of any enabled provider, in seconds: its totalTimeoutSeconds,
else 3 connects (two are retried) and 2 reads, as service.settings.total_timeout
computes it.
*/}}
{{- define "payment-orchestrator.longestCallSeconds" -}}
{{- $longest := 0.0 }}
{{- range $name, $p := .Values.providers }}
{{- if $p.enabled }}
{{- if $p.totalTimeoutSeconds }}
{{- $longest = maxf $longest $p.totalTimeoutSeconds }}
{{- else }}
{{- $longest = maxf $longest (addf (mulf $p.connectTimeoutSeconds 3) (mulf $p.timeoutSeconds 2)) }}
{{- end }}
{{- end }}
{{- end }}
{{- $longest }}
{{- end }}

{{/*
Fail on values that make no working release (the schema checks types and
ranges; these are the checks across values). Included by the ConfigMap, which
is always rendered.
*/}}
{{- define "payment-orchestrator.validateValues" -}}
{{- $shutdown := .Values.server.shutdown }}
{{- $longest := include "payment-orchestrator.longestCallSeconds" . | float64 }}
{{- if le (float64 $shutdown.timeoutSeconds) $longest }}
{{- fail (printf "server.shutdown.timeoutSeconds (%v) must be longer than the longest provider call (%v s: totalTimeoutSeconds, by default 3 x connectTimeoutSeconds + 2 x timeoutSeconds); the service refuses to start otherwise" $shutdown.timeoutSeconds $longest) }}
{{- end }}
{{- if le (float64 $shutdown.terminationGracePeriodSeconds) (addf $shutdown.preStopSleepSeconds $shutdown.timeoutSeconds) }}
{{- fail (printf "server.shutdown.terminationGracePeriodSeconds (%v) must be longer than preStopSleepSeconds + timeoutSeconds (%v + %v)" $shutdown.terminationGracePeriodSeconds $shutdown.preStopSleepSeconds $shutdown.timeoutSeconds) }}
{{- end }}
{{- if and .Values.worker.enabled (not .Values.worker.inProcess) (le (float64 .Values.worker.terminationGracePeriodSeconds) $longest) }}
{{- fail (printf "worker.terminationGracePeriodSeconds (%v) must be longer than the longest provider call (%v s)" .Values.worker.terminationGracePeriodSeconds $longest) }}
{{- end }}
{{- if and .Values.existingSecret .Values.externalSecret.enabled }}
{{- fail "existingSecret and externalSecret.enabled are exclusive: choose where the secret settings come from" }}
{{- end }}
{{- if and .Values.externalSecret.enabled (not .Values.externalSecret.secretStoreRef.name) }}
{{- fail "externalSecret.secretStoreRef.name is required with externalSecret.enabled" }}
{{- end }}
{{- if .Values.externalSecret.enabled }}
{{- range $env, $ref := include "payment-orchestrator.secretRemoteRefs" . | fromYaml }}
{{- if not $ref.key }}
{{- fail (printf "externalSecret.remoteRefs: the key of %s is required (it is needed with the enabled providers)" $env) }}
{{- end }}
{{- end }}
{{- end }}
{{- $p := .Values.providers }}
{{- range $name, $provider := $p }}
{{- if and $provider.enabled (not $provider.baseUrl) }}
{{- fail (printf "providers.%s.baseUrl is required when providers.%s.enabled" $name $name) }}
{{- end }}
{{- if and $provider.totalTimeoutSeconds (lt (float64 $provider.totalTimeoutSeconds) (addf $provider.connectTimeoutSeconds $provider.timeoutSeconds)) }}
{{- fail (printf "providers.%s.totalTimeoutSeconds (%v) must be at least one attempt: connectTimeoutSeconds + timeoutSeconds (%v + %v)" $name $provider.totalTimeoutSeconds $provider.connectTimeoutSeconds $provider.timeoutSeconds) }}
{{- end }}
{{- end }}
{{- if and $p.bizon.enabled (not $p.bizon.login) }}
{{- fail "providers.bizon.login is required when providers.bizon.enabled" }}
{{- end }}
{{- if not (or .Values.existingSecret .Values.externalSecret.enabled) }}
{{- if and $p.paysuper.enabled (not $p.paysuper.secretKey) }}
{{- fail "providers.paysuper.secretKey is required when providers.paysuper.enabled (or use existingSecret / externalSecret)" }}
{{- end }}
{{- if and $p.proxySolutions.enabled (not $p.proxySolutions.apiKey) }}
{{- fail "providers.proxySolutions.apiKey is required when providers.proxySolutions.enabled (or use existingSecret / externalSecret)" }}
{{- end }}
{{- if and $p.send2sell.enabled (not $p.send2sell.token) }}
{{- fail "providers.send2sell.token is required when providers.send2sell.enabled (or use existingSecret / externalSecret)" }}
{{- end }}
{{- end }}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) }}
{{- fail "autoscaling.minReplicas must not exceed autoscaling.maxReplicas" }}
{{- end }}
{{- if and .Values.autoscaling.enabled (not (or .Values.autoscaling.targetCPUUtilizationPercentage .Values.autoscaling.targetMemoryUtilizationPercentage)) }}
{{- fail "autoscaling needs targetCPUUtilizationPercentage or targetMemoryUtilizationPercentage" }}
{{- end }}
{{- end }}

{{/*
Whether the reconciler runs as its own Deployment.
*/}}
{{- define "payment-orchestrator.worker.deployed" -}}
{{- if and .Values.worker.enabled (not .Values.worker.inProcess) }}true{{ end }}
{{- end }}

{{/*
The volumes every pod of the chart mounts: /tmp (the root filesystem is read-only).
*/}}
{{- define "payment-orchestrator.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
{{- end }}
