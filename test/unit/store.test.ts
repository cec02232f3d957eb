import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, test } from 'node:test';
import { DigestMismatchError, NotFoundError, OcMirrorError, ReferenceError } from '../../src/errors.js';
import { VerifyingStream } from '../../src/image/digest.js';
import { MediaType, type Descriptor, type RawManifest } from '../../src/image/manifest.js';
import { DirectoryLayout } from '../../src/store/directory-reader.js';
import { LocalStore, STORE_TEMP_DIR, type BlobTee } from '../../src/store/store.js';
import { tempDir } from '../support/cleanup.js';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const V2 = 'docker/registry/v2';

function blob(bytes: Buffer): { desc: Descriptor; body: () => Readable } {
  return {
    desc: { mediaType: 'application/octet-stream', digest: sha(bytes), size: bytes.length },
    // several chunks, as a download delivers them
    body: () => Readable.from([bytes.subarray(0, bytes.length >> 1), bytes.subarray(bytes.length >> 1)]),
  };
}

function imageManifest(config: Descriptor, layers: Descriptor[]): RawManifest {
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers }, null, 3));
  return { bytes, mediaType: MediaType.OciManifest, digest: sha(bytes) };
}

function indexManifest(children: RawManifest[]): RawManifest {
  const manifests = children.map((c) => ({ mediaType: c.mediaType, digest: c.digest, size: c.bytes.length }));
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests }));
  return { bytes, mediaType: MediaType.OciIndex, digest: sha(bytes) };
}

function hexOf(digest: string): string {
  return digest.slice('sha256:'.length);
}

function dataFile(root: string, digest: string): string {
  return join(root, V2, 'blobs/sha256', hexOf(digest).slice(0, 2), hexOf(digest), 'data');
}

function readLink(root: string, path: string): string | undefined {
  const p = join(root, V2, 'repositories', path);
  return existsSync(p) ? readFileSync(p, 'utf8') : undefined;
}

function tempEntries(root: string): string[] {
  return readdirSync(join(root, STORE_TEMP_DIR));
}

/** A stored image: config and one layer in `repo`, its manifest under `tag`. */
async function storeImage(store: LocalStore, repo: string, tag: string, seed = repo) {
  const r = store.repository(repo);
  const config = blob(Buffer.from(`{"config":"${seed}"}`));
  const layer = blob(randomBytes(3000));
  await r.putBlob(config.desc, config.body());
  await r.putBlob(layer.desc, layer.body());
  const manifest = imageManifest(config.desc, [layer.desc]);
  await r.putManifest(manifest, tag);
  return { manifest, config, layer };
}

describe('local store', () => {
  test('a blob round-trips: data under its digest, a layer link in the repository, served back', async (t) => {
    const root = tempDir(t, 'store');
    const store = await LocalStore.open(root, 'localhost:55000');
    const repo = store.repository('ns/app');
    assert.equal(repo.host, 'localhost:55000');
    assert.equal(repo.repository, 'ns/app');
    const bytes = randomBytes(200_000);
    const { desc, body } = blob(bytes);
    assert.equal(await repo.hasBlob(desc), false);
    await repo.putBlob(desc, body());
    assert.deepEqual(readFileSync(dataFile(root, desc.digest)), bytes);
    assert.equal(readLink(root, `ns/app/_layers/sha256/${hexOf(desc.digest)}/link`), desc.digest);
    assert.equal(await repo.hasBlob(desc), true);
    assert.deepEqual(await buffer(await repo.getBlob(desc)), bytes);
    assert.equal(store.blobPath(desc.digest), dataFile(root, desc.digest));
    assert.equal(await store.hasBlobData(desc.digest), true);
    assert.deepEqual(tempEntries(root), []);
  });

  test('a manifest round-trips by tag and by digest, with the revision and tag links of a registry', async (t) => {
    const root = tempDir(t, 'store');
    const store = await LocalStore.open(root);
    const { manifest } = await storeImage(store, 'ns/app', 'v1');
    const repo = store.repository('ns/app');
    const hex = hexOf(manifest.digest);
    assert.equal(readLink(root, `ns/app/_manifests/revisions/sha256/${hex}/link`), manifest.digest);
    assert.equal(readLink(root, 'ns/app/_manifests/tags/v1/current/link'), manifest.digest);
    assert.equal(readLink(root, `ns/app/_manifests/tags/v1/index/sha256/${hex}/link`), manifest.digest);
    assert.deepEqual(readFileSync(dataFile(root, manifest.digest)), manifest.bytes);
    for (const ref of ['v1', manifest.digest]) {
      const got = await repo.getManifest(ref);
      assert.deepEqual(got.bytes, manifest.bytes);
      assert.equal(got.digest, manifest.digest);
      assert.equal(got.mediaType, MediaType.OciManifest);
      assert.equal(await repo.manifestDigest(ref), manifest.digest);
    }
    assert.equal(await repo.manifestDigest('v2'), undefined);
    await assert.rejects(repo.getManifest('v2'), NotFoundError);
  });

  test('a manifest put by digest gets only its revision link', async (t) => {
    const root = tempDir(t, 'store');
    const store = await LocalStore.open(root);
    const repo = store.repository('ns/app');
    const config = blob(Buffer.from('{"a":1}'));
    const layer = blob(randomBytes(1000));
    await repo.putBlob(config.desc, config.body());
    await repo.putBlob(layer.desc, layer.body());
    const child = imageManifest(config.desc, [layer.desc]);
    const index = indexManifest([child]);
    await repo.putManifest(child, child.digest);
    await repo.putManifest(index, index.digest);
    for (const m of [child, index]) {
      assert.equal(readLink(root, `ns/app/_manifests/revisions/sha256/${hexOf(m.digest)}/link`), m.digest);
      assert.equal(await repo.manifestDigest(m.digest), m.digest);
    }
    assert.equal(existsSync(join(root, V2, 'repositories/ns/app/_manifests/tags')), false);
    assert.deepEqual(await store.listTags('ns/app'), []);
    assert.equal((await repo.getManifest(index.digest)).mediaType, MediaType.OciIndex);
  });

  test('a blob with the wrong content leaves nothing behind: no data, no link, no temp file', async (t) => {
    const root = tempDir(t, 'store');
    const store = await LocalStore.open(root);
    const repo = store.repository('ns/app');
    const good = randomBytes(100_000);
    const { desc } = blob(good);
    const bad = Buffer.from(good);
    bad[77_000] = bad[77_000]! ^ 1;
    await assert.rejects(
      repo.putBlob(desc, Readable.from([bad])),
      (e: Error) => e instanceof DigestMismatchError && /content has digest/.test(e.message),
    );
    assert.equal(existsSync(dataFile(root, desc.digest)), false);
    assert.equal(existsSync(join(root, V2, 'repositories/ns/app/_layers')), false);
    assert.deepEqual(tempEntries(root), []);
    assert.equal(await repo.hasBlob(desc), false);
  });

  test('behind a verifier (the store does not hash twice) a wrong blob still leaves nothing behind', async (t) => {
    const root = tempDir(t, 'store');
    const store = await LocalStore.open(root);
    const repo = store.repository('ns/app');
    const good = randomBytes(300_000);
    const { desc } = blob(good);
    const bad = Buffer.from(good);
    bad[299_999] = bad[299_999]! ^ 1;
    const chunks = [bad.subarray(0, 100_000), bad.subarray(100_000, 200_000), bad.subarray(200_000)];
    await assert.rejects(
      repo.putBlob(desc, Readable.from(chunks).pipe(new VerifyingStream(desc.digest, desc.size, 'src'))),
      (e: Error) => e instanceof DigestMismatchError && /content has digest/.test(e.message),
    );
    assert.equal(existsSync(dataFile(root, desc.digest)), false);
    assert.deepEqual(tempEntries(root), []);
    await repo.putBlob(desc, Readable.from([good]).pipe(new VerifyingStream(desc.digest, desc.size, 'src')));
    assert.ok((await buffer(await repo.getBlob(desc))).equals(good));
  });

  test('a blob of the wrong size is refused, too long or too short', async (t) => {
    const root = tempDir(t, 'store');
    const store = await LocalStore.open(root);
    const repo = store.repository('ns/app');
    const bytes = randomBytes(5000);
    const { desc } = blob(bytes);
    await assert.rejects(repo.putBlob(desc, Readable.from([bytes, Buffer.from('x')])), /more than the 5000 bytes/);
    await assert.rejects(repo.putBlob(desc, Readable.from([bytes.subarray(0, 4000)])), /received 4000 of the 5000 bytes/);
    await assert.rejects(repo.putBlob({ ...desc, size: 4000 }, Readable.from([bytes])), DigestMismatchError);
    assert.equal(existsSync(dataFile(root, desc.digest)), false);
    assert.deepEqual(tempEntries(root), []);
  });

  test('a source error mid-blob passes through unchanged and leaves nothing', async (t) => {
    const root = tempDir(t, 'store');
    const store = await LocalStore.open(root);
    const bytes = randomBytes(5000);
    const { desc } = blob(bytes);
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', syscall: 'read' });
    const failing = Readable.from(
      (async function* () {
        yield bytes.subarray(0, 1000);
        throw reset;
      })(),
    );
    await assert.rejects(store.repository('ns/app').putBlob(desc, failing), (e) => e === reset);
    assert.deepEqual(tempEntries(root), []);
  });

  test('a tee gets a copy of each blob the store writes, completed only once it is verified and stored', async (t) => {
    const root = tempDir(t, 'store');
    const store = await LocalStore.open(root);
    const copies = new Map<string, { bytes: Buffer; state: 'open' | 'complete' | 'released' }>();
    const tee: BlobTee = {
      claim(desc) {
        const copy = { bytes: Buffer.alloc(desc.size), state: 'open' as 'open' | 'complete' | 'released' };
        copies.set(desc.digest, copy);
        return {
          write: async (chunks, offset) => {
            Buffer.concat(chunks).copy(copy.bytes, offset);
          },
          complete: () => void (copy.state = 'complete'),
          release: () => void (copy.state = 'released'),
        };
      },
    };
    const repo = store.repository('ns/app', tee);
    // large enough to be written in several gathered writes
    const good = randomBytes(1_300_000);
    const { desc } = blob(good);
    await repo.putBlob(desc, Readable.from([good.subarray(0, 70_000), good.subarray(70_000, 900_000), good.subarray(900_000)]).pipe(new VerifyingStream(desc.digest, desc.size, 'src')));
    assert.equal(copies.get(desc.digest)?.state, 'complete');
    assert.ok(copies.get(desc.digest)!.bytes.equals(good));

    const other = randomBytes(40_000);
    const bad = Buffer.from(other);
    bad[39_999] = bad[39_999]! ^ 1;
    const { desc: otherDesc } = blob(other);
    await assert.rejects(repo.putBlob(otherDesc, Readable.from([bad])), DigestMismatchError);
    assert.equal(copies.get(otherDesc.digest)?.state, 'released', 'a blob that failed its digest is released, not completed');

    // data already in the store is not written again, so there is nothing to copy
    copies.clear();
    await store.repository('other/app', tee).putBlob(desc, Readable.from([good]));
    assert.equal(copies.size, 0);
  });

  test('readVerifiedBlob serves data that matches its digest; corrupt data fails the read and is removed from the store', async (t) => {
    const root = tempDir(t, 'store');
    const store = await LocalStore.open(root);
    const good = randomBytes(3_000_000);
    const { desc, body } = blob(good);
    await store.repository('ns/app').putBlob(desc, body());
    assert.ok((await buffer(store.readVerifiedBlob(desc))).equals(good));
    const corrupt = Buffer.from(good);
    corrupt[2_999_000] = corrupt[2_999_000]! ^ 1;
    writeFileSync(dataFile(root, desc.digest), corrupt);
    await assert.rejects(buffer(store.readVerifiedBlob(desc)), (e: Error) => e instanceof DigestMismatchError && e.message.includes('found corrupt there and removed: run again to download it'));
    for (let i = 0; i < 50 && existsSync(dataFile(root, desc.digest)); i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(existsSync(dataFile(root, desc.digest)), false, 'the corrupt data is gone');
    assert.equal(await store.repository('ns/app').hasBlob(desc), false, 'so the next run downloads it again');
  });

  test('data already stored is reused, not rewritten: the new repository only gets a link', async (t) => {
    const root = tempDir(t, 'store');
    const store = await LocalStore.open(root);
    const { desc, body } = blob(randomBytes(50_000));
    await store.repository('a/one').putBlob(desc, body());
    const before = statSync(dataFile(root, desc.digest));
    await new Promise((r) => setTimeout(r, 20));
    const stream = body();
    await store.repository('b/two').putBlob(desc, stream);
    const after = statSync(dataFile(root, desc.digest));
    assert.equal(after.ino, before.ino);
    assert.equal(after.mtimeMs, before.mtimeMs);
    assert.equal(stream.readableEnded, true, 'the caller’s stream was read to its end');
    assert.equal(readLink(root, `b/two/_layers/sha256/${hexOf(desc.digest)}/link`), desc.digest);
  });

  test('hasBlob links data another repository stored, after checking its size; mountBlob likewise', async (t) => {
    const root = tempDir(t, 'store');
    const store = await LocalStore.open(root);
    const { desc, body } = blob(randomBytes(10_000));
    await store.repository('a/one').putBlob(desc, body());
    const two = store.repository('b/two');
    await assert.rejects(two.getBlob(desc), NotFoundError, 'not linked yet: not served');
    assert.equal(await two.hasBlob({ ...desc, size: 9_999 }), false);
    assert.equal(readLink(root, `b/two/_layers/sha256/${hexOf(desc.digest)}/link`), undefined);
    assert.equal(await two.hasBlob(desc), true);
    assert.equal(readLink(root, `b/two/_layers/sha256/${hexOf(desc.digest)}/link`), desc.digest);
    assert.equal((await buffer(await two.getBlob(desc))).length, 10_000);
    const three = store.repository('c/three');
    assert.equal(await three.mountBlob(desc, 'a/one'), true);
    assert.equal(readLink(root, `c/three/_layers/sha256/${hexOf(desc.digest)}/link`), desc.digest);
    const absent = blob(Buffer.from('absent')).desc;
    assert.equal(await three.mountBlob(absent, 'a/one'), false);
    assert.equal(await three.hasBlob(absent), false);
  });

  test('a manifest is refused when its bytes do not match its digest, or its blobs are missing', async (t) => {
    const root = tempDir(t, 'store');
    const store = await LocalStore.open(root);
    const repo = store.repository('ns/app');
    const config = blob(Buffer.from('{}'));
    const layer = blob(randomBytes(100));
    await repo.putBlob(config.desc, config.body());
    const manifest = imageManifest(config.desc, [layer.desc]);
    await assert.rejects(repo.putManifest({ ...manifest, digest: sha(Buffer.from('other')) }, 'v1'), DigestMismatchError);
    await assert.rejects(
      repo.putManifest(manifest, 'v1'),
      (e: Error) => e instanceof OcMirrorError && e.message.includes(`needs blob ${layer.desc.digest}`),
    );
    await assert.rejects(repo.putManifest(manifest, sha(Buffer.from('x'))), DigestMismatchError);
    assert.equal(existsSync(dataFile(root, manifest.digest)), false);
    assert.equal(existsSync(join(root, V2, 'repositories/ns/app/_manifests')), false);
    await repo.putBlob(layer.desc, layer.body());
    await repo.putManifest(manifest, 'v1');
    assert.equal(await repo.manifestDigest('v1'), manifest.digest);
  });

  test('foreign layers need not be stored', async (t) => {
    const store = await LocalStore.open(tempDir(t, 'store'));
    const repo = store.repository('win/app');
    const config = blob(Buffer.from('{"os":"windows"}'));
    await repo.putBlob(config.desc, config.body());
    const foreign = { ...blob(Buffer.from('base')).desc, urls: ['https://example.invalid/base'] };
    const manifest = imageManifest(config.desc, [foreign]);
    await repo.putManifest(manifest, 'ltsc');
    assert.equal(await repo.manifestDigest('ltsc'), manifest.digest);
  });

  test('retagging moves the current link and keeps the tag index; revisions stay', async (t) => {
    const root = tempDir(t, 'store');
    const store = await LocalStore.open(root);
    const first = await storeImage(store, 'ns/app', 'latest', 'first');
    const second = await storeImage(store, 'ns/app', 'latest', 'second');
    const repo = store.repository('ns/app');
    assert.equal(await repo.manifestDigest('latest'), second.manifest.digest);
    assert.equal(await repo.manifestDigest(first.manifest.digest), first.manifest.digest);
    const index = readdirSync(join(root, V2, 'repositories/ns/app/_manifests/tags/latest/index/sha256')).sort();
    assert.deepEqual(index, [hexOf(first.manifest.digest), hexOf(second.manifest.digest)].sort());
  });

  test('a tag counts as present only when its revision link and manifest content are there', async (t) => {
    const root = tempDir(t, 'store');
    const store = await LocalStore.open(root);
    const repo = store.repository('ns/app');
    const { manifest } = await storeImage(store, 'ns/app', 'v1');
    const tagLink = (tag: string, content: string) => {
      mkdirSync(join(root, V2, `repositories/ns/app/_manifests/tags/${tag}/current`), { recursive: true });
      writeFileSync(join(root, V2, `repositories/ns/app/_manifests/tags/${tag}/current/link`), content);
    };
    tagLink('empty', '');
    tagLink('garbage', 'not a digest');
    tagLink('unknown', `sha256:${'a'.repeat(64)}`);
    for (const tag of ['empty', 'garbage', 'unknown']) assert.equal(await repo.manifestDigest(tag), undefined, tag);
    assert.equal(await repo.manifestDigest('v1'), manifest.digest);
    rmSync(dataFile(root, manifest.digest));
    assert.equal(await repo.manifestDigest('v1'), undefined, 'content gone');
  });

  test('deleteManifest removes the revision and every tag pointing at it, and says so', async (t) => {
    const root = tempDir(t, 'store');
    const store = await LocalStore.open(root);
    const kept = await storeImage(store, 'ns/app', 'keep', 'kept');
    const gone = await storeImage(store, 'ns/app', 'v1', 'gone');
    const repo = store.repository('ns/app');
    await repo.putManifest(gone.manifest, 'also');
    assert.deepEqual(await store.listTags('ns/app'), ['also', 'keep', 'v1']);
    const removed = await store.deleteManifest('ns/app', gone.manifest.digest);
    assert.deepEqual(removed, { repository: 'ns/app', digest: gone.manifest.digest, revision: true, tags: ['also', 'v1'] });
    assert.deepEqual(await store.listTags('ns/app'), ['keep']);
    await assert.rejects(repo.getManifest(gone.manifest.digest), NotFoundError);
    assert.equal(await repo.manifestDigest('v1'), undefined);
    assert.equal(await repo.manifestDigest('keep'), kept.manifest.digest);
    assert.equal(await store.hasBlobData(gone.manifest.digest), true, 'content stays: it may be shared');
    const again = await store.deleteManifest('ns/app', gone.manifest.digest);
    assert.deepEqual(again, { repository: 'ns/app', digest: gone.manifest.digest, revision: false, tags: [] });
    assert.deepEqual(tempEntries(root), []);
  });

  test('listRepositories walks nested repositories; listTags lists tags with a current link', async (t) => {
    const root = tempDir(t, 'store');
    const store = await LocalStore.open(root);
    assert.deepEqual(await store.listRepositories(), []);
    await storeImage(store, 'a', 'v1');
    await storeImage(store, 'a/b', 'v2');
    await storeImage(store, 'deep/ns/sub/app', 'v3');
    await storeImage(store, 'deep/ns/sub/app', 'v4');
    // a blob alone does not make a repository
    const b = blob(Buffer.from('lonely'));
    await store.repository('only/layers').putBlob(b.desc, b.body());
    // a tag directory without a current link (a crash between the two links) is not a tag
    mkdirSync(join(root, V2, 'repositories/a/_manifests/tags/half/index'), { recursive: true });
    assert.deepEqual(await store.listRepositories(), ['a', 'a/b', 'deep/ns/sub/app']);
    assert.deepEqual(await store.listTags('deep/ns/sub/app'), ['v3', 'v4']);
    assert.deepEqual(await store.listTags('a'), ['v1']);
    assert.deepEqual(await store.listTags('nothing/here'), []);
  });

  test('50 concurrent writers of one blob end with one correct file and no temp files', async (t) => {
    const root = tempDir(t, 'store');
    const store = await LocalStore.open(root);
    const bytes = randomBytes(1024 * 1024 + 17);
    const { desc } = blob(bytes);
    const chunked = () => Readable.from(Array.from({ length: 33 }, (_, i) => bytes.subarray(i * 32_768, (i + 1) * 32_768)));
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => store.repository(`ns/app${i % 5}`).putBlob(desc, chunked())),
    );
    assert.deepEqual(readFileSync(dataFile(root, desc.digest)), bytes);
    assert.deepEqual(readdirSync(join(root, V2, 'blobs/sha256', hexOf(desc.digest).slice(0, 2), hexOf(desc.digest))), ['data']);
    for (let i = 0; i < 5; i++) assert.equal(readLink(root, `ns/app${i}/_layers/sha256/${hexOf(desc.digest)}/link`), desc.digest);
    assert.deepEqual(tempEntries(root), []);
  });

  test('concurrent manifest writers and retaggers leave consistent links', async (t) => {
    const root = tempDir(t, 'store');
    const store = await LocalStore.open(root);
    const images = await Promise.all(Array.from({ length: 10 }, (_, i) => storeImage(store, 'ns/app', `v${i}`, `img${i}`)));
    await Promise.all(images.flatMap((img) => Array.from({ length: 5 }, () => store.repository('ns/app').putManifest(img.manifest, 'latest'))));
    const latest = await store.repository('ns/app').manifestDigest('latest');
    assert.ok(images.some((i) => i.manifest.digest === latest));
    assert.deepEqual(tempEntries(root), []);
  });

  test('an aborted put stops reading and leaves nothing', async (t) => {
    const root = tempDir(t, 'store');
    const store = await LocalStore.open(root);
    const bytes = randomBytes(10_000);
    const { desc } = blob(bytes);
    const controller = new AbortController();
    const endless = new Readable({
      read() {
        this.push(bytes.subarray(0, 100));
        if (!controller.signal.aborted) controller.abort();
      },
    });
    await assert.rejects(store.repository('ns/app').putBlob(desc, endless, controller.signal), { name: 'AbortError' });
    assert.equal(existsSync(dataFile(root, desc.digest)), false);
    assert.deepEqual(tempEntries(root), []);
  });

  test('removeTemporaries removes only temp files idle for longer than asked', async (t) => {
    const root = tempDir(t, 'store');
    const store = await LocalStore.open(root);
    const old = join(root, STORE_TEMP_DIR, 'blob-1-dead');
    const fresh = join(root, STORE_TEMP_DIR, 'blob-2-live');
    writeFileSync(old, 'partial');
    writeFileSync(fresh, 'partial');
    const hourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(old, hourAgo, hourAgo);
    assert.equal(await store.removeTemporaries(60_000), 1);
    assert.deepEqual(tempEntries(root), ['blob-2-live']);
  });

  test('names that could leave the layout are refused', async (t) => {
    const store = await LocalStore.open(tempDir(t, 'store'));
    assert.throws(() => store.repository('../etc'), ReferenceError);
    assert.throws(() => store.repository('ns/_manifests'), ReferenceError);
    assert.throws(() => store.repository('NS/App'), ReferenceError);
    await assert.rejects(store.repository('ns/app').manifestDigest('../../x'), ReferenceError);
    await assert.rejects(store.repository('ns/app').getManifest('a/b'), ReferenceError);
    const layout = new DirectoryLayout('/tmp/x');
    assert.throws(() => layout.resolve('../y'), OcMirrorError);
    assert.throws(() => layout.resolve('docker/../../y'), OcMirrorError);
    assert.throws(() => layout.resolve('/etc/passwd'), OcMirrorError);
    assert.equal(layout.resolve('docker/registry/v2/blobs'), '/tmp/x/docker/registry/v2/blobs');
  });

  test('the directory reader answers "absent" rather than failing', async (t) => {
    const root = tempDir(t, 'store');
    const layout = new DirectoryLayout(root);
    mkdirSync(join(root, 'dir'));
    writeFileSync(join(root, 'file'), 'abc');
    assert.equal(await layout.readSmall('missing'), undefined);
    assert.equal(await layout.readSmall('dir'), undefined);
    assert.equal(await layout.readSmall('file/below'), undefined);
    assert.equal(await layout.size('missing'), undefined);
    assert.equal(await layout.size('dir'), undefined);
    assert.equal(await layout.size('file'), 3);
    assert.equal(await layout.open('missing'), undefined);
    assert.equal(await layout.open('dir'), undefined);
    assert.equal((await buffer((await layout.open('file'))!)).toString(), 'abc');
    assert.deepEqual(await layout.list('missing'), []);
    assert.deepEqual(await layout.list('file'), []);
    assert.deepEqual(await layout.list('.'), ['dir', 'file']);
  });
});
