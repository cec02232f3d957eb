/**
 * Mirror to disk and disk to mirror, run as a user would: the CLI bundle as a child process,
 * real registries (docker-registry), results checked with skopeo and the system tar.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { tarEntrySize } from '../../src/archive/tar.js';
import { pushImage, type PushedImage } from '../support/images.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { assertSameImage, copyImage, inspectRaw } from '../support/skopeo.js';
import { freePort } from '../support/ports.js';
import { integrationSuite } from '../support/tools.js';
import {
  appendToArchive,
  blobGets,
  blobOfEntry,
  diskBox,
  type DiskBox,
  fileSize,
  imageDigests,
  lines,
  listTree,
  paxRecord,
  type RawEntry,
  readTar,
  repositoryOfEntry,
  runD2M,
  runM2D,
  storeBlobs,
  storeRootOf,
  systemTar,
  tarList,
} from './disk-helpers.js';
import { additionalImages, catalog, describeRun, exists, writeIsc } from './m2m-helpers.js';

const ARCHIVE = 'mirror_000001.tar';

/** The archives of a directory. */
function archivesIn(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((n) => /^mirror_\d{6}\.tar$/.test(n)).sort() : [];
}

/** A copy of the archives of `out` alone in a fresh directory, as carried to the disconnected side. */
function carry(out: string, to: string): string {
  mkdirSync(to, { recursive: true });
  for (const a of archivesIn(out)) copyFileSync(join(out, a), join(to, a));
  return to;
}

/** Two images (one multi-arch) for a first run; a third, sharing the first's base layer, for the next. */
async function incrementalWorld(src: TestRegistry, box: DiskBox) {
  const baseSpec = { size: 250_000, seed: 'incr-base' };
  const a = await pushImage(src, 'incr/a', 'v1', { layers: [baseSpec, { size: 50_000 }] });
  const b = await pushImage(src, 'incr/b', 'v1', {
    platforms: [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 's390x' },
    ],
    layers: [{ size: 40_000 }],
  });
  return {
    a,
    b,
    base: a.layers![0]!,
    dayBefore: new Date(Date.now() - 86_400_000).toISOString().slice(0, 10),
    isc1: writeIsc(box, 'isc1.yaml', additionalImages([a.reference, b.reference])),
    isc2: writeIsc(box, 'isc2.yaml', additionalImages([a.reference, b.reference, `${src.host}/incr/c:v1`])),
    pushNew: () => pushImage(src, 'incr/c', 'v1', { layers: [baseSpec, { size: 60_000 }, { size: 30_000 }] }),
  };
}

/** The exact archive size a dry run logs (`predicted archives: 1 archive(s), 97.7 KiB (100045 bytes, ...`). */
function predicted(stdout: string): number {
  const m = /predicted archives: \d+ archive\(s\), [\d.]+ (?:B|KiB|MiB|GiB) \((\d+) bytes/.exec(stdout);
  assert.ok(m, `a predicted archive size in the output:\n${stdout}`);
  return Number(m[1]);
}

/** A predicted size is the images' bytes in tar form: each blob with a header and padding, plus links of a few KiB. */
function assertPrediction(predictedBytes: number, images: PushedImage[]): void {
  const digests = new Map<string, number>();
  for (const i of images) for (const [d, n] of imageDigests(i)) digests.set(d, n);
  const bytes = [...digests.values()].reduce((x, y) => x + y, 0);
  const most = bytes + digests.size * 1024 + 64 * 1024;
  assert.ok(predictedBytes >= bytes && predictedBytes <= most, `predicted ${predictedBytes} bytes for ${bytes} bytes in ${digests.size} blobs (at most ${most})`);
}

describe('mirror to disk and disk to mirror', integrationSuite(), () => {
  test('round trip: the store serves every image byte for byte, the archive holds only this image set, disk to mirror needs only the destination', async (t) => {
    const src = await startRegistry({}, t);
    const dest = await startRegistry({}, t);
    const box = diskBox(t);
    const base = [{ size: 200_000, seed: 'rt-base' }];
    const i: Record<string, PushedImage> = {};
    i.ociSingle = await pushImage(src, 'apps/oci-single', 'v1', { layers: [...base, { size: 40_000 }] });
    i.dockerSingle = await pushImage(src, 'apps/docker-single', '1.0', { format: 'docker', layers: [...base, { size: 30_000 }] });
    i.ociIndex = await pushImage(src, 'multi/oci-index', 'v2', {
      platforms: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64', variant: 'v8' },
      ],
      layers: [...base, { size: 20_000 }],
    });
    i.dockerList = await pushImage(src, 'multi/docker-list', 'latest', {
      format: 'docker',
      platforms: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'ppc64le' },
      ],
      layers: [{ size: 15_000 }],
    });
    i.byDigest = await pushImage(src, 'pinned/tool', 'moving', { layers: [{ size: 10_000 }] });
    i.renamed = await pushImage(src, 'deep/ns/app', 'v1', { layers: [...base, { size: 5_000 }] });
    const unrelated = await pushImage(src, 'other/unrelated', 'v1', { layers: [{ size: 60_000 }] });

    // Another image set went through the same store before: its content must not travel now.
    const other = writeIsc(box, 'other.yaml', additionalImages([unrelated.reference]));
    const first = await runM2D(box, other, join(box.dir, 'other-out'), box.cache);
    assert.equal(first.code, 0, describeRun(first));

    // Bulk left in working-dir by earlier runs (oc-mirror re-ships it in every archive).
    mkdirSync(join(box.out, 'working-dir', 'operator-catalogs', 'old'), { recursive: true });
    writeFileSync(join(box.out, 'working-dir', 'operator-catalogs', 'old', 'bulk.bin'), Buffer.alloc(300_000, 7));

    const digestTag = `sha256-${i.byDigest.digest.slice(7)}`;
    const isc = writeIsc(
      box,
      'isc.yaml',
      additionalImages([
        i.ociSingle.reference,
        i.dockerSingle.reference,
        i.ociIndex.reference,
        i.dockerList.reference,
        i.byDigest.digestReference,
        { name: i.renamed.reference, targetRepo: 'flat/app', targetTag: 'stable' },
      ]),
    );
    const r = await runM2D(box, isc, box.out, box.cache);
    assert.equal(r.code, 0, describeRun(r));

    // Where each image is in the store (`localhost:55000/<path>`), as served by docker-registry.
    const inStore: [PushedImage, string][] = [
      [i.ociSingle, 'apps/oci-single:v1'],
      [i.dockerSingle, 'apps/docker-single:1.0'],
      [i.ociIndex, 'multi/oci-index:v2'],
      [i.dockerList, 'multi/docker-list:latest'],
      [i.byDigest, `pinned/tool:${digestTag}`],
      [i.renamed, 'flat/app:stable'],
    ];
    const served = await startRegistry({ rootDir: storeRootOf(box.cache), readOnly: true }, t);
    for (const [image, path] of inStore) await assertSameImage(image.reference, `${served.host}/${path}`, { src, dest: served });

    // The archive: this image set's repositories and blobs, the ISC at the root, no working-dir bulk.
    assert.deepEqual(archivesIn(box.out), [ARCHIVE]);
    const archive = join(box.out, ARCHIVE);
    const names = await tarList(archive);
    const repos = new Set(names.map(repositoryOfEntry).filter((x) => x !== undefined));
    assert.deepEqual([...repos].sort(), ['apps/docker-single', 'apps/oci-single', 'flat/app', 'multi/docker-list', 'multi/oci-index', 'pinned/tool']);
    const expectedBlobs = new Map<string, number>();
    for (const [image] of inStore) for (const [d, s] of imageDigests(image)) expectedBlobs.set(d, s);
    const items = readTar(archive);
    const blobEntries = items.filter((e) => blobOfEntry(e.name));
    assert.deepEqual(blobEntries.map((e) => blobOfEntry(e.name)).sort(), [...expectedBlobs.keys()].sort(), 'exactly the blobs and manifests of this image set');
    for (const e of blobEntries) assert.equal(e.size, expectedBlobs.get(blobOfEntry(e.name)!), e.name);
    const beside = names.filter((n) => !n.startsWith('docker/registry/v2/') && !n.startsWith('working-dir/'));
    assert.equal(beside.length, 1, `only the ISC beside docker/ and working-dir/: ${beside.join(' ')}`);
    assert.match(beside[0]!, /^isc_\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const iscEntry = items.find((e) => e.name === beside[0])!;
    assert.equal(readFileSync(archive).subarray(iscEntry.offset, iscEntry.offset + iscEntry.size).toString(), readFileSync(isc, 'utf8'));
    const wd = items.filter((e) => e.name.startsWith('working-dir/'));
    assert.ok(!wd.some((e) => e.name.includes('operator-catalogs')), `no working-dir bulk: ${wd.map((e) => e.name).join(' ')}`);
    assert.ok(
      wd.reduce((n, e) => n + e.size, 0) < 64 * 1024,
      `working-dir content is small metadata: ${wd.map((e) => `${e.name} ${e.size}`).join(', ')}`,
    );
    assert.ok(fileSize(archive) < [...expectedBlobs.values()].reduce((a, b) => a + b, 0) + 200 * 1024, 'no bulk in the archive');

    // The disconnected side: only the archive, no source registry, a fresh cache.
    await src.stop();
    const from = carry(box.out, join(box.dir, 'from'));
    const d = await runD2M(box, isc, from, `${dest.host}/mirror`, join(box.dir, 'd2m-cache'));
    assert.equal(d.code, 0, describeRun(d));
    for (const [image, path] of inStore) {
      const destRef = `${dest.host}/mirror/${path.replace(/:.*/, '')}:${path.replace(/^[^:]*:/, '')}`;
      await assertSameImage(`${served.host}/${path}`, destRef, { src: served, dest });
      assert.ok((await inspectRaw(destRef, dest)).equals(image.manifest), `${destRef}: the manifest pushed at the source`);
    }
    assert.deepEqual(
      (await catalog(dest)).sort(),
      ['mirror/apps/docker-single', 'mirror/apps/oci-single', 'mirror/flat/app', 'mirror/multi/docker-list', 'mirror/multi/oci-index', 'mirror/pinned/tool'],
    );

    // read in place: nothing of docker/ extracted, next to the archive or into a cache
    assert.ok(!existsSync(join(from, 'docker')), 'no docker/ tree extracted into --from');
    assert.deepEqual(storeBlobs(storeRootOf(join(box.dir, 'd2m-cache'))), [], 'no blob extracted into the cache');
    // a second run finds everything in place
    const again = await runD2M(box, isc, from, `${dest.host}/mirror`, join(box.dir, 'd2m-cache'));
    assert.equal(again.code, 0, describeRun(again));
    assert.equal((again.stdout.match(/\(already present\)/g) ?? []).length, inStore.length, again.stdout);

    const resources = join(from, 'working-dir', 'cluster-resources');
    const idms = readFileSync(join(resources, 'idms-oc-mirror.yaml'), 'utf8');
    const itms = readFileSync(join(resources, 'itms-oc-mirror.yaml'), 'utf8');
    assert.match(idms, new RegExp(`- ${dest.host}/mirror/pinned\\n\\s+source: ${src.host}/pinned\\n`), idms);
    assert.doesNotMatch(idms, /localhost:55000/, 'sources are the original names, not the store');
    assert.match(itms, new RegExp(`- ${dest.host}/mirror/flat/app\\n\\s+source: ${src.host}/deep/ns/app\\n`), itms);
    assert.match(itms, new RegExp(`source: ${src.host}/apps\\n`), itms);
    assert.doesNotMatch(itms, /localhost:55000/);
    // the store on the M2D side still holds both image sets
    assert.ok(storeBlobs(storeRootOf(box.cache)).includes(unrelated.blobs[0]!.digest));
  });

  test('incremental: a second archive carries only the new blobs; a history file is written; --since ships everything again', async (t) => {
    const src = await startRegistry({}, t);
    const box = diskBox(t);
    const w = await incrementalWorld(src, box);
    const r1 = await runM2D(box, w.isc1, box.out, box.cache);
    assert.equal(r1.code, 0, describeRun(r1));
    const history1 = readdirSync(join(box.out, 'working-dir', '.history'));
    assert.equal(history1.filter((n) => /^\.history-\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(n)).length, 1, history1.join());

    const c = await w.pushNew();
    // history files are named to the second: the second run must not reuse the first one's name
    await sleep(1100);
    const r2 = await runM2D(box, w.isc2, box.out, box.cache);
    assert.equal(r2.code, 0, describeRun(r2));
    assert.deepEqual(archivesIn(box.out), [ARCHIVE], "the first run's archive is replaced");
    const archive = join(box.out, ARCHIVE);
    const items = readTar(archive);
    const newDigests = [c.digest, c.config!.digest, ...c.layers!.slice(1).map((l) => l.digest)];
    const newBytes = c.layers!.slice(1).reduce((n, l) => n + l.size, 0) + c.config!.size + c.manifest.length;
    const shipped = items.map((e) => blobOfEntry(e.name)).filter((x) => x !== undefined);
    assert.ok(!shipped.includes(w.base.digest), 'the base layer the first archive carried is not shipped again');
    for (const d of newDigests) assert.ok(shipped.includes(d), `new content ${d} is shipped`);
    const small = items.filter((e) => !newDigests.includes(blobOfEntry(e.name) ?? ''));
    const allowance = small.length * 1536 + small.reduce((n, e) => n + Math.min(e.size, 8192), 0) + 1024;
    assert.ok(
      fileSize(archive) <= newBytes * 1.01 + allowance,
      `${fileSize(archive)} bytes > ${newBytes} new bytes × 1.01 + ${allowance} for ${small.length} small entries: ${small.map((e) => `${e.name} ${e.size}`).join(', ')}`,
    );
    const history2 = readdirSync(join(box.out, 'working-dir', '.history')).filter((n) => n.startsWith('.history-'));
    assert.equal(history2.length, 2, history2.join());
    // where the store that made the archives is at hand, it supplies what earlier archives carried
    const near = await startRegistry({}, t);
    const dn = await runD2M(box, w.isc2, carry(box.out, join(box.dir, 'from2')), near.host, box.cache);
    assert.equal(dn.code, 0, describeRun(dn));
    for (const [image, path] of [[w.a, 'incr/a:v1'], [w.b, 'incr/b:v1'], [c, 'incr/c:v1']] as const) {
      await assertSameImage(image.reference, `${near.host}/${path}`, { src, dest: near });
    }

    // --since a day before the first run: everything is shipped again, and that archive alone
    // feeds an empty destination with no source around.
    await sleep(1100);
    const r3 = await runM2D(box, w.isc2, box.out, box.cache, ['--since', w.dayBefore]);
    assert.equal(r3.code, 0, describeRun(r3));
    const all = new Set<string>();
    for (const image of [w.a, w.b, c]) for (const digest of imageDigests(image).keys()) all.add(digest);
    const shipped3 = readTar(archive).map((e) => blobOfEntry(e.name)).filter((x) => x !== undefined).sort();
    assert.deepEqual(shipped3, [...all].sort());
    const dest = await startRegistry({}, t);
    const served = await startRegistry({ rootDir: storeRootOf(box.cache), readOnly: true }, t);
    await src.stop();
    const from = carry(box.out, join(box.dir, 'from'));
    const d = await runD2M(box, w.isc2, from, dest.host, join(box.dir, 'd2m-cache'));
    assert.equal(d.code, 0, describeRun(d));
    for (const [image, path] of [[w.a, 'incr/a:v1'], [w.b, 'incr/b:v1'], [c, 'incr/c:v1']] as const) {
      assert.ok((await inspectRaw(`${dest.host}/${path}`, dest)).equals(image.manifest), path);
      await assertSameImage(`${served.host}/${path}`, `${dest.host}/${path}`, { src: served, dest });
    }
  });

  test('incremental: the second archive alone completes a destination that imported the first (earlier blobs are at the destination)', async (t) => {
    const src = await startRegistry({}, t);
    const dest = await startRegistry({}, t);
    const box = diskBox(t);
    const w = await incrementalWorld(src, box);
    const r1 = await runM2D(box, w.isc1, box.out, box.cache);
    assert.equal(r1.code, 0, describeRun(r1));
    const d1 = await runD2M(box, w.isc1, carry(box.out, join(box.dir, 'from1')), `${dest.host}/inc`, join(box.dir, 'd2m-cache-1'));
    assert.equal(d1.code, 0, describeRun(d1));

    const c = await w.pushNew();
    await sleep(1100);
    const r2 = await runM2D(box, w.isc2, box.out, box.cache);
    assert.equal(r2.code, 0, describeRun(r2));
    // A separate disconnected site: only the new archive, a fresh cache, no source. The base layer
    // of the new image is at the destination, but in another repository (inc/incr/a).
    await src.stop();
    const d2 = await runD2M(box, w.isc2, carry(box.out, join(box.dir, 'from2')), `${dest.host}/inc`, join(box.dir, 'd2m-cache-2'));
    assert.equal(d2.code, 0, describeRun(d2));
    for (const [image, path] of [[w.a, 'incr/a:v1'], [w.b, 'incr/b:v1'], [c, 'incr/c:v1']] as const) {
      assert.ok((await inspectRaw(`${dest.host}/inc/${path}`, dest)).equals(image.manifest), path);
    }
    const served = await startRegistry({ rootDir: storeRootOf(box.cache), readOnly: true }, t);
    await assertSameImage(`${served.host}/incr/c:v1`, `${dest.host}/inc/incr/c:v1`, { src: served, dest });

    // The same archive alone into an empty registry: what earlier archives carried is named, not guessed at.
    const empty = await startRegistry({}, t);
    const lone = await runD2M(box, w.isc2, join(box.dir, 'from2'), `${empty.host}/inc`, join(box.dir, 'd2m-cache-3'));
    assert.equal(lone.code, 8, describeRun(lone));
    assert.match(lone.stderr, /an earlier archive carried this image \(sha256:[0-9a-f]{64}\), and the destination does not have it: push that archive first/);
  });

  test('failures: an archive of what succeeded, the failure in the report and the errors file, exit bit 8; a re-run fetches only what is missing', async (t) => {
    const src = await startRegistry({}, t);
    const dest = await startRegistry({}, t);
    const box = diskBox(t);
    const good = await pushImage(src, 'fail/good', 'v1', { layers: [{ size: 80_000 }] });
    const goodIndex = await pushImage(src, 'fail/index', 'v1', {
      platforms: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64' },
      ],
      layers: [{ size: 30_000 }],
    });
    const missingRef = `${src.host}/fail/late:v1`;
    const isc = writeIsc(box, 'isc.yaml', additionalImages([good.reference, missingRef, goodIndex.reference]));
    const r = await runM2D(box, isc, box.out, box.cache);
    assert.equal(r.code, 8, describeRun(r));
    assert.match(r.stdout, /2 \/ 3 additional images mirrored/, r.stdout);

    // the errors file names the failed image
    const logs = join(box.out, 'working-dir', 'logs');
    const errorsFile = readdirSync(logs).find((f) => /^mirroring_errors_\d{8}_\d{6}\.txt$/.test(f));
    assert.ok(errorsFile, `errors file in ${readdirSync(logs).join(' ')}`);
    const errors = readFileSync(join(logs, errorsFile), 'utf8');
    assert.match(errors, new RegExp(`^error mirroring image docker://${missingRef} error: .*manifest unknown`, 'm'), errors);
    assert.doesNotMatch(errors, /fail\/good|fail\/index/);

    // the archive holds the others, and a machine-readable report of the failure
    assert.deepEqual(archivesIn(box.out), [ARCHIVE]);
    const archive = join(box.out, ARCHIVE);
    const items = readTar(archive);
    const reportEntry = items.find((e) => /^working-dir\/logs\/report_[^/]+\.json$/.test(e.name));
    assert.ok(reportEntry, `a report in the archive: ${items.map((e) => e.name).filter((n) => n.startsWith('working-dir')).join(' ')}`);
    const report = JSON.parse(readFileSync(archive).subarray(reportEntry.offset, reportEntry.offset + reportEntry.size).toString('utf8')) as {
      images: { status: string; error?: string; task: { source: string } }[];
    };
    const failed = report.images.filter((x) => x.status === 'failed');
    assert.equal(failed.length, 1, JSON.stringify(report.images));
    assert.ok(failed[0]!.task.source.includes('fail/late:v1'), JSON.stringify(failed[0]));
    assert.ok(failed[0]!.error, 'the failure has its error message');
    assert.equal(report.images.filter((x) => x.status === 'mirrored').length, 2);
    assert.deepEqual(
      [...new Set(items.map((e) => repositoryOfEntry(e.name)).filter((x) => x !== undefined))].sort(),
      ['fail/good', 'fail/index'],
    );

    // disk to mirror of that archive works for the images it holds
    const from1 = carry(box.out, join(box.dir, 'from1'));
    const iscOk = writeIsc(box, 'isc-ok.yaml', additionalImages([good.reference, goodIndex.reference]));
    const d = await runD2M(box, iscOk, from1, dest.host, join(box.dir, 'd2m-cache'));
    assert.equal(d.code, 0, describeRun(d));
    await assertSameImage(good.reference, `${dest.host}/fail/good:v1`, { src, dest });
    await assertSameImage(goodIndex.reference, `${dest.host}/fail/index:v1`, { src, dest });
    // the full configuration too: the missing image fails, the others are there
    const dAll = await runD2M(box, isc, from1, dest.host, join(box.dir, 'd2m-cache'));
    assert.equal(dAll.code, 8, describeRun(dAll));
    assert.match(dAll.stdout + dAll.stderr, /fail\/late/);

    // The missing image appears; a re-run fetches its blobs and nothing else.
    const late = await pushImage(src, 'fail/late', 'v1', { layers: [{ size: 40_000 }, { size: 20_000 }] });
    const mark = src.logs().length;
    await sleep(1100);
    const again = await runM2D(box, isc, box.out, box.cache);
    assert.equal(again.code, 0, describeRun(again));
    const gets = blobGets(src.logs().slice(mark));
    assert.deepEqual(
      gets.map((g) => `${g.repo}@${g.digest}`).sort(),
      late.blobs.map((b) => `fail/late@${b.digest}`).sort(),
      'only the late image\'s blobs are downloaded',
    );
    const shipped = readTar(archive).map((e) => blobOfEntry(e.name)).filter((x) => x !== undefined).sort();
    // Images an earlier archive carried whole travel as one line of working-dir/carried-images.json.
    assert.deepEqual(shipped, [...imageDigests(late).keys()].sort(), 'the new archive carries only the late image');
    const carriedEntry = readTar(archive).find((e) => e.name === 'working-dir/carried-images.json');
    assert.ok(carriedEntry, 'carried-images.json lists the others');
    const carried = JSON.parse(readFileSync(archive).subarray(carriedEntry.offset, carriedEntry.offset + carriedEntry.size).toString('utf8')) as Record<string, string>;
    assert.deepEqual(Object.values(carried).sort(), [good.digest, goodIndex.digest].sort());
    // (the full configuration on this archive alone is the incremental case tested above)
    const iscLate = writeIsc(box, 'isc-late.yaml', additionalImages([late.reference]));
    const d2 = await runD2M(box, iscLate, carry(box.out, join(box.dir, 'from2')), dest.host, join(box.dir, 'd2m-cache'));
    assert.equal(d2.code, 0, describeRun(d2));
    await assertSameImage(late.reference, `${dest.host}/fail/late:v1`, { src, dest });
  });

  test('dry run: mapping.txt to the store, missing.txt of what the store lacks, a predicted archive size; no archive, no copy', async (t) => {
    const src = await startRegistry({}, t);
    const box = diskBox(t);
    const a = await pushImage(src, 'dry/a', 'v1', { layers: [{ size: 70_000 }] });
    const b = await pushImage(src, 'dry/b', 'v2', {
      platforms: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64' },
      ],
      layers: [{ size: 50_000 }],
    });
    const pinned = await pushImage(src, 'dry/pinned', 'x', { layers: [{ size: 30_000 }] });
    const pinnedTag = `sha256-${pinned.digest.slice(7)}`;
    const isc = writeIsc(box, 'isc.yaml', additionalImages([a.reference, b.reference, pinned.digestReference]));
    const mappingA = `docker://${a.reference}=docker://localhost:55000/dry/a:v1\n`;
    const mappingB = `docker://${b.reference}=docker://localhost:55000/dry/b:v2\n`;
    const mappingPinned = `docker://${pinned.digestReference}=docker://localhost:55000/dry/pinned:${pinnedTag}\n`;
    const dryRun = join(box.out, 'working-dir', 'dry-run');

    const r = await runM2D(box, isc, box.out, box.cache, ['--dry-run']);
    assert.equal(r.code, 0, describeRun(r));
    assert.equal(readFileSync(join(dryRun, 'mapping.txt'), 'utf8'), mappingA + mappingB + mappingPinned);
    assert.equal(readFileSync(join(dryRun, 'missing.txt'), 'utf8'), mappingA + mappingB + mappingPinned);
    assert.deepEqual(archivesIn(box.out), [], 'no archive');
    assert.deepEqual(storeBlobs(storeRootOf(box.cache)), [], 'nothing copied into the store');
    const predictedAll = predicted(r.stdout);
    assertPrediction(predictedAll, [a, b, pinned]);

    // A first real run with one image; then the dry run lists only what the store lacks.
    const iscA = writeIsc(box, 'isc-a.yaml', additionalImages([a.reference]));
    const ra = await runM2D(box, iscA, box.out, box.cache);
    assert.equal(ra.code, 0, describeRun(ra));
    const archiveA = readFileSync(join(box.out, ARCHIVE));
    const blobsA = storeBlobs(storeRootOf(box.cache));
    const r2 = await runM2D(box, isc, box.out, box.cache, ['--dry-run']);
    assert.equal(r2.code, 0, describeRun(r2));
    assert.equal(readFileSync(join(dryRun, 'mapping.txt'), 'utf8'), mappingA + mappingB + mappingPinned);
    assert.equal(readFileSync(join(dryRun, 'missing.txt'), 'utf8'), mappingB + mappingPinned);
    assert.deepEqual(storeBlobs(storeRootOf(box.cache)), blobsA, 'the dry run copied nothing');
    // oc-mirror deletes past archives even in a dry run; keeping them is fine too: but no new one
    const left = archivesIn(box.out);
    assert.ok(left.length === 0 || (left.length === 1 && readFileSync(join(box.out, ARCHIVE)).equals(archiveA)), 'the dry run wrote no archive');
    const predictedRest = predicted(r2.stdout);

    // The prediction holds: the real archive has these blobs plus a few KiB of links.
    await sleep(1100);
    const real = await runM2D(box, isc, box.out, box.cache);
    assert.equal(real.code, 0, describeRun(real));
    const size = fileSize(join(box.out, ARCHIVE));
    assertPrediction(predictedRest, [b, pinned]);
    // Exact: the archive is what was predicted plus the run's report (written after the copy).
    const report = readTar(join(box.out, ARCHIVE)).find((e) => /^working-dir\/logs\/report_.*\.json$/.test(e.name));
    assert.ok(report, 'the run report is in the archive');
    assert.equal(size, predictedRest + tarEntrySize(report.name, report.size), `predicted ${predictedRest} bytes and the report, the archive has ${size}`);

    // everything in the store now: no missing.txt
    const r3 = await runM2D(box, isc, box.out, box.cache, ['--dry-run']);
    assert.equal(r3.code, 0, describeRun(r3));
    assert.ok(!existsSync(join(dryRun, 'missing.txt')), 'no missing.txt when the store has everything');
  });

  test('a warm store and no history: the archive is filled from the store, verified, with the bytes of one written while downloading; corrupt store data fails the run, is removed, and is downloaded again', async (t) => {
    const src = await startRegistry({}, t);
    const box = diskBox(t);
    const a = await pushImage(src, 'warm/a', 'v1', { layers: [{ size: 300_000 }, { size: 2_000 }] });
    const b = await pushImage(src, 'warm/b', 'v1', { layers: [{ size: 150_000 }] });
    const isc = writeIsc(box, 'isc.yaml', additionalImages([a.reference, b.reference]));
    const first = await runM2D(box, isc, box.out, box.cache);
    assert.equal(first.code, 0, describeRun(first));
    // Another workspace (no history) on the same store: nothing to download, everything archived again.
    const out2 = join(box.dir, 'out2');
    const second = await runM2D(box, isc, out2, box.cache);
    assert.equal(second.code, 0, describeRun(second));
    const entries = (dir: string) => readTar(join(dir, ARCHIVE)).filter((e) => e.name.startsWith('docker/'));
    const content = (dir: string) => {
      const bytes = readFileSync(join(dir, ARCHIVE));
      return entries(dir).map((e) => `${e.name} ${bytes.subarray(e.offset, e.offset + e.size).toString('base64')}`);
    };
    assert.deepEqual(content(out2), content(box.out), 'the same registry tree, byte for byte');

    // A layer rotted in the store: the archive pass notices, removes it, fails the run on one line.
    const [layer] = [...imageDigests(a)].sort((x, y) => y[1] - x[1]).map(([d]) => d); // the largest blob
    const data = join(storeRootOf(box.cache), 'docker/registry/v2/blobs/sha256', layer!.slice(7, 9), layer!.slice(7), 'data');
    const rotten = readFileSync(data);
    rotten[1000] = rotten[1000]! ^ 0xff;
    writeFileSync(data, rotten);
    const out3 = join(box.dir, 'out3');
    const bad = await runM2D(box, isc, out3, box.cache);
    assert.equal(bad.code, 1, describeRun(bad));
    const errorLines = bad.stderr.trim().split('\n').filter((l) => l.includes(layer!));
    assert.equal(errorLines.length, 1, bad.stderr);
    assert.match(errorLines[0]!, /found corrupt there and removed: run again to download it/);
    assert.doesNotMatch(bad.stderr, /\n\s+at /, 'no stack trace');
    assert.deepEqual(archivesIn(out3), [], 'no archive of a failed run');
    assert.equal(existsSync(data), false);
    const again = await runM2D(box, isc, out3, box.cache);
    assert.equal(again.code, 0, describeRun(again));
    assert.deepEqual(content(out3), content(box.out));
  });

  test('-c may select a subset of what was packed', async (t) => {
    const src = await startRegistry({}, t);
    const dest = await startRegistry({}, t);
    const box = diskBox(t);
    const x = await pushImage(src, 'subset/x', 'v1', { layers: [{ size: 30_000 }] });
    const y = await pushImage(src, 'subset/y', 'v1', { format: 'docker', layers: [{ size: 40_000 }] });
    const z = await pushImage(src, 'subset/z', 'v1', {
      platforms: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64' },
      ],
    });
    const all = writeIsc(box, 'all.yaml', additionalImages([x.reference, y.reference, z.reference]));
    const r = await runM2D(box, all, box.out, box.cache);
    assert.equal(r.code, 0, describeRun(r));
    const one = writeIsc(box, 'one.yaml', additionalImages([y.reference]));
    const d = await runD2M(box, one, carry(box.out, join(box.dir, 'from')), `${dest.host}/sub`, join(box.dir, 'd2m-cache'));
    assert.equal(d.code, 0, describeRun(d));
    await assertSameImage(y.reference, `${dest.host}/sub/subset/y:v1`, { src, dest });
    assert.deepEqual(await catalog(dest), ['sub/subset/y']);
    const itms = readFileSync(join(box.dir, 'from', 'working-dir', 'cluster-resources', 'itms-oc-mirror.yaml'), 'utf8');
    assert.doesNotMatch(itms, /subset\/x|subset\/z/, 'cluster resources name only what was pushed');

    // a dry run of disk to mirror: the mapping from the store names, nothing pushed
    const dry = await startRegistry({}, t);
    const dr = await runD2M(box, all, join(box.dir, 'from'), `${dry.host}/p`, join(box.dir, 'd2m-cache'), ['--dry-run']);
    assert.equal(dr.code, 0, describeRun(dr));
    assert.equal(
      readFileSync(join(box.dir, 'from', 'working-dir', 'dry-run', 'mapping.txt'), 'utf8'),
      ['x', 'y', 'z'].map((n) => `docker://localhost:55000/subset/${n}:v1=docker://${dry.host}/p/subset/${n}:v1\n`).join(''),
    );
    assert.deepEqual(await catalog(dry), []);
  });

  test('unsafe archives are refused before anything is read or written: "..", absolute paths, links, devices', async (t) => {
    const src = await startRegistry({}, t);
    const dest = await startRegistry({}, t);
    const box = diskBox(t);
    const image = await pushImage(src, 'safe/app', 'v1', { layers: [{ size: 20_000 }] });
    const isc = writeIsc(box, 'isc.yaml', additionalImages([image.reference]));
    const r = await runM2D(box, isc, box.out, box.cache);
    assert.equal(r.code, 0, describeRun(r));
    const good = readFileSync(join(box.out, ARCHIVE));
    await src.stop();

    const payload = Buffer.from('written by a hostile archive\n');
    const cases: { label: string; entries: RawEntry[]; named: string; mustNotExist?: string }[] = [
      { label: 'parent', entries: [{ name: '../evil', data: payload }], named: '../evil', mustNotExist: join(box.dir, 'evil') },
      { label: 'nested-parent', entries: [{ name: 'working-dir/../../evil-wd', data: payload }], named: 'working-dir/../../evil-wd', mustNotExist: join(box.dir, 'evil-wd') },
      {
        label: 'v2-parent',
        entries: [{ name: 'docker/registry/v2/../../../../evil-v2', data: payload }],
        named: 'docker/registry/v2/../../../../evil-v2',
        mustNotExist: join(box.dir, 'evil-v2'),
      },
      { label: 'absolute', entries: [{ name: join(box.dir, 'evil-abs'), data: payload }], named: join(box.dir, 'evil-abs'), mustNotExist: join(box.dir, 'evil-abs') },
      // the same escapes hidden in a GNU long name and in a PAX path, which override the header's name
      {
        label: 'gnu-longname',
        entries: [{ name: '././@LongLink', type: 'L', data: Buffer.from('../evil-long\0') }, { name: 'innocent', data: payload }],
        named: '../evil-long',
        mustNotExist: join(box.dir, 'evil-long'),
      },
      {
        label: 'pax-path',
        entries: [{ name: 'PaxHeaders.0/innocent', type: 'x', data: paxRecord('path', '../evil-pax') }, { name: 'innocent', data: payload }],
        named: '../evil-pax',
        mustNotExist: join(box.dir, 'evil-pax'),
      },
      { label: 'symlink', entries: [{ name: 'working-dir/escape', type: '2', linkName: '/etc' }], named: 'working-dir/escape' },
      { label: 'blob-symlink', entries: [{ name: 'docker/registry/v2/blobs/sha256/00/x/data', type: '2', linkName: '/etc/passwd' }], named: 'docker/registry/v2/blobs/sha256/00/x/data' },
      { label: 'hardlink', entries: [{ name: 'working-dir/hard', type: '1', linkName: '/etc/passwd' }], named: 'working-dir/hard' },
      { label: 'char-device', entries: [{ name: 'working-dir/null', type: '3' }], named: 'working-dir/null' },
      { label: 'fifo', entries: [{ name: 'working-dir/fifo', type: '6' }], named: 'working-dir/fifo' },
    ];
    const outside = (rel: string) => rel.startsWith('from-');
    const before = listTree(box.dir, outside);
    for (const c of cases) {
      const from = join(box.dir, `from-${c.label}`);
      mkdirSync(from);
      const archive = join(from, ARCHIVE);
      // the hostile entry after the good content: a streaming extractor would have pushed by then
      writeFileSync(archive, appendToArchive(good, c.entries));
      const d = await runD2M(box, isc, from, dest.host, join(box.dir, 'd2m-cache'));
      assert.equal(d.code, 1, `${c.label}: ${describeRun(d)}`);
      const err = lines(d.stderr);
      assert.equal(err.length, 1, `${c.label}: one line on stderr: ${d.stderr}`);
      assert.ok(err[0]!.includes(archive), `${c.label}: names the archive: ${err[0]}`);
      assert.ok(err[0]!.includes(`"${c.named}"`), `${c.label}: names the entry: ${err[0]}`);
      assert.deepEqual(await catalog(dest), [], `${c.label}: nothing pushed`);
      if (c.mustNotExist) assert.ok(!existsSync(c.mustNotExist), `${c.label}: ${c.mustNotExist} written`);
      assert.deepEqual(listTree(box.dir, outside), before, `${c.label}: nothing written outside --from`);
      assert.deepEqual(listTree(from, (rel) => rel.startsWith('working-dir/logs')), [ARCHIVE], `${c.label}: nothing extracted into --from`);
    }
    assert.ok(!existsSync('/etc/evil-abs'));
  });

  test('a truncated archive is a clear error; a corrupted blob fails its image with a digest error and nothing of it is pushed', async (t) => {
    const src = await startRegistry({}, t);
    const dest = await startRegistry({}, t);
    const box = diskBox(t);
    const fine = await pushImage(src, 'bad/fine', 'v1', { layers: [{ size: 40_000 }] });
    const victim = await pushImage(src, 'bad/victim', 'v1', { layers: [{ size: 50_000 }, { size: 90_000 }] });
    const badManifest = await pushImage(src, 'bad/manifest', 'v1', { layers: [{ size: 10_000 }] });
    const isc = writeIsc(box, 'isc.yaml', additionalImages([fine.reference, victim.reference, badManifest.reference]));
    const r = await runM2D(box, isc, box.out, box.cache);
    assert.equal(r.code, 0, describeRun(r));
    const good = readFileSync(join(box.out, ARCHIVE));
    const items = readTar(join(box.out, ARCHIVE));
    const target = victim.layers![1]!;
    const entry = items.find((e) => blobOfEntry(e.name) === target.digest);
    assert.ok(entry, 'the victim layer is in the archive');

    // truncated in the middle of a blob
    const truncated = join(box.dir, 'from-truncated');
    mkdirSync(truncated);
    writeFileSync(join(truncated, ARCHIVE), good.subarray(0, entry.offset + Math.floor(entry.size / 2)));
    const dt = await runD2M(box, isc, truncated, dest.host, join(box.dir, 'd2m-cache'));
    assert.equal(dt.code, 1, describeRun(dt));
    assert.equal(lines(dt.stderr).length, 1, dt.stderr);
    assert.match(dt.stderr, /truncated/);
    assert.ok(dt.stderr.includes(join(truncated, ARCHIVE)), dt.stderr);
    assert.deepEqual(await catalog(dest), []);

    // an empty archive file
    const empty = join(box.dir, 'from-empty');
    mkdirSync(empty);
    writeFileSync(join(empty, ARCHIVE), '');
    const de = await runD2M(box, isc, empty, dest.host, join(box.dir, 'd2m-cache'));
    assert.equal(de.code, 1, describeRun(de));
    assert.equal(lines(de.stderr).length, 1, de.stderr);
    assert.ok(de.stderr.includes(join(empty, ARCHIVE)), de.stderr);

    // one byte flipped inside the victim's layer
    const corrupt = Buffer.from(good);
    const at = entry.offset + Math.floor(entry.size / 2);
    corrupt[at] = corrupt[at]! ^ 0xff;
    // and one byte of another image's manifest: a space of its indentation becomes a tab (still JSON)
    const manifestEntry = items.find((e) => blobOfEntry(e.name) === badManifest.digest)!;
    const space = good.indexOf(0x20, manifestEntry.offset + 10);
    assert.ok(space > 0 && space < manifestEntry.offset + manifestEntry.size);
    corrupt[space] = 0x09;
    const corrupted = join(box.dir, 'from-corrupt');
    mkdirSync(corrupted);
    writeFileSync(join(corrupted, ARCHIVE), corrupt);
    const dc = await runD2M(box, isc, corrupted, dest.host, join(box.dir, 'd2m-cache'));
    assert.equal(dc.code, 8, describeRun(dc));
    assert.match(dc.stderr, new RegExp(`bad/victim:v1.*${target.digest}`), dc.stderr);
    assert.match(dc.stderr, /digest/);
    await assertSameImage(fine.reference, `${dest.host}/bad/fine:v1`, { src, dest });
    assert.equal(await exists(`${dest.host}/bad/victim:v1`, dest), false, 'no manifest of the corrupted image');
    assert.match(dc.stderr, new RegExp(`bad/manifest:v1.*${badManifest.digest}`), dc.stderr);
    assert.equal(await exists(`${dest.host}/bad/manifest:v1`, dest), false, 'no manifest that does not match its digest');
    const head = await fetch(`${dest.url}/v2/bad/victim/blobs/${target.digest}`, { method: 'HEAD' });
    assert.equal(head.status, 404, 'the corrupted blob is not at the destination');
    const logs = join(corrupted, 'working-dir', 'logs');
    const errorsFile = readdirSync(logs).find((f) => f.startsWith('mirroring_errors_'));
    assert.ok(errorsFile);
    assert.match(readFileSync(join(logs, errorsFile), 'utf8'), new RegExp(`bad/victim:v1 error: .*${target.digest}`));
  });

  test('reads archives made by oc-mirror: the registry storage tree tarred (GNU, PAX, split over two archives), working-dir and isc_ beside it', async (t) => {
    const src = await startRegistry({}, t);
    const box = diskBox(t);
    const app = await pushImage(src, 'ocm/app', 'v1', { layers: [{ size: 60_000, seed: 'ocm-base' }, { size: 20_000 }] });
    const list = await pushImage(src, 'ocm/list', 'v2', {
      format: 'docker',
      platforms: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64' },
      ],
      layers: [{ size: 60_000, seed: 'ocm-base' }, { size: 10_000 }],
    });
    const pinned = await pushImage(src, 'ocm/deep/pinned', 'moving', { layers: [{ size: 15_000 }] });
    const pinnedTag = `sha256-${pinned.digest.slice(7)}`;
    const renamed = await pushImage(src, 'ocm/orig', 'v9', { layers: [{ size: 5_000 }] });

    // oc-mirror's cache: a distribution registry, images named <path>:<tag> or <path>:sha256-<hex>
    const cache = await startRegistry({ rootDir: join(box.dir, 'ocm-cache') }, t);
    const copies: [PushedImage, string][] = [
      [app, 'ocm/app:v1'],
      [list, 'ocm/list:v2'],
      [pinned, `ocm/deep/pinned:${pinnedTag}`],
      [renamed, 'moved/here:stable'],
    ];
    for (const [image, path] of copies) await copyImage(image.digestReference, `${cache.host}/${path}`, { src, dest: cache });
    await cache.stop(); // its storage stays: oc-mirror archives a stopped cache

    const isc = writeIsc(
      box,
      'isc.yaml',
      additionalImages([app.reference, list.reference, pinned.digestReference, { name: renamed.reference, targetRepo: 'moved/here', targetTag: 'stable' }]),
    );
    const stage = join(box.dir, 'stage');
    for (const [rel, body] of [
      ['working-dir/logs/oc-mirror-20240101_000000.log', 'a log line\n'],
      ['working-dir/internal/oc-mirror-version.json', '{"gitVersion":"4.18.0","gitCommit":"abc"}\n'],
      ['working-dir/.history/.history-2024-01-01T00:00:00Z', `${app.digest}\n`],
      ['working-dir/cluster-resources/idms-oc-mirror.yaml', 'stale: true\n'],
      ['working-dir/hold-release/cincinnati-graph-data/amd64-stable-4.18.json', '{}\n'],
    ] as const) {
      mkdirSync(join(stage, rel, '..'), { recursive: true });
      writeFileSync(join(stage, rel), body);
    }
    const iscName = 'isc_2024-01-01T00:00:00Z';
    copyFileSync(isc, join(stage, iscName));

    const variants: { label: string; tars: string[][] }[] = [
      { label: 'gnu', tars: [['--format=gnu', '-C', cache.rootDir, 'docker', '-C', stage, 'working-dir', iscName]] },
      { label: 'pax', tars: [['--format=pax', '-C', cache.rootDir, 'docker', '-C', stage, 'working-dir', iscName]] },
      {
        // oc-mirror splits by archiveSize: links in the first archive, blobs in the second
        label: 'split',
        tars: [
          ['--format=gnu', '-C', cache.rootDir, 'docker/registry/v2/repositories', '-C', stage, 'working-dir'],
          ['--format=gnu', '-C', cache.rootDir, 'docker/registry/v2/blobs', '-C', stage, iscName],
        ],
      },
    ];
    for (const v of variants) {
      const dest = await startRegistry({}, t);
      const from = join(box.dir, `from-${v.label}`);
      mkdirSync(from);
      for (const [n, args] of v.tars.entries()) await systemTar(['-cf', join(from, `mirror_${String(n + 1).padStart(6, '0')}.tar`), ...args]);
      const d = await runD2M(box, isc, from, `${dest.host}/ocp`, join(box.dir, `d2m-cache-${v.label}`));
      assert.equal(d.code, 0, `${v.label}: ${describeRun(d)}`);
      for (const [image, path] of copies) await assertSameImage(image.digestReference, `${dest.host}/ocp/${path}`, { src, dest });
      const idms = readFileSync(join(from, 'working-dir', 'cluster-resources', 'idms-oc-mirror.yaml'), 'utf8');
      assert.match(idms, new RegExp(`- ${dest.host}/ocp/ocm/deep\\n\\s+source: ${src.host}/ocm/deep\\n`), idms);
      await dest.stop();
    }
  });

  test('disk to mirror needs no network but the destination: proxies dead, source stopped', async (t) => {
    const src = await startRegistry({}, t);
    const dest = await startRegistry({}, t);
    const box = diskBox(t);
    const image = await pushImage(src, 'offline/app', 'v1', {
      platforms: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64' },
      ],
      layers: [{ size: 40_000 }],
    });
    const isc = writeIsc(box, 'isc.yaml', additionalImages([image.reference]));
    const r = await runM2D(box, isc, box.out, box.cache);
    assert.equal(r.code, 0, describeRun(r));
    const served = await startRegistry({ rootDir: storeRootOf(box.cache), readOnly: true }, t);
    await src.stop();
    const dead = `http://127.0.0.1:${await freePort()}`;
    const proxies = { HTTP_PROXY: dead, HTTPS_PROXY: dead, http_proxy: dead, https_proxy: dead };
    const from = carry(box.out, join(box.dir, 'from'));
    // control: the proxy variables are honoured, so without NO_PROXY the dead proxy stops the run
    const blocked = await runD2M(box, isc, from, dest.host, join(box.dir, 'd2m-cache'), [], { ...proxies, NO_PROXY: '', no_proxy: '' });
    assert.notEqual(blocked.code, 0, describeRun(blocked));
    const d = await runD2M(box, isc, from, dest.host, join(box.dir, 'd2m-cache'), [], { ...proxies, NO_PROXY: dest.host, no_proxy: dest.host });
    assert.equal(d.code, 0, describeRun(d));
    await assertSameImage(`${served.host}/offline/app:v1`, `${dest.host}/offline/app:v1`, { src: served, dest });
  });

  test('bad input: --from without archives, a file:// destination with an internal keyword', async (t) => {
    const dest = await startRegistry({}, t);
    const box = diskBox(t);
    const isc = writeIsc(box, 'isc.yaml', additionalImages(['127.0.0.1:1/some/image:v1']));
    const from = join(box.dir, 'nothing-here');
    mkdirSync(from);
    writeFileSync(join(from, 'mirror_1.tar'), 'not a match for the name pattern');
    writeFileSync(join(from, 'mirror_000001.tar.partial'), 'nor this');
    const d = await runD2M(box, isc, from, dest.host, join(box.dir, 'd2m-cache'));
    assert.equal(d.code, 1, describeRun(d));
    assert.deepEqual(lines(d.stderr), [`error: no tar archives matching "mirror_[0-9]{6}\\.tar" found in "${from}"`]);
    assert.deepEqual(await catalog(dest), []);

    const missingDir = await runD2M(box, isc, join(box.dir, 'does-not-exist'), dest.host, join(box.dir, 'd2m-cache'));
    assert.equal(missingDir.code, 1, describeRun(missingDir));
    assert.equal(lines(missingDir.stderr).length, 1, missingDir.stderr);
    assert.match(missingDir.stderr, /does-not-exist/);

    for (const [target, kw] of [
      ['/x/logs', 'logs'],
      [`${box.dir}/helm/out`, 'helm'],
      [`${box.dir}/a/cluster-resources`, 'cluster-resources'],
    ] as const) {
      const r = await runM2D(box, isc, target, box.cache);
      assert.equal(r.code, 1, describeRun(r));
      assert.deepEqual(lines(r.stderr), [`error: the destination contains an internal oc-mirror keyword '${kw}'`]);
    }
    assert.ok(!existsSync('/x/logs') && !existsSync(join(box.dir, 'helm')) && !existsSync(join(box.dir, 'a')), 'nothing created');
    const since = await runM2D(box, isc, box.out, box.cache, ['--since', '2024/01/01']);
    assert.equal(since.code, 1, describeRun(since));
    assert.deepEqual(lines(since.stderr), ['error: --since flag needs to be in format yyyy-MM-dd']);
    const fromKw = await runD2M(box, isc, join(box.dir, 'delete'), dest.host, join(box.dir, 'd2m-cache'));
    assert.equal(fromKw.code, 1, describeRun(fromKw));
    assert.deepEqual(lines(fromKw.stderr), [`error: the path set in --from flag contains an internal oc-mirror keyword 'delete'`]);
  });

  test('an archive cut at an entry boundary (a copy that stopped at a 4 KiB multiple) is reported as truncated, not read as a smaller archive', async (t) => {
    const src = await startRegistry({}, t);
    const dest = await startRegistry({}, t);
    const box = diskBox(t);
    const images = [
      await pushImage(src, 'cut/a', 'v1', { layers: [{ size: 20_000 }] }),
      await pushImage(src, 'cut/b', 'v1', { layers: [{ size: 20_000 }] }),
    ];
    const isc = writeIsc(box, 'isc.yaml', additionalImages(images.map((i) => i.reference)));
    const r = await runM2D(box, isc, box.out, box.cache);
    assert.equal(r.code, 0, describeRun(r));
    const good = readFileSync(join(box.out, ARCHIVE));
    // Every entry starts on a 512-byte block: a cut at a 4 KiB multiple often falls on a header.
    // Take the first such cut among cut/b's link files (sorted after cut/a's).
    const headers = readTar(join(box.out, ARCHIVE)).map((e) => ({ name: e.name, header: e.offset - 512 }));
    const cut = headers.find((h) => h.name.startsWith('docker/registry/v2/repositories/cut/b/') && h.header % 4096 === 0)
      ?? headers.find((h) => h.name.startsWith('docker/registry/v2/repositories/cut/b/'))!;
    const from = join(box.dir, 'from');
    mkdirSync(from);
    writeFileSync(join(from, ARCHIVE), good.subarray(0, cut.header));
    const d = await runD2M(box, isc, from, dest.host, join(box.dir, 'd2m-cache'));
    assert.equal(d.code, 1, `the archive ends without its end-of-archive blocks, cut before "${cut.name}"\n${describeRun(d)}`);
    assert.equal(lines(d.stderr).length, 1, d.stderr);
    assert.match(d.stderr, /truncated/);
    assert.deepEqual(await catalog(dest), []);
  });

  test('a run in which every image fails leaves no archive behind: the previous run\'s archive would pass for this run\'s', async (t) => {
    const src = await startRegistry({}, t);
    const box = diskBox(t);
    const a = await pushImage(src, 'gone/a', 'v1', { layers: [{ size: 5_000 }] });
    const r1 = await runM2D(box, writeIsc(box, 'isc1.yaml', additionalImages([a.reference])), box.out, box.cache);
    assert.equal(r1.code, 0, describeRun(r1));
    assert.deepEqual(archivesIn(box.out), [ARCHIVE]);
    // the next image set cannot be fetched at all
    const r2 = await runM2D(box, writeIsc(box, 'isc2.yaml', additionalImages([`${src.host}/gone/missing:v1`])), box.out, box.cache);
    assert.equal(r2.code, 8, describeRun(r2));
    assert.match(r2.stderr, /no archive written/);
    // A pipeline that ships out/mirror_*.tar after a partial failure (exit 8 says "some failed")
    // would ship the previous run's archive again. oc-mirror removes past archives first (ref §4.3).
    assert.deepEqual(archivesIn(box.out), [], 'the previous run\'s archive is still there although this run wrote none');
  });
});
