import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { test } from 'node:test';
import { ArchiveError } from '../../src/archive/errors.js';
import { openArchives } from '../../src/archive/reader.js';
import { END_OF_ARCHIVE_BYTES, readTarIndex, tarEntrySize, TarWriter } from '../../src/archive/tar.js';
import { checkFreeSpace, planArchives, predictArchives, writeArchives, type ArchiveEntry } from '../../src/archive/writer.js';
import { OcMirrorError } from '../../src/errors.js';
import { LayoutSource } from '../../src/store/layout-source.js';
import { blobDataPath, layerLinkPath, revisionLinkPath, tagCurrentLinkPath } from '../../src/store/layout.js';

const MTIME = new Date('2025-01-31T12:00:00Z');

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'archive-test-'));
}

function bytesEntry(name: string, content: Buffer | string): ArchiveEntry {
  const data = Buffer.from(content);
  return { name, size: data.length, source: async () => Readable.from([data]) };
}

async function write(dir: string, entries: ArchiveEntry[], maxArchiveBytes = 1024 ** 3, strict = false) {
  return writeArchives({ outDir: dir, maxArchiveBytes, strict, mtime: MTIME, entries });
}

function archivesIn(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.startsWith('mirror_')).sort();
}

/** A tar header written field by field, independently of the codec under test. */
function rawHeader(f: { name: string; typeflag: string; size?: number; linkname?: string; prefix?: string }): Buffer {
  const b = Buffer.alloc(512);
  const octal = (off: number, width: number, n: number) => b.write(n.toString(8).padStart(width - 1, '0'), off, 'ascii');
  b.write(f.name, 0, 100, 'utf8');
  octal(100, 8, 0o644);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, f.size ?? 0);
  octal(136, 12, 0);
  b.write(f.typeflag, 156, 'ascii');
  if (f.linkname) b.write(f.linkname, 157, 100, 'utf8');
  b.write('ustar\0' + '00', 257, 'ascii');
  if (f.prefix) b.write(f.prefix, 345, 155, 'ascii');
  b.fill(' ', 148, 156);
  let sum = 0;
  for (const x of b) sum += x;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return b;
}

function rawFile(name: string, content: string, typeflag = '0'): Buffer {
  const data = Buffer.from(content);
  return Buffer.concat([rawHeader({ name, typeflag, size: data.length }), data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

/** `<len> key=value\n` with len counting itself, computed here independently of the codec. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  for (let digits = 1; ; digits++) {
    const length = body.length + digits;
    if (String(length).length === digits) return `${length}${body}`;
  }
}

function rawArchive(dir: string, ...parts: Buffer[]): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'mirror_000001.tar');
  writeFileSync(path, Buffer.concat([...parts, Buffer.alloc(1024)]));
  return path;
}

const LONG_SPLITTABLE = `working-dir/${'a'.repeat(60)}/${'b'.repeat(60)}/${'c'.repeat(40)}.json`; // > 100, fits prefix + name
const LONG_PAX = `working-dir/${Array.from({ length: 12 }, (_, i) => `segment-${i}-${'x'.repeat(20)}`).join('/')}/file`; // > 255
const ONE_LONG_COMPONENT = `working-dir/${'z'.repeat(150)}`; // > 100 with no usable '/'
const UNICODE = 'working-dir/catalogs/opérateur-é.yaml';

test('round trip: long, PAX and non-ASCII names, many entries, exact byte ranges', async () => {
  assert.ok(LONG_SPLITTABLE.length > 100 && LONG_SPLITTABLE.length < 255);
  assert.ok(LONG_PAX.length > 255);
  const dir = tmp();
  const odd = randomBytes(1234);
  const contents = new Map<string, Buffer>([
    [LONG_SPLITTABLE, Buffer.from('splittable')],
    [LONG_PAX, Buffer.from('pax named')],
    [ONE_LONG_COMPONENT, Buffer.from('one component')],
    [UNICODE, Buffer.from('unicode')],
    ['working-dir/empty', Buffer.alloc(0)],
    ['docker/registry/v2/blobs/sha256/aa/odd/data', odd],
    ['docker/registry/v2/blobs/sha256/bb/block/data', randomBytes(1024)],
  ]);
  for (let i = 0; i < 600; i++) contents.set(`docker/registry/v2/repositories/repo${i % 7}/_layers/sha256/${i}/link`, Buffer.from(`sha256:${String(i).padStart(64, '0')}`));
  const result = await write(dir, [...contents].map(([n, c]) => bytesEntry(n, c)));
  assert.equal(result.archives.length, 1);
  assert.deepEqual(result.warnings, []);

  const set = await openArchives(dir);
  assert.deepEqual(set.files(), [...contents.keys()].sort());
  for (const [name, content] of contents) {
    assert.equal(await set.size(name), content.length, name);
    assert.deepEqual(await set.readSmall(name), content, name);
    assert.deepEqual(await buffer((await set.open(name))!), content, name);
  }
  assert.equal(await set.size('docker/registry/v2/blobs/sha256/aa/odd/missing'), undefined);
  assert.equal(await set.open('nope'), undefined);
  assert.equal(await set.readSmall('nope'), undefined);
  assert.deepEqual(await set.list('docker/registry/v2/repositories'), ['repo0', 'repo1', 'repo2', 'repo3', 'repo4', 'repo5', 'repo6']);
  assert.deepEqual(await set.list('docker/registry/v2/repositories/'), await set.list('docker/registry/v2/repositories'));
  assert.deepEqual(await set.list(''), ['docker', 'working-dir']);
  assert.deepEqual(await set.list('absent'), []);
  assert.equal(set.files('working-dir').length, 5);
  assert.ok(set.files('working-dir').every((n) => n.startsWith('working-dir/')));
  assert.deepEqual(set.files('docker/registry/v2/blobs/sha256/aa'), ['docker/registry/v2/blobs/sha256/aa/odd/data']);

  // GNU tar reads what we write, PAX names included.
  const listed = execFileSync('tar', ['-tf', result.archives[0]!.path], { env: { ...process.env, LC_ALL: 'C.UTF-8' } }).toString().trim().split('\n');
  assert.deepEqual(listed.sort(), [...contents.keys()].sort());
  const out = join(dir, 'x');
  mkdirSync(out);
  execFileSync('tar', ['-xf', result.archives[0]!.path, '-C', out], { env: { ...process.env, LC_ALL: 'C.UTF-8' } });
  assert.equal(readFileSync(join(out, LONG_PAX), 'utf8'), 'pax named');
  assert.equal(readFileSync(join(out, UNICODE), 'utf8'), 'unicode');
  assert.deepEqual(readFileSync(join(out, 'docker/registry/v2/blobs/sha256/aa/odd/data')), odd);
});

test('tarEntrySize predicts headers, PAX headers and padding exactly', async () => {
  assert.equal(tarEntrySize('a', 0), 512);
  assert.equal(tarEntrySize('a', 1), 1024);
  assert.equal(tarEntrySize('a', 512), 1024);
  assert.equal(tarEntrySize(LONG_SPLITTABLE, 10), 1024);
  assert.ok(tarEntrySize(LONG_PAX, 10) >= 2048);
  // beyond 8 GiB the size goes into a PAX record
  assert.equal(tarEntrySize('a', 8 * 1024 ** 3 - 1), 512 + 8 * 1024 ** 3);
  assert.equal(tarEntrySize('a', 8 * 1024 ** 3), 1024 + 512 + 8 * 1024 ** 3);

  const dir = tmp();
  const path = join(dir, 't.tar');
  const file = await open(path, 'w');
  const tar = new TarWriter(file, MTIME);
  let expected = END_OF_ARCHIVE_BYTES;
  for (const [name, size] of [[LONG_PAX, 700], [UNICODE, 0], [ONE_LONG_COMPONENT, 512], ['x', 1]] as const) {
    await tar.addFile(name, size, Readable.from([Buffer.alloc(size, 7)]));
    expected += tarEntrySize(name, size);
  }
  await tar.addDirectory(`working-dir/${'d'.repeat(120)}`);
  expected += tarEntrySize(`working-dir/${'d'.repeat(120)}`, 0, 'directory');
  await tar.finish();
  await file.close();
  assert.equal(statSync(path).size, expected);
  assert.equal(tar.bytesWritten, expected);
});

test('later archives win over earlier ones for the same path', async () => {
  const first = tmp();
  const second = tmp();
  await write(first, [bytesEntry('working-dir/state.json', 'old state, longer'), bytesEntry('working-dir/only-first', 'first')]);
  await write(second, [bytesEntry('working-dir/state.json', 'new'), bytesEntry('working-dir/only-second', 'second')]);
  copyFileSync(join(second, 'mirror_000001.tar'), join(first, 'mirror_000002.tar'));
  const set = await openArchives(first);
  assert.deepEqual(set.archives.map((a) => a.slice(first.length + 1)), ['mirror_000001.tar', 'mirror_000002.tar']);
  assert.equal((await set.readSmall('working-dir/state.json'))!.toString(), 'new');
  assert.equal(await set.size('working-dir/state.json'), 3);
  assert.equal((await set.readSmall('working-dir/only-first'))!.toString(), 'first');
  assert.equal((await set.readSmall('working-dir/only-second'))!.toString(), 'second');
  assert.equal(set.locate('working-dir/only-first')!.archive, join(first, 'mirror_000001.tar'));
});

test('archives split at exact tar byte boundaries, and predictions match the files', async () => {
  const dir = tmp();
  const entries = Array.from({ length: 7 }, (_, i) => bytesEntry(`docker/registry/v2/blobs/sha256/0${i}/blob${i}/data`, randomBytes(1000)));
  const one = tarEntrySize(entries[0]!.name, 1000);
  const limit = END_OF_ARCHIVE_BYTES + 3 * one; // exactly three entries per archive
  const result = await write(dir, entries, limit);
  assert.deepEqual(archivesIn(dir), ['mirror_000001.tar', 'mirror_000002.tar', 'mirror_000003.tar']);
  assert.deepEqual(result.archives.map((a) => a.bytes), [limit, limit, END_OF_ARCHIVE_BYTES + one]);
  assert.deepEqual(result.archives.map((a) => statSync(a.path).size), [limit, limit, END_OF_ARCHIVE_BYTES + one]);
  assert.deepEqual(predictArchives(entries, limit), result.archives.map((a) => a.bytes));

  // one byte less and only two fit
  assert.deepEqual(predictArchives(entries, limit - 1).length, 4);
  const set = await openArchives(dir);
  assert.equal(set.files().length, 7);
});

test('random sizes: every archive within the limit, everything readable, predictions exact', async () => {
  const dir = tmp();
  let seed = 42;
  const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  const entries = Array.from({ length: 200 }, (_, i) => bytesEntry(`working-dir/r/${'n'.repeat(rand(250))}${i}`, randomBytes(rand(5000))));
  const limit = 64 * 1024;
  const predicted = planArchives(entries, limit);
  const result = await write(dir, entries, limit);
  assert.ok(result.archives.length > 5);
  for (const a of result.archives) assert.ok(statSync(a.path).size <= limit, a.path);
  assert.deepEqual(predicted.map((p) => p.bytes), result.archives.map((a) => statSync(a.path).size));
  assert.equal(predicted.reduce((n, p) => n + p.entries, 0), 200);
  const set = await openArchives(dir);
  for (const e of entries) assert.equal(await set.size(e.name), e.size);
});

test('strict mode: an entry larger than the limit fails before writing, on one line', async () => {
  const dir = tmp();
  writeFileSync(join(dir, 'mirror_000001.tar'), 'previous run');
  const entries = [bytesEntry('working-dir/small', 'x'), bytesEntry('docker/registry/v2/blobs/sha256/ab/big/data', randomBytes(5000))];
  await assert.rejects(write(dir, entries, 4096, true), (e: Error) => {
    assert.ok(e instanceof ArchiveError && e instanceof OcMirrorError);
    assert.ok(!e.message.includes('\n'));
    assert.match(e.message, /^maxArchiveSize 0\.\d+G is too small compared to sizes of files that need to be included in the archive\. docker\/registry\/v2\/blobs\/sha256\/ab\/big\/data: 0\.\d+G .* Aborting archive generation$/);
    return true;
  });
  assert.equal(readFileSync(join(dir, 'mirror_000001.tar'), 'utf8'), 'previous run');
});

test('permissive mode: an oversized entry goes alone into the next archive, with a warning', async () => {
  const dir = tmp();
  const small = (i: number) => bytesEntry(`working-dir/s${i}`, 'small');
  const big = bytesEntry('docker/registry/v2/blobs/sha256/ab/big/data', randomBytes(5000));
  const limit = END_OF_ARCHIVE_BYTES + 3 * tarEntrySize('working-dir/s0', 5);
  const result = await write(dir, [small(0), big, small(1), small(2), small(3)], limit);
  assert.deepEqual(archivesIn(dir), ['mirror_000001.tar', 'mirror_000002.tar', 'mirror_000003.tar']);
  const index = async (n: number) => {
    const file = await open(join(dir, `mirror_00000${n}.tar`));
    try {
      return (await readTarIndex(file, 'x')).map((e) => e.name);
    } finally {
      await file.close();
    }
  };
  // numbering interleaves as in oc-mirror: the current archive stays open around the oversized one
  assert.deepEqual(await index(1), ['working-dir/s0', 'working-dir/s1', 'working-dir/s2']);
  assert.deepEqual(await index(2), [big.name]);
  assert.deepEqual(await index(3), ['working-dir/s3']);
  assert.equal(result.warnings.length, 1);
  assert.match(result.warnings[0]!, /^1 file is larger than archiveSize [0-9.]+G and was written alone into its own archive: docker\/registry\/v2\/blobs\/sha256\/ab\/big\/data \([0-9.]+G, in mirror_000002\.tar\); set archiveSize to at least 1 /);
  for (const a of result.archives) if (!a.path.endsWith('mirror_000002.tar')) assert.ok(a.bytes <= limit);
});

test('same input gives identical bytes', async () => {
  const content = randomBytes(3000);
  const make = async () => {
    const dir = tmp();
    await write(dir, [bytesEntry(LONG_PAX, content), bytesEntry('working-dir/a', 'a'), bytesEntry(UNICODE, 'u')], 8192);
    return archivesIn(dir).map((n) => readFileSync(join(dir, n)));
  };
  const [a, b] = [await make(), await make()];
  assert.equal(a.length, b.length);
  a.forEach((x, i) => assert.ok(x.equals(b[i]!)));
});

test('past archives are removed; a stream of the wrong length aborts and leaves no archive', async () => {
  const dir = tmp();
  writeFileSync(join(dir, 'mirror_000009.tar'), 'stale');
  writeFileSync(join(dir, 'mirror_000003.tar.partial'), 'crashed');
  writeFileSync(join(dir, 'keep.txt'), 'not an archive');
  await write(dir, [bytesEntry('working-dir/a', 'a')]);
  assert.deepEqual(readdirSync(dir).sort(), ['keep.txt', 'mirror_000001.tar']);

  const short: ArchiveEntry = { name: 'working-dir/short', size: 10, source: async () => Readable.from([Buffer.from('12345')]) };
  const long: ArchiveEntry = { name: 'working-dir/long', size: 3, source: async () => Readable.from([Buffer.from('12345')]) };
  const limit = END_OF_ARCHIVE_BYTES + 2 * 1024;
  const fine = [bytesEntry('working-dir/1', '1'), bytesEntry('working-dir/2', '2')]; // fills the first archive
  await assert.rejects(write(dir, [...fine, short], limit), (e: Error) => e instanceof ArchiveError && /"working-dir\/short" into mirror_000002\.tar: .*5 of the 10 bytes/.test(e.message));
  assert.deepEqual(readdirSync(dir).sort(), ['keep.txt']);
  await assert.rejects(write(dir, [long], limit), /"working-dir\/long".*longer than the 3 bytes/);
  const text: ArchiveEntry = { name: 'working-dir/text', size: 4, source: async () => Readable.from(['é', 'é']) };
  await write(dir, [text]);
  assert.equal((await (await openArchives(dir)).readSmall('working-dir/text'))!.toString(), 'éé');
  const failing: ArchiveEntry = { name: 'working-dir/gone', size: 3, source: async () => { throw new Error('ENOENT: gone'); } };
  await assert.rejects(write(dir, [failing]), /writing "working-dir\/gone" into mirror_000001\.tar: ENOENT: gone/);
  assert.deepEqual(readdirSync(dir).sort(), ['keep.txt']);
  const progress: number[] = [];
  await writeArchives({ outDir: dir, maxArchiveBytes: 4096, strict: false, mtime: MTIME, entries: fine, onProgress: (p) => progress.push(p.writtenBytes) });
  assert.equal(progress.at(-1), predictArchives(fine, 4096).reduce((a, b) => a + b, 0));
});

test('entry names are checked before writing', async () => {
  const dir = tmp();
  for (const name of ['/abs', 'a/../b', 'a//b', './a', 'a/', '']) {
    await assert.rejects(write(dir, [bytesEntry(name, 'x')]), ArchiveError, name);
  }
  await assert.rejects(write(dir, [bytesEntry('a', 'x'), bytesEntry('a', 'y')]), /listed twice/);
  assert.throws(() => predictArchives([{ name: 'a', size: 1 }], 0), /invalid maximum archive size/);
});

test('free space is checked before writing', async () => {
  await checkFreeSpace(tmpdir(), 1);
  await assert.rejects(checkFreeSpace(tmpdir(), 2 ** 52), /not enough free space in ".*" for the archives: they need 4503599627370496 bytes/);
});

test('no archives, an empty archive and something that is not tar are refused', async () => {
  const dir = tmp();
  writeFileSync(join(dir, 'mirror_1.tar'), 'wrong name');
  await assert.rejects(openArchives(dir), (e: Error) => e instanceof ArchiveError && e.message === `no tar archives matching "mirror_[0-9]{6}\\.tar" found in "${dir}"`);
  writeFileSync(join(dir, 'mirror_000001.tar'), '');
  await assert.rejects(openArchives(dir), new RegExp(`archive ".*mirror_000001\\.tar" is empty`));
  writeFileSync(join(dir, 'mirror_000001.tar'), Buffer.alloc(1024, 'a'));
  await assert.rejects(openArchives(dir), /mirror_000001\.tar": invalid tar header at offset 0/);
  await assert.rejects(openArchives(join(dir, 'absent')), /cannot list archives in/);
});

test('unsafe entries refuse the whole set, naming archive and entry', async () => {
  const cases: [string, Buffer, RegExp][] = [
    ['dotdot', rawFile('docker/../../etc/passwd', 'x'), /entry "docker\/\.\.\/\.\.\/etc\/passwd" has a "\.\." path component/],
    ['absolute', rawFile('/etc/passwd', 'x'), /entry "\/etc\/passwd" has an absolute path/],
    ['chardev', rawHeader({ name: 'working-dir/null', typeflag: '3' }), /entry "working-dir\/null" is a character device/],
    ['blockdev', rawHeader({ name: 'working-dir/sda', typeflag: '4' }), /is a block device/],
    ['fifo', rawHeader({ name: 'working-dir/pipe', typeflag: '6' }), /is a FIFO/],
    ['symlink', rawHeader({ name: 'working-dir/l', typeflag: '2', linkname: '/etc' }), /entry "working-dir\/l" is a symbolic link to "\/etc"/],
    ['hardlink', rawHeader({ name: 'working-dir/h', typeflag: '1', linkname: 'working-dir/a' }), /is a hard link/],
    ['sparse', rawFile('working-dir/s', 'x', 'S'), /tar type 'S'/],
    ['pax dotdot', Buffer.concat([rawFile('PaxHeaders/x', paxRecord('path', '../../outside'), 'x'), rawFile('innocent', 'x')]), /entry "\.\.\/\.\.\/outside" has a "\.\." path component/],
    ['gnu long dotdot', Buffer.concat([rawFile('././@LongLink', '../evil\0', 'L'), rawFile('innocent', 'x')]), /entry "\.\.\/evil"/],
  ];
  for (const [what, bad, message] of cases) {
    const dir = tmp();
    await write(dir, [bytesEntry('working-dir/a', 'fine')]); // a good first archive does not save the set
    const path = join(dir, 'mirror_000002.tar');
    writeFileSync(path, Buffer.concat([rawFile('working-dir/b', 'fine'), bad, Buffer.alloc(1024)]));
    await assert.rejects(openArchives(dir), (e: Error) => {
      assert.ok(e instanceof ArchiveError, what);
      assert.match(e.message, new RegExp(`^archive "${path.replace(/[.]/g, '\\.')}": `), what);
      assert.match(e.message, message, what);
      return true;
    });
  }
});

test('links made by GNU tar are refused', async () => {
  const src = tmp();
  mkdirSync(join(src, 'working-dir'));
  writeFileSync(join(src, 'working-dir/a'), 'a');
  symlinkSync('/etc/passwd', join(src, 'working-dir/evil'));
  const dir = tmp();
  execFileSync('tar', ['-cf', join(dir, 'mirror_000001.tar'), '-C', src, 'working-dir']);
  await assert.rejects(openArchives(dir), /entry "working-dir\/evil" is a symbolic link to "\/etc\/passwd"/);

  const src2 = tmp();
  mkdirSync(join(src2, 'working-dir'));
  writeFileSync(join(src2, 'working-dir/a'), 'a');
  linkSync(join(src2, 'working-dir/a'), join(src2, 'working-dir/b'));
  const dir2 = tmp();
  execFileSync('tar', ['-cf', join(dir2, 'mirror_000001.tar'), '-C', src2, 'working-dir']);
  await assert.rejects(openArchives(dir2), /entry "working-dir\/[ab]" is a hard link to "working-dir\/[ab]"/);
});

test('truncated archives are refused, naming the entry', async () => {
  const dir = tmp();
  const result = await write(dir, [bytesEntry('working-dir/a', 'a'), bytesEntry('docker/registry/v2/blobs/sha256/ab/cut/data', randomBytes(3000))]);
  truncateSync(result.archives[0]!.path, 1024 + 512 + 1000);
  await assert.rejects(openArchives(dir), /mirror_000001\.tar" is truncated: entry "docker\/registry\/v2\/blobs\/sha256\/ab\/cut\/data" needs 3000 bytes/);
  truncateSync(result.archives[0]!.path, 1024 + 300);
  await assert.rejects(openArchives(dir), /is truncated: a header at offset 1024 is cut/);
  // an archive cut exactly after an entry lost its end blocks: cut in transfer, refused
  truncateSync(result.archives[0]!.path, 1024);
  await assert.rejects(openArchives(dir), /is truncated: it ends at offset 1024 without the end-of-archive blocks/);

  const dir2 = tmp();
  writeFileSync(join(dir2, 'mirror_000001.tar'), rawFile('PaxHeaders/x', paxRecord('path', 'working-dir/abcde'), 'x'));
  await assert.rejects(openArchives(dir2), /ends after an extended header/);
});

test('PAX size and path records override the ustar fields', async () => {
  const dir = tmp();
  rawArchive(
    dir,
    rawFile('PaxHeaders/x', paxRecord('size', '300') + paxRecord('path', 'working-dir/from-pax'), 'x'),
    rawHeader({ name: 'cut-name', typeflag: '0', size: 0 }),
    Buffer.alloc(512, 'p'),
    rawFile('working-dir/after', 'after'),
  );
  const set = await openArchives(dir);
  assert.deepEqual(set.files(), ['working-dir/after', 'working-dir/from-pax']);
  assert.deepEqual(await set.readSmall('working-dir/from-pax'), Buffer.alloc(300, 'p'));
  assert.equal((await set.readSmall('working-dir/after'))!.toString(), 'after');
});

function treeWithLongNames(): { root: string; files: Map<string, string> } {
  const root = tmp();
  const files = new Map<string, string>([
    [`docker/registry/v2/repositories/${'deep/'.repeat(25)}repo/_manifests/tags/v1/current/link`, 'sha256:' + 'a'.repeat(64)],
    [`working-dir/${'long-component-'.repeat(12)}.json`, '{"x":1}'],
    ['working-dir/short', 'short'],
  ]);
  for (const [name, content] of files) {
    mkdirSync(join(root, name, '..'), { recursive: true });
    writeFileSync(join(root, name), content);
  }
  return { root, files };
}

for (const format of ['gnu', 'oldgnu', 'pax'] as const) {
  test(`reads an archive written by GNU tar (${format} format)`, async () => {
    const { root, files } = treeWithLongNames();
    const dir = tmp();
    execFileSync('tar', [`--format=${format}`, '-cf', join(dir, 'mirror_000001.tar'), '-C', root, 'docker', 'working-dir']);
    const set = await openArchives(dir);
    assert.deepEqual(set.files(), [...files.keys()].sort());
    for (const [name, content] of files) assert.equal((await set.readSmall(name))!.toString(), content);
    // directories tar recorded are listed even where no file sits directly below
    assert.deepEqual(await set.list('docker/registry/v2'), ['repositories']);
  });
}

test('an oc-mirror layout read in place serves images through LayoutSource', async () => {
  const sha = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');
  const layer = randomBytes(2000);
  const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(layer), size: layer.length }],
  }));
  const repo = 'openshift/release';
  const entries = [
    bytesEntry(tagCurrentLinkPath(repo, '4.18.1-x86_64'), sha(manifest)),
    bytesEntry(revisionLinkPath(repo, sha(manifest)), sha(manifest)),
    bytesEntry(layerLinkPath(repo, sha(layer)), sha(layer)),
    bytesEntry(layerLinkPath(repo, sha(config)), sha(config)),
    bytesEntry(blobDataPath(sha(manifest)), manifest),
    bytesEntry(blobDataPath(sha(config)), config),
    bytesEntry(blobDataPath(sha(layer)), layer),
    bytesEntry('working-dir/internal/oc-mirror-version.json', '{"gitVersion":"4.18"}'),
    bytesEntry('working-dir/.history/.history-2025-01-31T12:00:00Z', sha(layer) + '\n'),
    bytesEntry('isc_2025-01-31T12:00:00Z', 'kind: ImageSetConfiguration\n'),
  ];
  const dir = tmp();
  await write(dir, entries, 4096 + 2048); // several archives
  assert.ok(archivesIn(dir).length > 1);
  const set = await openArchives(dir);
  const source = new LayoutSource(set, repo, `archives in ${dir}`);
  const got = await source.getManifest('4.18.1-x86_64');
  assert.equal(got.digest, sha(manifest));
  const blob = await buffer(await source.getBlob({ mediaType: 'x', digest: sha(layer), size: layer.length }));
  assert.ok(blob.equals(layer));
  assert.deepEqual(await set.list('docker/registry/v2/repositories/openshift'), ['release']);
  assert.deepEqual(set.files('working-dir'), ['working-dir/.history/.history-2025-01-31T12:00:00Z', 'working-dir/internal/oc-mirror-version.json']);

  const out = tmp();
  assert.equal(await set.extractFiles('working-dir', out), 2);
  assert.equal(readFileSync(join(out, 'working-dir/internal/oc-mirror-version.json'), 'utf8'), '{"gitVersion":"4.18"}');
  assert.equal(await set.extractFile('isc_2025-01-31T12:00:00Z', join(out, 'isc.yaml')), 28);
  assert.equal(readFileSync(join(out, 'isc.yaml'), 'utf8'), 'kind: ImageSetConfiguration\n');
  await assert.rejects(set.extractFile('absent', join(out, 'x')), /no entry "absent" in the archives/);
});
