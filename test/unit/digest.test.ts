import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { test } from 'node:test';
import { VerifyingStream } from '../../src/image/digest.js';
import { receivedManifest, viewManifest, MediaType } from '../../src/image/manifest.js';
import { DigestMismatchError } from '../../src/errors.js';

const sha = (s: string) => 'sha256:' + createHash('sha256').update(s).digest('hex');

test('a verifying stream passes matching content through', async () => {
  const out = await text(Readable.from([Buffer.from('hello '), Buffer.from('world')]).pipe(new VerifyingStream(sha('hello world'), 11, 'x')));
  assert.equal(out, 'hello world');
});

test('a verifying stream never releases the last chunk of wrong content', async () => {
  const received: string[] = [];
  const v = new VerifyingStream(sha('hello world'), 11, 'blob x');
  v.on('data', (c: Buffer) => received.push(c.toString()));
  const done = new Promise((resolve, reject) => v.on('end', resolve).on('error', reject));
  Readable.from([Buffer.from('hello '), Buffer.from('WORLD')]).pipe(v);
  await assert.rejects(done, (e: Error) => e instanceof DigestMismatchError && /blob x: content has digest sha256:/.test(e.message));
  assert.deepEqual(received, ['hello ']);
});

test('a verifying stream refuses short and long content', async () => {
  const run = (chunks: string[], size: number) =>
    text(Readable.from(chunks.map((c) => Buffer.from(c))).pipe(new VerifyingStream(sha('abc'), size, 'b')));
  await assert.rejects(run(['ab'], 3), /received 2 of the 3 bytes/);
  await assert.rejects(run(['abcd'], 3), /more than the 3 bytes/);
});

test('manifests are checked against the digest asked for, over the raw bytes', () => {
  const bytes = Buffer.from('{"schemaVersion":2,  "manifests":[]}');
  const m = receivedManifest(bytes, MediaType.OciIndex, 'x', sha(bytes.toString()));
  assert.equal(m.digest, sha(bytes.toString()));
  assert.throws(() => receivedManifest(bytes, MediaType.OciIndex, 'r/x@d', sha('other')), /r\/x@d: manifest content has digest/);
  assert.deepEqual(viewManifest(m, 'x'), { kind: 'index', manifests: [] });
});

test('artifact manifests are read by shape so their blobs travel too', () => {
  const layer = { mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', digest: sha('sig'), size: 3 };
  const config = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha('{}'), size: 2 };
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers: [layer] }));
  const view = viewManifest({ bytes, mediaType: MediaType.OciManifest, digest: sha(bytes.toString()) }, 'x');
  assert.deepEqual(view, { kind: 'image', config, layers: [layer] });
  const schema1 = Buffer.from('{"schemaVersion":1,"fsLayers":[]}');
  assert.throws(() => viewManifest({ bytes: schema1, mediaType: 'application/vnd.docker.distribution.manifest.v1+prettyjws', digest: sha('s') }, 'y'), /schema 1/);
});
