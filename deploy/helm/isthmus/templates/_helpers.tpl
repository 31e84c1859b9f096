{{/* Names and labels. */}}
{{- define "isthmus.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "isthmus.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "isthmus.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "isthmus.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "isthmus.selectorLabels" -}}
app.kubernetes.io/name: {{ include "isthmus.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "isthmus.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "isthmus.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* The Secret holding the resolver token, or "" when the resolver runs without one. */}}
{{- define "isthmus.resolverTokenSecret" -}}
{{- if .Values.resolverToken.existingSecret -}}
{{- .Values.resolverToken.existingSecret -}}
{{- else if .Values.resolverToken.generate -}}
{{- printf "%s-resolver-token" (include "isthmus.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "isthmus.resolverTokenDir" -}}
/var/run/secrets/isthmus/resolver
{{- end -}}

{{/*
The config file as mounted: values.config with the resolver listening on the Pod IP and the
chart's ports, so probes, the Service and the container ports always agree, and reading the
mounted resolver token when there is one.
*/}}
{{- define "isthmus.config" -}}
{{- $resolver := dict "http" (dict "host" "0.0.0.0" "port" (int .Values.ports.http)) "grpc" (dict "host" "0.0.0.0" "port" (int .Values.ports.grpc)) -}}
{{- if include "isthmus.resolverTokenSecret" . -}}
{{- $_ := set $resolver "auth" (dict "tokenFile" (printf "%s/token" (include "isthmus.resolverTokenDir" .))) -}}
{{- end -}}
{{- $config := mustMergeOverwrite (deepCopy .Values.config) (dict "resolver" $resolver) -}}
{{- toYaml $config -}}
{{- end -}}

{{/*
What RBAC the config needs, as JSON: {"clusterWide", "namespaces", "createNamespaces", "nodes",
"leases", "istio", "mtls", "mtlsRoots", "workloadEntries"}; mtlsRoots are the Istio root namespaces the mTLS
preflight reads besides the watched namespaces. Only kubernetes registries that use the in-cluster identity count: a registry with
its own kubeconfig talks to another cluster with other credentials. The verbs themselves are
fixed in rbac.yaml and mirror adapters/kubernetes/client.ts.
*/}}
{{- define "isthmus.rbacPlan" -}}
{{- $plan := dict "clusterWide" false "namespaces" (list) "createNamespaces" false "nodes" false "leases" (list) "any" false "istio" false "mtls" false "mtlsRoots" (list) "workloadEntries" false -}}
{{- range $id, $r := .Values.config.registries -}}
{{- if and (eq (toString $r.kind) "kubernetes") (not (dig "connection" "kubeconfig" "" $r)) -}}
{{- $_ := set $plan "any" true -}}
{{- $namespaces := default (list) $r.namespaces -}}
{{- if $namespaces -}}
{{- $_ := set $plan "namespaces" (concat $plan.namespaces $namespaces | uniq) -}}
{{- else -}}
{{- $_ := set $plan "clusterWide" true -}}
{{- end -}}
{{- if dig "sink" "createNamespaces" false $r -}}
{{- $_ := set $plan "createNamespaces" true -}}
{{- end -}}
{{- if or (dig "source" "watchNodes" false $r) (eq (toString (dig "source" "addressMode" "podIP" $r)) "nodePort") -}}
{{- $_ := set $plan "nodes" true -}}
{{- end -}}
{{- if dig "sink" "istio" "enabled" false $r -}}
{{- $_ := set $plan "istio" true -}}
{{- end -}}
{{- if dig "source" "istio" "mtlsPreflight" false $r -}}
{{- $_ := set $plan "mtls" true -}}
{{- $_ := set $plan "mtlsRoots" (append $plan.mtlsRoots (toString (dig "source" "istio" "rootNamespace" "istio-system" $r)) | uniq) -}}
{{- end -}}
{{- if dig "source" "istio" "workloadEntries" false $r -}}
{{- $_ := set $plan "workloadEntries" true -}}
{{- end -}}
{{- if dig "leaderElection" "enabled" false $r -}}
{{- $lease := dict "namespace" (dig "leaderElection" "namespace" "isthmus-system" $r) "name" (dig "leaderElection" "name" "isthmus-leader" $r) -}}
{{- $_ := set $plan "leases" (append $plan.leases $lease) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toJson $plan -}}
{{- end -}}

{{/*
NODE_OPTIONS for the container: the V8 old-space cap at heapPercentOfMemoryLimit of the memory
limit, when the limit is whole Mi or Gi; empty otherwise (the image's default then applies).
*/}}
{{- define "isthmus.nodeOptions" -}}
{{- $limit := toString ((((.Values.resources).limits).memory) | default "") -}}
{{- $mib := 0 -}}
{{- if regexMatch "^[0-9]+Gi$" $limit -}}
{{- $mib = mul (trimSuffix "Gi" $limit | atoi) 1024 -}}
{{- else if regexMatch "^[0-9]+Mi$" $limit -}}
{{- $mib = trimSuffix "Mi" $limit | atoi -}}
{{- end -}}
{{- if gt (int $mib) 0 -}}
--max-semi-space-size=1 --max-old-space-size={{ div (mul $mib .Values.heapPercentOfMemoryLimit) 100 }}
{{- end -}}
{{- end -}}
