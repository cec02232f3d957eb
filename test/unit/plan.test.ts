import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OcMirrorError } from '../../src/errors.js';
import { parseRegistryLocation } from '../../src/image/reference.js';
import { isBlocked } from '../../src/plan/blocked.js';
import { mergeMembership } from '../../src/plan/membership.js';
import { applyMaxNestedPaths, destinationFor, pullSpec, splitDestination } from '../../src/plan/naming.js';
import { buildPlan, findDestinationConflicts } from '../../src/plan/planner.js';
import type { CollectedImage } from '../../src/plan/types.js';

const hex = (c: string): string => c.repeat(64);
const digest = (c: string): string => `sha256:${hex(c)}`;

const DEST = parseRegistryLocation('docker://mirror.example.com:5000/ocp');

describe('destinationFor (ref §5.2, §5.3)', () => {
  const cases: { name: string; image: CollectedImage; expected: string }[] = [
    {
      name: 'release payload: collector-set repository and tag',
      image: {
        source: 'quay.io/openshift-release-dev/ocp-release:4.18.1-x86_64',
        kind: 'ocpRelease',
        targetRepo: 'openshift/release-images',
        targetTag: '4.18.1-x86_64',
      },
      expected: 'mirror.example.com:5000/ocp/openshift/release-images:4.18.1-x86_64',
    },
    {
      name: 'release payload without collector fields falls back to release-images and the source tag',
      image: { source: 'quay.io/openshift-release-dev/ocp-release:4.18.1-x86_64', kind: 'ocpRelease' },
      expected: 'mirror.example.com:5000/ocp/openshift/release-images:4.18.1-x86_64',
    },
    {
      name: 'release payload by digest without a tag is named by the digest hex (ref §5.4)',
      image: { source: `quay.io/openshift-release-dev/ocp-release@${digest('e')}`, kind: 'ocpRelease' },
      expected: `mirror.example.com:5000/ocp/openshift/release-images:${hex('e')}`,
    },
    {
      name: 'release component (etcd)',
      image: {
        source: `quay.io/openshift-release-dev/ocp-v4.0-art-dev@${digest('a')}`,
        kind: 'ocpReleaseContent',
        targetRepo: 'openshift/release',
        targetTag: '4.18.1-x86_64-etcd',
      },
      expected: 'mirror.example.com:5000/ocp/openshift/release:4.18.1-x86_64-etcd',
    },
    {
      name: 'graph image',
      image: { source: 'localhost:55000/openshift/graph-image:latest', kind: 'cincinnatiGraph' },
      expected: 'mirror.example.com:5000/ocp/openshift/graph-image:latest',
    },
    {
      name: 'operator related image by digest: host dropped, path kept, sha256- tag',
      image: { source: `registry.redhat.io/albo/aws-load-balancer-rhel8-operator@${digest('c')}`, kind: 'operatorRelatedImage' },
      expected: `mirror.example.com:5000/ocp/albo/aws-load-balancer-rhel8-operator:sha256-${hex('c')}`,
    },
    {
      name: 'operator bundle by digest',
      image: { source: `registry.redhat.io/albo/aws-load-balancer-operator-bundle@${digest('b')}`, kind: 'operatorBundle' },
      expected: `mirror.example.com:5000/ocp/albo/aws-load-balancer-operator-bundle:sha256-${hex('b')}`,
    },
    {
      name: 'catalog by tag',
      image: { source: 'registry.redhat.io/redhat/redhat-operator-index:v4.18', kind: 'operatorCatalog' },
      expected: 'mirror.example.com:5000/ocp/redhat/redhat-operator-index:v4.18',
    },
    {
      name: 'catalog with targetCatalog and targetTag',
      image: { source: 'registry.redhat.io/redhat/redhat-operator-index:v4.18', kind: 'operatorCatalog', targetRepo: 'mirrored/catalogs/redhat', targetTag: 'v4.18-filtered' },
      expected: 'mirror.example.com:5000/ocp/mirrored/catalogs/redhat:v4.18-filtered',
    },
    {
      name: 'catalog by digest only',
      image: { source: `registry.redhat.io/redhat/redhat-operator-index@${digest('f')}`, kind: 'operatorCatalog' },
      expected: `mirror.example.com:5000/ocp/redhat/redhat-operator-index:sha256-${hex('f')}`,
    },
    {
      name: 'additional image by tag on a host:port registry',
      image: { source: 'registry.local:5000/team/app:1.0', kind: 'generic' },
      expected: 'mirror.example.com:5000/ocp/team/app:1.0',
    },
    {
      name: 'additional image by digest on a host:port registry (oc-mirror gives an empty tag here)',
      image: { source: `registry.local:5000/team/app@${digest('1')}`, kind: 'generic' },
      expected: `mirror.example.com:5000/ocp/team/app:sha256-${hex('1')}`,
    },
    {
      name: 'additional image by tag and digest keeps the tag',
      image: { source: `quay.io/prometheus/busybox:glibc@${digest('2')}`, kind: 'generic' },
      expected: 'mirror.example.com:5000/ocp/prometheus/busybox:glibc',
    },
    {
      name: 'digest-only additional image with targetTag uses the targetTag',
      image: { source: `quay.io/ns/img@${digest('3')}`, kind: 'generic', targetTag: 'pinned' },
      expected: 'mirror.example.com:5000/ocp/ns/img:pinned',
    },
    {
      name: 'targetRepo replaces the whole path, the tag stays',
      image: { source: 'quay.io/acme/deep/path/tool:2.0', kind: 'generic', targetRepo: 'tools/tool' },
      expected: 'mirror.example.com:5000/ocp/tools/tool:2.0',
    },
    {
      name: 'helm image from Docker Hub',
      image: { source: 'docker.io/bitnami/nginx:1.25.0', kind: 'helmImage' },
      expected: 'mirror.example.com:5000/ocp/bitnami/nginx:1.25.0',
    },
  ];
  for (const { name, image, expected } of cases) {
    it(name, () => assert.equal(destinationFor(image, DEST), expected));
  }

  it('uses no prefix when the destination has none', () => {
    assert.equal(
      destinationFor({ source: 'registry.redhat.io/ubi9/ubi:latest', kind: 'generic' }, parseRegistryLocation('docker://localhost:5000')),
      'localhost:5000/ubi9/ubi:latest',
    );
  });

  it('keeps a nested prefix', () => {
    assert.equal(
      destinationFor({ source: 'registry.redhat.io/ubi9/ubi:latest', kind: 'generic' }, parseRegistryLocation('docker://reg.example.com/a/b/c')),
      'reg.example.com/a/b/c/ubi9/ubi:latest',
    );
  });

  it('refuses a release component the collector gave no tag', () => {
    assert.throws(
      () => destinationFor({ source: `quay.io/openshift-release-dev/ocp-v4.0-art-dev@${digest('a')}`, kind: 'ocpReleaseContent' }, DEST),
      (err: unknown) => err instanceof OcMirrorError && /ocp-v4\.0-art-dev.*targetTag/.test(err.message),
    );
  });

  it('refuses an image without tag or digest', () => {
    assert.throws(() => destinationFor({ source: 'quay.io/ns/img', kind: 'generic' }, DEST), OcMirrorError);
  });
});

describe('pullSpec', () => {
  it('pulls tag+digest images by digest', () => {
    assert.equal(pullSpec(`quay.io/prometheus/busybox:glibc@${digest('2')}`), `quay.io/prometheus/busybox@${digest('2')}`);
  });
  it('keeps a tag and a registry port', () => {
    assert.equal(pullSpec('registry.local:5000/team/app:1.0'), 'registry.local:5000/team/app:1.0');
  });
});

describe('splitDestination', () => {
  it('does not take a port for a tag', () => {
    assert.deepEqual(splitDestination('docker://reg:5000/a/b:t@' + digest('1')), {
      transport: 'docker://',
      host: 'reg:5000',
      path: ['a', 'b'],
      suffix: `:t@${digest('1')}`,
    });
  });
});

describe('applyMaxNestedPaths (ref §5.6)', () => {
  const cases: [string, number, string][] = [
    // the reference's own example (oc-mirror's image_test.go)
    [
      `reg/ocpbugs-11922/mirror-release/gitlab-org/ci-cd/x/y@${digest('9')}`,
      3,
      `reg/ocpbugs-11922/mirror-release/gitlab-org-ci-cd-x-y@${digest('9')}`,
    ],
    // the prefix counts
    ['mirror.example.com:5000/ocp/albo/aws-operator:v1', 2, 'mirror.example.com:5000/ocp/albo-aws-operator:v1'],
    // exactly N components: unchanged
    ['mirror.example.com:5000/ocp/albo/aws-operator:v1', 3, 'mirror.example.com:5000/ocp/albo/aws-operator:v1'],
    // fewer: unchanged
    ['mirror.example.com:5000/ocp/albo/aws-operator:v1', 10, 'mirror.example.com:5000/ocp/albo/aws-operator:v1'],
    // N=1: everything after the host in one component, never `reg//…`
    ['mirror.example.com:5000/ocp/albo/aws-operator:v1', 1, 'mirror.example.com:5000/ocp-albo-aws-operator:v1'],
    ['reg/a/b@' + digest('1'), 1, 'reg/a-b@' + digest('1')],
    ['reg/a:t@' + digest('1'), 1, 'reg/a:t@' + digest('1')],
    // 0 (the default) and negative: no limit
    ['reg/a/b/c/d:t', 0, 'reg/a/b/c/d:t'],
    ['reg/a/b/c/d:t', -1, 'reg/a/b/c/d:t'],
    // a transport is kept
    ['docker://reg:5000/a/b/c:t', 2, 'docker://reg:5000/a/b-c:t'],
  ];
  for (const [input, n, expected] of cases) {
    it(`${input} with N=${n}`, () => assert.equal(applyMaxNestedPaths(input, n), expected));
  }
});

describe('isBlocked (ref §10.2)', () => {
  const image: CollectedImage = { source: `registry.redhat.io/albo/aws-load-balancer-rhel8-operator@${digest('c')}`, kind: 'operatorRelatedImage' };
  const destination = `docker://mirror.example.com:5000/ocp/albo/aws-load-balancer-rhel8-operator:sha256-${hex('c')}`;

  it('matches the source unanchored', () => {
    assert.equal(isBlocked(image, destination, [/load-balancer/]), true);
  });
  it('matches the destination without its transport', () => {
    assert.equal(isBlocked(image, destination, [/^mirror\.example\.com:5000\/ocp\/albo\//]), true);
  });
  it('matches the source without a transport when anchored', () => {
    assert.equal(isBlocked({ ...image, source: `docker://${image.source}` }, destination, [/^registry\.redhat\.io\//]), true);
  });
  it('does not block on no match', () => {
    assert.equal(isBlocked(image, destination, [/^albo/, /ubi9/]), false);
    assert.equal(isBlocked(image, destination, []), false);
  });
  it('never blocks an image without a source', () => {
    assert.equal(isBlocked({ ...image, source: '' }, destination, [/.*/]), false);
  });
  it('answers the same every time for a global pattern', () => {
    const g = /albo/g;
    assert.equal(isBlocked(image, destination, [g]), true);
    assert.equal(isBlocked(image, destination, [g]), true);
  });
});

describe('mergeMembership', () => {
  it('unions operator packages and bundles', () => {
    assert.deepEqual(
      mergeMembership(
        { operators: { catalog: 'redhat-operator-index', packages: ['a'], bundles: ['a.v1'] } },
        { operators: { catalog: 'redhat-operator-index', packages: ['b', 'a'], bundles: ['b.v2'] }, chart: 'c-1.0' },
      ),
      { operators: { catalog: 'redhat-operator-index', packages: ['a', 'b'], bundles: ['a.v1', 'b.v2'] }, chart: 'c-1.0' },
    );
  });
  it('keeps either side when the other is missing', () => {
    assert.deepEqual(mergeMembership(undefined, { release: '4.18.1-x86_64' }), { release: '4.18.1-x86_64' });
    assert.equal(mergeMembership(undefined, undefined), undefined);
  });
});

describe('buildPlan', () => {
  const opts = { maxNestedPaths: 0, blocked: [] as RegExp[] };

  it('orders tasks by ref §5.7 priority, stable within a kind, and fills origin', () => {
    const images: CollectedImage[] = [
      { source: 'registry.redhat.io/redhat/redhat-operator-index:v4.18', kind: 'operatorCatalog' },
      { source: `registry.redhat.io/albo/bundle@${digest('b')}`, kind: 'operatorBundle' },
      { source: 'docker.io/bitnami/nginx:1.25.0', kind: 'helmImage' },
      { source: 'registry.redhat.io/ubi9/ubi:latest', kind: 'generic' },
      { source: 'registry.redhat.io/ubi8/ubi:latest', kind: 'generic' },
      { source: `registry.redhat.io/albo/operator@${digest('c')}`, kind: 'operatorRelatedImage' },
      { source: 'localhost:55000/openshift/graph-image:latest', kind: 'cincinnatiGraph' },
      { source: 'quay.io/openshift-release-dev/ocp-release:4.18.1-x86_64', kind: 'ocpRelease', targetRepo: 'openshift/release-images', targetTag: '4.18.1-x86_64' },
      { source: `quay.io/openshift-release-dev/ocp-v4.0-art-dev@${digest('a')}`, kind: 'ocpReleaseContent', targetRepo: 'openshift/release', targetTag: '4.18.1-x86_64-etcd' },
      { source: `quay.io/openshift-release-dev/ocp-v4.0-art-dev@${digest('d')}`, kind: 'ocpReleaseContent', targetRepo: 'openshift/release', targetTag: '4.18.1-x86_64-cli' },
    ];
    const { plan, blocked } = buildPlan(images, 'docker://mirror.example.com:5000/ocp', opts);
    assert.deepEqual(blocked, []);
    assert.equal(plan.destination, 'docker://mirror.example.com:5000/ocp');
    assert.deepEqual(
      plan.tasks.map((t) => [t.kind, t.origin, t.destination]),
      [
        ['ocpReleaseContent', 'release', 'mirror.example.com:5000/ocp/openshift/release:4.18.1-x86_64-etcd'],
        ['ocpReleaseContent', 'release', 'mirror.example.com:5000/ocp/openshift/release:4.18.1-x86_64-cli'],
        ['ocpRelease', 'release', 'mirror.example.com:5000/ocp/openshift/release-images:4.18.1-x86_64'],
        ['cincinnatiGraph', 'release', 'mirror.example.com:5000/ocp/openshift/graph-image:latest'],
        ['operatorRelatedImage', 'operator', `mirror.example.com:5000/ocp/albo/operator:sha256-${hex('c')}`],
        ['generic', 'additional', 'mirror.example.com:5000/ocp/ubi9/ubi:latest'],
        ['generic', 'additional', 'mirror.example.com:5000/ocp/ubi8/ubi:latest'],
        ['helmImage', 'helm', 'mirror.example.com:5000/ocp/bitnami/nginx:1.25.0'],
        ['operatorBundle', 'operator', `mirror.example.com:5000/ocp/albo/bundle:sha256-${hex('b')}`],
        ['operatorCatalog', 'operator', 'mirror.example.com:5000/ocp/redhat/redhat-operator-index:v4.18'],
      ],
    );
  });

  it('copies the same source to the same destination once, merging what it belongs to', () => {
    const source = `registry.redhat.io/rhel9/postgresql-15@${digest('5')}`;
    const { plan } = buildPlan(
      [
        { source, kind: 'operatorRelatedImage', belongsTo: { operators: { catalog: 'redhat-operator-index', packages: ['a'], bundles: ['a.v1'] } } },
        { source, kind: 'generic' },
        { source, kind: 'operatorRelatedImage', belongsTo: { operators: { catalog: 'redhat-operator-index', packages: ['b'], bundles: ['b.v3'] } } },
        { source, kind: 'helmImage', belongsTo: { chart: 'pg-1.2.3' } },
      ],
      'docker://reg.example.com',
      opts,
    );
    assert.deepEqual(plan.tasks, [
      {
        source,
        destination: `reg.example.com/rhel9/postgresql-15:sha256-${hex('5')}`,
        kind: 'operatorRelatedImage',
        origin: 'operator',
        belongsTo: { operators: { catalog: 'redhat-operator-index', packages: ['a', 'b'], bundles: ['a.v1', 'b.v3'] }, chart: 'pg-1.2.3' },
      },
    ]);
  });

  it('lets a bundle listed among related images stay a bundle', () => {
    const source = `registry.redhat.io/albo/bundle@${digest('b')}`;
    const { plan } = buildPlan(
      [
        { source, kind: 'operatorRelatedImage' },
        { source, kind: 'operatorBundle' },
      ],
      'docker://reg.example.com',
      opts,
    );
    assert.deepEqual(
      plan.tasks.map((t) => t.kind),
      ['operatorBundle'],
    );
  });

  it('keeps copies of one source to different destinations', () => {
    const { plan } = buildPlan(
      [
        { source: 'quay.io/acme/tool:2.0', kind: 'generic' },
        { source: 'quay.io/acme/tool:2.0', kind: 'generic', targetRepo: 'tools/tool' },
        { source: 'quay.io/acme/tool:2.0', kind: 'generic' },
      ],
      'docker://reg.example.com',
      opts,
    );
    assert.deepEqual(
      plan.tasks.map((t) => t.destination),
      ['reg.example.com/acme/tool:2.0', 'reg.example.com/tools/tool:2.0'],
    );
  });

  it('normalises sources so that spellings of one image meet', () => {
    const { plan } = buildPlan(
      [
        { source: 'docker://docker.io/library/nginx:1.27', kind: 'generic' },
        { source: 'docker.io/library/nginx:1.27', kind: 'generic' },
      ],
      'docker://reg.example.com',
      opts,
    );
    assert.deepEqual(plan.tasks.map((t) => `${t.source}=${t.destination}`), ['docker.io/library/nginx:1.27=reg.example.com/library/nginx:1.27']);
  });

  it('returns blocked images apart, matching source or destination', () => {
    const images: CollectedImage[] = [
      { source: 'registry.redhat.io/ubi9/ubi:latest', kind: 'generic' },
      { source: 'registry.redhat.io/ubi8/ubi:latest', kind: 'generic' },
      { source: 'quay.io/acme/tool:2.0', kind: 'generic', targetRepo: 'forbidden/tool' },
    ];
    const { plan, blocked } = buildPlan(images, 'docker://reg.example.com', { maxNestedPaths: 0, blocked: [/ubi8/, /^reg\.example\.com\/forbidden\//] });
    assert.deepEqual(plan.tasks.map((t) => t.source), ['registry.redhat.io/ubi9/ubi:latest']);
    assert.deepEqual(blocked, [images[1], images[2]]);
  });

  it('blocks on the natural and on the flattened destination', () => {
    const images: CollectedImage[] = [
      { source: 'quay.io/a/b/c:1', kind: 'generic' },
      { source: 'quay.io/x/y/z:1', kind: 'generic' },
      { source: 'quay.io/k/l/m:1', kind: 'generic' },
    ];
    const { plan, blocked } = buildPlan(images, 'docker://reg.example.com/ocp', { maxNestedPaths: 2, blocked: [/ocp\/a\/b\/c/, /ocp\/x-y-z/] });
    assert.deepEqual(blocked, [images[0], images[1]]);
    assert.deepEqual(plan.tasks.map((t) => t.destination), ['reg.example.com/ocp/k-l-m:1']);
  });

  it('applies --max-nested-paths to every destination', () => {
    const { plan } = buildPlan(
      [{ source: `quay.io/openshift-release-dev/ocp-v4.0-art-dev@${digest('a')}`, kind: 'ocpReleaseContent', targetTag: '4.18.1-x86_64-etcd' }],
      'docker://reg.example.com/ocpbugs/mirror',
      { maxNestedPaths: 3, blocked: [] },
    );
    assert.equal(plan.tasks[0]!.destination, 'reg.example.com/ocpbugs/mirror/openshift-release:4.18.1-x86_64-etcd');
  });

  it('accepts an already parsed location (mirror-to-disk store name)', () => {
    const { plan } = buildPlan([{ source: 'registry.redhat.io/ubi9/ubi:latest', kind: 'generic' }], { registry: 'localhost:55000', prefix: '' }, opts);
    assert.equal(plan.destination, 'docker://localhost:55000');
    assert.equal(plan.tasks[0]!.destination, 'localhost:55000/ubi9/ubi:latest');
  });
});

describe('findDestinationConflicts', () => {
  it('reports different images written to one destination, not one digest reached twice', () => {
    const { plan } = buildPlan(
      [
        { source: 'quay.io/team/app:1.0', kind: 'generic' },
        { source: 'ghcr.io/team/app:1.0', kind: 'generic' },
        { source: `quay.io/team/lib@${digest('1')}`, kind: 'generic' },
        { source: `ghcr.io/team/lib@${digest('1')}`, kind: 'generic' },
      ],
      'docker://reg.example.com',
      { maxNestedPaths: 0, blocked: [] },
    );
    assert.deepEqual(findDestinationConflicts(plan.tasks), [
      { destination: 'reg.example.com/team/app:1.0', sources: ['quay.io/team/app:1.0', 'ghcr.io/team/app:1.0'] },
    ]);
  });
});
