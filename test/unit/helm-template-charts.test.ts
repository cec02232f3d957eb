import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { helmTemplateSet } from '../../src/helm/template/index.js';

/** The top-level objects Helm hands every template. */
function dot(values: unknown, file: string): Record<string, unknown> {
  return {
    Values: values,
    Chart: { Name: 'demo', Version: '1.0.0', AppVersion: 'v1.4.2' },
    Release: { Name: 'rel', Namespace: 'ns', Service: 'Helm', IsInstall: true, Revision: 1 },
    Capabilities: { KubeVersion: { Version: 'v1.31.0', GitVersion: 'v1.31.0', Major: '1', Minor: '31' } },
    Template: { Name: file, BasePath: 'demo/templates' },
  };
}

describe('bitnami-style common.images.image helper', () => {
  // registry/repository/tag/digest, global.imageRegistry wins, the chart's appVersion stands in for a missing tag.
  const helpers = `{{/*
Return the proper image name
*/}}
{{- define "common.images.image" -}}
{{- $registryName := default .imageRoot.registry ((.global).imageRegistry) -}}
{{- $repositoryName := .imageRoot.repository -}}
{{- $separator := ":" -}}
{{- $termination := .imageRoot.tag | toString -}}
{{- if not .imageRoot.tag }}
  {{- if .chart }}
    {{- $termination = .chart.AppVersion | toString -}}
  {{- end -}}
{{- end -}}
{{- if .imageRoot.digest }}
    {{- $separator = "@" -}}
    {{- $termination = .imageRoot.digest | toString -}}
{{- end -}}
{{- if $registryName }}
    {{- printf "%s/%s%s%s" $registryName $repositoryName $separator $termination -}}
{{- else -}}
    {{- printf "%s%s%s"  $repositoryName $separator $termination -}}
{{- end -}}
{{- end -}}
`;
  const deployment = `containers:
  - name: app
    image: {{ include "common.images.image" (dict "imageRoot" .Values.image "global" .Values.global "chart" .Chart) }}
`;
  const render = (values: unknown): string => {
    const set = helmTemplateSet();
    set.add('demo/charts/common/templates/_images.tpl', helpers);
    set.add('demo/templates/deployment.yaml', deployment);
    return set.execute('demo/templates/deployment.yaml', dot(values, 'demo/templates/deployment.yaml'));
  };

  it('uses registry, repository and tag', () => {
    assert.equal(render({ image: { registry: 'docker.io', repository: 'bitnami/nginx', tag: '1.25.3' } }), 'containers:\n  - name: app\n    image: docker.io/bitnami/nginx:1.25.3\n');
  });
  it('lets global.imageRegistry override the registry', () => {
    assert.equal(
      render({ global: { imageRegistry: 'mirror.local:5000' }, image: { registry: 'docker.io', repository: 'bitnami/nginx', tag: '1.25.3' } }),
      'containers:\n  - name: app\n    image: mirror.local:5000/bitnami/nginx:1.25.3\n',
    );
  });
  it('prefers the digest, and falls back to the appVersion without a tag', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    assert.equal(render({ image: { registry: 'docker.io', repository: 'bitnami/nginx', tag: '1.25.3', digest } }), `containers:\n  - name: app\n    image: docker.io/bitnami/nginx@${digest}\n`);
    assert.equal(render({ image: { repository: 'bitnami/nginx' } }), 'containers:\n  - name: app\n    image: bitnami/nginx:v1.4.2\n');
  });
  it('prints a numeric tag the way Helm does', () => {
    assert.equal(render({ image: { registry: 'r.io', repository: 'a/b', tag: 1.25 } }), 'containers:\n  - name: app\n    image: r.io/a/b:1.25\n');
  });
});

describe('ingress-nginx-style controller image', () => {
  const template = `{{- if .Values.controller.enabled }}
spec:
  template:
    spec:
      containers:
        - name: controller
          image: "{{ .Values.controller.image.registry }}/{{ .Values.controller.image.image }}{{- if .Values.controller.image.digest }}@{{ .Values.controller.image.digest }}{{- else }}:{{ .Values.controller.image.tag }}{{- end }}"
          {{- if .Values.controller.extraArgs }}
          args:
            {{- range $key, $value := .Values.controller.extraArgs }}
            - --{{ $key }}{{ if $value }}={{ $value }}{{ end }}
            {{- end }}
          {{- end }}
{{- end }}
`;
  const render = (image: Record<string, unknown>, extraArgs: Record<string, unknown> = {}): string => {
    const set = helmTemplateSet();
    set.add('ingress-nginx/templates/controller-deployment.yaml', template);
    return set.execute('ingress-nginx/templates/controller-deployment.yaml', dot({ controller: { enabled: true, image, extraArgs } }, 'x'));
  };

  it('renders registry/image:tag, or @digest when one is set', () => {
    const head = '\nspec:\n  template:\n    spec:\n      containers:\n        - name: controller\n';
    assert.equal(render({ registry: 'registry.k8s.io', image: 'ingress-nginx/controller', tag: 'v1.9.4' }), `${head}          image: "registry.k8s.io/ingress-nginx/controller:v1.9.4"\n`);
    assert.equal(
      render({ registry: 'registry.k8s.io', image: 'ingress-nginx/controller', tag: 'v1.9.4', digest: 'sha256:0123' }, { 'v': '2', 'enable-ssl-passthrough': '' }),
      `${head}          image: "registry.k8s.io/ingress-nginx/controller@sha256:0123"\n          args:\n            - --enable-ssl-passthrough\n            - --v=2\n`,
    );
  });
});

describe('cert-manager-style image template', () => {
  const helpers = `{{- define "image" -}}
{{- $defaultTag := index . 1 -}}
{{- with index . 0 -}}
{{- if .registry -}}{{ printf "%s/%s" .registry .repository }}{{- else -}}{{- .repository -}}{{- end -}}
{{- if .digest -}}{{ printf "@%s" .digest }}{{- else -}}{{ printf ":%s" (default $defaultTag .tag) }}{{- end -}}
{{- end }}
{{- end }}
`;
  const deployment = `containers:
  - name: {{ .Chart.Name }}-controller
    image: "{{ template "image" (tuple .Values.image $.Chart.AppVersion) }}"
  - name: {{ .Chart.Name }}-webhook
    image: "{{ template "image" (tuple .Values.webhook.image $.Chart.AppVersion) }}"
`;
  it('defaults the tag to the chart appVersion and honours registry and digest', () => {
    const set = helmTemplateSet();
    set.add('cert-manager/templates/_helpers.tpl', helpers);
    set.add('cert-manager/templates/deployment.yaml', deployment);
    const out = set.execute(
      'cert-manager/templates/deployment.yaml',
      dot({ image: { repository: 'quay.io/jetstack/cert-manager-controller' }, webhook: { image: { registry: 'quay.io', repository: 'jetstack/cert-manager-webhook', digest: 'sha256:beef' } } }, 'x'),
    );
    assert.equal(
      out,
      'containers:\n  - name: demo-controller\n    image: "quay.io/jetstack/cert-manager-controller:v1.4.2"\n  - name: demo-webhook\n    image: "quay.io/jetstack/cert-manager-webhook@sha256:beef"\n',
    );
  });
});

describe('common chart idioms', () => {
  const helpers = `{{- define "demo.fullname" -}}
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

{{- define "demo.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
`;
  const deployment = `apiVersion: {{ if semverCompare ">=1.9-0" .Capabilities.KubeVersion.GitVersion }}apps/v1{{ else }}apps/v1beta2{{ end }}
kind: Deployment
metadata:
  name: {{ include "demo.fullname" . }}
  labels:
{{ include "demo.labels" . | indent 4 }}
spec:
  replicas: {{ .Values.replicaCount }}
  template:
    metadata:
      annotations:
        checksum/config: {{ .Values.config | toJson | sha256sum | trunc 12 }}
    spec:
      containers:
        - name: main
          image: {{ tpl .Values.image . | quote }}
          {{- with .Values.resources }}
          resources:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          env:
            {{- range $k, $v := .Values.env }}
            - name: {{ $k | upper }}
              value: {{ $v | quote }}
            {{- end }}
      {{- with .Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
`;
  it('renders a deployment with include | indent, toYaml | nindent, tpl of a value and range over a map', () => {
    const set = helmTemplateSet();
    set.add('demo/templates/_helpers.tpl', helpers);
    set.add('demo/templates/deployment.yaml', deployment);
    const values = {
      replicaCount: 3,
      registry: 'quay.io',
      image: '{{ .Values.registry }}/demo/app:{{ .Chart.AppVersion }}',
      config: { a: 1 },
      resources: { limits: { cpu: '100m', memory: '128Mi' }, requests: { cpu: '50m' } },
      env: { log_level: 'debug', port: 8080 },
      nodeSelector: {},
    };
    const checksum = '015abd7f5cc5'; // sha256 of {"a":1}, truncated
    const out = set.execute('demo/templates/deployment.yaml', dot(values, 'demo/templates/deployment.yaml'));
    assert.equal(
      out,
      `apiVersion: apps/v1
kind: Deployment
metadata:
  name: rel-demo
  labels:
    app.kubernetes.io/name: demo
    app.kubernetes.io/instance: rel
spec:
  replicas: 3
  template:
    metadata:
      annotations:
        checksum/config: ${checksum}
    spec:
      containers:
        - name: main
          image: "quay.io/demo/app:v1.4.2"
          resources:
            limits:
              cpu: 100m
              memory: 128Mi
            requests:
              cpu: 50m
          env:
            - name: LOG_LEVEL
              value: "debug"
            - name: PORT
              value: "8080"
`,
    );
  });

  it('fullname honours overrides and release names that contain the chart name', () => {
    const set = helmTemplateSet();
    set.add('demo/templates/_helpers.tpl', helpers);
    set.add('demo/templates/name.txt', '{{ include "demo.fullname" . }}');
    const run = (values: unknown, release: string): string => set.execute('demo/templates/name.txt', { ...dot(values, 'x'), Release: { Name: release } });
    assert.equal(run({ fullnameOverride: 'x'.repeat(62) + '-y' }, 'r'), `${'x'.repeat(62)}-`.replace(/-$/, ''));
    assert.equal(run({}, 'my-demo-release'), 'my-demo-release');
    assert.equal(run({ nameOverride: 'other' }, 'r'), 'r-other');
  });
});
