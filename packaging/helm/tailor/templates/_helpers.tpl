{{/* Names, labels and the image. */}}
{{- define "tailor.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "tailor.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "tailor.labels" -}}
app.kubernetes.io/name: {{ include "tailor.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "tailor.selector" -}}
app.kubernetes.io/name: {{ include "tailor.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "tailor.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag }}
{{- end -}}
{{- end -}}

{{/* The Secret and key holding the database URL. */}}
{{- define "tailor.databaseSecret" -}}
{{- .Values.database.existingSecret | default (printf "%s-database" (include "tailor.fullname" .)) -}}
{{- end -}}
{{- define "tailor.databaseSecretKey" -}}
{{- if .Values.database.existingSecret -}}{{ .Values.database.existingSecretKey }}{{- else -}}url{{- end -}}
{{- end -}}

{{/* host:port of the database, for the functions' allowed_outbound_hosts. */}}
{{- define "tailor.databaseHost" -}}
{{- if .Values.database.host -}}
{{ .Values.database.host }}
{{- else if .Values.database.existingSecret -}}
{{ fail "database.host (HOST:PORT) is required with database.existingSecret" }}
{{- else -}}
{{- $u := urlParse .Values.database.url -}}
{{- if contains ":" $u.host -}}{{ $u.host }}{{- else -}}{{ $u.host }}:5432{{- end -}}
{{- end -}}
{{- end -}}

{{/* Flags and environment every tailor process gets. */}}
{{- define "tailor.commonArgs" -}}
- --data
- /data
- --registry
- {{ .Values.registry.url | quote }}
- --poll-interval
- {{ .Values.settings.pollInterval | quote }}
- --debounce
- {{ .Values.settings.debounce | quote }}
- --max-attempts
- {{ .Values.settings.maxAttempts | quote }}
{{- if .Values.registry.insecure }}
- --insecure
{{- end }}
{{- range $host, $url := .Values.upstreams }}
- --upstream
- {{ printf "%s=%s" $host $url | quote }}
{{- end }}
{{- end -}}

{{- define "tailor.commonEnv" -}}
- name: HOME
  value: /data
- name: TAILOR_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "tailor.databaseSecret" . }}
      key: {{ include "tailor.databaseSecretKey" . }}
{{- end -}}

{{/* The webhook_endpoints variable: NAME=SECRET lines. */}}
{{- define "tailor.webhookEndpoints" -}}
{{- $lines := list -}}
{{- range $name, $secret := .Values.webhooks -}}
{{- $lines = append $lines (printf "%s=%s" $name $secret) -}}
{{- end -}}
{{- join "\n" $lines -}}
{{- end -}}
