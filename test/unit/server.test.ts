/**
 * The registry HTTP layer against an in-memory backend: routing, pagination, ranges, the upload
 * state machine, manifest checks and distribution's error answers. The store and archive
 * backends are exercised with real clients in test/integration/serve.test.ts.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { after, before, describe, test } from 'node:test';
import { isDigest } from '../../src/image/digest.js';
import { MediaType, type Descriptor, type RawManifest } from '../../src/image/manifest.js';
import type { Logger } from '../../src/log.js';
import type { BackendRepository, RegistryBackend, RepositoryWriter } from '../../src/server/backend.js';
import { paginate } from '../../src/server/pagination.js';
import { parseContentRange, requestedRange, sliceStream } from '../../src/server/ranges.js';
import { PortInUseError, startRegistryServer, type RunningRegistry } from '../../src/server/registry-server.js';
import { isValidRepositoryName, parseRoute } from '../../src/server/routes.js';

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

const quiet: Logger = { error() {}, warn() {}, info() {}, debug() {}, trace() {} };

// ---------------------------------------------------------------------------------------------
// An in-memory backend with distribution's visibility rule (a repository serves what it links)

interface FakeRepo {
  layers: Set<string>;
  manifests: Map<string, RawManifest>;
  tags: Map<string, string>;
}

class FakeBackend implements RegistryBackend {
  readonly description = 'the fake backend';
  readonly content = new Map<string, Buffer>();
  readonly repos = new Map<string, FakeRepo>();

  constructor(readonly readOnly = false) {}

  private data(name: string): FakeRepo {
    let r = this.repos.get(name);
    if (!r) this.repos.set(name, (r = { layers: new Set(), manifests: new Map(), tags: new Map() }));
    return r;
  }

  seedBlob(repo: string, bytes: Buffer): string {
    const digest = sha(bytes);
    this.content.set(digest, bytes);
    this.data(repo).layers.add(digest);
    return digest;
  }

  seedManifest(repo: string, tag: string | undefined, doc: object, mediaType: string): RawManifest {
    const bytes = Buffer.from(JSON.stringify(doc));
    const m: RawManifest = { bytes, mediaType, digest: sha(bytes) };
    this.data(repo).manifests.set(m.digest, m);
    if (tag) this.data(repo).tags.set(tag, m.digest);
    return m;
  }

  repository(name: string): BackendRepository {
    const self = this;
    const peek = () => this.repos.get(name);
    const writer: RepositoryWriter = {
      async putManifest(manifest, reference) {
        const r = self.data(name);
        r.manifests.set(manifest.digest, manifest);
        if (!isDigest(reference)) r.tags.set(reference, manifest.digest);
      },
      async putBlob(desc: Descriptor, body: Readable) {
        const bytes = await buffer(body);
        self.content.set(desc.digest, bytes);
        self.data(name).layers.add(desc.digest);
      },
      async mountBlob(desc, from) {
        if (!self.repos.get(from)?.layers.has(desc.digest)) return false;
        self.data(name).layers.add(desc.digest);
        return true;
      },
      async deleteManifest(digest) {
        const r = peek();
        if (!r?.manifests.delete(digest)) return false;
        for (const [t, d] of r.tags) if (d === digest) r.tags.delete(t);
        return true;
      },
      async deleteBlob(digest) {
        return peek()?.layers.delete(digest) ?? false;
      },
    };
    const blobSize = async (digest: string) => {
      const r = peek();
      if (r?.layers.has(digest)) return this.content.get(digest)?.length;
      return r?.manifests.get(digest)?.bytes.length;
    };
    return {
      name,
      ...(this.readOnly ? {} : { writer }),
      async getManifest(reference) {
        const r = peek();
        const digest = isDigest(reference) ? reference : r?.tags.get(reference);
        return digest ? r?.manifests.get(digest) : undefined;
      },
      async hasManifest(digest) {
        return peek()?.manifests.has(digest) ?? false;
      },
      blobSize,
      async openBlob(digest, range) {
        if ((await blobSize(digest)) === undefined) return undefined;
        const bytes = self.content.get(digest) ?? peek()!.manifests.get(digest)!.bytes;
        // several small chunks, so that ranges cross chunk boundaries
        const chunks: Buffer[] = [];
        for (let i = 0; i < bytes.length; i += 7) chunks.push(bytes.subarray(i, i + 7));
        const stream = Readable.from(chunks);
        return range ? sliceStream(stream, range) : stream;
      },
    };
  }

  async listRepositories(): Promise<string[]> {
    return [...this.repos.keys()].filter((r) => this.repos.get(r)!.manifests.size > 0);
  }

  async listTags(name: string): Promise<string[] | undefined> {
    const r = this.repos.get(name);
    return r ? [...r.tags.keys()] : undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Pure pieces

describe('registry routes', () => {
  test('the endpoint is read from the end of the path; names keep their slashes', () => {
    const digest = sha('x');
    assert.deepEqual(parseRoute('/v2/'), { kind: 'base' });
    assert.deepEqual(parseRoute('/v2'), { kind: 'base' });
    assert.deepEqual(parseRoute('/v2/_catalog'), { kind: 'catalog' });
    assert.deepEqual(parseRoute('/v2/a/b/c/tags/list'), { kind: 'tags', name: 'a/b/c' });
    assert.deepEqual(parseRoute('/v2/ns/app/manifests/v1.0'), { kind: 'manifest', name: 'ns/app', reference: 'v1.0' });
    assert.deepEqual(parseRoute(`/v2/ns/blobs/app/manifests/${digest}`), { kind: 'manifest', name: 'ns/blobs/app', reference: digest });
    assert.deepEqual(parseRoute(`/v2/x/manifests/blobs/${digest}`), { kind: 'blob', name: 'x/manifests', digest });
    assert.deepEqual(parseRoute(`/v2/x/blobs/${encodeURIComponent(digest)}`), { kind: 'blob', name: 'x', digest });
    assert.deepEqual(parseRoute('/v2/x/y/blobs/uploads/'), { kind: 'uploads', name: 'x/y' });
    assert.deepEqual(parseRoute('/v2/x/y/blobs/uploads'), { kind: 'uploads', name: 'x/y' });
    assert.deepEqual(parseRoute('/v2/x/blobs/uploads/abc-123'), { kind: 'upload', name: 'x', id: 'abc-123' });
    assert.deepEqual(parseRoute('/v2/x/tags/list/manifests/tags'), { kind: 'manifest', name: 'x/tags/list', reference: 'tags' });
    assert.equal(parseRoute('/v1/x/manifests/a'), undefined);
    assert.equal(parseRoute('/v2/x/manifests/a/b'), undefined);
    assert.equal(parseRoute('/v2/x/manifests/a%2Fb'), undefined);
    assert.equal(parseRoute('/v2/x/manifests/%E0%A4%A'), undefined);
  });

  test('repository names follow distribution grammar', () => {
    for (const ok of ['a', 'a/b', 'ns/app-1', 'a__b', 'a.b/c_d', 'x--y']) assert.ok(isValidRepositoryName(ok), ok);
    for (const bad of ['', 'A', 'a//b', '/a', 'a/', '..', 'a/../b', '_manifests', 'a/_layers', '-a', 'a-', `${'a'.repeat(256)}`]) {
      assert.ok(!isValidRepositoryName(bad), bad);
    }
  });
});

describe('pagination', () => {
  const q = (s: string) => new URLSearchParams(s);
  test('everything after last, at most n, with a Link to the next page', () => {
    const all = ['c', 'a', 'b', 'd', 'e'];
    assert.deepEqual(paginate(all, q(''), '/v2/_catalog'), { entries: ['a', 'b', 'c', 'd', 'e'] });
    assert.deepEqual(paginate(all, q('n=2'), '/v2/_catalog'), { entries: ['a', 'b'], link: '</v2/_catalog?last=b&n=2>; rel="next"' });
    assert.deepEqual(paginate(all, q('n=2&last=b'), '/v2/_catalog'), { entries: ['c', 'd'], link: '</v2/_catalog?last=d&n=2>; rel="next"' });
    assert.deepEqual(paginate(all, q('n=2&last=d'), '/v2/_catalog'), { entries: ['e'] });
    assert.deepEqual(paginate(all, q('last=bb'), '/x'), { entries: ['c', 'd', 'e'] });
    assert.deepEqual(paginate(all, q('n=5'), '/x'), { entries: ['a', 'b', 'c', 'd', 'e'] });
    assert.deepEqual(paginate(all, q('n=0'), '/x'), { entries: [] });
    assert.deepEqual(paginate(['B', 'a', 'Z'], q(''), '/x'), { entries: ['B', 'Z', 'a'] });
  });
  test('a bad n is PAGINATION_NUMBER_INVALID', () => {
    assert.throws(() => paginate([], q('n=-1'), '/x'), { code: 'PAGINATION_NUMBER_INVALID', status: 400 });
    assert.throws(() => paginate([], q('n=ten'), '/x'), { code: 'PAGINATION_NUMBER_INVALID' });
  });
});

describe('byte ranges', () => {
  test('Range headers', () => {
    assert.equal(requestedRange(undefined, 10), undefined);
    assert.deepEqual(requestedRange('bytes=0-4', 10), { start: 0, end: 4 });
    assert.deepEqual(requestedRange('bytes=5-', 10), { start: 5, end: 9 });
    assert.deepEqual(requestedRange('bytes=5-100', 10), { start: 5, end: 9 });
    assert.deepEqual(requestedRange('bytes=-3', 10), { start: 7, end: 9 });
    assert.deepEqual(requestedRange('bytes=-30', 10), { start: 0, end: 9 });
    assert.equal(requestedRange('bytes=10-', 10), 'unsatisfiable');
    assert.equal(requestedRange('bytes=-0', 10), 'unsatisfiable');
    assert.equal(requestedRange('bytes=0-1,4-5', 10), undefined, 'several ranges: the whole body');
    assert.equal(requestedRange('items=0-1', 10), undefined);
    assert.equal(requestedRange('bytes=4-2', 10), undefined);
  });

  test('Content-Range of upload chunks', () => {
    assert.deepEqual(parseContentRange('0-99'), { start: 0, end: 99 });
    assert.deepEqual(parseContentRange('bytes 100-199/*'), { start: 100, end: 199 });
    assert.deepEqual(parseContentRange('bytes=100-199'), { start: 100, end: 199 });
    assert.equal(parseContentRange('abc'), undefined);
  });

  test('slicing a stream across chunk boundaries releases the source at the end of the range', async () => {
    const bytes = Buffer.from('0123456789abcdefghij');
    const chunks = () => Readable.from([bytes.subarray(0, 3), bytes.subarray(3, 9), bytes.subarray(9, 15), bytes.subarray(15)]);
    for (const [start, end] of [[0, 19], [2, 4], [3, 8], [8, 9], [14, 15], [19, 19], [0, 0]] as const) {
      const out = await buffer(sliceStream(chunks(), { start, end }));
      assert.equal(out.toString(), bytes.subarray(start, end + 1).toString(), `${start}-${end}`);
    }
    const source = chunks();
    await buffer(sliceStream(source, { start: 0, end: 1 }));
    assert.ok(source.destroyed);
  });
});

// ---------------------------------------------------------------------------------------------
// The HTTP protocol

interface Reply {
  status: number;
  headers: Headers;
  body: Buffer;
  json: () => { errors?: Array<{ code: string; detail?: unknown }> } & Record<string, unknown>;
}

function client(server: RunningRegistry) {
  return async (method: string, path: string, init: { body?: Buffer | string; headers?: Record<string, string> } = {}): Promise<Reply> => {
    const res = await fetch(path.startsWith('http') ? path : `${server.url}${path}`, { method, body: init.body ?? null, headers: init.headers ?? {} });
    const body = Buffer.from(await res.arrayBuffer());
    return { status: res.status, headers: res.headers, body, json: () => JSON.parse(body.toString('utf8')) };
  };
}

function errorCode(r: Reply): string | undefined {
  return r.json().errors?.[0]?.code;
}

function imageManifest(config: Buffer, layers: Buffer[], mediaType = MediaType.OciManifest): object {
  return {
    schemaVersion: 2,
    mediaType,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(l), size: l.length })),
  };
}

describe('registry API over a read-write backend', () => {
  let backend: FakeBackend;
  let server: RunningRegistry;
  let call: ReturnType<typeof client>;

  before(async () => {
    backend = new FakeBackend();
    server = await startRegistryServer({ backend, port: 0, log: quiet });
    call = client(server);
  });
  after(() => server.close());

  test('binds 127.0.0.1 and answers /v2/ with the API version header', async () => {
    assert.equal(server.host, '127.0.0.1');
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const r = await call('GET', '/v2/');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('docker-distribution-api-version'), 'registry/2.0');
    assert.deepEqual(r.json(), {});
    assert.equal((await call('HEAD', '/v2/')).status, 200);
  });

  test('unknown routes, bad names and wrong methods get distribution errors', async () => {
    const notFound = await call('GET', '/v2/x/nothing');
    assert.equal(notFound.status, 404);
    assert.equal(errorCode(notFound), 'NOT_FOUND');
    const badName = await call('GET', '/v2/Upper/manifests/latest');
    assert.equal(badName.status, 400);
    assert.equal(errorCode(badName), 'NAME_INVALID');
    const wrongMethod = await call('POST', '/v2/x/manifests/latest');
    assert.equal(wrongMethod.status, 405);
    assert.equal(errorCode(wrongMethod), 'UNSUPPORTED');
    const unknownManifest = await call('GET', '/v2/none/manifests/latest');
    assert.equal(unknownManifest.status, 404);
    assert.equal(errorCode(unknownManifest), 'MANIFEST_UNKNOWN');
    assert.equal(errorCode(await call('GET', `/v2/none/blobs/${sha('x')}`)), 'BLOB_UNKNOWN');
    assert.equal(errorCode(await call('GET', '/v2/none/blobs/notadigest')), 'DIGEST_INVALID');
    assert.equal(errorCode(await call('GET', '/v2/none/tags/list')), 'NAME_UNKNOWN');
  });

  test('monolithic upload in one POST, then HEAD and GET of the blob', async () => {
    const blob = Buffer.from('a monolithic blob');
    const r = await call('POST', `/v2/mono/app/blobs/uploads/?digest=${sha(blob)}`, { body: blob });
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('location'), `/v2/mono/app/blobs/${sha(blob)}`);
    assert.equal(r.headers.get('docker-content-digest'), sha(blob));
    const head = await call('HEAD', `/v2/mono/app/blobs/${sha(blob)}`);
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(blob.length));
    assert.equal(head.headers.get('docker-content-digest'), sha(blob));
    assert.equal(head.body.length, 0);
    const get = await call('GET', `/v2/mono/app/blobs/${sha(blob)}`);
    assert.deepEqual(get.body, blob);
    assert.equal(get.headers.get('content-type'), 'application/octet-stream');
    // another repository does not link it
    assert.equal((await call('HEAD', `/v2/other/blobs/${sha(blob)}`)).status, 404);
    const wrong = await call('POST', `/v2/mono/app/blobs/uploads/?digest=${sha('something else')}`, { body: blob });
    assert.equal(wrong.status, 400);
    assert.equal(errorCode(wrong), 'DIGEST_INVALID');
  });

  test('range requests on blobs: 206 with Content-Range, 416 when unsatisfiable', async () => {
    const blob = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz');
    const digest = backend.seedBlob('ranged', blob);
    const part = await call('GET', `/v2/ranged/blobs/${digest}`, { headers: { Range: 'bytes=5-20' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 5-20/${blob.length}`);
    assert.equal(part.headers.get('content-length'), '16');
    assert.equal(part.body.toString(), blob.subarray(5, 21).toString());
    const tail = await call('GET', `/v2/ranged/blobs/${digest}`, { headers: { Range: 'bytes=30-' } });
    assert.equal(tail.body.toString(), 'uvwxyz');
    const suffix = await call('GET', `/v2/ranged/blobs/${digest}`, { headers: { Range: 'bytes=-4' } });
    assert.equal(suffix.body.toString(), 'wxyz');
    const beyond = await call('GET', `/v2/ranged/blobs/${digest}`, { headers: { Range: 'bytes=36-' } });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers.get('content-range'), `bytes */${blob.length}`);
    const whole = await call('GET', `/v2/ranged/blobs/${digest}`, { headers: { Range: 'bytes=0-1,3-4' } });
    assert.equal(whole.status, 200);
    assert.deepEqual(whole.body, blob);
  });

  test('chunked upload: POST, PATCHes with Content-Range, status, PUT with the digest', async () => {
    const parts = [Buffer.from('first chunk, '), Buffer.from('second chunk, '), Buffer.from('third chunk')];
    const blob = Buffer.concat(parts);
    const start = await call('POST', '/v2/chunked/app/blobs/uploads/');
    assert.equal(start.status, 202);
    assert.equal(start.headers.get('range'), '0-0');
    const uuid = start.headers.get('docker-upload-uuid')!;
    assert.ok(uuid);
    let location = start.headers.get('location')!;
    assert.equal(location, `/v2/chunked/app/blobs/uploads/${uuid}`);
    let offset = 0;
    for (const p of parts) {
      const r = await call('PATCH', location, {
        body: p,
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${offset}-${offset + p.length - 1}` },
      });
      assert.equal(r.status, 202);
      offset += p.length;
      assert.equal(r.headers.get('range'), `0-${offset - 1}`);
      assert.equal(r.headers.get('docker-upload-uuid'), uuid);
      location = r.headers.get('location')!;
    }
    const status = await call('GET', location);
    assert.equal(status.status, 204);
    assert.equal(status.headers.get('range'), `0-${blob.length - 1}`);
    // a chunk that does not continue where the upload stands
    const gap = await call('PATCH', location, { body: 'x', headers: { 'Content-Range': `${blob.length + 5}-${blob.length + 5}` } });
    assert.equal(gap.status, 416);
    assert.equal(errorCode(gap), 'RANGE_INVALID');
    const lying = await call('PATCH', location, { body: 'xy', headers: { 'Content-Range': `${blob.length}-${blob.length + 4}` } });
    assert.equal(errorCode(lying), 'SIZE_INVALID');
    const done = await call('PUT', `${location}?digest=${sha(blob)}`);
    assert.equal(done.status, 201);
    assert.equal(done.headers.get('location'), `/v2/chunked/app/blobs/${sha(blob)}`);
    assert.deepEqual((await call('GET', `/v2/chunked/app/blobs/${sha(blob)}`)).body, blob);
    // the upload is over
    assert.equal(errorCode(await call('GET', location)), 'BLOB_UPLOAD_UNKNOWN');
  });

  test('a streamed PATCH without Content-Range, then a PUT carrying the last bytes', async () => {
    const start = await call('POST', '/v2/streamed/blobs/uploads/');
    const location = start.headers.get('location')!;
    const first = Buffer.alloc(300_000, 7);
    const last = Buffer.from('tail');
    // chunked transfer encoding, as containers/image sends blobs of unknown size
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${server.url}${location}`, { method: 'PATCH' }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      Readable.from([first.subarray(0, 100_000), first.subarray(100_000)]).pipe(req);
    });
    assert.equal(status, 202);
    const digest = sha(Buffer.concat([first, last]));
    const done = await call('PUT', `${location}?digest=${digest}`, { body: last });
    assert.equal(done.status, 201);
    assert.equal((await call('HEAD', `/v2/streamed/blobs/${digest}`)).headers.get('content-length'), String(first.length + last.length));
  });

  test('a PUT with the wrong digest is DIGEST_INVALID, stores nothing and ends the upload', async () => {
    const start = await call('POST', '/v2/wrong/blobs/uploads/');
    const location = start.headers.get('location')!;
    await call('PATCH', location, { body: 'content' });
    const claimed = sha('other content');
    const r = await call('PUT', `${location}?digest=${claimed}`);
    assert.equal(r.status, 400);
    assert.equal(errorCode(r), 'DIGEST_INVALID');
    assert.equal(backend.content.has(claimed), false);
    assert.equal(errorCode(await call('PATCH', location, { body: 'x' })), 'BLOB_UPLOAD_UNKNOWN');
    const noDigest = await call('POST', '/v2/wrong/blobs/uploads/');
    assert.equal(errorCode(await call('PUT', noDigest.headers.get('location')!)), 'DIGEST_INVALID');
  });

  test('uploads can be cancelled and belong to their repository', async () => {
    const start = await call('POST', '/v2/cancel/me/blobs/uploads/');
    const uuid = start.headers.get('docker-upload-uuid')!;
    assert.equal(errorCode(await call('GET', `/v2/someone/else/blobs/uploads/${uuid}`)), 'BLOB_UPLOAD_UNKNOWN');
    assert.equal((await call('DELETE', `/v2/cancel/me/blobs/uploads/${uuid}`)).status, 204);
    assert.equal((await call('DELETE', `/v2/cancel/me/blobs/uploads/${uuid}`)).status, 404);
    assert.equal(errorCode(await call('GET', '/v2/cancel/me/blobs/uploads/no-such-upload')), 'BLOB_UPLOAD_UNKNOWN');
  });

  test('cross-repository mount: 201 when the source links the blob, else an upload starts', async () => {
    const digest = backend.seedBlob('mount/source', Buffer.from('mountable'));
    const mounted = await call('POST', `/v2/mount/target/blobs/uploads/?mount=${digest}&from=mount/source`);
    assert.equal(mounted.status, 201);
    assert.equal(mounted.headers.get('location'), `/v2/mount/target/blobs/${digest}`);
    assert.equal(mounted.headers.get('docker-content-digest'), digest);
    assert.equal((await call('HEAD', `/v2/mount/target/blobs/${digest}`)).status, 200);
    const fallback = await call('POST', `/v2/mount/other/blobs/uploads/?mount=${digest}&from=mount/nothing`);
    assert.equal(fallback.status, 202);
    assert.match(fallback.headers.get('location')!, /^\/v2\/mount\/other\/blobs\/uploads\/[0-9a-f-]+$/);
    assert.equal((await call('HEAD', `/v2/mount/other/blobs/${digest}`)).status, 404);
  });

  test('manifests: blobs first or MANIFEST_BLOB_UNKNOWN, then GET/HEAD by tag and digest', async () => {
    const config = Buffer.from('{"architecture":"amd64"}');
    const layer = Buffer.from('layer bytes');
    const doc = Buffer.from(JSON.stringify(imageManifest(config, [layer])));
    const put = (ref: string, body = doc, type: string = MediaType.OciManifest) =>
      call('PUT', `/v2/app/manifests/${ref}`, { body, headers: { 'Content-Type': type } });
    backend.seedBlob('app', config);
    const missing = await put('v1');
    assert.equal(missing.status, 400);
    assert.equal(errorCode(missing), 'MANIFEST_BLOB_UNKNOWN');
    assert.equal(missing.json().errors![0]!.detail, sha(layer));
    backend.seedBlob('elsewhere', layer);
    assert.equal(errorCode(await put('v1')), 'MANIFEST_BLOB_UNKNOWN', 'a blob of another repository does not count');
    backend.seedBlob('app', layer);
    const created = await put('v1');
    assert.equal(created.status, 201);
    assert.equal(created.headers.get('docker-content-digest'), sha(doc));
    assert.equal(created.headers.get('location'), `/v2/app/manifests/${sha(doc)}`);
    for (const ref of ['v1', sha(doc)]) {
      const got = await call('GET', `/v2/app/manifests/${ref}`, { headers: { Accept: MediaType.OciManifest } });
      assert.equal(got.status, 200);
      assert.deepEqual(got.body, doc);
      assert.equal(got.headers.get('content-type'), MediaType.OciManifest);
      assert.equal(got.headers.get('docker-content-digest'), sha(doc));
      const head = await call('HEAD', `/v2/app/manifests/${ref}`);
      assert.equal(head.headers.get('content-length'), String(doc.length));
      assert.equal(head.body.length, 0);
    }
    const byDigest = await put(sha(doc));
    assert.equal(byDigest.status, 201);
    const wrongDigest = await put(sha('not it'));
    assert.equal(errorCode(wrongDigest), 'DIGEST_INVALID');
    assert.equal(errorCode(await put('v2', Buffer.from('{not json'))), 'MANIFEST_INVALID');
    assert.equal(errorCode(await put('v2', Buffer.from('{"schemaVersion":1,"fsLayers":[]}'))), 'MANIFEST_INVALID');
    assert.equal(errorCode(await put('v2', doc, MediaType.DockerManifest)), 'MANIFEST_INVALID', 'body says OCI, header says Docker');
    assert.equal(errorCode(await put('bad:tag')), 'TAG_INVALID');
    const sniffed = await put('v3', doc, 'application/json');
    assert.equal(sniffed.status, 201);
  });

  test('indexes may be sparse (as oc-mirror configures distribution)', async () => {
    const index = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [{ mediaType: MediaType.OciManifest, digest: sha('absent child'), size: 10 }] };
    const r = await call('PUT', '/v2/sparse/manifests/latest', { body: JSON.stringify(index), headers: { 'Content-Type': MediaType.OciIndex } });
    assert.equal(r.status, 201);
  });

  test('content negotiation by tag, loosely as distribution', async () => {
    const oci = backend.seedManifest('neg/oci', 'v1', { schemaVersion: 2, mediaType: MediaType.OciManifest, config: { digest: sha('c'), size: 1 }, layers: [] }, MediaType.OciManifest);
    const dockerOnly = { Accept: MediaType.DockerManifest };
    const refused = await call('GET', '/v2/neg/oci/manifests/v1', { headers: dockerOnly });
    assert.equal(refused.status, 404);
    assert.equal(errorCode(refused), 'MANIFEST_UNKNOWN');
    assert.equal((await call('GET', `/v2/neg/oci/manifests/${oci.digest}`, { headers: dockerOnly })).status, 200, 'by digest: always');
    assert.equal((await call('GET', '/v2/neg/oci/manifests/v1')).status, 200, 'no Accept: served as stored');
    assert.equal((await call('GET', '/v2/neg/oci/manifests/v1', { headers: { Accept: '*/*' } })).status, 200);

    const amd64 = backend.seedManifest('neg/list', undefined, { schemaVersion: 2, mediaType: MediaType.DockerManifest, config: { digest: sha('c1'), size: 1 }, layers: [] }, MediaType.DockerManifest);
    const list = backend.seedManifest(
      'neg/list',
      'latest',
      {
        schemaVersion: 2,
        mediaType: MediaType.DockerManifestList,
        manifests: [
          { mediaType: MediaType.DockerManifest, digest: sha('arm'), size: 1, platform: { os: 'linux', architecture: 'arm64' } },
          { mediaType: MediaType.DockerManifest, digest: amd64.digest, size: amd64.bytes.length, platform: { os: 'linux', architecture: 'amd64' } },
        ],
      },
      MediaType.DockerManifestList,
    );
    const old = await call('GET', '/v2/neg/list/manifests/latest', { headers: dockerOnly });
    assert.equal(old.headers.get('docker-content-digest'), amd64.digest);
    const modern = await call('GET', '/v2/neg/list/manifests/latest', { headers: { Accept: `${MediaType.DockerManifestList}, ${MediaType.DockerManifest}` } });
    assert.equal(modern.headers.get('docker-content-digest'), list.digest);
  });

  test('tags list and catalog paginate with Link headers', async () => {
    for (const tag of ['b', 'a', 'd', 'c']) backend.seedManifest('paged/repo', tag, { schemaVersion: 2, tag, manifests: [] }, MediaType.OciIndex);
    const all = await call('GET', '/v2/paged/repo/tags/list');
    assert.deepEqual(all.json(), { name: 'paged/repo', tags: ['a', 'b', 'c', 'd'] });
    assert.equal(all.headers.get('link'), null);
    const first = await call('GET', '/v2/paged/repo/tags/list?n=3');
    assert.deepEqual(first.json().tags, ['a', 'b', 'c']);
    const link = first.headers.get('link')!;
    assert.equal(link, '</v2/paged/repo/tags/list?last=c&n=3>; rel="next"');
    const second = await call('GET', link.slice(1, link.indexOf('>')));
    assert.deepEqual(second.json().tags, ['d']);
    assert.equal(second.headers.get('link'), null);
    const catalog = await call('GET', '/v2/_catalog?n=1');
    assert.equal((catalog.json().repositories as string[]).length, 1);
    assert.match(catalog.headers.get('link')!, /^<\/v2\/_catalog\?last=[^&]+&n=1>; rel="next"$/);
    const everything = (await call('GET', '/v2/_catalog')).json().repositories as string[];
    assert.ok(everything.includes('paged/repo'));
    assert.deepEqual(everything, [...everything].sort());
    assert.equal(errorCode(await call('GET', '/v2/_catalog?n=x')), 'PAGINATION_NUMBER_INVALID');
  });

  test('DELETE of manifests (by digest) and blobs', async () => {
    const m = backend.seedManifest('del/repo', 'gone', { schemaVersion: 2, manifests: [] }, MediaType.OciIndex);
    const byTag = await call('DELETE', '/v2/del/repo/manifests/gone');
    assert.equal(byTag.status, 405);
    assert.equal(errorCode(byTag), 'UNSUPPORTED');
    assert.equal((await call('DELETE', `/v2/del/repo/manifests/${m.digest}`)).status, 202);
    assert.equal(errorCode(await call('GET', '/v2/del/repo/manifests/gone')), 'MANIFEST_UNKNOWN');
    assert.equal(errorCode(await call('DELETE', `/v2/del/repo/manifests/${m.digest}`)), 'MANIFEST_UNKNOWN');
    const digest = backend.seedBlob('del/repo', Buffer.from('blob to delete'));
    assert.equal((await call('DELETE', `/v2/del/repo/blobs/${digest}`)).status, 202);
    assert.equal(errorCode(await call('DELETE', `/v2/del/repo/blobs/${digest}`)), 'BLOB_UNKNOWN');
  });

  test('a connection stays usable after an error answered before the body was read', async () => {
    const big = Buffer.alloc(64 * 1024, 1);
    const r = await call('PUT', '/v2/Bad/manifests/x', { body: big });
    assert.equal(errorCode(r), 'NAME_INVALID');
    assert.equal((await call('GET', '/v2/')).status, 200);
  });
});

describe('registry API over a read-only backend', () => {
  let backend: FakeBackend;
  let server: RunningRegistry;
  let call: ReturnType<typeof client>;

  before(async () => {
    backend = new FakeBackend(true);
    server = await startRegistryServer({ backend, port: 0, log: quiet });
    call = client(server);
  });
  after(() => server.close());

  test('reads work, every write is 405 UNSUPPORTED', async () => {
    const blob = backend.seedBlob('ro/app', Buffer.from('read me'));
    const m = backend.seedManifest('ro/app', 'v1', { schemaVersion: 2, manifests: [] }, MediaType.OciIndex);
    assert.equal((await call('GET', `/v2/ro/app/blobs/${blob}`)).body.toString(), 'read me');
    assert.equal((await call('GET', '/v2/ro/app/manifests/v1')).status, 200);
    const writes = [
      await call('PUT', '/v2/ro/app/manifests/v2', { body: m.bytes, headers: { 'Content-Type': MediaType.OciIndex } }),
      await call('DELETE', `/v2/ro/app/manifests/${m.digest}`),
      await call('DELETE', `/v2/ro/app/blobs/${blob}`),
      await call('POST', '/v2/ro/app/blobs/uploads/'),
      await call('POST', `/v2/ro/app/blobs/uploads/?mount=${blob}&from=ro/app`),
    ];
    for (const w of writes) {
      assert.equal(w.status, 405);
      assert.equal(errorCode(w), 'UNSUPPORTED');
    }
    assert.equal(errorCode(await call('PATCH', '/v2/ro/app/blobs/uploads/some-id', { body: 'x' })), 'BLOB_UPLOAD_UNKNOWN');
  });
});

describe('registry server lifecycle', () => {
  test('a port in use gives oc-mirror\'s one-line error', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      await assert.rejects(startRegistryServer({ backend: new FakeBackend(), port, log: quiet }), (err: Error) => {
        assert.ok(err instanceof PortInUseError);
        assert.equal(err.message, `${port} is already bound and cannot be used`);
        return true;
      });
    } finally {
      blocker.close();
    }
  });

  test('close() ends open connections and removes the upload directory', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'server-test-'));
    try {
      const server = await startRegistryServer({ backend: new FakeBackend(), port: 0, log: quiet, uploadParentDir: parent, closeGraceMs: 200 });
      const call = client(server);
      const start = await call('POST', '/v2/x/blobs/uploads/');
      const location = start.headers.get('location')!;
      await call('PATCH', location, { body: 'partial' });
      assert.equal(readdirSync(parent).length, 1);
      // an upload left hanging mid-body must not keep close() waiting
      const second = (await call('POST', '/v2/x/blobs/uploads/')).headers.get('location')!;
      const hanging = httpRequest(`${server.url}${second}`, { method: 'PATCH', headers: { 'Content-Length': '1000' } });
      hanging.on('error', () => {});
      hanging.write('only a little');
      await new Promise((r) => setTimeout(r, 50));
      const t0 = Date.now();
      await server.close();
      assert.ok(Date.now() - t0 < 2000, 'closed within the grace period');
      await server.close();
      assert.deepEqual(readdirSync(parent), []);
      await assert.rejects(fetch(`${server.url}/v2/`));
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });
});
