/**
 * The real @actions/cache 6 and @actions/artifact 6 clients against the loopback Actions services
 * (test/support/actions-services.ts). Besides proving the fake, these tests pin down how the
 * clients report each failure — the action code relies on exactly these behaviours.
 * Needs `tar` and `zstd` (the cache client shells out to them).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { captureActionsLog, startActionsServices, withEnv, type ActionsLog, type ActionsServices } from '../support/actions-services.js';

type CacheClient = typeof import('@actions/cache');
type ArtifactModule = typeof import('@actions/artifact');

let services: ActionsServices;
let cache: CacheClient;
let artifacts: ArtifactModule;

before(async () => {
  services = await startActionsServices();
  // @actions/github (used by findBy) reads GITHUB_API_URL at import: import under the step's env.
  await withEnv(services.env, async () => {
    cache = await import('@actions/cache');
    artifacts = await import('@actions/artifact');
  });
});

after(() => services.stop());

/** Runs toolkit code as a step of the given job, collecting what it logged. */
async function step<T>(fn: () => Promise<T>, env = services.env): Promise<{ result: T; log: ActionsLog }> {
  return withEnv(env, () => captureActionsLog(fn));
}

function workspacePath(...parts: string[]): string {
  return join(services.env.GITHUB_WORKSPACE!, ...parts);
}

async function writeTree(root: string, files: Record<string, string | Buffer>): Promise<void> {
  await rm(root, { recursive: true, force: true });
  for (const [name, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, name)), { recursive: true });
    await writeFile(join(root, name), content);
  }
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/** relative path → sha256 of every file under root */
async function treeDigest(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    out[relative(root, full)] = await sha256File(full);
  }
  return out;
}

/** Writes `size` random bytes without holding them in memory; returns their sha256. */
async function writeRandomFile(path: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  const out = createWriteStream(path);
  const chunk = Buffer.alloc(4 * 1024 * 1024);
  for (let left = size; left > 0; left -= chunk.length) {
    const piece = left >= chunk.length ? randomFillSync(chunk) : randomFillSync(Buffer.alloc(left));
    hash.update(piece);
    if (!out.write(piece)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return hash.digest('hex');
}

function twirpCalls(method: string): number {
  return services.requests.filter((r) => r.path.endsWith(`/${method}`)).length;
}

function blobRequests(method: string, comp?: string): number {
  return services.requests.filter((r) => r.path.startsWith('/devstoreaccount1/') && r.method === method && (comp === undefined || r.query.get('comp') === comp)).length;
}

/** Saves a one-file directory under `key` with the given content. */
async function saveSmall(key: string, content: string, dir = workspacePath('small')): Promise<{ result: number; log: ActionsLog }> {
  await writeTree(dir, { 'value.txt': content });
  return step(() => cache.saveCache([dir], key));
}

describe('actions services: cache (real @actions/cache)', () => {
  it('is available under the step env', async () => {
    const { result } = await step(async () => cache.isFeatureAvailable());
    assert.equal(result, true);
  });

  it('saves and restores a directory; a 150 MB file forces the block upload', async () => {
    const dir = workspacePath('round-trip');
    await writeTree(dir, { 'a.txt': 'alpha\n', 'nested/b.json': '{"b":1}\n', 'nested/deeper/c.bin': randomBytes(70_000) });
    await writeRandomFile(join(dir, 'big.bin'), 150 * 1024 * 1024);
    const before = await treeDigest(dir);
    const blocksBefore = blobRequests('PUT', 'block');
    const commitsBefore = blobRequests('PUT', 'blocklist');
    const putsBefore = blobRequests('PUT');

    const saved = await step(() => cache.saveCache([dir], 'round-trip-1'));
    assert.ok(saved.result > 0, `saveCache returned ${saved.result}: ${saved.log.warning.join(' | ')}`);
    // > 128 MiB: three staged 64 MiB blocks, then one commit, and no single-shot PUT.
    assert.equal(blobRequests('PUT', 'block') - blocksBefore, 3);
    assert.equal(blobRequests('PUT', 'blocklist') - commitsBefore, 1);
    assert.equal(blobRequests('PUT') - putsBefore, 4);
    const entry = services.cache.entries().find((e) => e.key === 'round-trip-1');
    assert.ok(entry && entry.id === saved.result);
    assert.equal(entry.size, (await stat(services.cache.archivePath('round-trip-1')!)).size);
    assert.ok(entry.size > 150 * 1024 * 1024);

    await rm(dir, { recursive: true });
    const restored = await step(() => cache.restoreCache([dir], 'round-trip-1'));
    assert.equal(restored.result, 'round-trip-1');
    assert.deepEqual(await treeDigest(dir), before);
    await rm(dir, { recursive: true });
  });

  it('entries are immutable: a second save of the same key returns -1 and logs at info level', async () => {
    const first = await saveSmall('immutable-1', 'one');
    assert.ok(first.result > 0);
    const second = await saveSmall('immutable-1', 'two');
    assert.equal(second.result, -1);
    assert.deepEqual(second.log.warning, []);
    assert.ok(second.log.info.includes('Failed to save: Unable to reserve cache with key immutable-1, another job may be creating this cache.'));
    assert.ok(second.log.debug.some((l) => l.includes('(409) Conflict: cache entry with the same key, version, and scope already exists')));
    assert.equal(services.cache.entries().filter((e) => e.key === 'immutable-1').length, 1);
  });

  it('restore: exact key first, else the newest prefix match, then each restore key', async () => {
    const dir = workspacePath('small');
    for (const [key, content] of [['prefix', 'exact'], ['prefix-a', 'older'], ['prefix-b', 'newer'], ['other-1', 'other']] as const) {
      assert.ok((await saveSmall(key, content)).result > 0);
    }
    const restoreAs = async (key: string, restoreKeys?: string[]): Promise<[string | undefined, string | undefined]> => {
      await rm(dir, { recursive: true, force: true });
      const { result } = await step(() => cache.restoreCache([dir], key, restoreKeys));
      return [result, existsSync(join(dir, 'value.txt')) ? await readFile(join(dir, 'value.txt'), 'utf8') : undefined];
    };
    assert.deepEqual(await restoreAs('prefix'), ['prefix', 'exact']);
    assert.deepEqual(await restoreAs('prefix-'), ['prefix-b', 'newer']);
    assert.deepEqual(await restoreAs('missing', ['nothing-', 'other-', 'prefix-']), ['other-1', 'other']);
    assert.deepEqual(await restoreAs('missing', ['prefix-a']), ['prefix-a', 'older']);
    assert.deepEqual(await restoreAs('missing', ['nothing']), [undefined, undefined]);
  });

  it('lookupOnly reports the match without downloading', async () => {
    const dir = workspacePath('small');
    assert.ok((await saveSmall('lookup-1', 'x')).result > 0);
    await rm(dir, { recursive: true });
    const gets = blobRequests('GET');
    const { result, log } = await step(() => cache.restoreCache([dir], 'lookup-', [], { lookupOnly: true }));
    assert.equal(result, 'lookup-1');
    assert.equal(blobRequests('GET'), gets);
    assert.equal(existsSync(dir), false);
    assert.ok(log.info.includes('Lookup only - skipping download'));
  });

  it('a different paths list is a different version: miss', async () => {
    assert.ok((await saveSmall('versioned-1', 'v')).result > 0);
    const { result } = await step(() => cache.restoreCache([workspacePath('small'), workspacePath('elsewhere')], 'versioned-1'));
    assert.equal(result, undefined);
  });

  it('quota reached: saveCache returns -1; the client logs the generic "another job" info line', async () => {
    services.faults.quotaReached = true;
    try {
      const { result, log } = await saveSmall('quota-1', 'q');
      assert.equal(result, -1);
      assert.deepEqual(log.warning, []);
      assert.ok(log.info.includes('Failed to save: Unable to reserve cache with key quota-1, another job may be creating this cache.'));
      // The quota reason survives only in the debug log (UsageError, swallowed into ReserveCacheError).
      assert.ok(log.debug.some((l) => l.includes('Cache storage quota has been hit')));
      assert.equal(services.cache.pending().some((e) => e.key === 'quota-1'), false);
    } finally {
      services.faults.quotaReached = false;
    }
  });

  it('429 on create: not retried, -1, a rate-limit warning', async () => {
    const creates = twirpCalls('CreateCacheEntry');
    services.faults.rateLimitNext = 1;
    services.faults.retryAfterSeconds = 42;
    const { result, log } = await saveSmall('limited-1', 'l');
    assert.equal(result, -1);
    assert.equal(twirpCalls('CreateCacheEntry') - creates, 1);
    assert.deepEqual(log.warning, ["You've hit a rate limit, your rate limit will reset in 42 seconds"]);
    assert.ok(log.info.includes('Failed to save: Unable to reserve cache with key limited-1, another job may be creating this cache.'));
    // Nothing was reserved, so the same key saves fine afterwards.
    assert.ok((await saveSmall('limited-1', 'l')).result > 0);
  });

  it('429 on finalize: -1 with a warning, and the unfinalized reservation blocks that key', async () => {
    services.faults.rateLimitNext = 1;
    services.faults.rateLimitOnly = 'FinalizeCacheEntryUpload';
    try {
      const { result, log } = await saveSmall('limited-2', 'l');
      assert.equal(result, -1);
      assert.ok(log.warning.some((w) => w.startsWith('Failed to save: Failed to FinalizeCacheEntryUpload: Rate limited: Failed request: (429) Too Many Requests')));
      assert.ok(services.cache.pending().some((e) => e.key === 'limited-2'));
    } finally {
      services.faults.rateLimitOnly = undefined;
    }
    assert.equal((await saveSmall('limited-2', 'l')).result, -1);
  });

  it('429 on lookup: restore reports a miss with a warning', async () => {
    assert.ok((await saveSmall('limited-3', 'l')).result > 0);
    services.faults.rateLimitNext = 1;
    const { result, log } = await step(() => cache.restoreCache([workspacePath('small')], 'limited-3'));
    assert.equal(result, undefined);
    assert.ok(log.warning.some((w) => w.startsWith('Failed to restore: Failed to GetCacheEntryDownloadURL: Rate limited: Failed request: (429)')));
  });

  it('upload faults: a 500 is retried by the Azure SDK; a 403 makes saveCache return -1 with warnings', async () => {
    services.faults.failUploadsNext = 1;
    assert.ok((await saveSmall('upload-retry-1', 'u')).result > 0);
    assert.equal(services.faults.failUploadsNext, 0);

    services.faults.failUploadsNext = 1;
    services.faults.failUploadsStatus = 403;
    try {
      const { result, log } = await saveSmall('upload-fail-1', 'u');
      assert.equal(result, -1);
      assert.ok(log.warning.some((w) => w.startsWith('uploadCacheArchiveSDK: internal error uploading cache archive:')));
      assert.ok(log.warning.some((w) => w.startsWith('Failed to save:')));
      assert.ok(services.cache.pending().some((e) => e.key === 'upload-fail-1'));
    } finally {
      services.faults.failUploadsStatus = 500;
    }
  });

  it('download fault: a 500 on the archive GET is a miss with a warning (no retry for 500)', async () => {
    assert.ok((await saveSmall('download-fail-1', 'd')).result > 0);
    services.faults.failDownloadsNext = 1;
    const { result, log } = await step(() => cache.restoreCache([workspacePath('small')], 'download-fail-1'));
    assert.equal(result, undefined);
    assert.ok(log.warning.includes('Failed to restore: downloadCache failed: Cache service responded with 500'));
  });

  it('a read-only token: saveCache returns -1 with a "cache write denied" warning', async () => {
    const readOnly = services.runEnv({ cacheWrite: false });
    const dir = workspacePath('small');
    await writeTree(dir, { 'value.txt': 'r' });
    const { result, log } = await step(() => cache.saveCache([dir], 'denied-1'), readOnly);
    assert.equal(result, -1);
    assert.ok(log.warning.some((w) => w.startsWith('Failed to save: Unable to reserve cache with key denied-1. More details: cache write denied:')));
  });

  it('branch scopes: a feature branch reads main caches, writes its own, and main cannot see them', async () => {
    const feature = services.runEnv({ ref: 'refs/heads/feature' });
    const dir = workspacePath('small');
    assert.ok((await saveSmall('scoped-main', 'from main')).result > 0);
    await rm(dir, { recursive: true });
    assert.equal((await step(() => cache.restoreCache([dir], 'scoped-main'), feature)).result, 'scoped-main');
    await writeTree(dir, { 'value.txt': 'from feature' });
    assert.ok((await step(() => cache.saveCache([dir], 'scoped-feature'), feature)).result > 0);
    // The same key may exist once per scope.
    assert.ok((await step(() => cache.saveCache([dir], 'scoped-main'), feature)).result > 0);
    assert.equal((await step(() => cache.restoreCache([dir], 'scoped-feature'))).result, undefined);
  });
});

describe('actions services: artifacts (real @actions/artifact)', () => {
  const client = (): InstanceType<ArtifactModule['DefaultArtifactClient']> => new artifacts.DefaultArtifactClient();

  it('uploads two files as a zip, lists, gets, downloads and deletes', async () => {
    const dir = workspacePath('upload');
    await writeTree(dir, { 'index.json': '{"images":2}\n', 'blobs/layer.bin': randomBytes(3 * 1024 * 1024) });
    const files = [join(dir, 'index.json'), join(dir, 'blobs/layer.bin')];

    const calls = services.requests.length;
    const uploaded = await step(() => client().uploadArtifact('mirror-archive', files, dir, { compressionLevel: 0 }));
    // Even a small zip goes up as staged block(s) + a block list (uploadStream never single-shots).
    const sequence = services.requests.slice(calls).map((r) => `${r.method} ${r.query.get('comp') ?? r.path.split('/').pop()}`);
    assert.deepEqual(sequence, ['POST CreateArtifact', 'PUT block', 'PUT blocklist', 'POST FinalizeArtifact']);
    const { id, size, digest } = uploaded.result;
    assert.ok(id && id > 0);
    const stored = await services.artifacts.read('mirror-archive');
    assert.equal(stored.subarray(0, 4).toString('binary'), 'PK\x03\x04');
    assert.equal(size, stored.length);
    assert.equal(digest, createHash('sha256').update(stored).digest('hex'));
    assert.equal(services.artifacts.list().find((a) => a.id === id)?.digest, `sha256:${digest}`);

    const listed = await step(() => client().listArtifacts());
    assert.ok(listed.result.artifacts.some((a) => a.id === id && a.name === 'mirror-archive' && a.size === size));
    const got = await step(() => client().getArtifact('mirror-archive'));
    assert.equal(got.result.artifact.id, id);
    assert.equal(got.result.artifact.digest, `sha256:${digest}`);

    const out = workspacePath('download-zip');
    const downloaded = await step(() => client().downloadArtifact(id!, { path: out, expectedHash: `sha256:${digest}` }));
    assert.equal(downloaded.result.digestMismatch, false);
    assert.deepEqual(await treeDigest(out), await treeDigest(dir));

    const deleted = await step(() => client().deleteArtifact('mirror-archive'));
    assert.equal(deleted.result.id, id);
    assert.equal(services.artifacts.list().some((a) => a.id === id), false);
    await assert.rejects(step(() => client().getArtifact('mirror-archive')), { name: 'ArtifactNotFoundError' });
  });

  it('skipArchive uploads one file as-is under its own name; download saves it raw', async () => {
    const dir = workspacePath('raw');
    const content = randomBytes(9 * 1024 * 1024 + 17);
    await writeTree(dir, { 'pack-0001.tar': content });
    const uploaded = await step(() =>
      client().uploadArtifact('ignored-name', [join(dir, 'pack-0001.tar')], dir, { skipArchive: true, retentionDays: 1 }),
    );
    assert.ok(uploaded.result.id);
    assert.deepEqual(await services.artifacts.read('pack-0001.tar'), content);
    const info = services.artifacts.list().find((a) => a.id === uploaded.result.id)!;
    assert.equal(info.name, 'pack-0001.tar');
    assert.equal(info.mimeType, 'application/x-tar');
    const dayAhead = Date.now() + 24 * 3600_000;
    assert.ok(info.expiresAt && Math.abs(info.expiresAt.getTime() - dayAhead) < 60_000);

    const out = workspacePath('download-raw');
    await step(() => client().downloadArtifact(uploaded.result.id!, { path: out }));
    assert.deepEqual(await readFile(join(out, 'pack-0001.tar')), content);
  });

  it('names are unique per run: a second upload under the same name is rejected (409)', async () => {
    const dir = workspacePath('dup');
    await writeTree(dir, { 'a.txt': 'a' });
    await step(() => client().uploadArtifact('dup-name', [join(dir, 'a.txt')], dir));
    await assert.rejects(
      step(() => client().uploadArtifact('dup-name', [join(dir, 'a.txt')], dir)),
      /Failed to CreateArtifact: Received non-retryable error: Failed request: \(409\) Conflict: an artifact with this name already exists on the workflow run/,
    );
  });

  it('another run: invisible to its own listing, reachable with findBy through the REST API', async () => {
    const dir = workspacePath('cross');
    await writeTree(dir, { 'payload.txt': 'from run A\n' });
    const fromA = await step(() => client().uploadArtifact('cross-run', [join(dir, 'payload.txt')], dir));
    const runB = services.runEnv({ runId: services.runId + 1 });
    const [owner, repo] = services.repository.split('/') as [string, string];
    const findBy = { token: services.githubToken, workflowRunId: services.runId, repositoryOwner: owner, repositoryName: repo };

    const ownList = await step(() => client().listArtifacts(), runB);
    assert.equal(ownList.result.artifacts.some((a) => a.name === 'cross-run'), false);
    await assert.rejects(step(() => client().getArtifact('cross-run'), runB), { name: 'ArtifactNotFoundError' });

    const viaApi = await step(() => client().listArtifacts({ findBy }), runB);
    assert.ok(viaApi.result.artifacts.some((a) => a.id === fromA.result.id && a.name === 'cross-run'));
    const got = await step(() => client().getArtifact('cross-run', { findBy }), runB);
    assert.equal(got.result.artifact.id, fromA.result.id);
    const out = workspacePath('download-cross');
    await step(() => client().downloadArtifact(fromA.result.id!, { path: out, findBy }), runB);
    assert.equal(await readFile(join(out, 'payload.txt'), 'utf8'), 'from run A\n');
    await assert.rejects(step(() => client().listArtifacts({ findBy: { ...findBy, token: 'wrong' } }), runB), /Bad credentials/);
    const deleted = await step(() => client().deleteArtifact('cross-run', { findBy }), runB);
    assert.equal(deleted.result.id, fromA.result.id);
    assert.equal(services.artifacts.list().some((a) => a.id === fromA.result.id), false);
  });

  it('429 on CreateArtifact is retried (3 s back-off) and the upload succeeds', async () => {
    const dir = workspacePath('limited');
    await writeTree(dir, { 'a.txt': 'a' });
    const creates = twirpCalls('CreateArtifact');
    services.faults.rateLimitNext = 1;
    const { result, log } = await step(() => client().uploadArtifact('limited-artifact', [join(dir, 'a.txt')], dir));
    assert.ok(result.id);
    assert.equal(twirpCalls('CreateArtifact') - creates, 2);
    assert.ok(log.info.some((l) => l.startsWith('Attempt 1 of 5 failed with error: Failed request: (429) Too Many Requests: rate limit exceeded.')));
  });

  it('quota reached: uploadArtifact rejects with the UsageError message', async () => {
    const dir = workspacePath('quota');
    await writeTree(dir, { 'a.txt': 'a' });
    services.faults.artifactQuotaReached = true;
    try {
      await assert.rejects(
        step(() => client().uploadArtifact('quota-artifact', [join(dir, 'a.txt')], dir)),
        /^Error: Failed to CreateArtifact: Artifact storage quota has been hit/,
      );
    } finally {
      services.faults.artifactQuotaReached = false;
    }
  });

  it('a blob upload rejected with 403 rejects uploadArtifact and leaves the name taken', async () => {
    const dir = workspacePath('blob-fail');
    await writeTree(dir, { 'a.txt': 'a' });
    services.faults.failUploadsNext = 1;
    services.faults.failUploadsStatus = 403;
    try {
      await assert.rejects(step(() => client().uploadArtifact('blob-fail', [join(dir, 'a.txt')], dir)), { name: 'RestError', statusCode: 403 });
    } finally {
      services.faults.failUploadsStatus = 500;
    }
    await assert.rejects(step(() => client().uploadArtifact('blob-fail', [join(dir, 'a.txt')], dir)), /\(409\) Conflict/);
  });
});

describe('actions services: the fake itself (raw HTTP)', () => {
  type RpcReply = { status: number; body: Record<string, unknown> };
  const cacheRpc = async (method: string, body: object, token: string | null = services.env.ACTIONS_RUNTIME_TOKEN!): Promise<RpcReply> => {
    const res = await fetch(`${services.url}twirp/github.actions.results.api.v1.CacheService/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('twirp: no token is unauthenticated, an unknown method is bad_route', async () => {
    assert.deepEqual(await cacheRpc('CreateCacheEntry', { key: 'k', version: 'v' }, null), {
      status: 401,
      body: { code: 'unauthenticated', msg: 'missing or invalid runtime token' },
    });
    const unknown = await cacheRpc('DeleteEverything', {});
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.code, 'bad_route');
  });

  it('blob URLs: the signature is checked, writes close at finalize, reads honour Range', async () => {
    const created = await cacheRpc('CreateCacheEntry', { key: 'raw-1', version: 'v1' });
    assert.equal(created.status, 200);
    const upload = new URL(String(created.body.signed_upload_url));
    const put = (url: URL, body: string) => fetch(url, { method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob' }, body });

    const tampered = new URL(upload);
    tampered.searchParams.set('se', new Date(Date.now() + 365 * 86400_000).toISOString());
    const refused = await put(tampered, 'x');
    assert.equal(refused.status, 403);
    assert.equal(refused.headers.get('x-ms-error-code'), 'AuthenticationFailed');

    assert.equal((await put(upload, '0123456789')).status, 201);
    const finalized = await cacheRpc('FinalizeCacheEntryUpload', { key: 'raw-1', version: 'v1', size_bytes: '10' });
    assert.deepEqual(finalized.body, { ok: true, entry_id: String(services.cache.entries().find((e) => e.key === 'raw-1')!.id) });
    const late = await put(upload, 'changed');
    assert.equal(late.status, 403);
    assert.equal(late.headers.get('x-ms-error-code'), 'AuthorizationPermissionMismatch');

    const found = await cacheRpc('GetCacheEntryDownloadURL', { key: 'raw-', version: 'v1' });
    assert.equal(found.body.matched_key, 'raw-1');
    const download = new URL(String(found.body.signed_download_url));
    assert.equal((await put(download, 'x')).status, 403);
    const part = await fetch(download, { headers: { range: 'bytes=2-5' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), 'bytes 2-5/10');
    assert.equal(await part.text(), '2345');
    assert.deepEqual((await cacheRpc('GetCacheEntryDownloadURL', { key: 'raw-1', version: 'v2' })).body, { ok: false });
  });
});
