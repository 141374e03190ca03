{{/*
Name of the chart, or nameOverride.
*/}}
{{- define "blockpull.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name, cut at 63 characters (some Kubernetes name fields are limited to that
by the DNS naming spec). A release name that already contains the chart name is used as is.
*/}}
{{- define "blockpull.fullname" -}}
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
Chart name and version, as used by the helm.sh/chart label.
*/}}
{{- define "blockpull.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels on every object.
*/}}
{{- define "blockpull.labels" -}}
helm.sh/chart: {{ include "blockpull.chart" . }}
{{ include "blockpull.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Selector labels: name and instance only. A Deployment's selector is immutable, so nothing that
changes between releases (such as the version) may be in it.
*/}}
{{- define "blockpull.selectorLabels" -}}
app.kubernetes.io/name: {{ include "blockpull.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Name of the ServiceAccount to use.
*/}}
{{- define "blockpull.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "blockpull.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Image reference; the tag defaults to the chart's appVersion.
*/}}
{{- define "blockpull.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/*
Name of the Secret holding the API token, and the key inside it.
*/}}
{{- define "blockpull.tokenSecretName" -}}
{{- if .Values.security.token.existingSecret }}
{{- .Values.security.token.existingSecret }}
{{- else }}
{{- printf "%s-token" (include "blockpull.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "blockpull.tokenSecretKey" -}}
{{- if .Values.security.token.existingSecret }}
{{- .Values.security.token.existingSecretKey | default "token" }}
{{- else }}
{{- "token" }}
{{- end }}
{{- end }}

{{/*
Name of the PersistentVolumeClaim holding the data root.
*/}}
{{- define "blockpull.claimName" -}}
{{- .Values.persistence.existingClaim | default (printf "%s-data" (include "blockpull.fullname" .) | trunc 63 | trimSuffix "-") }}
{{- end }}

{{/*
"true" when NBD is reachable from outside the pod: over TLS, or without it only when
nbd.allowInsecure says so. Otherwise the NBD server binds to loopback (kubectl port-forward).
*/}}
{{- define "blockpull.nbdExposed" -}}
{{- if and .Values.nbd.enabled (or .Values.nbd.tls.enabled .Values.nbd.allowInsecure) }}true{{ end }}
{{- end }}

{{/*
Name of the NBD Service.
*/}}
{{- define "blockpull.nbdServiceName" -}}
{{- printf "%s-nbd" (include "blockpull.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Name of the Secret with the NBD server's certificate (tls.crt, tls.key, ca.crt): the given one, or
the one the chart's cert-manager Certificate fills.
*/}}
{{- define "blockpull.nbdTlsSecretName" -}}
{{- .Values.nbd.tls.existingSecret | default (printf "%s-nbd-tls" (include "blockpull.fullname" .) | trunc 63 | trimSuffix "-") }}
{{- end }}

{{/*
Where the NBD TLS Secret is mounted.
*/}}
{{- define "blockpull.nbdTlsDir" -}}
/etc/blockpull/nbd-tls
{{- end }}
