/**
 * The registry over its real backends, with no external tool: the local store (read-write) and a
 * store directory served read-only; plus `runServe`, the command, in-process.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isLoopback, runServe, serveOptions, serveUsage } from '../../src/cli/serve-command.js';
import { UsageError } from '../../src/errors.js';
import { MediaType } from '../../src/image/manifest.js';
import type { Logger } from '../../src/log.js';
import { listLayoutRepositories, ReadOnlyLayoutBackend, StoreBackend } from '../../src/server/backend.js';
import { startRegistryServer, type RunningRegistry } from '../../src/server/registry-server.js';
import { DirectoryLayout } from '../../src/store/directory-reader.js';
import { LocalStore } from '../../src/store/store.js';

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function recordingLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (m: string) => void lines.push(`${level}: ${m}`);
  return { lines, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), trace: at('trace') };
}

async function call(server: RunningRegistry, method: string, path: string, body?: Buffer | string, headers: Record<string, string> = {}) {
  const res = await fetch(path.startsWith('http') ? path : `${server.url}${path}`, { method, body: body ?? null, headers });
  const bytes = Buffer.from(await res.arrayBuffer());
  const code = () => (JSON.parse(bytes.toString()) as { errors: Array<{ code: string }> }).errors[0]!.code;
  return { status: res.status, headers: res.headers, body: bytes, code };
}

/** Pushes a one-layer OCI image the way a client does: blobs by chunked upload, then the manifest. */
async function pushImage(server: RunningRegistry, repo: string, tag: string, layer: Buffer) {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, tag }));
  for (const blob of [config, layer]) {
    const start = await call(server, 'POST', `/v2/${repo}/blobs/uploads/`);
    assert.equal(start.status, 202);
    const half = Math.floor(blob.length / 2);
    let location = start.headers.get('location')!;
    const patch = await call(server, 'PATCH', location, blob.subarray(0, half), { 'Content-Range': `0-${half - 1}` });
    assert.equal(patch.status, 202);
    location = patch.headers.get('location')!;
    const put = await call(server, 'PUT', `${location}?digest=${sha(blob)}`, blob.subarray(half));
    assert.equal(put.status, 201, put.body.toString());
  }
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(layer), size: layer.length }],
    }),
  );
  const put = await call(server, 'PUT', `/v2/${repo}/manifests/${tag}`, manifest, { 'Content-Type': MediaType.OciManifest });
  assert.equal(put.status, 201, put.body.toString());
  return { manifest, digest: sha(manifest), config, layer };
}

describe('registry over the local store', () => {
  let root: string;
  let store: LocalStore;
  let server: RunningRegistry;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'serve-store-'));
    store = await LocalStore.open(join(root, 'cache'));
    server = await startRegistryServer({ backend: new StoreBackend(store, 'the test store'), port: 0, log: recordingLog(), uploadParentDir: root });
  });
  after(async () => {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  });

  test('an image pushed through the API lands in the store layout and reads back', async () => {
    const layer = Buffer.alloc(200_000, 3);
    const image = await pushImage(server, 'ns/app', 'v1', layer);
    assert.equal((await store.repository('ns/app').getManifest('v1')).digest, image.digest);
    assert.ok(existsSync(store.blobPath(sha(layer))));
    const got = await call(server, 'GET', '/v2/ns/app/manifests/v1');
    assert.deepEqual(got.body, image.manifest);
    assert.equal(got.headers.get('content-type'), MediaType.OciManifest);
    const part = await call(server, 'GET', `/v2/ns/app/blobs/${sha(layer)}`, undefined, { Range: 'bytes=1000-1999' });
    assert.equal(part.status, 206);
    assert.deepEqual(part.body, layer.subarray(1000, 2000));
    assert.deepEqual((await call(server, 'GET', '/v2/ns/app/tags/list')).body.toString(), JSON.stringify({ name: 'ns/app', tags: ['v1'] }));
  });

  test('mounts need the blob in the source repository; the store shares data, not links', async () => {
    const layer = Buffer.from('shared layer');
    await pushImage(server, 'mount/src', 'v1', layer);
    const mounted = await call(server, 'POST', `/v2/mount/dst/blobs/uploads/?mount=${sha(layer)}&from=mount/src`);
    assert.equal(mounted.status, 201);
    assert.equal((await call(server, 'HEAD', `/v2/mount/dst/blobs/${sha(layer)}`)).status, 200);
    const refused = await call(server, 'POST', `/v2/mount/other/blobs/uploads/?mount=${sha(layer)}&from=mount/empty`);
    assert.equal(refused.status, 202);
    assert.equal((await call(server, 'HEAD', `/v2/mount/other/blobs/${sha(layer)}`)).status, 404);
  });

  test('a blob upload with the wrong digest leaves nothing in the store', async () => {
    const start = await call(server, 'POST', '/v2/bad/upload/blobs/uploads/');
    const claimed = sha('what was announced');
    const r = await call(server, 'PUT', `${start.headers.get('location')}?digest=${claimed}`, 'what was sent');
    assert.equal(r.status, 400);
    assert.equal(r.code(), 'DIGEST_INVALID');
    assert.equal(existsSync(store.blobPath(claimed)), false);
    // the existing-data shortcut of the store must not skip verification either
    const layer = Buffer.from('layer already in the store');
    await pushImage(server, 'bad/upload', 'v1', layer);
    const again = await call(server, 'POST', `/v2/bad/other/blobs/uploads/?digest=${sha(layer)}`, Buffer.alloc(layer.length, 'x'));
    assert.equal(again.code(), 'DIGEST_INVALID');
    assert.equal((await call(server, 'HEAD', `/v2/bad/other/blobs/${sha(layer)}`)).status, 404);
  });

  test('catalog lists nested repositories; DELETE removes a manifest and its tags', async () => {
    const image = await pushImage(server, 'del/deep/repo', 'gone', Buffer.from('to delete'));
    const catalog = JSON.parse((await call(server, 'GET', '/v2/_catalog')).body.toString()) as { repositories: string[] };
    assert.ok(catalog.repositories.includes('del/deep/repo'));
    assert.deepEqual(catalog.repositories, await store.listRepositories());
    assert.equal((await call(server, 'DELETE', `/v2/del/deep/repo/manifests/${image.digest}`)).status, 202);
    assert.equal((await call(server, 'GET', '/v2/del/deep/repo/manifests/gone')).code(), 'MANIFEST_UNKNOWN');
    assert.equal((await call(server, 'DELETE', `/v2/del/deep/repo/manifests/${image.digest}`)).code(), 'MANIFEST_UNKNOWN');
    assert.deepEqual(JSON.parse((await call(server, 'GET', '/v2/del/deep/repo/tags/list')).body.toString()).tags, []);
  });

  test('the same directory served read-only refuses writes', async () => {
    const image = await pushImage(server, 'ro/view', 'v1', Buffer.from('read only layer'));
    const layout = new DirectoryLayout(join(root, 'cache'));
    assert.ok((await listLayoutRepositories(layout)).includes('ro/view'));
    const ro = await startRegistryServer({ backend: new ReadOnlyLayoutBackend(layout, 'a directory'), port: 0, log: recordingLog() });
    try {
      assert.deepEqual((await call(ro, 'GET', `/v2/ro/view/manifests/${image.digest}`)).body, image.manifest);
      const part = await call(ro, 'GET', `/v2/ro/view/blobs/${sha(image.layer)}`, undefined, { Range: 'bytes=5-' });
      assert.equal(part.body.toString(), 'only layer');
      const put = await call(ro, 'PUT', '/v2/ro/view/manifests/v2', image.manifest, { 'Content-Type': MediaType.OciManifest });
      assert.equal(put.status, 405);
      assert.equal(put.code(), 'UNSUPPORTED');
    } finally {
      await ro.close();
    }
  });
});

describe('oc-mirror serve (runServe)', () => {
  test('flags: defaults, cache location, --from, address checks', () => {
    const env = { HOME: '/home/u' };
    const o = serveOptions([], env, '/work');
    assert.equal(o.port, 55000);
    assert.equal(o.address, '127.0.0.1');
    assert.equal(o.storeRoot, '/home/u/.oc-mirror/.cache');
    assert.equal(o.archivesDir, undefined);
    assert.equal(serveOptions([], { ...env, OC_MIRROR_CACHE: '/c' }, '/w').storeRoot, '/c/.oc-mirror/.cache');
    assert.equal(serveOptions(['--cache-dir', 'rel'], env, '/w').storeRoot, '/w/rel/.oc-mirror/.cache');
    assert.equal(serveOptions(['-p', '5001', '--from', 'file://disk'], env, '/w').archivesDir, '/w/disk');
    assert.throws(() => serveOptions(['--from', '/disk'], env, '/w'), (e: Error) => e instanceof UsageError && e.message === 'when --from is used, it must have file:// prefix');
    assert.throws(() => serveOptions(['--cache-dir', '/x'], { OC_MIRROR_CACHE: '/y' }, '/w'), /either OC_MIRROR_CACHE or --cache-dir/);
    assert.throws(() => serveOptions(['--log-level', 'loud'], env, '/w'), /"loud": invalid log-level/);
    assert.throws(() => serveOptions(['--port', '70000'], env, '/w'), /port must be between/);
    assert.throws(() => serveOptions(['extra'], env, '/w'), /unexpected argument "extra"/);
    assert.throws(() => serveOptions(['--config', 'x'], env, '/w'), /unknown flag: --config/);
    assert.ok(isLoopback('127.0.0.1') && isLoopback('::1') && isLoopback('localhost') && isLoopback('127.1.2.3'));
    assert.ok(!isLoopback('0.0.0.0') && !isLoopback('10.0.0.1') && !isLoopback('::'));
    assert.match(serveUsage(), /--from string/);
  });

  test('serves the cache until stopped, then closes and returns 0', async () => {
    const base = mkdtempSync(join(tmpdir(), 'serve-cmd-'));
    try {
      const log = recordingLog();
      const stop = new AbortController();
      let url = '';
      const running = runServe(['--port', '0', '--log-level', 'debug'], { OC_MIRROR_CACHE: base }, (level) => {
        assert.equal(level, 'debug');
        return log;
      }, {
        stop: stop.signal,
        onListening: (s) => {
          url = s.url;
        },
      });
      while (!url) await new Promise((r) => setTimeout(r, 10));
      const res = await fetch(`${url}/v2/`);
      assert.equal(res.status, 200);
      const start = await fetch(`${url}/v2/a/blobs/uploads/`, { method: 'POST' });
      assert.equal(start.status, 202);
      // uploads are spooled beside the cache, on its filesystem
      assert.ok(readdirSync(join(base, '.oc-mirror')).some((d) => d.startsWith('oc-mirror-uploads-')));
      stop.abort();
      assert.equal(await running, 0);
      assert.ok(log.lines.some((l) => l === `info: serving the local cache ${join(base, '.oc-mirror', '.cache')} on ${url}`), log.lines.join('\n'));
      assert.ok(!readdirSync(join(base, '.oc-mirror')).some((d) => d.startsWith('oc-mirror-uploads-')));
      assert.ok(log.lines.some((l) => l.startsWith('debug: registry: GET /v2/ 200')));
      await assert.rejects(fetch(`${url}/v2/`));
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  test('warns when asked to listen beyond loopback, and reports a port in use', async () => {
    const base = mkdtempSync(join(tmpdir(), 'serve-cmd-'));
    const holder = await startRegistryServer({ backend: new ReadOnlyLayoutBackend(new DirectoryLayout(base), 'x'), port: 0, log: recordingLog() });
    try {
      const log = recordingLog();
      await assert.rejects(runServe(['--port', String(holder.port)], { OC_MIRROR_CACHE: base }, log), {
        message: `${holder.port} is already bound and cannot be used`,
      });
      const stop = new AbortController();
      stop.abort();
      assert.equal(await runServe(['--port', '0', '--address', '0.0.0.0'], { OC_MIRROR_CACHE: base }, log, { stop: stop.signal }), 0);
      assert.ok(log.lines.some((l) => l.startsWith('warn: listening on 0.0.0.0: the registry has no authentication')));
      let help = '';
      assert.equal(await runServe(['--help'], {}, log, { stdout: { write: (t: string) => (help += t) } }), 0);
      assert.match(help, /oc-mirror serve/);
    } finally {
      await holder.close();
      rmSync(base, { recursive: true, force: true });
    }
  });
});
