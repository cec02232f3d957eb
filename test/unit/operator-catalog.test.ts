import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { Descriptor, RawManifest } from '../../src/image/manifest.js';
import type { ImageSource } from '../../src/image/transport.js';
import { bundleImages, renderBundleReasons } from '../../src/operator/bundle-images.js';
import { configFiles, extractConfigs, type CatalogImage } from '../../src/operator/catalog-image.js';
import { catalogFolder, catalogLocation, catalogRepository, catalogTag, filterKey, isRebuilt } from '../../src/operator/catalog-location.js';
import { rebuiltConfig } from '../../src/operator/catalog-rebuild.js';
import { catalogResourceName, loadCatalogSourceTemplate, renderCatalogSource } from '../../src/operator/cluster-catalogs.js';
import type { SelectedBundle } from '../../src/operator/filter.js';
import { tarOf } from '../support/catalog-builder.js';

const digest = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** An image source holding blobs in memory. */
function memorySource(blobs: Buffer[]): ImageSource {
  const byDigest = new Map(blobs.map((b) => [digest(b), b]));
  return {
    name: 'memory',
    getManifest: async () => {
      throw new Error('no manifests here');
    },
    getBlob: async (d: Descriptor) => Readable.from([byDigest.get(d.digest)!]),
  };
}

function imageOf(layers: Buffer[], sizes?: number[]): CatalogImage {
  const descs = layers.map((l, i) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digest(l), size: sizes?.[i] ?? l.length }));
  const config = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digest(Buffer.from('{}')), size: 2 };
  const platform = { manifest: {} as RawManifest, config, configBytes: Buffer.from('{}'), layers: descs };
  return { top: {} as RawManifest, isIndex: false, platforms: [platform], chosen: platform, configsDir: 'configs' };
}

async function filesOf(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const f of configFiles(dir)) out[f.path] = f.content.toString('utf8');
  return out;
}

describe('operator catalog image: FBC extraction across layers', () => {
  test('whiteouts of files, of directories and opaque directories apply to lower layers only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'op-extract-'));
    try {
      const l1 = gzipSync(
        tarOf([
          { name: 'configs/' },
          { name: 'configs/a/catalog.json', data: Buffer.from('a1') },
          { name: 'configs/b/catalog.json', data: Buffer.from('b1') },
          { name: 'configs/c/catalog.json', data: Buffer.from('c1') },
          { name: 'etc/passwd', data: Buffer.from('root') },
        ]),
      );
      const l2 = gzipSync(tarOf([{ name: 'configs/b/.wh.catalog.json' }, { name: 'configs/.wh.c' }, { name: './configs/a/catalog.json', data: Buffer.from('a2') }]));
      const image = imageOf([l1, l2]);
      await extractConfigs(memorySource([l1, l2]), image, join(dir, 'out'), 'test catalog');
      assert.deepEqual(await filesOf(join(dir, 'out')), { 'a/catalog.json': 'a2' });

      const l3 = gzipSync(tarOf([{ name: 'configs/d/catalog.json', data: Buffer.from('d3') }, { name: 'configs/.wh..wh..opq' }]));
      await extractConfigs(memorySource([l1, l2, l3]), imageOf([l1, l2, l3]), join(dir, 'opaque'), 'test catalog');
      assert.deepEqual(await filesOf(join(dir, 'opaque')), { 'd/catalog.json': 'd3' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a layer that does not match its digest is refused and nothing is left behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'op-extract-'));
    try {
      const good = gzipSync(tarOf([{ name: 'configs/a/catalog.json', data: Buffer.from('a') }]));
      const image = imageOf([good], [good.length + 1]);
      await assert.rejects(extractConfigs(memorySource([good]), image, join(dir, 'out'), 'test catalog'), /test catalog layer sha256:[0-9a-f]+: received \d+ of the \d+ bytes/);
      assert.deepEqual(await filesOf(dir), {});
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('operator catalog naming', () => {
  test('registry and layout catalogs: repository, tag, folder', () => {
    const reg = catalogLocation('docker://registry.example.com/redhat/redhat-operator-index:v4.18', '/cwd');
    assert.equal(catalogRepository({ catalog: '' }, reg, 'x'), 'redhat/redhat-operator-index');
    assert.equal(catalogRepository({ catalog: '', targetCatalog: 'mine/index' }, reg, 'x'), 'mine/index');
    assert.equal(catalogTag({ catalog: '' }, reg), 'v4.18');
    assert.equal(catalogTag({ catalog: '', targetTag: 'pinned' }, reg), 'pinned');
    assert.equal(catalogFolder(reg), 'redhat-operator-index');
    const byDigest = catalogLocation(`registry.example.com/idx@sha256:${'a'.repeat(64)}`, '/cwd');
    assert.equal(catalogTag({ catalog: '' }, byDigest), undefined);
    const oci = catalogLocation('oci:///data/My_Catalog', '/cwd');
    assert.deepEqual(oci, { kind: 'oci', dir: '/data/My_Catalog' });
    assert.equal(catalogTag({ catalog: '' }, oci), 'latest');
    assert.equal(catalogRepository({ catalog: '' }, oci, 'isc.yaml mirror.operators[0]'), 'my_catalog');
    assert.throws(() => catalogRepository({ catalog: '' }, catalogLocation('oci:///data/-x', '/'), 'isc.yaml mirror.operators[2]'), /^ConfigError: isc.yaml mirror.operators\[2\].catalog: .*set targetCatalog/);
    assert.deepEqual(catalogLocation('oci://rel/dir', '/cwd'), { kind: 'oci', dir: '/cwd/rel/dir' });
  });

  test('the filter key ignores naming fields; full without packages is not rebuilt', () => {
    const op = { catalog: 'a/b:1', packages: [{ name: 'p' }] };
    assert.equal(filterKey(op), filterKey({ ...op, catalog: 'other/c:2', targetCatalog: 'x', targetTag: 'y', targetCatalogSourceTemplate: 't.yaml' }));
    assert.notEqual(filterKey(op), filterKey({ ...op, packages: [{ name: 'p', minVersion: '1.0.0' }] }));
    assert.equal(isRebuilt({ catalog: 'a:1', full: true }), false);
    assert.equal(isRebuilt({ catalog: 'a:1', full: true, packages: [{ name: 'p' }] }), true);
    assert.equal(isRebuilt({ catalog: 'a:1' }), true);
  });

  test('CatalogSource and ClusterCatalog names (ref §6.2)', () => {
    assert.equal(catalogResourceName('cs', 'mirror.example.com:5000/ocp/redhat/redhat-operator-index:v4.18'), 'cs-redhat-operator-index-v4-18');
    assert.equal(catalogResourceName('cc', 'mirror.example.com:5000/ocp/redhat/redhat-operator-index:v4.18'), 'cc-redhat-operator-index-v4-18');
    assert.equal(catalogResourceName('cs', `m.example.com/idx:sha256-${'ab'.repeat(32)}`), 'cs-idx-sha256-ababa');
    assert.equal(catalogResourceName('cs', `m.example.com/idx@sha256:${'cd'.repeat(32)}`), 'cs-idx-cdcdcdcdcdcd');
    assert.equal(catalogResourceName('cs', 'm.example.com/idx:V4_18'), 'cs-idx-v4-18');
    assert.throws(() => catalogResourceName('cs', 'm.example.com/idx:v_'), /^Error: error creating catalog source name: "cs-idx-v-"/);
  });
});

describe('operator cluster resources', () => {
  const stamp = { createdAt: '2026-01-01T10:00:00Z', version: '1.2.3' };

  test('a CatalogSource template keeps its fields; name, namespace, image, sourceType and annotations are ours', () => {
    const dir = mkdtempSync(join(tmpdir(), 'op-template-'));
    try {
      const path = join(dir, 'cs.yaml');
      writeFileSync(
        path,
        'apiVersion: operators.coreos.com/v1alpha1\nkind: CatalogSource\nmetadata:\n  name: ignored\n  namespace: elsewhere\n  annotations:\n    team: ops\nspec:\n  updateStrategy:\n    registryPoll:\n      interval: 30m\n  displayName: Mirrored\n  sourceType: grpc\nstatus:\n  x: 1\n',
      );
      const template = loadCatalogSourceTemplate(path);
      assert.equal(template.problem, undefined);
      assert.equal(
        renderCatalogSource('cs-idx-v1', 'mirror/idx:v1', stamp, template.object),
        `apiVersion: operators.coreos.com/v1alpha1
kind: CatalogSource
metadata:
  annotations:
    createdAt: "2026-01-01T10:00:00Z"
    createdBy: oc-mirror v2
    oc-mirror_version: 1.2.3
    team: ops
  name: cs-idx-v1
  namespace: openshift-marketplace
spec:
  displayName: Mirrored
  image: mirror/idx:v1
  sourceType: grpc
  updateStrategy:
    registryPoll:
      interval: 30m
`,
      );
      writeFileSync(path, 'apiVersion: operators.coreos.com/v1alpha1\nkind: CatalogSource\nspec:\n  configMap: x\n');
      assert.match(loadCatalogSourceTemplate(path).problem!, /spec.configMap cannot be used/);
      writeFileSync(path, 'apiVersion: v1\nkind: ConfigMap\n');
      assert.match(loadCatalogSourceTemplate(path).problem!, /must be apiVersion operators.coreos.com\/v1alpha1, kind CatalogSource/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('operator bundle images', () => {
  const b = (pkg: string, name: string, image: string, related: string[]): SelectedBundle => ({
    package: pkg,
    channels: ['stable'],
    name,
    version: '1.0.0',
    image,
    relatedImages: [{ image }, ...related.map((r) => ({ image: r }))],
    reasons: ['head of channel stable'],
  });

  test('bundles and related images, shared images merged, unusable references skipped with a warning', () => {
    const warnings: string[] = [];
    const d = `sha256:${'1'.repeat(64)}`;
    const images = bundleImages(
      [
        b('a', 'a.v1', 'q.io/b/a:v1', [`q.io/op/a@${d}`, 'q.io/shared:1', 'oci:///x', '', 'q.io/notag']),
        b('c', 'c.v1', 'q.io/b/c:v1', ['q.io/shared:1', 'q.io/b/a:v1']),
      ],
      'cat:1',
      { warn: (m) => warnings.push(m) },
    );
    assert.deepEqual(images, [
      { source: 'q.io/b/a:v1', kind: 'operatorBundle', belongsTo: { operators: { catalog: 'cat:1', packages: ['a', 'c'], bundles: ['a.v1', 'c.v1'] } } },
      { source: 'q.io/b/c:v1', kind: 'operatorBundle', belongsTo: { operators: { catalog: 'cat:1', packages: ['c'], bundles: ['c.v1'] } } },
      { source: `q.io/op/a@${d}`, kind: 'operatorRelatedImage', belongsTo: { operators: { catalog: 'cat:1', packages: ['a'], bundles: ['a.v1'] } } },
      { source: 'q.io/shared:1', kind: 'operatorRelatedImage', belongsTo: { operators: { catalog: 'cat:1', packages: ['a', 'c'], bundles: ['a.v1', 'c.v1'] } } },
    ]);
    assert.deepEqual(warnings, [
      `catalog cat:1: bundle a.v1 (package a): image "oci:///x" skipped: 'oci' is not supported in operator catalogs`,
      'catalog cat:1: bundle a.v1 (package a): image "q.io/notag" skipped: it has no tag or digest',
    ]);
    assert.equal(
      renderBundleReasons([{ catalog: 'cat:1', digest: d, bundles: [b('a', 'a.v1', 'q.io/b/a:v1', [])], addedPackages: [{ package: 'z', reason: 'dependency of a.v1' }] }]),
      `catalog cat:1 (${d}): 1 bundle(s)\n  a a.v1 1.0.0 [channels: stable]\n    - head of channel stable\n  added package z: dependency of a.v1\n`,
    );
  });
});

describe('operator catalog rebuild', () => {
  test('the config gets the configs label, a serve command without cache, the diff_id and an undated history entry', () => {
    const original = Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        created: '2024-01-01T00:00:00Z',
        config: { Entrypoint: ['/bin/opm'], Cmd: ['serve', '/configs', '--cache-dir=/tmp/cache'], Labels: { a: 'b', 'operators.operatorframework.io.index.configs.v1': '/configs' } },
        rootfs: { type: 'layers', diff_ids: ['sha256:1'] },
        history: [{ created: '2024-01-01T00:00:00Z' }],
      }),
    );
    const cfg = JSON.parse(rebuiltConfig(original, 'sha256:2').toString('utf8'));
    assert.deepEqual(cfg, {
      architecture: 'amd64',
      created: '2024-01-01T00:00:00Z',
      config: { Entrypoint: ['/bin/opm'], Cmd: ['serve', '/configs'], Labels: { a: 'b', 'operators.operatorframework.io.index.configs.v1': '/configs' } },
      rootfs: { type: 'layers', diff_ids: ['sha256:1', 'sha256:2'] },
      history: [{ created: '2024-01-01T00:00:00Z' }, { created_by: 'oc-mirror: filtered file-based catalog in /configs', author: 'oc-mirror' }],
    });
    assert.deepEqual(rebuiltConfig(original, 'sha256:2'), rebuiltConfig(original, 'sha256:2'));
  });
});
