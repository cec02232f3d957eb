/**
 * The embedded registry (`oc-mirror serve`) checked with skopeo as the client: images copied in
 * from a CNCF distribution registry and out to another one are byte-identical; inspect,
 * list-tags and delete work; raw chunked uploads and cross-repository mounts; and archives
 * served in place, read-only.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { openArchives } from '../../src/archive/reader.js';
import { runServe } from '../../src/cli/serve-command.js';
import type { Logger } from '../../src/log.js';
import { ReadOnlyLayoutBackend, StoreBackend } from '../../src/server/backend.js';
import { startRegistryServer, type RunningRegistry } from '../../src/server/registry-server.js';
import { LocalStore } from '../../src/store/store.js';
import { tempDir } from '../support/cleanup.js';
import { layerInfo, layerStream, MediaTypes, pushImage, type PushedImage } from '../support/images.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { accessFlags, assertSameImage, copyImage, inspectRaw, listTags, skopeo, type SkopeoAccess } from '../support/skopeo.js';
import { integrationSuite } from '../support/tools.js';

const PLAIN_HTTP: SkopeoAccess = { tlsVerify: false };
const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function recordingLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (m: string) => void lines.push(`${level}: ${m}`);
  return { lines, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), trace: at('trace') };
}

/** `host:port` of a running server, as image references name it. */
function hostOf(server: RunningRegistry): string {
  return new URL(server.url).host;
}

describe('oc-mirror serve, checked with skopeo', integrationSuite(), () => {
  let src: TestRegistry;
  let cacheRoot: string;
  let server: RunningRegistry;
  let host: string;
  const log = recordingLog();
  const images: Record<string, PushedImage> = {};
  /** where each image was copied to on our server */
  const ours: Record<string, string> = {};

  before(async () => {
    src = await startRegistry();
    const base = [{ size: 200_000, seed: 'serve-base' }];
    images.ociSingle = await pushImage(src, 'apps/oci-single', 'v1', { layers: [...base, { size: 30_000 }] });
    images.dockerSingle = await pushImage(src, 'apps/docker-single', '1.0', { format: 'docker', layers: [...base, { size: 40_000 }] });
    images.ociIndex = await pushImage(src, 'multi/oci-index', 'v2', {
      platforms: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64', variant: 'v8' },
      ],
      layers: [...base, { size: 20_000 }],
    });
    images.dockerList = await pushImage(src, 'multi/docker-list', 'latest', {
      format: 'docker',
      platforms: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'ppc64le' },
      ],
    });
    cacheRoot = join(tempDir({ after }, 'serve-cache'), '.oc-mirror', '.cache');
    const store = await LocalStore.open(cacheRoot);
    server = await startRegistryServer({ backend: new StoreBackend(store, 'the test cache'), port: 0, log });
    host = hostOf(server);
  });
  after(async () => {
    await server?.close();
    await src?.stop();
  });

  test('skopeo copies OCI and Docker, single and multi-arch images in, byte for byte', async () => {
    for (const [key, image] of Object.entries(images)) {
      const dest = `${host}/cache/${image.repo}:${image.tag}`;
      await copyImage(image.reference, dest, { src, dest: PLAIN_HTTP });
      await assertSameImage(image.reference, dest, { src, dest: PLAIN_HTTP });
      ours[key] = dest;
    }
    assert.ok(!log.lines.some((l) => l.startsWith('error:')), log.lines.filter((l) => l.startsWith('error:')).join('\n'));
  });

  test('skopeo copies them out to another registry unchanged', async (t) => {
    assert.equal(Object.keys(ours).length, 4, 'needs the images copied in');
    const dest = await startRegistry({}, t);
    for (const [key, ref] of Object.entries(ours)) {
      const out = `${dest.host}/out/${images[key]!.repo}:${images[key]!.tag}`;
      await copyImage(ref, out, { src: PLAIN_HTTP, dest });
      await assertSameImage(images[key]!.reference, out, { src, dest });
    }
  });

  test('skopeo inspect, list-tags and delete', async () => {
    const ref = ours.ociIndex!;
    const inspected = JSON.parse((await skopeo(['inspect', ...accessFlags(PLAIN_HTTP), `docker://${ref}`])).stdout.toString()) as {
      Digest: string;
      Architecture: string;
    };
    assert.equal(inspected.Digest, images.ociIndex!.digest);
    assert.deepEqual(await inspectRaw(ref, PLAIN_HTTP), images.ociIndex!.manifest);

    const repo = `${host}/cache/${images.ociSingle!.repo}`;
    await copyImage(ours.ociSingle!, `${repo}:extra`, { src: PLAIN_HTTP, dest: PLAIN_HTTP });
    await copyImage(ours.dockerSingle!, `${repo}:other`, { src: PLAIN_HTTP, dest: PLAIN_HTTP });
    assert.deepEqual((await listTags(repo, PLAIN_HTTP)).sort(), ['extra', 'other', 'v1']);
    // both tags of the one manifest go with it, as in distribution
    await skopeo(['delete', ...accessFlags(PLAIN_HTTP), `docker://${repo}:v1`]);
    assert.deepEqual(await listTags(repo, PLAIN_HTTP), ['other']);
    const gone = await skopeo(['inspect', '--raw', ...accessFlags(PLAIN_HTTP), `docker://${repo}:extra`], { allowFailure: true });
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /manifest unknown/i);
  });

  test('a chunked upload over raw HTTP: POST, three PATCHes, PUT; then skopeo reads the image', async () => {
    const size = 3 * 70_000;
    const layer = layerInfo('serve-chunked', size);
    const layerBytes = Buffer.concat(await layerStream('serve-chunked', size).toArray());
    assert.equal(sha(layerBytes), layer.digest);
    const repo = 'raw/chunked';
    const upload = async (blob: Buffer, chunks: number) => {
      const start = await fetch(`${server.url}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
      assert.equal(start.status, 202);
      let location = start.headers.get('location')!;
      const step = Math.ceil(blob.length / chunks);
      for (let offset = 0; offset < blob.length; offset += step) {
        const chunk = blob.subarray(offset, offset + step);
        const res = await fetch(new URL(location, server.url), {
          method: 'PATCH',
          body: chunk,
          headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${offset}-${offset + chunk.length - 1}` },
        });
        assert.equal(res.status, 202);
        assert.equal(res.headers.get('range'), `0-${offset + chunk.length - 1}`);
        location = res.headers.get('location')!;
      }
      const put = new URL(location, server.url);
      put.searchParams.set('digest', sha(blob));
      const done = await fetch(put, { method: 'PUT' });
      assert.equal(done.status, 201, await done.text());
    };
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha('x')] } }));
    await upload(layerBytes, 3);
    await upload(config, 1);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaTypes.ociManifest,
        config: { mediaType: MediaTypes.ociConfig, digest: sha(config), size: config.length },
        layers: [{ mediaType: MediaTypes.ociLayerGzip, digest: layer.digest, size: layer.size }],
      }),
    );
    const put = await fetch(`${server.url}/v2/${repo}/manifests/v1`, { method: 'PUT', body: manifest, headers: { 'Content-Type': MediaTypes.ociManifest } });
    assert.equal(put.status, 201);
    assert.deepEqual(await inspectRaw(`${host}/${repo}:v1`, PLAIN_HTTP), manifest);
    const dir = tempDir({ after }, 'serve-dir');
    await skopeo(['copy', '--retry-times', '0', '--src-tls-verify=false', `docker://${host}/${repo}:v1`, `dir:${dir}`]);
  });

  test('cross-repository mounts: raw, and by skopeo between repositories of our server', async () => {
    const layer = images.ociSingle!.layers![1]!;
    const raw = await fetch(`${server.url}/v2/mounted/raw/blobs/uploads/?mount=${layer.digest}&from=cache/${images.ociSingle!.repo}`, { method: 'POST' });
    assert.equal(raw.status, 201);
    assert.equal(raw.headers.get('location'), `/v2/mounted/raw/blobs/${layer.digest}`);
    const head = await fetch(`${server.url}/v2/mounted/raw/blobs/${layer.digest}`, { method: 'HEAD' });
    assert.equal(head.headers.get('content-length'), String(layer.size));

    const to = `${host}/mounted/copy:1.0`;
    const before = log.lines.length;
    await copyImage(ours.dockerSingle!, to, { src: PLAIN_HTTP, dest: PLAIN_HTTP });
    await assertSameImage(images.dockerSingle!.reference, to, { src, dest: PLAIN_HTTP });
    // skopeo knows (its blob info cache) where on this registry the layers already are
    const requests = log.lines.slice(before);
    const mounts = requests.filter((l) => /POST \/v2\/mounted\/copy\/blobs\/uploads\/\?\S*mount=\S+ 201$/.test(l));
    assert.ok(mounts.length > 0, `no mount among:\n${requests.join('\n')}`);
  });

  test('serve --from: archives served in place, read-only', async (t) => {
    assert.equal(Object.keys(ours).length, 4, 'needs the images copied in');
    // an archive as oc-mirror writes them: the cache's docker/ tree, paths relative to the cache
    const archives = tempDir(t, 'serve-archives');
    await promisify(execFile)('tar', ['-cf', join(archives, 'mirror_000001.tar'), '-C', cacheRoot, 'docker']);
    const set = await openArchives(archives);
    const ro = await startRegistryServer({ backend: new ReadOnlyLayoutBackend(set, `archives in ${archives}`), port: 0, log: recordingLog() });
    t.after(() => ro.close());
    const roHost = hostOf(ro);
    const dest = await startRegistry({}, t);
    for (const key of ['ociIndex', 'dockerList']) {
      const image = images[key]!;
      const served = `${roHost}/cache/${image.repo}:${image.tag}`;
      await assertSameImage(image.reference, served, { src, dest: PLAIN_HTTP });
      const out = `${dest.host}/from-archive/${image.repo}:${image.tag}`;
      await copyImage(served, out, { src: PLAIN_HTTP, dest });
      await assertSameImage(image.reference, out, { src, dest });
    }
    assert.deepEqual(await listTags(`${roHost}/cache/${images.dockerList!.repo}`, PLAIN_HTTP), ['latest']);
    // a blob read from the middle of a tar entry
    const layer = images.ociSingle!.layers![0]!;
    const ranged = await fetch(`${ro.url}/v2/cache/${images.ociSingle!.repo}/blobs/${layer.digest}`, { headers: { Range: 'bytes=100-199' } });
    assert.equal(ranged.status, 206);
    const whole = Buffer.concat(await layerStream('serve-base', 200_000).toArray());
    assert.equal(sha(whole), layer.digest);
    assert.deepEqual(Buffer.from(await ranged.arrayBuffer()), whole.subarray(100, 200));

    const pushed = await skopeo(
      ['copy', '--retry-times', '0', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${ours.dockerSingle}`, `docker://${roHost}/new/repo:v1`],
      { allowFailure: true },
    );
    assert.notEqual(pushed.code, 0, 'a push to archives must fail');
    assert.match(pushed.stderr, /405|unsupported/i);
    const put = await fetch(`${ro.url}/v2/cache/${images.ociSingle!.repo}/manifests/v9`, {
      method: 'PUT',
      body: images.ociSingle!.manifest,
      headers: { 'Content-Type': images.ociSingle!.mediaType },
    });
    assert.equal(put.status, 405);
    assert.equal(((await put.json()) as { errors: Array<{ code: string }> }).errors[0]!.code, 'UNSUPPORTED');

    // the same through the command
    const stop = new AbortController();
    let url = '';
    const cmdLog = recordingLog();
    const running = runServe(['--from', `file://${archives}`, '--port', '0'], {}, cmdLog, {
      stop: stop.signal,
      onListening: (s) => {
        url = s.url;
      },
    });
    while (!url) await new Promise((r) => setTimeout(r, 10));
    const cmdHost = new URL(url).host;
    await assertSameImage(images.dockerSingle!.reference, `${cmdHost}/cache/${images.dockerSingle!.repo}:${images.dockerSingle!.tag}`, {
      src,
      dest: PLAIN_HTTP,
    });
    stop.abort();
    assert.equal(await running, 0);
    assert.ok(cmdLog.lines.includes(`info: serving the archives in ${archives} (read-only) on ${url}`), cmdLog.lines.join('\n'));
  });
});
