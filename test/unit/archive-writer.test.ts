import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { openArchives } from '../../src/archive/reader.js';
import { END_OF_ARCHIVE_BYTES } from '../../src/archive/tar.js';
import { ArchiveWriter, planArchives, writeArchives, type ArchiveEntry } from '../../src/archive/writer.js';

const MTIME = new Date('2025-01-31T12:00:00Z');

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'archive-writer-test-'));
}

/** Blob-like entries (content from a source) between link-like ones (bytes known). */
function entrySet(): { entries: ArchiveEntry[]; contents: Map<string, Buffer> } {
  const contents = new Map<string, Buffer>();
  const entries: ArchiveEntry[] = [];
  for (let i = 0; i < 6; i++) {
    const data = randomBytes(700 + i * 1500);
    const name = `docker/registry/v2/blobs/sha256/${i}/data`;
    contents.set(name, data);
    entries.push({ name, size: data.length, source: async () => Readable.from([data.subarray(0, 100), data.subarray(100)]) });
    const link = Buffer.from(`link ${i}`);
    contents.set(`docker/registry/v2/repositories/r/_layers/${i}/link`, link);
    entries.push({ name: `docker/registry/v2/repositories/r/_layers/${i}/link`, size: link.length, bytes: link });
  }
  return { entries, contents };
}

function archiveBytes(dir: string): Buffer[] {
  return readdirSync(dir).filter((n) => /^mirror_\d{6}\.tar$/.test(n)).sort().map((n) => readFileSync(join(dir, n)));
}

const tail = (): ArchiveEntry[] => [{ name: 'working-dir/logs/report.json', size: 3, bytes: Buffer.from('{}\n') }];

test('content written through claims, out of order and in pieces, gives the bytes of content filled from sources', async () => {
  for (const limit of [1024 ** 3, 6 * 1024]) {
    const { entries, contents } = entrySet();
    const reference = tmp();
    await writeArchives({ outDir: reference, maxArchiveBytes: limit, strict: false, mtime: MTIME, entries: [...entries, ...tail()] });

    const dir = tmp();
    const writer = await ArchiveWriter.open({ outDir: dir, maxArchiveBytes: limit, strict: false, mtime: MTIME, entries });
    // Every blob claimed, written back to front in two pieces, concurrently.
    await Promise.all(
      entries.filter((e) => e.source).reverse().map(async (e) => {
        const sink = writer.claim(e.name);
        assert.ok(sink, e.name);
        assert.equal(writer.claim(e.name), undefined, 'a claimed entry cannot be claimed again');
        const data = contents.get(e.name)!;
        const half = Math.floor(data.length / 2);
        await sink.write([data.subarray(half)], half);
        await sink.write([data.subarray(0, 10), data.subarray(10, half)], 0);
        sink.complete();
      }),
    );
    assert.equal(writer.claim(entries[1]!.name), undefined, 'entries with known bytes are not claimed');
    const result = await writer.finish(tail());
    const ours = archiveBytes(dir);
    const theirs = archiveBytes(reference);
    assert.equal(ours.length, theirs.length);
    assert.ok(ours.length >= (limit < 1024 ** 3 ? 2 : 1));
    ours.forEach((b, i) => assert.ok(b.equals(theirs[i]!), `archive ${i + 1} is byte-identical`));
    assert.deepEqual(result.archives.map((a) => a.bytes), planArchives([...entries, ...tail()], limit).map((p) => p.bytes));
    assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.partial')), []);
    const set = await openArchives(dir);
    for (const [name, data] of contents) assert.deepEqual(await set.readSmall(name), data, name);
  }
});

test('a claim released, or never completed, is filled from its source at finish; a write past the entry is refused', async () => {
  const { entries, contents } = entrySet();
  const dir = tmp();
  const writer = await ArchiveWriter.open({ outDir: dir, maxArchiveBytes: 1024 ** 3, strict: false, mtime: MTIME, entries });
  const [first, , second] = entries;
  const a = writer.claim(first!.name)!;
  await a.write([Buffer.alloc(50, 0xff)], 0); // garbage, as a download that failed its digest
  await assert.rejects(a.write([Buffer.alloc(10)], first!.size - 5), /overrun/);
  a.release();
  await assert.rejects(a.write([Buffer.alloc(1)], 0), /after its writer ended/);
  const b = writer.claim(second!.name)!;
  await b.write([Buffer.alloc(20, 0xee)], 0); // never completed nor released
  await writer.finish();
  assert.equal(writer.claim(first!.name), undefined, 'no claim after finish');
  const set = await openArchives(dir);
  for (const [name, data] of contents) assert.deepEqual(await set.readSmall(name), data, name);
});

test('abandon removes what was written; after a finish it removes nothing', async () => {
  const { entries } = entrySet();
  const dir = tmp();
  const writer = await ArchiveWriter.open({ outDir: dir, maxArchiveBytes: 1024 ** 3, strict: false, mtime: MTIME, entries });
  assert.deepEqual(readdirSync(dir), ['mirror_000001.tar.partial']);
  await writer.abandon();
  await writer.abandon();
  assert.deepEqual(readdirSync(dir), []);

  const done = await ArchiveWriter.open({ outDir: dir, maxArchiveBytes: 1024 ** 3, strict: false, mtime: MTIME, entries });
  await done.finish();
  await done.abandon();
  assert.ok(existsSync(join(dir, 'mirror_000001.tar')));
  await assert.rejects(done.finish(), /already closed/);
});

test('strict mode and bad entries fail at open, before any file exists', async () => {
  const dir = tmp();
  const big: ArchiveEntry = { name: 'docker/registry/v2/blobs/sha256/big/data', size: 10_000, source: async () => Readable.from([Buffer.alloc(10_000)]) };
  await assert.rejects(ArchiveWriter.open({ outDir: dir, maxArchiveBytes: 4096, strict: true, mtime: MTIME, entries: [big] }), /too small/);
  await assert.rejects(ArchiveWriter.open({ outDir: dir, maxArchiveBytes: 4096, strict: false, mtime: MTIME, entries: [{ name: 'a', size: 1 }] }), /needs either its bytes or a source/);
  await assert.rejects(ArchiveWriter.open({ outDir: dir, maxArchiveBytes: 4096, strict: false, mtime: MTIME, entries: [{ name: 'a', size: 2, bytes: Buffer.from('x') }] }), /1 bytes are not the 2 announced/);
  assert.deepEqual(readdirSync(dir), []);
  // a tail entry too large for any archive still goes alone into its own, with the warning
  const writer = await ArchiveWriter.open({ outDir: dir, maxArchiveBytes: 4096, strict: false, mtime: MTIME, entries: [{ name: 'a', size: 1, bytes: Buffer.from('a') }] });
  const result = await writer.finish([{ ...big }]);
  assert.equal(result.archives.length, 2);
  assert.equal(result.archives[1]!.bytes, 512 + 10_240 + END_OF_ARCHIVE_BYTES);
  assert.match(result.warnings[0] ?? '', /written alone into its own archive/);
});
