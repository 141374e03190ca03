{{/*
The pod template of both workloads (mode: deployment and mode: daemonset); the caller indents it.
*/}}
{{- define "blockpull.podTemplate" -}}
metadata:
  annotations:
    checksum/config: {{ include (print $.Template.BasePath "/configmap.yaml") . | sha256sum }}
    {{- if and .Values.security.token.enabled (not .Values.security.token.existingSecret) }}
    checksum/secret: {{ include (print $.Template.BasePath "/secret.yaml") . | sha256sum }}
    {{- end }}
    {{- with .Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  labels:
    {{- include "blockpull.labels" . | nindent 4 }}
    {{- with .Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  serviceAccountName: {{ include "blockpull.serviceAccountName" . }}
  {{- if and (eq .Values.mode "daemonset") .Values.daemonset.hostNetwork }}
  # The node's network: ports open on the node's addresses, and NetworkPolicies no longer apply.
  hostNetwork: true
  dnsPolicy: ClusterFirstWithHostNet
  {{- end }}
  automountServiceAccountToken: {{ .Values.serviceAccount.automount }}
  terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
  securityContext:
    {{- toYaml .Values.podSecurityContext | nindent 4 }}
  containers:
    - name: {{ .Chart.Name }}
      image: {{ include "blockpull.image" . | quote }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      securityContext:
        {{- toYaml .Values.securityContext | nindent 8 }}
      env:
        - name: SPRING_CONFIG_ADDITIONAL_LOCATION
          value: "optional:file:/config/"
        {{- with .Values.jvmOptions }}
        - name: JAVA_TOOL_OPTIONS
          value: {{ . | quote }}
        {{- end }}
        - name: BLOCKPULL_NBD_PORT
          value: {{ ternary .Values.nbd.port 0 .Values.nbd.enabled | quote }}
        {{- if .Values.jsonLogs }}
        - name: LOGGING_STRUCTURED_FORMAT_CONSOLE
          value: {{ .Values.jsonLogs | quote }}
        {{- end }}
        {{- if .Values.security.token.enabled }}
        - name: BLOCKPULL_SECURITY_TOKEN
          valueFrom:
            secretKeyRef:
              name: {{ include "blockpull.tokenSecretName" . }}
              key: {{ include "blockpull.tokenSecretKey" . }}
        {{- end }}
        {{- with .Values.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      ports:
        - name: http
          containerPort: 8080
          protocol: TCP
        {{- if include "blockpull.nbdExposed" . }}
        - name: nbd
          containerPort: {{ .Values.nbd.port }}
          protocol: TCP
        {{- end }}
      startupProbe:
        httpGet:
          path: /actuator/health/liveness
          port: http
        periodSeconds: {{ .Values.probes.startup.periodSeconds }}
        failureThreshold: {{ .Values.probes.startup.failureThreshold }}
        timeoutSeconds: {{ .Values.probes.startup.timeoutSeconds }}
      livenessProbe:
        httpGet:
          path: /actuator/health/liveness
          port: http
        periodSeconds: {{ .Values.probes.liveness.periodSeconds }}
        failureThreshold: {{ .Values.probes.liveness.failureThreshold }}
        timeoutSeconds: {{ .Values.probes.liveness.timeoutSeconds }}
      readinessProbe:
        httpGet:
          path: /actuator/health/readiness
          port: http
        periodSeconds: {{ .Values.probes.readiness.periodSeconds }}
        failureThreshold: {{ .Values.probes.readiness.failureThreshold }}
        timeoutSeconds: {{ .Values.probes.readiness.timeoutSeconds }}
      resources:
        {{- toYaml .Values.resources | nindent 8 }}
      volumeMounts:
        - name: data
          # The image starts Blockpull with --blockpull.data-root=/data.
          mountPath: /data
        - name: config
          mountPath: /config
          readOnly: true
        - name: tmp
          # Tomcat and the JVM need a writable temp directory; the root file system is read-only.
          mountPath: /tmp
        {{- if and .Values.nbd.enabled .Values.nbd.tls.enabled }}
        - name: nbd-tls
          # A whole-Secret mount (no subPath), so files cert-manager renews show up here.
          mountPath: {{ include "blockpull.nbdTlsDir" . }}
          readOnly: true
        {{- end }}
  volumes:
    - name: data
      {{- if eq .Values.mode "daemonset" }}
      # Each node's own directory: the images of the VMs on that node.
      hostPath:
        path: {{ .Values.daemonset.hostPath.path }}
        type: {{ .Values.daemonset.hostPath.type }}
      {{- else if .Values.persistence.enabled }}
      persistentVolumeClaim:
        claimName: {{ include "blockpull.claimName" . }}
      {{- else }}
      emptyDir: {}
      {{- end }}
    - name: config
      configMap:
        name: {{ include "blockpull.fullname" . }}
    - name: tmp
      emptyDir: {}
    {{- if and .Values.nbd.enabled .Values.nbd.tls.enabled }}
    - name: nbd-tls
      secret:
        secretName: {{ include "blockpull.nbdTlsSecretName" . }}
    {{- end }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
