import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pushArtifact, pushImage, type PushedImage } from '../support/images.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { assertSameImage } from '../support/skopeo.js';
import { integrationSuite } from '../support/tools.js';
import { additionalImages, catalog, describeRun, exists, ocMirror, sandbox, writeIsc } from './m2m-helpers.js';

const INSECURE = ['--src-tls-verify=false', '--dest-tls-verify=false'];

describe('mirror to mirror of additionalImages', integrationSuite(), () => {
  let src: TestRegistry;
  const images: Record<string, PushedImage> = {};

  before(async () => {
    src = await startRegistry();
    const base = [{ size: 300_000, seed: 'base-layer' }];
    images.ociSingle = await pushImage(src, 'apps/oci-single', 'v1', { layers: [...base, { size: 50_000 }] });
    images.dockerSingle = await pushImage(src, 'apps/docker-single', '1.0', { format: 'docker', layers: [...base, { size: 70_000 }] });
    images.ociIndex = await pushImage(src, 'multi/oci-index', 'v2', {
      platforms: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64', variant: 'v8' },
        { os: 'linux', architecture: 's390x' },
      ],
      layers: [...base, { size: 40_000 }],
    });
    images.dockerList = await pushImage(src, 'multi/docker-list', 'latest', {
      format: 'docker',
      platforms: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'ppc64le' },
      ],
    });
    images.byDigest = await pushImage(src, 'pinned/tool', 'moving', { layers: [{ size: 20_000 }] });
    images.tagDigest = await pushImage(src, 'pinned/both', 'v3', { layers: [{ size: 10_000 }] });
    images.renamed = await pushImage(src, 'deep/ns/sub/app', 'v1', { layers: [...base, { size: 5_000 }] });
    images.blocked = await pushImage(src, 'legacy/old', 'v0', {});
    images.signature = await pushArtifact(src, 'apps/oci-single', { signs: images.ociSingle.digest });
  });
  after(async () => {
    await src?.stop();
  });

  test('copies every kind of image byte for byte, names them as oc-mirror does, and writes IDMS/ITMS', async (t) => {
    const dest = await startRegistry({}, t);
    const box = sandbox();
    const i = images;
    const isc = writeIsc(
      box,
      'isc.yaml',
      additionalImages(
        [
          i.ociSingle!.reference,
          i.dockerSingle!.reference,
          i.ociIndex!.reference,
          i.dockerList!.reference,
          i.byDigest!.digestReference,
          `${i.tagDigest!.reference}@${i.tagDigest!.digest}`,
          { name: i.renamed!.reference, targetRepo: 'flat/app', targetTag: 'stable' },
          i.blocked!.reference,
          i.signature!.reference,
        ],
        `  blockedImages:\n  - name: "legacy/"\n`,
      ),
    );
    const r = await ocMirror(box, ['-c', isc, '--workspace', `file://${box.dir}/ws`, `docker://${dest.host}/mirror`, ...INSECURE, '--v2']);
    assert.equal(r.code, 0, describeRun(r));
    assert.match(r.stdout, /✓ 8 \/ 8 additional images mirrored successfully/);
    assert.match(r.stdout, /legacy\/old:v0 is blocked by blockedImages/);

    const d = dest.host;
    const pairs: [PushedImage, string][] = [
      [i.ociSingle!, `${d}/mirror/apps/oci-single:v1`],
      [i.dockerSingle!, `${d}/mirror/apps/docker-single:1.0`],
      [i.ociIndex!, `${d}/mirror/multi/oci-index:v2`],
      [i.dockerList!, `${d}/mirror/multi/docker-list:latest`],
      [i.byDigest!, `${d}/mirror/pinned/tool:sha256-${i.byDigest!.digest.slice(7)}`],
      [i.tagDigest!, `${d}/mirror/pinned/both:v3`],
      [i.renamed!, `${d}/mirror/flat/app:stable`],
      [i.signature!, `${d}/mirror/apps/oci-single:${i.signature!.tag}`],
    ];
    for (const [image, destRef] of pairs) await assertSameImage(image.reference, destRef, { src, dest });
    assert.equal(await exists(`${d}/mirror/legacy/old:v0`, dest), false, 'a blocked image must not be mirrored');

    const resources = join(box.dir, 'ws', 'working-dir', 'cluster-resources');
    const idms = readFileSync(join(resources, 'idms-oc-mirror.yaml'), 'utf8');
    const itms = readFileSync(join(resources, 'itms-oc-mirror.yaml'), 'utf8');
    assert.match(idms, /name: idms-generic-0/);
    // namespace scope: the destination path ends with the source path (ref §6.1)
    assert.match(idms, new RegExp(`- ${d}/mirror/pinned\\n\\s+source: ${src.host}/pinned\\n`));
    assert.match(itms, /name: itms-generic-0/);
    assert.match(itms, new RegExp(`source: ${src.host}/deep/ns/sub/app`));
    assert.doesNotMatch(itms, /pinned\/tool/, 'a digest-only image has no ITMS entry');

    const logs = readdirSync(join(box.dir, 'ws', 'working-dir', 'logs'));
    assert.ok(logs.some((f) => /^oc-mirror-\d{8}_\d{6}\.log$/.test(f)), logs.join());
    assert.ok(!logs.some((f) => f.startsWith('mirroring_errors_')), 'no errors file on success');

    // A second run finds everything in place and transfers nothing.
    const again = await ocMirror(box, ['-c', isc, '--workspace', `file://${box.dir}/ws`, `docker://${dest.host}/mirror`, ...INSECURE]);
    assert.equal(again.code, 0, describeRun(again));
    assert.equal((again.stdout.match(/\(already present\)/g) ?? []).length, 8, again.stdout);
  });

  test('dry run writes mapping.txt and pushes nothing', async (t) => {
    const dest = await startRegistry({}, t);
    const box = sandbox();
    const isc = writeIsc(box, 'isc.yaml', additionalImages([images.ociSingle!.reference, images.byDigest!.digestReference]));
    const r = await ocMirror(box, ['-c', isc, '--workspace', `file://${box.dir}/ws`, `docker://${dest.host}/dry`, '--dry-run', ...INSECURE]);
    assert.equal(r.code, 0, describeRun(r));
    const mapping = readFileSync(join(box.dir, 'ws', 'working-dir', 'dry-run', 'mapping.txt'), 'utf8');
    assert.equal(
      mapping,
      `docker://${images.ociSingle!.reference}=docker://${dest.host}/dry/apps/oci-single:v1\n` +
        `docker://${images.byDigest!.digestReference}=docker://${dest.host}/dry/pinned/tool:sha256-${images.byDigest!.digest.slice(7)}\n`,
    );
    assert.deepEqual(await catalog(dest), []);
  });

  test('--max-nested-paths flattens destination paths', async (t) => {
    const dest = await startRegistry({}, t);
    const box = sandbox();
    const isc = writeIsc(box, 'isc.yaml', additionalImages([images.renamed!.reference]));
    const r = await ocMirror(box, ['-c', isc, '--workspace', `file://${box.dir}/ws`, `docker://${dest.host}/a/b`, '--max-nested-paths', '3', ...INSECURE]);
    assert.equal(r.code, 0, describeRun(r));
    await assertSameImage(images.renamed!.reference, `${dest.host}/a/b/deep-ns-sub-app:v1`, { src, dest });
  });

  test('a failing image is reported and does not stop the others', async (t) => {
    const dest = await startRegistry({}, t);
    const box = sandbox();
    const isc = writeIsc(box, 'isc.yaml', additionalImages([`${src.host}/nowhere/missing:v1`, images.ociSingle!.reference]));
    const r = await ocMirror(box, ['-c', isc, '--workspace', `file://${box.dir}/ws`, `docker://${dest.host}`, ...INSECURE, '--retry-times', '0']);
    assert.equal(r.code, 8, describeRun(r));
    assert.match(r.stdout, /✗ 1 \/ 2 additional images mirrored: Some additional images failed to be mirrored - please check the logs/);
    await assertSameImage(images.ociSingle!.reference, `${dest.host}/apps/oci-single:v1`, { src, dest });
    const logsDir = join(box.dir, 'ws', 'working-dir', 'logs');
    const errorsFile = readdirSync(logsDir).find((f) => /^mirroring_errors_\d{8}_\d{6}\.txt$/.test(f));
    assert.ok(errorsFile, 'errors file written');
    assert.match(readFileSync(join(logsDir, errorsFile), 'utf8'), new RegExp(`^error mirroring image docker://${src.host}/nowhere/missing:v1 error: .*manifest unknown`, 'm'));
    const report = readdirSync(logsDir).find((f) => f.startsWith('report_'));
    assert.ok(report);
    const parsed = JSON.parse(readFileSync(join(logsDir, report), 'utf8')) as { images: { status: string }[] };
    assert.deepEqual(parsed.images.map((x) => x.status).sort(), ['failed', 'mirrored']);
  });

  test('large blobs are uploaded in chunks and arrive intact', async (t) => {
    const dest = await startRegistry({}, t);
    const box = sandbox();
    const big = await pushImage(src, 'big/layer', 'v1', { layers: [{ size: 3 * 1024 * 1024 + 123 }] });
    const isc = writeIsc(box, 'isc.yaml', additionalImages([big.reference]));
    const r = await ocMirror(box, ['-c', isc, '--workspace', `file://${box.dir}/ws`, `docker://${dest.host}`, ...INSECURE], {
      OC_MIRROR_UPLOAD_CHUNK_SIZE: String(1024 * 1024),
    });
    assert.equal(r.code, 0, describeRun(r));
    await assertSameImage(big.reference, `${dest.host}/big/layer:v1`, { src, dest });
    assert.match(dest.logs(), /"PATCH \/v2\/big\/layer\/blobs\/uploads\//, 'the registry saw PATCH requests');
  });

  test('a blob shared by many images is written once per repository: mounted, never uploaded twice', async (t) => {
    const dest = await startRegistry({}, t);
    const box = sandbox();
    const shared = [{ size: 120_000, seed: 'fanout-a' }, { size: 60_000, seed: 'fanout-b' }];
    const single = await pushImage(src, 'fanout/single', 'v1', { layers: shared });
    const platforms = ['amd64', 'arm64', 'ppc64le', 's390x', '386', 'riscv64'].map((architecture) => ({ os: 'linux', architecture }));
    const index = await pushImage(src, 'fanout/index', 'v1', { platforms, layers: shared });
    const isc = writeIsc(box, 'isc.yaml', additionalImages([single.reference, index.reference]));
    const r = await ocMirror(box, ['-c', isc, '--workspace', `file://${box.dir}/ws`, `docker://${dest.host}`, ...INSECURE, '--parallel-layers', '10']);
    assert.equal(r.code, 0, describeRun(r));
    await assertSameImage(index.reference, `${dest.host}/fanout/index:v1`, { src, dest });
    const log = dest.logs();
    for (const layer of single.layers!) {
      const uploads = log.match(new RegExp(`"PUT /v2/fanout/[a-z]+/blobs/uploads/[^"]*digest=${layer.digest.replace(':', '%3A')}`, 'g')) ?? [];
      const mounts = log.match(new RegExp(`"POST /v2/fanout/index/blobs/uploads/\\?[^"]*mount=${layer.digest.replace(':', '%3A')}`, 'g')) ?? [];
      assert.equal(uploads.length + mounts.length, 2, `${layer.digest}: one write into each of the two repositories (${uploads.length} uploads, ${mounts.length} mounts)`);
    }
  });
});

