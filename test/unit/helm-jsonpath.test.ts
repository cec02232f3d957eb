import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findImages } from '../../src/helm/images.js';
import { evaluateJsonPath, parseJsonPath } from '../../src/helm/jsonpath.js';

const pod = {
  kind: 'Deployment',
  spec: {
    template: {
      spec: {
        initContainers: [{ name: 'init', image: 'quay.io/a/init:1' }],
        containers: [
          { name: 'app', image: 'quay.io/a/app:2', env: [{ name: 'OPERAND_IMAGE', value: 'quay.io/a/operand:3' }, { name: 'PORT', value: '8080' }] },
          { name: 'side', image: 'quay.io/a/side@sha256:' + 'a'.repeat(64) },
        ],
      },
    },
  },
  metadata: { labels: { 'app.kubernetes.io/name': 'x' } },
};

const ev = (path: string, doc: unknown = pod) => evaluateJsonPath(parseJsonPath(path), doc);

describe('JSONPath (Kubernetes dialect)', () => {
  it('children and [*]', () => assert.deepEqual(ev('{.spec.template.spec.containers[*].image}'), ['quay.io/a/app:2', `quay.io/a/side@sha256:${'a'.repeat(64)}`]));
  it('missing keys select nothing', () => assert.deepEqual(ev('{.spec.containers[*].image}'), []));
  it('indexes, negative indexes, slices, unions', () => {
    assert.deepEqual(ev('{.spec.template.spec.containers[0].name}'), ['app']);
    assert.deepEqual(ev('{.spec.template.spec.containers[-1].name}'), ['side']);
    assert.deepEqual(ev('{.spec.template.spec.containers[0:1].name}'), ['app']);
    assert.deepEqual(ev('{.spec.template.spec.containers[0,1].name}'), ['app', 'side']);
  });
  it('quoted names with dots, and .* wildcard', () => {
    assert.deepEqual(ev("{.metadata.labels['app.kubernetes.io/name']}"), ['x']);
    assert.deepEqual(ev('{.metadata.labels.*}'), ['x']);
  });
  it('filters: equality and existence', () => {
    assert.deepEqual(ev('{.spec.template.spec.containers[*].env[?(@.name=="OPERAND_IMAGE")].value}'), ['quay.io/a/operand:3']);
    assert.deepEqual(ev("{.spec.template.spec.containers[?(@.env)].name}"), ['app']);
  });
  it('recursive descent', () => assert.deepEqual(ev('{..image}').length, 3));
  it('several expressions in one template, a leading $, a path without braces', () => {
    assert.deepEqual(ev('{.kind} {$.metadata.labels.*}'), ['Deployment', 'x']);
    assert.deepEqual(ev('.kind'), ['Deployment']);
  });
  it('malformed paths are refused with the place', () => {
    assert.throws(() => parseJsonPath('{.spec[}'), /"]" is expected|index/);
    assert.throws(() => parseJsonPath('{.spec..}'), /field name is expected/);
    assert.throws(() => parseJsonPath('{.spec'), /unclosed/);
    assert.throws(() => parseJsonPath('{}'), /empty expression/);
  });
});

describe('findImages', () => {
  const rendered = new Map([
    [
      'c/templates/deploy.yaml',
      `apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
      - name: app
        image: "quay.io/a/app:2"
        env:
        - name: OPERAND_IMAGE
          value: quay.io/a/operand:3 quay.io/a/operand2:4
        - name: FLAG
          value: "true"
      - name: bare
        image: nginx
---
# only a comment
---
apiVersion: batch/v1
kind: CronJob
spec:
  jobTemplate:
    spec:
      template:
        spec:
          initContainers:
          - image: quay.io/a/cron-init:1
          containers:
          - image: quay.io/a/cron:1
          - image: ":"
          - image: ""
`,
    ],
    ['c/templates/pod.yaml', 'kind: Pod\nspec:\n  containers:\n  - image: quay.io/a/app:2\n'],
  ]);

  it('container images (tag-less as :latest), CronJob images, custom paths (full references only), each image once', () => {
    const scan = findImages(rendered, [parseJsonPath('{.spec.template.spec.containers[*].env[*].value}')], 'c-1.0.0');
    assert.deepEqual(
      scan.images.map((i) => i.image),
      ['quay.io/a/app:2', 'docker.io/library/nginx:latest', 'quay.io/a/operand:3', 'quay.io/a/operand2:4', 'quay.io/a/cron-init:1', 'quay.io/a/cron:1'],
    );
    assert.deepEqual(scan.warnings, [
      'chart c-1.0.0: c/templates/deploy.yaml: image ":" is not an image reference; not mirrored',
      'chart c-1.0.0: c/templates/deploy.yaml: a container image is empty; nothing to mirror for it',
    ]);
  });

  it('rendered output that is not YAML fails, naming chart and template', () => {
    assert.throws(() => findImages(new Map([['c/templates/bad.yaml', 'a: [\n']]), [], 'c-1.0.0'), /chart c-1\.0\.0: c\/templates\/bad\.yaml: the rendered output is not YAML/);
  });
});
