/**
 * Manifest PUT ordering. The engine test uses an in-memory destination that behaves as
 * distribution does: every PUT of a manifest rewrites its revision link, which reads as missing
 * until the PUT ends, and an index PUT fails when one of its children reads as missing.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { CopyEngine, type Endpoints } from '../../src/copy/engine.js';
import { ManifestPuts } from '../../src/copy/manifest-puts.js';
import { digestOf } from '../../src/image/digest.js';
import { MediaType, viewManifest, type Descriptor, type RawManifest } from '../../src/image/manifest.js';
import type { ImageReference } from '../../src/image/reference.js';
import type { ImageDestination, ImageSource } from '../../src/image/transport.js';
import type { CopyTask } from '../../src/plan/types.js';

function manifest(doc: object, mediaType: string): RawManifest {
  const bytes = Buffer.from(JSON.stringify(doc));
  return { bytes, mediaType, digest: digestOf(bytes) };
}

const layerBytes = Buffer.from('layer');
const layer: Descriptor = { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: digestOf(layerBytes), size: layerBytes.length };
const configBytes = Buffer.from('{}');
const config: Descriptor = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(configBytes), size: configBytes.length };
const arches = ['amd64', 'arm64', 's390x'];
const children = arches.map((architecture) =>
  manifest({ schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers: [layer], annotations: { architecture } }, MediaType.OciManifest),
);
const index = manifest(
  {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: children.map((c, i) => ({ mediaType: c.mediaType, digest: c.digest, size: c.bytes.length, platform: { os: 'linux', architecture: arches[i] } })),
  },
  MediaType.OciIndex,
);

class Source implements ImageSource {
  readonly name = 'src.example/apps/multi';
  async getManifest(reference: string): Promise<RawManifest> {
    await sleep(1);
    const found = reference === '1' ? index : children.find((c) => c.digest === reference);
    if (!found) throw new Error(`no manifest ${reference}`);
    return found;
  }
  async getBlob(desc: Descriptor): Promise<Readable> {
    return Readable.from([desc.digest === layer.digest ? layerBytes : configBytes]);
  }
}

/** One repository of a registry whose manifest PUTs rewrite links in place, as distribution's do. */
class RewritingRepository implements ImageDestination {
  readonly name = 'dst.example/del/apps/multi';
  readonly host = 'dst.example';
  readonly repository = 'del/apps/multi';
  readonly revisions = new Set<string>();
  readonly tags = new Map<string, string>();
  readonly blobs = new Set<string>();
  private readonly rewriting = new Map<string, number>();
  overlaps = 0;

  async manifestDigest(reference: string): Promise<string | undefined> {
    return this.tags.get(reference) ?? (this.readable(reference) ? reference : undefined);
  }
  async putManifest(m: RawManifest, reference: string): Promise<void> {
    if ((this.rewriting.get(m.digest) ?? 0) > 0) this.overlaps++;
    this.rewriting.set(m.digest, (this.rewriting.get(m.digest) ?? 0) + 1);
    try {
      await sleep(2);
      const view = viewManifest(m, this.name);
      if (view.kind === 'index') {
        const missing = view.manifests.filter((c) => !this.readable(c.digest));
        if (missing.length > 0) throw new Error(`MANIFEST_BLOB_UNKNOWN: ${missing.map((c) => c.digest).join(', ')}`);
      }
      this.revisions.add(m.digest);
      if (reference !== m.digest) this.tags.set(reference, m.digest);
      await sleep(1);
    } finally {
      this.rewriting.set(m.digest, this.rewriting.get(m.digest)! - 1);
    }
  }
  async hasBlob(desc: Descriptor): Promise<boolean> {
    return this.blobs.has(desc.digest);
  }
  async putBlob(desc: Descriptor, body: Readable): Promise<void> {
    for await (const _ of body);
    this.blobs.add(desc.digest);
  }
  private readable(digest: string): boolean {
    return this.revisions.has(digest) && !this.rewriting.get(digest);
  }
}

function task(source: string, destination: string): CopyTask {
  return { source, destination, kind: 'generic', origin: 'additional' };
}

describe('manifest PUT ordering', () => {
  test('an index and its children mirrored as separate images of one run never meet a link mid-rewrite', async () => {
    const dst = new RewritingRepository();
    const endpoints: Endpoints = {
      source: (_: ImageReference) => new Source(),
      destination: (_: ImageReference) => dst,
    };
    const tasks = [
      task('src.example/apps/multi:1', 'dst.example/del/apps/multi:1'),
      ...children.map((c) => task(`src.example/apps/multi@${c.digest}`, `dst.example/del/apps/multi:${c.digest.replace(':', '-')}`)),
    ];
    const engine = new CopyEngine(endpoints, { parallelImages: 4, parallelLayers: 4, imageTimeoutMs: 10_000, retryTimes: 0, retryDelayMs: 0 });
    const outcomes = await engine.run(tasks);
    assert.deepEqual(
      outcomes.map((o) => (o.ok ? 'ok' : o.error)),
      tasks.map(() => 'ok'),
    );
    assert.equal(dst.overlaps, 0);
    assert.equal(dst.tags.get('1'), index.digest);
    for (const c of children) assert.equal(dst.tags.get(c.digest.replace(':', '-')), c.digest);
  });

  test('PUTs of one manifest run one at a time; a PUT by digest after a success is skipped, by tag it is not', async () => {
    const puts = new ManifestPuts();
    const log: string[] = [];
    const put = (name: string) => async () => {
      log.push(`${name} start`);
      await sleep(2);
      log.push(`${name} end`);
    };
    await Promise.all([puts.run('r', 'sha256:a', true, [], put('1')), puts.run('r', 'sha256:a', true, [], put('2')), puts.run('r', 'sha256:a', false, [], put('tag'))]);
    assert.deepEqual(log, ['1 start', '1 end', 'tag start', 'tag end']);
    assert.equal(puts.has('r', 'sha256:a'), true);
    assert.equal(puts.has('other', 'sha256:a'), false);
  });

  test('an index PUT waits for its children; a child PUT waits for an index PUT reading it; unrelated PUTs overlap', async () => {
    const puts = new ManifestPuts();
    const log: string[] = [];
    const put = (name: string, ms: number) => async () => {
      log.push(`${name} start`);
      await sleep(ms);
      log.push(`${name} end`);
    };
    const child = puts.run('r', 'sha256:c', true, [], put('child', 5));
    const other = puts.run('r', 'sha256:o', true, [], put('other', 1));
    const parent = puts.run('r', 'sha256:i', false, ['sha256:c'], put('index', 5));
    await sleep(7);
    const childByTag = puts.run('r', 'sha256:c', false, [], put('child tag', 1));
    await Promise.all([child, other, parent, childByTag]);
    assert.deepEqual(log, ['child start', 'other start', 'other end', 'child end', 'index start', 'index end', 'child tag start', 'child tag end']);
  });

  test('a failed PUT does not count as placed, and the next PUT by digest runs', async () => {
    const puts = new ManifestPuts();
    await assert.rejects(
      puts.run('r', 'sha256:a', true, [], async () => {
        throw new Error('refused');
      }),
      /refused/,
    );
    assert.equal(puts.has('r', 'sha256:a'), false);
    let ran = false;
    await puts.run('r', 'sha256:a', true, [], async () => {
      ran = true;
    });
    assert.equal(ran, true);
  });
});
