{{/* Names, labels and shared snippets. */}}

{{- define "xgate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* <release>-xgate, or the release name when it contains the chart name; at most 38
characters, so that the gateway Deployment (<fullname>-gateway) has at most 46 and
Kubernetes does not truncate its pod names: a gateway's node id (its pod name) must
match spiffe://<trustDomain>/deployment/<Deployment name>. */}}
{{- define "xgate.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 38 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 38 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 38 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "xgate.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "xgate.labels" -}}
helm.sh/chart: {{ include "xgate.chart" . }}
app.kubernetes.io/name: {{ include "xgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "xgate.controller.selectorLabels" -}}
app.kubernetes.io/name: {{ include "xgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end -}}

{{- define "xgate.gateway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "xgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: gateway
{{- end -}}

{{- define "xgate.controller.name" -}}{{ include "xgate.fullname" . }}-controller{{- end -}}
{{- define "xgate.gateway.name" -}}{{ include "xgate.fullname" . }}-gateway{{- end -}}
{{- define "xgate.xds.serviceName" -}}{{ include "xgate.fullname" . }}-xds{{- end -}}
{{- define "xgate.electionId" -}}{{ default (printf "%s-leader" (include "xgate.fullname" .)) .Values.controlPlane.electionId }}{{- end -}}

{{/* The xDS Service's DNS name: the gateways' xds_cluster address, and the DNS SAN of the server certificate. */}}
{{- define "xgate.xds.host" -}}{{ include "xgate.xds.serviceName" . }}.{{ .Release.Namespace }}.svc{{- end -}}

{{- define "xgate.controller.serviceAccountName" -}}
{{- if .Values.controlPlane.serviceAccount.create -}}
{{- default (include "xgate.controller.name" .) .Values.controlPlane.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.controlPlane.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "xgate.gateway.serviceAccountName" -}}
{{- if .Values.gateway.serviceAccount.create -}}
{{- default (include "xgate.gateway.name" .) .Values.gateway.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.gateway.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "xgate.xds.serverSecretName" -}}{{ default (printf "%s-xds-server-tls" (include "xgate.fullname" .)) .Values.xds.tls.serverSecretName }}{{- end -}}
{{- define "xgate.xds.clientSecretName" -}}{{ default (printf "%s-xds-client-tls" (include "xgate.fullname" .)) .Values.xds.tls.clientSecretName }}{{- end -}}

{{/* The identity the shared gateway client certificate carries. */}}
{{- define "xgate.xds.deploymentIdentity" -}}spiffe://{{ .Values.xds.tls.trustDomain }}/deployment/{{ include "xgate.gateway.name" . }}{{- end -}}

{{- define "xgate.controller.image" -}}
{{- printf "%s:%s" .Values.controlPlane.image.repository (default .Chart.AppVersion .Values.controlPlane.image.tag) -}}
{{- end -}}

{{- define "xgate.gateway.image" -}}
{{- printf "%s:%s" .Values.gateway.image.repository .Values.gateway.image.tag -}}
{{- end -}}

{{/* The image that holds the WAF module (default: the control plane image). */}}
{{- define "xgate.waf.image" -}}
{{- $w := .Values.gateway.waf.image -}}
{{- printf "%s:%s" (default .Values.controlPlane.image.repository $w.repository) (default (default .Chart.AppVersion .Values.controlPlane.image.tag) $w.tag) -}}
{{- end -}}

{{/* Where Envoy reads the WAF module (an emptyDir filled by the waf-module init container). */}}
{{- define "xgate.gateway.wasmDir" -}}/etc/xgate/wasm{{- end -}}

{{/* Where the gateway finds its files. */}}
{{- define "xgate.gateway.configDir" -}}/etc/envoy{{- end -}}
{{- define "xgate.gateway.xdsTlsDir" -}}/etc/xgate/xds-tls{{- end -}}
{{- define "xgate.controller.xdsTlsDir" -}}/etc/xgate/xds-tls{{- end -}}

{{- define "xgate.gateway.terminationGracePeriodSeconds" -}}
{{- if kindIs "invalid" .Values.gateway.terminationGracePeriodSeconds -}}
{{- add .Values.gateway.drain.seconds 15 -}}
{{- else -}}
{{- .Values.gateway.terminationGracePeriodSeconds -}}
{{- end -}}
{{- end -}}

{{/*
The xds_cluster of files/bootstrap.yaml (= envoy/bootstrap.yaml) as the chart changes
it: the control plane's Service by DNS (STRICT_DNS) and, with xds.tls.enabled, an
UpstreamTlsContext whose client certificate and trusted CA come by SDS from files
(path_config_source with watched_directory), so Envoy picks up rotated certificates
without a restart. Only these keys differ from the repository's bootstrap.
*/}}
{{- define "xgate.gateway.xdsClusterPatch" -}}
type: STRICT_DNS
load_assignment:
  cluster_name: xds_cluster
  endpoints:
    - lb_endpoints:
        - endpoint:
            address:
              socket_address:
                address: {{ include "xgate.xds.host" . }}
                port_value: {{ .Values.controlPlane.xdsPort }}
{{- if .Values.xds.tls.enabled }}
transport_socket:
  name: envoy.transport_sockets.tls
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
    sni: {{ include "xgate.xds.host" . }}
    common_tls_context:
      tls_params:
        tls_minimum_protocol_version: TLSv1_3
        tls_maximum_protocol_version: TLSv1_3
      alpn_protocols: [h2]
      tls_certificate_sds_secret_configs:
        - name: xds_client_certificate
          sds_config:
            resource_api_version: V3
            path_config_source:
              path: {{ include "xgate.gateway.configDir" . }}/xds-client-certificate.yaml
      validation_context_sds_secret_config:
        name: xds_trusted_ca
        sds_config:
          resource_api_version: V3
          path_config_source:
            path: {{ include "xgate.gateway.configDir" . }}/xds-trusted-ca.yaml
{{- end }}
{{- end -}}

{{/* The gateway's bootstrap: files/bootstrap.yaml with the xds_cluster patched. */}}
{{- define "xgate.gateway.bootstrap" -}}
{{- $bootstrap := .Files.Get "files/bootstrap.yaml" | fromYaml -}}
{{- if hasKey $bootstrap "Error" -}}
{{- fail (printf "files/bootstrap.yaml does not parse: %v" $bootstrap.Error) -}}
{{- end -}}
{{- $patch := include "xgate.gateway.xdsClusterPatch" . | fromYaml -}}
{{- $found := false -}}
{{- range $bootstrap.static_resources.clusters -}}
{{- if eq .name "xds_cluster" -}}
{{- $found = true -}}
{{- $cluster := . -}}
{{- range $key, $value := $patch -}}
{{- $_ := set $cluster $key $value -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if not $found -}}
{{- fail "files/bootstrap.yaml has no static cluster xds_cluster" -}}
{{- end -}}
{{- $stats := .Values.gateway.clusterStats | default "all" -}}
{{- if not (has $stats (list "all" "essential" "none")) -}}
{{- fail (printf "gateway.clusterStats must be all, essential or none, not %v" $stats) -}}
{{- end -}}
{{- if ne $stats "all" -}}
{{- $matchers := .Files.Get "files/cluster-stats.yaml" | fromYaml -}}
{{- $_ := set $bootstrap "stats_config" (dict "stats_matcher" (get $matchers $stats)) -}}
{{- end -}}
{{- toYaml $bootstrap -}}
{{- end -}}
