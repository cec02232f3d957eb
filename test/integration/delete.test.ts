/**
 * `oc-mirror delete`, run as a user would: images mirrored by the CLI (mirror to mirror to the
 * destination, mirror to disk for the workspace and the local cache), the list generated with the
 * source registry stopped, deletions checked with skopeo, blobs reclaimed by docker-registry's own
 * garbage collection, the local cache checked file by file.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pushCatalog, pushSmallImage } from '../support/catalog-builder.js';
import { removeDir } from '../support/cleanup.js';
import { pushArtifact, pushImage, type PushedImage } from '../support/images.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { inspectRaw } from '../support/skopeo.js';
import { checkStoreIntegrity } from '../support/store-world.js';
import { integrationSuite, requireTools } from '../support/tools.js';
import { imageDigests, runM2D, storeBlobs, storeRootOf } from './disk-helpers.js';
import { additionalImages, describeRun, exists, ocMirror, sandbox, writeIsc, type Sandbox } from './m2m-helpers.js';

const hexOf = (digest: string) => digest.slice('sha256:'.length);

function writeDeleteIsc(box: Sandbox, name: string, images: string[]): string {
  const path = join(box.dir, name);
  writeFileSync(
    path,
    `kind: DeleteImageSetConfiguration\napiVersion: mirror.openshift.io/v2alpha1\ndelete:\n  additionalImages:\n${images.map((i) => `  - name: ${i}\n`).join('')}`,
  );
  return path;
}

function deleteList(items: [name: string, reference: string][]): string {
  const body = items.map(([n, r]) => `- imageName: ${n}\n  imageReference: ${r}\n  type: generic\n`).join('');
  return `kind: DeleteImageList\napiVersion: mirror.openshift.io/v2alpha1\nitems:\n${body}`;
}

function garbageCollect(configPath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(requireTools().registry, ['garbage-collect', configPath], { env: { PATH: process.env.PATH } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`garbage-collect: ${stderr}`));
      else resolve(stdout);
    });
  });
}

describe('oc-mirror delete', integrationSuite(), () => {
  let box: Sandbox;
  let src: TestRegistry;
  let dest: TestRegistry;
  let a: PushedImage, b: PushedImage, keep: PushedImage, multi: PushedImage, decoy: PushedImage, signature: PushedImage;
  let child: PushedImage;
  let list: string;
  const srcStorage = () => join(box.dir, 'src-storage');
  const out = () => join(box.dir, 'out');
  const cache = () => join(box.dir, 'cache');

  before(async () => {
    box = sandbox();
    src = await startRegistry({ rootDir: srcStorage() });
    dest = await startRegistry();
    a = await pushImage(src, 'apps/a', '1');
    b = await pushImage(src, 'apps/b', '1');
    keep = await pushImage(src, 'apps/keep', '1');
    multi = await pushImage(src, 'apps/multi', '1', {
      platforms: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64' },
      ],
    });
    child = multi.children![0]!;
    const isc = writeIsc(
      box,
      'isc.yaml',
      additionalImages([`${src.host}/apps/a:1`, `${src.host}/apps/b:1`, `${src.host}/apps/keep:1`, `${src.host}/apps/multi:1`, `${src.host}/apps/multi@${child.digest}`]),
    );
    const m2m = await ocMirror(box, ['-c', isc, '--workspace', 'file://ws', `docker://${dest.host}/del`, '--src-tls-verify=false', '--dest-tls-verify=false', '--retry-times', '0', '--v2']);
    assert.equal(m2m.code, 0, describeRun(m2m));
    const m2d = await runM2D(box, isc, out(), cache());
    assert.equal(m2d.code, 0, describeRun(m2d));
    // Beside the mirrored set: a look-alike outside the prefix, and a signature of a.
    decoy = await pushImage(dest, 'del-x/apps/a', '1');
    signature = await pushArtifact(dest, 'del/apps/a', { signs: a.digest });
    // Generating must not need the source registry.
    await src.stop();
    list = join(out(), 'working-dir', 'delete', 'delete-images.yaml');
  });

  after(async () => {
    await src?.stop();
    await dest?.stop();
    if (box) await removeDir(box.dir);
  });

  const destArgs = () => [`docker://${dest.host}/del`, '--dest-tls-verify=false', '--retry-times', '0', '--v2'];
  const present = (ref: string) => exists(`${dest.host}/${ref}`, dest);

  test('--generate lists what mirroring wrote, from the workspace and the cache alone', async () => {
    const disc = writeDeleteIsc(box, 'delete-isc.yaml', [`${src.host}/apps/a:1`, `docker://${src.host}/apps/b:1`, `${src.host}/apps/multi@${child.digest}`]);
    const r = await ocMirror(box, ['delete', '-c', disc, '--workspace', `file://${out()}`, '--generate', ...destArgs(), '--cache-dir', cache()]);
    assert.equal(r.code, 0, describeRun(r));
    assert.equal(
      readFileSync(list, 'utf8'),
      deleteList([
        [`docker://${src.host}/apps/a:1`, `docker://${dest.host}/del/apps/a:1`],
        [`docker://${src.host}/apps/b:1`, `docker://${dest.host}/del/apps/b:1`],
        [`docker://${src.host}/apps/multi@${child.digest}`, `docker://${dest.host}/del/apps/multi:sha256-${hexOf(child.digest)}`],
      ]),
    );
    assert.equal(readFileSync(join(out(), 'working-dir', 'delete', 'delete-imageset-config.yaml'), 'utf8'), readFileSync(disc, 'utf8'));

    const withSignatures = await ocMirror(box, ['delete', '-c', disc, '--workspace', `file://${out()}`, '--generate', '--delete-id', 'sig', '--delete-signatures', ...destArgs(), '--cache-dir', cache()]);
    assert.equal(withSignatures.code, 0, describeRun(withSignatures));
    const references = readFileSync(join(out(), 'working-dir', 'delete', 'delete-images-sig.yaml'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('  imageReference: '))
      .map((l) => l.slice('  imageReference: '.length));
    const d = `docker://${dest.host}/del/apps`;
    assert.deepEqual(references, [
      `${d}/a:1`,
      `${d}/a:sha256-${hexOf(a.digest)}.sig`,
      `${d}/b:1`,
      `${d}/b:sha256-${hexOf(b.digest)}.sig`,
      `${d}/multi:sha256-${hexOf(child.digest)}`,
      `${d}/multi:sha256-${hexOf(child.digest)}.sig`,
    ]);
  });

  test('--dry-run says what would go and deletes nothing', async () => {
    const r = await ocMirror(box, ['delete', '--delete-yaml-file', list, ...destArgs(), '--delete-signatures', '--dry-run']);
    assert.equal(r.code, 0, describeRun(r));
    assert.match(r.stdout, new RegExp(`would delete docker://${dest.host}/del/apps/a:1 \\(${a.digest}\\)`));
    assert.match(r.stdout, new RegExp(`would delete signature ${dest.host}/del/apps/a:sha256-${hexOf(a.digest)}\\.sig`));
    assert.match(r.stdout, /dry run: would delete 3 manifests .*nothing was deleted/);
    for (const ref of ['del/apps/a:1', 'del/apps/b:1', signature.reference.slice(dest.host.length + 1)]) assert.equal(await present(ref), true, ref);
  });

  test('a list reaching outside the destination is refused whole, before anything is deleted', async () => {
    const tampered = join(box.dir, 'delete-tampered.yaml');
    writeFileSync(
      tampered,
      deleteList([
        [`docker://${src.host}/apps/a:1`, `docker://${dest.host}/del/apps/a:1`],
        [`docker://${src.host}/apps/b:1`, `docker://${dest.host}/del/apps/b:1`],
        [`docker://${src.host}/apps/a:1`, `docker://${dest.host}/del-x/apps/a:1`],
      ]),
    );
    const r = await ocMirror(box, ['delete', '--delete-yaml-file', tampered, ...destArgs()]);
    assert.equal(r.code, 1, describeRun(r));
    assert.equal(
      r.stderr.trim(),
      `error: delete-tampered.yaml items[2].imageReference: docker://${dest.host}/del-x/apps/a:1 is not under the destination docker://${dest.host}/del; nothing was deleted`,
    );
    for (const ref of ['del/apps/a:1', 'del/apps/b:1', 'del-x/apps/a:1']) assert.equal(await present(ref), true, ref);
  });

  test('deletes exactly the listed images and signatures, keeps what an index needs, and cleans the cache', async () => {
    const r = await ocMirror(box, ['delete', '--delete-yaml-file', list, ...destArgs(), '--delete-signatures', '--force-cache-delete', '--cache-dir', cache()]);
    assert.equal(r.code, 0, describeRun(r));
    assert.match(r.stdout, new RegExp(`deleted docker://${dest.host}/del/apps/b:1 \\(${b.digest}\\)`));
    assert.match(
      r.stderr,
      new RegExp(`kept docker://${dest.host}/del/apps/multi:sha256-${hexOf(child.digest)} \\(${child.digest}\\): part of index ${dest.host}/del/apps/multi:1 \\(${multi.digest}\\)`),
    );
    assert.match(r.stdout, /deleted 3 manifests from .* \(2 listed, 0 index children, 1 signatures\); 0 already gone, 1 kept, 0 failed/);
    assert.match(r.stdout, /registry garbage-collect \/etc\/docker\/registry\/config\.yml/);

    for (const ref of ['del/apps/a:1', 'del/apps/b:1', `del/apps/a:sha256-${hexOf(a.digest)}.sig`]) assert.equal(await present(ref), false, ref);
    assert.equal(await present(`del/apps/a@${signature.digest}`), false);
    // The others are intact, byte for byte.
    assert.deepEqual(await inspectRaw(`${dest.host}/del/apps/keep:1`, dest), keep.manifest);
    assert.deepEqual(await inspectRaw(`${dest.host}/del/apps/multi:1`, dest), multi.manifest);
    for (const c of multi.children!) assert.deepEqual(await inspectRaw(`${dest.host}/del/apps/multi@${c.digest}`, dest), c.manifest);
    assert.deepEqual(await inspectRaw(`${dest.host}/del/apps/multi:sha256-${hexOf(child.digest)}`, dest), child.manifest);
    assert.deepEqual(await inspectRaw(`${dest.host}/del-x/apps/a:1`, dest), decoy.manifest);

    // The cache lost a and b, kept the rest, and is consistent.
    const integrity = await checkStoreIntegrity(storeRootOf(cache()));
    assert.deepEqual(integrity.problems, []);
    for (const gone of [a, b]) for (const d of imageDigests(gone).keys()) assert.equal(integrity.blobs.has(d), false, d);
    for (const kept of [keep, multi]) for (const d of imageDigests(kept).keys()) assert.equal(integrity.blobs.has(d), true, d);
    assert.match(r.stdout, /local cache .*: 2 images removed; 0 manifests no tag reaches and 6 blobs/);

    // The same list again: everything already gone or kept, no error.
    const again = await ocMirror(box, ['delete', '--delete-yaml-file', list, ...destArgs()]);
    assert.equal(again.code, 0, describeRun(again));
    assert.match(again.stdout, /deleted 0 manifests .*; 2 already gone, 1 kept, 0 failed/);
  });

  test("the registry's garbage collection reclaims the deleted images' blobs", async () => {
    const blobsBefore = storeBlobs(dest.rootDir);
    await garbageCollect(dest.configPath);
    const blobsAfter = new Set(storeBlobs(dest.rootDir));
    const reclaimed = blobsBefore.filter((d) => !blobsAfter.has(d)).sort();
    const expected = [...new Set([...imageDigests(a).keys(), ...imageDigests(b).keys(), ...imageDigests(signature).keys()])].sort();
    assert.deepEqual(reclaimed, expected);
  });

  test('a later mirror run fills the cleaned cache again', async () => {
    const again = await startRegistry({ rootDir: srcStorage() });
    try {
      const isc = writeIsc(box, 'isc-again.yaml', additionalImages([`${again.host}/apps/a:1`, `${again.host}/apps/keep:1`]));
      const r = await runM2D(box, isc, join(box.dir, 'out-again'), cache());
      assert.equal(r.code, 0, describeRun(r));
      const integrity = await checkStoreIntegrity(storeRootOf(cache()));
      assert.deepEqual(integrity.problems, []);
      for (const d of imageDigests(a).keys()) assert.equal(integrity.blobs.has(d), true, d);
    } finally {
      await again.stop();
    }
  });
});

describe('oc-mirror delete against a registry that does not allow deletion', integrationSuite(), () => {
  test('says so clearly, exits non-zero, deletes nothing', async (t) => {
    const box = sandbox();
    t.after(() => removeDir(box.dir));
    const reg = await startRegistry({ deleteEnabled: false }, t);
    await pushImage(reg, 'del/apps/x', '1');
    const file = join(box.dir, 'delete-images.yaml');
    writeFileSync(file, deleteList([['docker://quay.io/apps/x:1', `docker://${reg.host}/del/apps/x:1`]]));
    const r = await ocMirror(box, ['delete', '--delete-yaml-file', file, `docker://${reg.host}/del`, '--dest-tls-verify=false', '--retry-times', '0']);
    assert.equal(r.code, 1, describeRun(r));
    assert.match(r.stderr, new RegExp(`deletion is disabled on ${reg.host.replace(/\./g, '\\.')} \\(REGISTRY_STORAGE_DELETE_ENABLED=true\\)`));
    assert.match(r.stderr, /deleted 0 manifests .*1 failed/);
    assert.equal(await exists(`${reg.host}/del/apps/x:1`, reg), true);
  });
});

describe('oc-mirror delete --generate for operators', integrationSuite(), () => {
  test('lists bundles and related images of the named packages, never the catalog unless in additionalImages', async (t) => {
    const box = sandbox();
    t.after(() => removeDir(box.dir));
    const src = await startRegistry({ rootDir: join(box.dir, 'src-storage') }, t);
    const h = src.host;
    const bundleOf = (pkg: string, version: string, operand: string) => ({
      schema: 'olm.bundle',
      name: `${pkg}.v${version}`,
      package: pkg,
      image: `${h}/bundles/${pkg}:v${version}`,
      properties: [{ type: 'olm.package', value: { packageName: pkg, version } }],
      relatedImages: [
        { name: 'bundle', image: `${h}/bundles/${pkg}:v${version}` },
        { name: 'operator', image: operand },
      ],
    });
    const operand = await pushSmallImage(src, 'ops/alpha-operator', null);
    await pushSmallImage(src, 'bundles/alpha', 'v1.0.0');
    await pushSmallImage(src, 'bundles/beta', 'v2.0.0');
    await pushSmallImage(src, 'ops/beta-operator', 'v2.0.0');
    await pushCatalog(src, 'catalogs/index', 'v1', {
      platforms: [{ os: 'linux', architecture: 'amd64' }],
      objects: [
        { schema: 'olm.package', name: 'alpha', defaultChannel: 'stable' },
        { schema: 'olm.channel', package: 'alpha', name: 'stable', entries: [{ name: 'alpha.v1.0.0' }] },
        bundleOf('alpha', '1.0.0', `${h}/ops/alpha-operator@${operand.digest}`),
        { schema: 'olm.package', name: 'beta', defaultChannel: 'stable' },
        { schema: 'olm.channel', package: 'beta', name: 'stable', entries: [{ name: 'beta.v2.0.0' }] },
        bundleOf('beta', '2.0.0', `${h}/ops/beta-operator:v2.0.0`),
      ],
    });
    const catalog = `${h}/catalogs/index:v1`;
    const isc = writeIsc(box, 'isc.yaml', `mirror:\n  operators:\n  - catalog: ${catalog}\n    packages:\n    - name: alpha\n    - name: beta\n`);
    const out = join(box.dir, 'out');
    const cacheDir = join(box.dir, 'cache');
    const m2d = await runM2D(box, isc, out, cacheDir);
    assert.equal(m2d.code, 0, describeRun(m2d));
    await src.stop();

    const disc = join(box.dir, 'delete-isc.yaml');
    writeFileSync(
      disc,
      `kind: DeleteImageSetConfiguration\napiVersion: mirror.openshift.io/v2alpha1\ndelete:\n  operators:\n  - catalog: ${catalog}\n    packages:\n    - name: alpha\n`,
    );
    const r = await ocMirror(box, ['delete', '-c', disc, '--workspace', `file://${out}`, '--generate', 'docker://mirror.example.com:5000/ocp', '--cache-dir', cacheDir]);
    assert.equal(r.code, 0, describeRun(r));
    assert.match(r.stdout, new RegExp(`catalog ${catalog.replace(/\./g, '\\.')} is not listed`));
    const m = 'docker://mirror.example.com:5000/ocp';
    const listed = readFileSync(join(out, 'working-dir', 'delete', 'delete-images.yaml'), 'utf8');
    assert.equal(
      listed,
      `kind: DeleteImageList
apiVersion: mirror.openshift.io/v2alpha1
items:
- imageName: docker://${h}/bundles/alpha:v1.0.0
  imageReference: ${m}/bundles/alpha:v1.0.0
  type: operatorBundle
- imageName: docker://${h}/ops/alpha-operator@${operand.digest}
  imageReference: ${m}/ops/alpha-operator:sha256-${hexOf(operand.digest)}
  type: operatorRelatedImage
`,
    );

    // Named in additionalImages, the catalog is listed.
    writeFileSync(disc, `${readFileSync(disc, 'utf8')}  additionalImages:\n  - name: ${catalog}\n`);
    const withCatalog = await ocMirror(box, ['delete', '-c', disc, '--workspace', `file://${out}`, '--generate', '--delete-id', 'c', 'docker://mirror.example.com:5000/ocp', '--cache-dir', cacheDir]);
    assert.equal(withCatalog.code, 0, describeRun(withCatalog));
    assert.ok(
      readFileSync(join(out, 'working-dir', 'delete', 'delete-images-c.yaml'), 'utf8').includes(
        `- imageName: docker://${catalog}\n  imageReference: ${m}/catalogs/index:v1\n  type: generic\n`,
      ),
    );
  });
});
