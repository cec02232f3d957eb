/**
 * Operator catalogs end to end: catalogs built here (test/support/catalog-builder.ts) with their
 * bundle and operand images in one docker-registry, mirrored by the CLI, and checked with skopeo
 * and the system tar.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { filesUnder, pushCatalog, pushSmallImage, readLayout, type FbcObject } from '../support/catalog-builder.js';
import { removeDir } from '../support/cleanup.js';
import type { PushedImage } from '../support/images.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { skopeo } from '../support/skopeo.js';
import { integrationSuite } from '../support/tools.js';
import { runD2M, runM2D } from './disk-helpers.js';
import { describeRun, ocMirror, sandbox, writeIsc, type Sandbox } from './m2m-helpers.js';

interface World {
  reg: TestRegistry;
  catalog: PushedImage;
  /** operand digests by bundle name */
  operands: Map<string, string>;
}

function bundle(host: string, pkg: string, version: string, related: string[], extra: FbcObject[] = []): FbcObject {
  const image = `${host}/bundles/${pkg}:v${version}`;
  return {
    schema: 'olm.bundle',
    name: `${pkg}.v${version}`,
    package: pkg,
    image,
    properties: [
      { type: 'olm.package', value: { packageName: pkg, version } },
      { type: 'olm.csv.metadata', value: { displayName: `${pkg[0]!.toUpperCase()}${pkg.slice(1)} Operator` } },
      ...extra,
    ],
    relatedImages: [{ name: 'bundle', image }, ...related.map((r, i) => ({ name: `image${i}`, image: r }))],
  };
}

async function buildWorld(reg: TestRegistry): Promise<World> {
  const h = reg.host;
  const operands = new Map<string, string>();
  const proxy = `${h}/ops/kube-proxy:v1`;
  await pushSmallImage(reg, 'ops/kube-proxy', 'v1');
  const objects: FbcObject[] = [
    { schema: 'olm.package', name: 'alpha', defaultChannel: 'stable' },
    {
      schema: 'olm.channel',
      package: 'alpha',
      name: 'stable',
      entries: [{ name: 'alpha.v1.0.0' }, { name: 'alpha.v1.1.0', replaces: 'alpha.v1.0.0' }, { name: 'alpha.v1.2.0', replaces: 'alpha.v1.1.0', skips: ['alpha.v1.0.0'] }],
    },
    { schema: 'olm.channel', package: 'alpha', name: 'fast', entries: [{ name: 'alpha.v1.2.0' }, { name: 'alpha.v1.3.0', replaces: 'alpha.v1.2.0', skipRange: '>=1.0.0 <1.3.0' }] },
    { schema: 'olm.package', name: 'beta', defaultChannel: 'stable' },
    { schema: 'olm.channel', package: 'beta', name: 'stable', entries: [{ name: 'beta.v2.0.0' }, { name: 'beta.v2.1.0', replaces: 'beta.v2.0.0' }, { name: 'beta.v2.2.0', replaces: 'beta.v2.1.0' }] },
    { schema: 'olm.package', name: 'gamma', defaultChannel: 'stable' },
    { schema: 'olm.channel', package: 'gamma', name: 'stable', entries: [{ name: 'gamma.v0.1.0' }] },
  ];
  for (const v of ['1.0.0', '1.1.0', '1.2.0', '1.3.0']) {
    await pushSmallImage(reg, 'bundles/alpha', `v${v}`);
    const op = await pushSmallImage(reg, 'ops/alpha-operator', null);
    operands.set(`alpha.v${v}`, op.digest);
    const requires = v === '1.3.0' ? [{ type: 'olm.package.required', value: { packageName: 'gamma', versionRange: '>=0.1.0' } }] : [];
    objects.push(bundle(h, 'alpha', v, [`${h}/ops/alpha-operator@${op.digest}`, proxy], requires));
  }
  for (const v of ['2.0.0', '2.1.0', '2.2.0']) {
    await pushSmallImage(reg, 'bundles/beta', `v${v}`);
    await pushSmallImage(reg, 'ops/beta-operator', `v${v}`);
    // beta 2.2.0 names an operand that is not in the registry: its copy fails.
    objects.push(bundle(h, 'beta', v, [`${h}/ops/beta-operator:v${v}`, proxy, ...(v === '2.2.0' ? [`${h}/ops/missing:v9`] : [])]));
  }
  await pushSmallImage(reg, 'bundles/gamma', 'v0.1.0');
  const gammaOp = await pushSmallImage(reg, 'ops/gamma-operator', null);
  operands.set('gamma.v0.1.0', gammaOp.digest);
  objects.push(bundle(h, 'gamma', '0.1.0', [`${h}/ops/gamma-operator@${gammaOp.digest}`]));
  const catalog = await pushCatalog(reg, 'catalogs/index', 'v1', { objects });
  await pushCatalog(reg, 'catalogs/nolabel', 'v1', { objects, label: null });
  return { reg, catalog, operands };
}

/** The images scenario A selects: alpha's channel heads, beta >= 2.1.0, gamma as alpha 1.3.0's dependency. */
function expectedImages(w: World): Record<string, string> {
  const h = w.reg.host;
  return {
    [`${h}/bundles/alpha:v1.2.0`]: 'operatorBundle',
    [`${h}/bundles/alpha:v1.3.0`]: 'operatorBundle',
    [`${h}/bundles/beta:v2.1.0`]: 'operatorBundle',
    [`${h}/bundles/beta:v2.2.0`]: 'operatorBundle',
    [`${h}/bundles/gamma:v0.1.0`]: 'operatorBundle',
    [`${h}/ops/alpha-operator@${w.operands.get('alpha.v1.2.0')}`]: 'operatorRelatedImage',
    [`${h}/ops/alpha-operator@${w.operands.get('alpha.v1.3.0')}`]: 'operatorRelatedImage',
    [`${h}/ops/kube-proxy:v1`]: 'operatorRelatedImage',
    [`${h}/ops/beta-operator:v2.1.0`]: 'operatorRelatedImage',
    [`${h}/ops/beta-operator:v2.2.0`]: 'operatorRelatedImage',
    [`${h}/ops/missing:v9`]: 'operatorRelatedImage',
    [`${h}/ops/gamma-operator@${w.operands.get('gamma.v0.1.0')}`]: 'operatorRelatedImage',
    [`${h}/catalogs/index:v1`]: 'operatorCatalog',
  };
}

const SELECTION = (catalog: string) => `mirror:
  operators:
  - catalog: ${catalog}
    packages:
    - name: alpha
    - name: beta
      minVersion: 2.1.0
`;

interface Report {
  images: { task: { source: string; kind: string; destination: string }; status: string; error?: string }[];
}

function readReport(workingDir: string): Report {
  const logs = join(workingDir, 'logs');
  // the newest: mirror to disk and disk to mirror share working-dir when --from is the archive directory
  const name = readdirSync(logs).filter((f) => f.startsWith('report_')).sort().at(-1)!;
  return JSON.parse(readFileSync(join(logs, name), 'utf8')) as Report;
}

function kinds(report: Report): Record<string, string> {
  return Object.fromEntries(report.images.map((i) => [i.task.source, i.task.kind]));
}

/** The objects of a JSON stream written one pretty-printed object after another. */
function jsonStream(text: string): FbcObject[] {
  return text
    .split(/\n(?=\{)/)
    .filter((s) => s.trim())
    .map((s) => JSON.parse(s) as FbcObject);
}

async function digestOf(ref: string): Promise<string> {
  const r = await skopeo(['inspect', '--format', '{{.Digest}}', '--tls-verify=false', `docker://${ref}`]);
  return r.stdout.toString('utf8').trim();
}

describe('operator catalogs', integrationSuite(), () => {
  let world: World;
  let box: Sandbox;
  before(async () => {
    const reg = await startRegistry();
    world = await buildWorld(reg);
    box = sandbox();
  });
  /** The catalog as an OCI layout on disk, written by skopeo, in a directory named `ocicat`. */
  const catalogLayout = async (): Promise<string> => {
    const layout = join(box.dir, 'layouts', 'ocicat');
    if (existsSync(layout)) return layout;
    mkdirSync(join(box.dir, 'layouts'), { recursive: true });
    await skopeo(['copy', '--all', '--src-tls-verify=false', `docker://${world.reg.host}/catalogs/index:v1`, `oci:${layout}`]);
    return layout;
  };
  after(async () => {
    await world?.reg.stop();
    if (box) await removeDir(box.dir);
  });

  test('mirror to mirror: exact image set, rebuilt catalog, cluster resources, errors file, dry-run reasons', async () => {
    const h = world.reg.host;
    const isc = writeIsc(box, 'm2m.yaml', SELECTION(`${h}/catalogs/index:v1`));
    const ws = join(box.dir, 'ws-a');
    const args = ['-c', isc, '--workspace', `file://${ws}`, `docker://${h}/mirror`, '--src-tls-verify=false', '--dest-tls-verify=false', '--retry-times', '0', '--cache-dir', join(box.dir, 'cache-a')];

    const dry = await ocMirror(box, [...args, '--dry-run']);
    assert.equal(dry.code, 0, describeRun(dry));
    const reasons = readFileSync(join(ws, 'working-dir', 'dry-run', 'operator-bundles.txt'), 'utf8');
    for (const b of ['alpha alpha.v1.2.0 1.2.0', 'alpha alpha.v1.3.0 1.3.0', 'beta beta.v2.1.0 2.1.0', 'beta beta.v2.2.0 2.2.0', 'gamma gamma.v0.1.0 0.1.0']) {
      assert.ok(reasons.includes(`  ${b} [channels: `), `${b} in:\n${reasons}`);
    }
    assert.match(reasons, /added package gamma: /);

    const run = await ocMirror(box, args);
    // ops/missing:v9 does not exist: the operator bit of the exit code is set, everything else is mirrored.
    assert.equal(run.code, 4, describeRun(run));
    const report = readReport(join(ws, 'working-dir'));
    assert.deepEqual(kinds(report), expectedImages(world));
    const failed = report.images.filter((i) => i.status !== 'mirrored').map((i) => i.task.source);
    assert.deepEqual(failed, [`${h}/ops/missing:v9`]);
    const errorsFile = readdirSync(join(ws, 'working-dir', 'logs')).find((f) => f.startsWith('mirroring_errors_'))!;
    assert.match(
      readFileSync(join(ws, 'working-dir', 'logs', errorsFile), 'utf8'),
      new RegExp(`^error mirroring image docker://${h}/ops/missing:v9 \\(Operator bundles: \\[beta\\.v2\\.2\\.0\\] - Operators: \\[beta\\]\\) error: `),
    );
    // by digest: mirrored under the sha256- tag
    const alphaOp = world.operands.get('alpha.v1.3.0')!;
    assert.equal(await digestOf(`${h}/mirror/ops/alpha-operator:${alphaOp.replace(':', '-')}`), alphaOp);

    // The rebuilt catalog, pulled back by skopeo and read with tar.
    const layout = join(box.dir, 'pulled-a');
    await skopeo(['copy', '--all', '--src-tls-verify=false', `docker://${h}/mirror/catalogs/index:v1`, `oci:${layout}:v1`]);
    const image = readLayout(layout);
    assert.deepEqual(image.index.manifests.map((m) => m.platform?.architecture), ['amd64', 'arm64']);
    for (const [i, m] of image.manifests.entries()) {
      const original = world.catalog.children![i]!;
      assert.deepEqual(m.manifest.layers.slice(0, 2).map((l) => l.digest), original.layers!.map((l) => l.digest));
      assert.equal(m.manifest.layers.length, 3);
      assert.deepEqual(m.config.config.Cmd, ['serve', '/configs']);
      assert.equal(m.config.config.Labels['operators.operatorframework.io.index.configs.v1'], '/configs');
      assert.equal(m.config.rootfs.diff_ids.length, 3);
      assert.equal(m.config.history.at(-1).created, undefined);
    }
    const files = filesUnder(layout, image.manifests[0]!.manifest.layers, 'configs', join(box.dir, 'rootfs-a'));
    assert.deepEqual([...files.keys()].sort(), ['alpha/catalog.json', 'beta/catalog.json', 'gamma/catalog.json']);
    const objects = [...files.values()].flatMap(jsonStream);
    assert.deepEqual(
      objects.filter((o) => o.schema === 'olm.bundle').map((o) => o.name).sort(),
      ['alpha.v1.2.0', 'alpha.v1.3.0', 'beta.v2.1.0', 'beta.v2.2.0', 'gamma.v0.1.0'],
    );
    // The stale opm cache stays in the lower layers, unused: the command no longer names it.
    assert.ok(existsSync(join(box.dir, 'rootfs-a', 'rootfs', 'tmp', 'cache', 'cache.json')));

    const resources = join(ws, 'working-dir', 'cluster-resources');
    const stamp = (text: string) => text.replace(/createdAt: "[^"]+"/, 'createdAt: "T"').replace(/oc-mirror_version: .+/, 'oc-mirror_version: V');
    assert.equal(
      stamp(readFileSync(join(resources, 'cs-index-v1.yaml'), 'utf8')),
      `apiVersion: operators.coreos.com/v1alpha1
kind: CatalogSource
metadata:
  annotations:
    createdAt: "T"
    createdBy: oc-mirror v2
    oc-mirror_version: V
  name: cs-index-v1
  namespace: openshift-marketplace
spec:
  image: ${h}/mirror/catalogs/index:v1
  sourceType: grpc
`,
    );
    assert.equal(
      stamp(readFileSync(join(resources, 'cc-index-v1.yaml'), 'utf8')),
      `apiVersion: olm.operatorframework.io/v1
kind: ClusterCatalog
metadata:
  annotations:
    createdAt: "T"
    createdBy: oc-mirror v2
    oc-mirror_version: V
  name: cc-index-v1
spec:
  priority: 0
  source:
    image:
      ref: ${h}/mirror/catalogs/index:v1
    type: Image
`,
    );
    const idms = readFileSync(join(resources, 'idms-oc-mirror.yaml'), 'utf8');
    assert.match(idms, /name: idms-operator-0/);
    assert.ok(idms.includes(`- ${h}/mirror/ops\n    source: ${h}/ops\n`), idms);
  });

  test('mirror to disk then disk to mirror: same catalog digest (deterministic rebuild), same images, subset re-filtered', async () => {
    const h = world.reg.host;
    const isc = writeIsc(box, 'm2d.yaml', SELECTION(`${h}/catalogs/index:v1`));
    const out = join(box.dir, 'out-b');
    const m2d = await runM2D(box, isc, out, join(box.dir, 'cache-b'));
    assert.equal(m2d.code, 4, describeRun(m2d));
    const saved = readdirSync(join(out, 'working-dir', 'operator-catalogs', 'index'));
    assert.deepEqual(saved, [world.catalog.digest.slice(7)]);

    const d2m = await runD2M(box, isc, out, `${h}/mirror-b`, join(box.dir, 'cache-b-far'));
    assert.equal(d2m.code, 4, describeRun(d2m));
    const report = readReport(join(out, 'working-dir'));
    assert.deepEqual(kinds(report), expectedImages(world));
    // Built in another run, with another cache: the same bytes.
    assert.equal(await digestOf(`${h}/mirror-b/catalogs/index:v1`), await digestOf(`${h}/mirror/catalogs/index:v1`));

    // A configuration naming a subset: re-filtered from the archived catalog, only beta's images.
    const subset = writeIsc(box, 'subset.yaml', `mirror:\n  operators:\n  - catalog: ${h}/catalogs/index:v1\n    packages:\n    - name: beta\n      minVersion: 2.2.0\n`);
    const dry = await runD2M(box, subset, out, `${h}/mirror-c`, join(box.dir, 'cache-b-far'), ['--dry-run']);
    assert.equal(dry.code, 0, describeRun(dry));
    assert.match(dry.stdout + dry.stderr, /selects differently from the one mirror to disk used/);
    const mapping = readFileSync(join(out, 'working-dir', 'dry-run', 'mapping.txt'), 'utf8');
    const sources = mapping.split('\n').filter(Boolean).map((l) => l.slice(0, l.indexOf('=')));
    // Disk to mirror reads every image from the archives, named as mirror to disk stored it.
    assert.deepEqual(sources.sort(), [
      'docker://localhost:55000/bundles/beta:v2.2.0',
      'docker://localhost:55000/catalogs/index:v1',
      'docker://localhost:55000/ops/beta-operator:v2.2.0',
      'docker://localhost:55000/ops/kube-proxy:v1',
      'docker://localhost:55000/ops/missing:v9',
    ]);
  });

  test('list operators: packages, channels with heads, versions', async () => {
    const ref = `${world.reg.host}/catalogs/index:v1`;
    const list = (extra: string[]) => ocMirror(box, ['list', 'operators', '--catalog', ref, '--src-tls-verify=false', ...extra]);
    const packages = await list([]);
    assert.equal(packages.code, 0, describeRun(packages));
    assert.equal(
      packages.stdout,
      'NAME   DISPLAY NAME    DEFAULT CHANNEL\nalpha  Alpha Operator  stable\nbeta   Beta Operator   stable\ngamma  Gamma Operator  stable\n',
    );
    const channels = await list(['--package', 'alpha']);
    assert.equal(
      channels.stdout,
      'NAME   DISPLAY NAME    DEFAULT CHANNEL\nalpha  Alpha Operator  stable\n\nPACKAGE  CHANNEL  HEAD\nalpha    fast     alpha.v1.3.0\nalpha    stable   alpha.v1.2.0\n',
    );
    const versions = await list(['--package', 'alpha', '--channel', 'stable']);
    assert.equal(versions.stdout, 'VERSIONS\n1.0.0\n1.1.0\n1.2.0\n');
    // The same catalog as an OCI layout on disk (written by skopeo) lists the same.
    const layout = await catalogLayout();
    const fromLayout = await ocMirror(box, ['list', 'operators', '--catalog', `oci://${layout}`]);
    assert.equal(fromLayout.stdout, packages.stdout, describeRun(fromLayout));
    const unknown = await list(['--package', 'nosuch']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^error: package "nosuch" is not in catalog /);
  });

  test('an oci:// catalog is rebuilt into the store and named after its directory', async () => {
    const h = world.reg.host;
    const layout = await catalogLayout();
    const isc = writeIsc(box, 'oci.yaml', `mirror:\n  operators:\n  - catalog: oci://${layout}\n    packages:\n    - name: gamma\n`);
    const ws = join(box.dir, 'ws-oci');
    const run = await ocMirror(box, ['-c', isc, '--workspace', `file://${ws}`, `docker://${h}/mirror-oci`, '--src-tls-verify=false', '--dry-run', '--cache-dir', join(box.dir, 'cache-oci')]);
    assert.equal(run.code, 0, describeRun(run));
    const mapping = readFileSync(join(ws, 'working-dir', 'dry-run', 'mapping.txt'), 'utf8');
    assert.equal(
      mapping,
      [
        `docker://${h}/ops/gamma-operator@${world.operands.get('gamma.v0.1.0')}=docker://${h}/mirror-oci/ops/gamma-operator:${world.operands.get('gamma.v0.1.0')!.replace(':', '-')}\n`,
        `docker://${h}/bundles/gamma:v0.1.0=docker://${h}/mirror-oci/bundles/gamma:v0.1.0\n`,
        `docker://localhost:55000/ocicat:latest=docker://${h}/mirror-oci/ocicat:latest\n`,
      ].join(''),
    );
  });

  test('per-catalog errors: a catalog without the configs label and an unknown package, both reported', async () => {
    const h = world.reg.host;
    const isc = writeIsc(
      box,
      'bad.yaml',
      `mirror:\n  operators:\n  - catalog: ${h}/catalogs/nolabel:v1\n  - catalog: ${h}/catalogs/index:v1\n    packages:\n    - name: nosuch\n`,
    );
    const ws = join(box.dir, 'ws-bad');
    const run = await ocMirror(box, ['-c', isc, '--workspace', `file://${ws}`, `docker://${h}/bad`, '--src-tls-verify=false', '--dry-run', '--cache-dir', join(box.dir, 'cache-bad')]);
    assert.equal(run.code, 4, describeRun(run));
    const line = run.stderr.trim().split('\n').pop()!;
    assert.match(line, /collect catalog "[^"]+\/catalogs\/nolabel:v1": catalog [^ ]+ the image has no label operators\.operatorframework\.io\.index\.configs\.v1/);
    assert.match(line, /bad\.yaml mirror\.operators\[1\]\.packages\[0\]/);
    assert.equal(existsSync(join(ws, 'working-dir', 'dry-run', 'mapping.txt')), false);
  });
});
