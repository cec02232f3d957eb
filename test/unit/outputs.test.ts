import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderMirrorSets } from '../../src/outputs/idms-itms.js';
import { renderMapping } from '../../src/outputs/mapping.js';
import { exitCode, renderErrorsFile, renderResults, summarize, type ImageResult, type RunReport } from '../../src/outputs/report.js';
import { buildPlan } from '../../src/plan/planner.js';
import type { CollectedImage, CopyTask } from '../../src/plan/types.js';

const hex = (c: string): string => c.repeat(64);
const digest = (c: string): string => `sha256:${hex(c)}`;

const META = { maxNestedPaths: 0, createdAt: '2026-01-01T10:00:00Z', version: '0.1.0' };
const ANNOTATIONS = `metadata:
  annotations:
    createdAt: "2026-01-01T10:00:00Z"
    createdBy: oc-mirror v2
    oc-mirror_version: 0.1.0
`;

function plan(images: CollectedImage[], destination = 'docker://mirror.example.com:5000/ocp', maxNestedPaths = 0): CopyTask[] {
  return buildPlan(images, destination, { maxNestedPaths, blocked: [] }).plan.tasks;
}

function release(version: string, payloadSource: string, components: Record<string, string>): CollectedImage[] {
  return [
    { source: payloadSource, kind: 'ocpRelease', targetRepo: 'openshift/release-images', targetTag: version, belongsTo: { release: version } },
    ...Object.entries(components).map(([name, source]): CollectedImage => ({
      source,
      kind: 'ocpReleaseContent',
      targetRepo: 'openshift/release',
      targetTag: `${version}-${name}`,
      belongsTo: { release: version },
    })),
    { source: 'localhost:55000/openshift/graph-image:latest', kind: 'cincinnatiGraph' },
  ];
}

const MIXED: CollectedImage[] = [
  ...release('4.18.1-x86_64', 'quay.io/openshift-release-dev/ocp-release:4.18.1-x86_64', {
    etcd: `quay.io/openshift-release-dev/ocp-v4.0-art-dev@${digest('1')}`,
    cli: `quay.io/openshift-release-dev/ocp-v4.0-art-dev@${digest('2')}`,
  }),
  { source: 'registry.redhat.io/redhat/redhat-operator-index:v4.18', kind: 'operatorCatalog' },
  { source: `registry.redhat.io/albo/aws-load-balancer-operator-bundle@${digest('3')}`, kind: 'operatorBundle' },
  { source: `registry.redhat.io/albo/aws-load-balancer-rhel8-operator@${digest('4')}`, kind: 'operatorRelatedImage' },
  { source: `registry.redhat.io/openshift4/ose-kube-rbac-proxy@${digest('5')}`, kind: 'operatorRelatedImage' },
  { source: 'registry.redhat.io/ubi9/ubi:latest', kind: 'generic' },
  { source: `quay.io/prometheus/busybox:glibc@${digest('6')}`, kind: 'generic' },
  { source: `registry.local:5000/team/app@${digest('7')}`, kind: 'generic' },
  { source: 'quay.io/acme/tool:2.0', kind: 'generic', targetRepo: 'tools/tool' },
  { source: 'docker.io/bitnami/nginx:1.25.0', kind: 'helmImage' },
];

describe('renderMapping (ref §3.4)', () => {
  it('writes docker:// source=destination lines in plan order, pulling by digest', () => {
    const { plan: p } = buildPlan(
      [
        { source: `quay.io/openshift-release-dev/ocp-v4.0-art-dev@${digest('1')}`, kind: 'ocpReleaseContent', targetTag: '4.18.1-x86_64-etcd' },
        { source: `quay.io/prometheus/busybox:glibc@${digest('6')}`, kind: 'generic' },
        { source: 'registry.local:5000/team/app:1.0', kind: 'generic' },
      ],
      'docker://localhost:55000',
      { maxNestedPaths: 0, blocked: [] },
    );
    assert.equal(
      renderMapping(p),
      `docker://quay.io/openshift-release-dev/ocp-v4.0-art-dev@${digest('1')}=docker://localhost:55000/openshift/release:4.18.1-x86_64-etcd\n` +
        `docker://quay.io/prometheus/busybox@${digest('6')}=docker://localhost:55000/prometheus/busybox:glibc\n` +
        'docker://registry.local:5000/team/app:1.0=docker://localhost:55000/team/app:1.0\n',
    );
  });

  it('is empty for an empty plan', () => {
    assert.equal(renderMapping({ destination: 'docker://r', tasks: [] }), '');
  });
});

describe('renderMirrorSets (ref §6.1)', () => {
  const EXPECTED_IDMS = `---
apiVersion: config.openshift.io/v1
kind: ImageDigestMirrorSet
${ANNOTATIONS}  name: idms-release-0
spec:
  imageDigestMirrors:
  - mirrors:
    - mirror.example.com:5000/ocp/openshift/release-images
    source: quay.io/openshift-release-dev/ocp-release
  - mirrors:
    - mirror.example.com:5000/ocp/openshift/release
    source: quay.io/openshift-release-dev/ocp-v4.0-art-dev
---
apiVersion: config.openshift.io/v1
kind: ImageDigestMirrorSet
${ANNOTATIONS}  name: idms-operator-0
spec:
  imageDigestMirrors:
  - mirrors:
    - mirror.example.com:5000/ocp/albo
    source: registry.redhat.io/albo
  - mirrors:
    - mirror.example.com:5000/ocp/openshift4
    source: registry.redhat.io/openshift4
---
apiVersion: config.openshift.io/v1
kind: ImageDigestMirrorSet
${ANNOTATIONS}  name: idms-generic-0
spec:
  imageDigestMirrors:
  - mirrors:
    - mirror.example.com:5000/ocp/prometheus
    source: quay.io/prometheus
  - mirrors:
    - mirror.example.com:5000/ocp/team
    source: registry.local:5000/team
`;

  const EXPECTED_ITMS = `---
apiVersion: config.openshift.io/v1
kind: ImageTagMirrorSet
${ANNOTATIONS}  name: itms-release-0
spec:
  imageTagMirrors:
  - mirrors:
    - mirror.example.com:5000/ocp/openshift/release-images
    source: quay.io/openshift-release-dev/ocp-release
---
apiVersion: config.openshift.io/v1
kind: ImageTagMirrorSet
${ANNOTATIONS}  name: itms-generic-0
spec:
  imageTagMirrors:
  - mirrors:
    - mirror.example.com:5000/ocp/bitnami
    source: docker.io/bitnami
  - mirrors:
    - mirror.example.com:5000/ocp/tools/tool
    source: quay.io/acme/tool
  - mirrors:
    - mirror.example.com:5000/ocp/prometheus
    source: quay.io/prometheus
  - mirrors:
    - mirror.example.com:5000/ocp/ubi9
    source: registry.redhat.io/ubi9
`;

  it('renders a mixed set exactly: categories, IDMS/ITMS split, scopes, skipped graph and catalog', () => {
    const sets = renderMirrorSets(plan(MIXED), META);
    assert.equal(sets.idms, EXPECTED_IDMS);
    assert.equal(sets.itms, EXPECTED_ITMS);
  });

  it('gives the same bytes whatever the task order', () => {
    const tasks = plan(MIXED);
    const reversed = renderMirrorSets([...tasks].reverse(), META);
    const rotated = renderMirrorSets([...tasks.slice(5), ...tasks.slice(0, 5)], META);
    assert.equal(reversed.idms, EXPECTED_IDMS);
    assert.equal(rotated.itms, EXPECTED_ITMS);
  });

  it('writes nothing when nothing was copied, and leaves out an empty kind', () => {
    assert.deepEqual(renderMirrorSets([], META), {});
    const digestsOnly = renderMirrorSets(plan([{ source: `registry.local:5000/team/app@${digest('7')}`, kind: 'generic' }]), META);
    assert.equal(digestsOnly.itms, undefined);
    assert.match(digestsOnly.idms!, /name: idms-generic-0/);
    const onlyCatalog = renderMirrorSets(plan([{ source: 'registry.redhat.io/redhat/redhat-operator-index:v4.18', kind: 'operatorCatalog' }]), META);
    assert.deepEqual(onlyCatalog, {});
  });

  it('uses repository scope when --max-nested-paths is set', () => {
    const tasks = plan(
      [
        { source: `registry.redhat.io/albo/aws-load-balancer-rhel8-operator@${digest('4')}`, kind: 'operatorRelatedImage' },
        { source: `registry.redhat.io/albo/aws-load-balancer-operator-bundle@${digest('3')}`, kind: 'operatorBundle' },
      ],
      'docker://mirror.example.com:5000/ocp',
      2,
    );
    assert.equal(
      renderMirrorSets(tasks, { ...META, maxNestedPaths: 2 }).idms,
      `---
apiVersion: config.openshift.io/v1
kind: ImageDigestMirrorSet
${ANNOTATIONS}  name: idms-operator-0
spec:
  imageDigestMirrors:
  - mirrors:
    - mirror.example.com:5000/ocp/albo-aws-load-balancer-operator-bundle
    source: registry.redhat.io/albo/aws-load-balancer-operator-bundle
  - mirrors:
    - mirror.example.com:5000/ocp/albo-aws-load-balancer-rhel8-operator
    source: registry.redhat.io/albo/aws-load-balancer-rhel8-operator
`,
    );
  });

  it('lists every mirror of a source once, sorted', () => {
    const tasks = plan([
      { source: 'quay.io/acme/tool:2.0', kind: 'generic', targetRepo: 'zeta/tool' },
      { source: 'quay.io/acme/tool:2.1', kind: 'generic', targetRepo: 'alpha/tool' },
      { source: 'quay.io/acme/tool:2.2', kind: 'generic', targetRepo: 'zeta/tool' },
    ]);
    assert.match(
      renderMirrorSets(tasks, META).itms!,
      /  - mirrors:\n    - mirror\.example\.com:5000\/ocp\/alpha\/tool\n    - mirror\.example\.com:5000\/ocp\/zeta\/tool\n    source: quay\.io\/acme\/tool\n$/,
    );
  });

  describe('scope when the destination path contains the release namespace (ref §15 item 16)', () => {
    it('maps release repositories one by one when the prefix is the release namespace (OCPBUGS-47688)', () => {
      const tasks = plan(
        release('4.17.9-x86_64', 'quay.io/openshift-release-dev/ocp-release:4.17.9-x86_64', {
          etcd: `quay.io/openshift-release-dev/ocp-v4.0-art-dev@${digest('1')}`,
        }),
        'docker://sherinefedora:5000/openshift-release-dev/ocp-release',
      );
      const { idms } = renderMirrorSets(tasks, META);
      assert.equal(
        idms,
        `---
apiVersion: config.openshift.io/v1
kind: ImageDigestMirrorSet
${ANNOTATIONS}  name: idms-release-0
spec:
  imageDigestMirrors:
  - mirrors:
    - sherinefedora:5000/openshift-release-dev/ocp-release/openshift/release-images
    source: quay.io/openshift-release-dev/ocp-release
  - mirrors:
    - sherinefedora:5000/openshift-release-dev/ocp-release/openshift/release
    source: quay.io/openshift-release-dev/ocp-v4.0-art-dev
`,
      );
      assert.doesNotMatch(idms!, /source: quay\.io\/openshift-release-dev\n/);
    });

    it('does not redirect a namespace into one that also holds the release repositories', () => {
      // quay.io/openshift/tools → mirror/openshift/tools passes oc-mirror's "ends with" test, but a
      // namespace entry quay.io/openshift → mirror/openshift would send pulls of
      // quay.io/openshift/release-images:<tag> to the OCP payloads stored there.
      const tasks = plan(
        [
          ...release('4.18.1-x86_64', 'quay.io/openshift-release-dev/ocp-release:4.18.1-x86_64', {
            etcd: `quay.io/openshift-release-dev/ocp-v4.0-art-dev@${digest('1')}`,
          }),
          { source: 'quay.io/openshift/tools:1.0', kind: 'generic' },
          { source: `quay.io/openshift/origin-cli@${digest('8')}`, kind: 'generic' },
        ],
        'docker://mirror.example.com:5000',
      );
      const { idms, itms } = renderMirrorSets(tasks, META);
      assert.match(idms!, /  - mirrors:\n    - mirror\.example\.com:5000\/openshift\/origin-cli\n    source: quay\.io\/openshift\/origin-cli\n/);
      assert.match(itms!, /  - mirrors:\n    - mirror\.example\.com:5000\/openshift\/tools\n    source: quay\.io\/openshift\/tools\n/);
      assert.doesNotMatch(idms! + itms!, /source: quay\.io\/openshift\n/);
    });

    it('does the same under a prefix, where the releases share ocp/openshift with the image', () => {
      const tasks = plan([
        ...release('4.18.1-x86_64', 'quay.io/openshift-release-dev/ocp-release:4.18.1-x86_64', {
          etcd: `quay.io/openshift-release-dev/ocp-v4.0-art-dev@${digest('1')}`,
        }),
        { source: 'quay.io/openshift/tools:1.0', kind: 'generic' },
      ]);
      const { itms } = renderMirrorSets(tasks, META);
      assert.match(itms!, /  - mirrors:\n    - mirror\.example\.com:5000\/ocp\/openshift\/tools\n    source: quay\.io\/openshift\/tools\n/);
      assert.doesNotMatch(itms!, /source: quay\.io\/openshift\n/);
    });

    it('keeps namespace scope when the destination namespace holds exactly the mirrored repositories', () => {
      const tasks = plan([
        { source: 'quay.io/openshift/tools:1.0', kind: 'generic' },
        { source: 'quay.io/openshift/cli:1.0', kind: 'generic' },
        { source: `quay.io/openshift/sub/deeper@${digest('9')}`, kind: 'generic' },
      ]);
      const { idms, itms } = renderMirrorSets(tasks, META);
      assert.match(itms!, /  - mirrors:\n    - mirror\.example\.com:5000\/ocp\/openshift\n    source: quay\.io\/openshift\n$/);
      assert.match(idms!, /  - mirrors:\n    - mirror\.example\.com:5000\/ocp\/openshift\/sub\n    source: quay\.io\/openshift\/sub\n$/);
    });

    it('falls back to repository scope when two registries share a namespace path', () => {
      const tasks = plan([
        { source: 'quay.io/team/app:1.0', kind: 'generic' },
        { source: 'ghcr.io/team/lib:1.0', kind: 'generic' },
      ]);
      const { itms } = renderMirrorSets(tasks, META);
      assert.match(itms!, /source: ghcr\.io\/team\/lib\n/);
      assert.match(itms!, /source: quay\.io\/team\/app\n/);
      assert.doesNotMatch(itms!, /source: (quay|ghcr)\.io\/team\n/);
    });

    it('falls back to repository scope for a whole namespace when one of its repositories is moved by targetRepo', () => {
      const tasks = plan([
        { source: 'quay.io/team/app:1.0', kind: 'generic' },
        { source: 'quay.io/team/app:2.0', kind: 'generic', targetRepo: 'elsewhere/app' },
        { source: 'quay.io/team/lib:1.0', kind: 'generic' },
      ]);
      assert.equal(
        renderMirrorSets(tasks, META).itms,
        `---
apiVersion: config.openshift.io/v1
kind: ImageTagMirrorSet
${ANNOTATIONS}  name: itms-generic-0
spec:
  imageTagMirrors:
  - mirrors:
    - mirror.example.com:5000/ocp/elsewhere/app
    - mirror.example.com:5000/ocp/team/app
    source: quay.io/team/app
  - mirrors:
    - mirror.example.com:5000/ocp/team/lib
    source: quay.io/team/lib
`,
      );
    });
  });
});

function result(task: CopyTask, status: ImageResult['status'], extra: Partial<ImageResult> = {}): ImageResult {
  return { task, status, ...extra };
}

function report(images: ImageResult[]): RunReport {
  return { startedAt: '2026-01-01T10:00:00Z', finishedAt: '2026-01-01T10:05:00Z', workflow: 'mirrorToMirror', destination: 'docker://mirror.example.com:5000/ocp', images };
}

describe('run report', () => {
  const tasks = plan([
    ...release('4.18.1-x86_64', 'quay.io/openshift-release-dev/ocp-release:4.18.1-x86_64', {
      etcd: `quay.io/openshift-release-dev/ocp-v4.0-art-dev@${digest('1')}`,
    }),
    {
      source: `registry.redhat.io/albo/aws-load-balancer-rhel8-operator@${digest('4')}`,
      kind: 'operatorRelatedImage',
      belongsTo: { operators: { catalog: 'redhat-operator-index', packages: ['aws-load-balancer-operator'], bundles: ['aws-load-balancer-operator.v1.2.0', 'aws-load-balancer-operator.v1.1.1'] } },
    },
    {
      source: `registry.redhat.io/albo/aws-load-balancer-operator-bundle@${digest('3')}`,
      kind: 'operatorBundle',
      belongsTo: { operators: { catalog: 'redhat-operator-index', packages: ['aws-load-balancer-operator'], bundles: ['aws-load-balancer-operator.v1.2.0'] } },
    },
    { source: 'registry.redhat.io/ubi9/ubi:latest', kind: 'generic' },
    { source: 'registry.redhat.io/ubi8/ubi:latest', kind: 'generic' },
  ]);
  const byKind = (kind: CopyTask['kind']): CopyTask => tasks.find((t) => t.kind === kind)!;
  const [etcd, payload, graph, related, ubi9, ubi8, bundle] = tasks as [CopyTask, CopyTask, CopyTask, CopyTask, CopyTask, CopyTask, CopyTask];

  it('plans the fixture in the expected order', () => {
    assert.deepEqual(
      tasks.map((t) => t.kind),
      ['ocpReleaseContent', 'ocpRelease', 'cincinnatiGraph', 'operatorRelatedImage', 'generic', 'generic', 'operatorBundle'],
    );
    assert.equal(byKind('operatorBundle'), bundle);
  });

  const partial = report([
    result(etcd, 'mirrored', { bytes: 100 }),
    result(payload, 'present'),
    result(graph, 'mirrored', { bytes: 10 }),
    result(related, 'failed', { error: 'manifest unknown' }),
    result(ubi9, 'mirrored', { bytes: 5 }),
    result(ubi8, 'failed', { error: 'unauthorized: access denied' }),
    result(bundle, 'skipped'),
  ]);

  it('counts per origin', () => {
    const counts = summarize(partial);
    assert.deepEqual(counts.release, { total: 3, mirrored: 2, present: 1, failed: 0, skipped: 0, bytes: 110 });
    assert.deepEqual(counts.operator, { total: 2, mirrored: 0, present: 0, failed: 1, skipped: 1, bytes: 0 });
    assert.deepEqual(counts.additional, { total: 2, mirrored: 1, present: 0, failed: 1, skipped: 0, bytes: 5 });
    assert.deepEqual(counts.helm, { total: 0, mirrored: 0, present: 0, failed: 0, skipped: 0, bytes: 0 });
  });

  it('renders the results block (ref §3.3), skipping empty categories', () => {
    assert.equal(
      renderResults(partial),
      [
        '=== Results ===',
        '✓ 3 / 3 release images mirrored successfully',
        '✗ 0 / 2 operator images mirrored: Some operator images failed to be mirrored - please check the logs',
        '✗ 1 / 2 additional images mirrored: Some additional images failed to be mirrored - please check the logs',
      ].join('\n'),
    );
  });

  it('writes the errors file (ref §3.2)', () => {
    assert.equal(
      renderErrorsFile(partial),
      `error mirroring image docker://registry.redhat.io/albo/aws-load-balancer-rhel8-operator@${digest('4')} (Operator bundles: [aws-load-balancer-operator.v1.2.0 aws-load-balancer-operator.v1.1.1] - Operators: [aws-load-balancer-operator]) error: manifest unknown\n` +
        'error mirroring image docker://registry.redhat.io/ubi8/ubi:latest error: unauthorized: access denied\n' +
        `error mirroring image docker://registry.redhat.io/albo/aws-load-balancer-operator-bundle@${digest('3')} error: skipping operator bundle docker://registry.redhat.io/albo/aws-load-balancer-operator-bundle@${digest('3')} because one of its related images failed to mirror\n`,
    );
  });

  it('writes an empty errors file when nothing failed', () => {
    assert.equal(renderErrorsFile(report(tasks.map((t) => result(t, 'mirrored')))), '');
  });

  it('leaves a skipped non-bundle out of the errors file unless it carries a reason', () => {
    assert.equal(renderErrorsFile(report([result(ubi9, 'skipped')])), '');
    assert.equal(
      renderErrorsFile(report([result(ubi9, 'skipped', { error: 'not attempted: a release image failed' })])),
      'error mirroring image docker://registry.redhat.io/ubi9/ubi:latest error: not attempted: a release image failed\n',
    );
  });

  describe('exit code bitmask (ref §12.4)', () => {
    it('is 0 when everything was mirrored or present', () => {
      assert.equal(exitCode(report(tasks.map((t, i) => result(t, i % 2 ? 'present' : 'mirrored')))), 0);
    });
    it('sets a bit per category with a shortfall', () => {
      assert.equal(exitCode(partial), 4 | 8);
    });
    it('counts skipped images as not mirrored (release failure then cancelled operators: 6)', () => {
      const cancelled = report([
        result(etcd, 'failed', { error: 'context deadline exceeded' }),
        result(payload, 'mirrored'),
        result(graph, 'mirrored'),
        result(related, 'skipped'),
        result(ubi9, 'mirrored'),
        result(ubi8, 'mirrored'),
        result(bundle, 'skipped'),
      ]);
      assert.equal(exitCode(cancelled), 2 | 4);
    });
    it('adds the bits of failed collectors', () => {
      const ok = report(tasks.map((t) => result(t, 'mirrored')));
      assert.equal(exitCode(ok, ['helm']), 16);
      assert.equal(exitCode(partial, ['release', 'operator']), 2 | 4 | 8);
      assert.equal(exitCode(report([]), ['additional', 'helm']), 24);
    });
  });
});
