/**
 * Writes the mirror archives `mirror_000001.tar`, `mirror_000002.tar`, … (ref §4.3, §4.4).
 *
 * Splitting follows oc-mirror's next-fit rule (an entry goes to the current archive if it fits,
 * otherwise a new one is started; an entry that fits in no archive goes alone into its own, which
 * takes the next number while the current archive stays open), but counts the real tar bytes,
 * headers, padding and end blocks included, so every archive but a lone oversized entry really is
 * within archiveSize. `planArchives` gives the exact sizes, strict mode fails before the first
 * byte, and free space is checked up front (§15 item 18).
 *
 * The layout is fixed before any content is written: where each header and each entry's data go
 * follows from the names and sizes alone. So content may arrive in any order and from anyone:
 * known bytes (links, manifests) are written when the archives are opened, a blob's bytes can be
 * written by whoever downloads it while it downloads (`claim`), and what nobody wrote is filled
 * from its source at `finish` (sources verify what they read). The same entries
 * always give the same bytes, whoever wrote them.
 *
 * Each archive is written as `<name>.partial`, durably (see ARCHIVE_FLAGS), and renamed, so a crash never leaves a truncated `mirror_*.tar`; when
 * writing fails, the archives of this run are removed, since a partial set would mislead the
 * disk-to-mirror side.
 */
import { mkdir, open, readdir, rename, rm, statfs, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { constants } from 'node:fs';
import type { Readable } from 'node:stream';
import { errorMessage } from '../errors.js';
import { writeFully } from '../write-fully.js';
import { ArchiveError } from './errors.js';
import { chunkBytes, END_OF_ARCHIVE_BYTES, fileHeaderBytes, paddingFor, tarEntrySize } from './tar.js';

export const GiB = 1024 ** 3;

export interface ArchiveEntry {
  /** path in the tar, relative, `/`-separated, e.g. `docker/registry/v2/blobs/sha256/ab/ab…/data` */
  name: string;
  /** bytes of content; checked while writing */
  size: number;
  /** the content when it is small and known now (links, manifests, reports): written at once */
  bytes?: Buffer;
  /** opens the content when it must be read (only then, so thousands of entries hold no open files) */
  source?: () => Promise<Readable>;
}

export interface ArchiveProgress {
  /** the archive written to last, e.g. `mirror_000002.tar` */
  archive: string;
  /** bytes of all archives written so far */
  writtenBytes: number;
  /** bytes of all archives once done */
  totalBytes: number;
}

export interface ArchivePlan {
  outDir: string;
  /** archiveSize GiB × 1024³ */
  maxArchiveBytes: number;
  /** --strict-archive: an entry that fits in no archive is an error instead of a warning */
  strict: boolean;
  /** the mtime of every entry, so the same content gives the same bytes */
  mtime: Date;
  entries: ArchiveEntry[];
  onProgress?: (progress: ArchiveProgress) => void;
}

export interface ArchiveResult {
  archives: { path: string; bytes: number }[];
  warnings: string[];
}

export interface PredictedArchive {
  /** file name, e.g. `mirror_000001.tar` */
  name: string;
  /** exact size of the file */
  bytes: number;
  entries: number;
  /** holds a single entry that is larger than the limit */
  oversized: boolean;
}

/** Where a claimed entry's content goes; see `ArchiveWriter.claim`. */
export interface EntrySink {
  /** Writes `chunks` at `offset` bytes into the entry's content. */
  write(chunks: Buffer[], offset: number): Promise<void>;
  /** Every byte was written and is verified: `finish` leaves the entry as it is. */
  complete(): void;
  /** The content is incomplete or unverified: `finish` fills the entry from its source. */
  release(): void;
}

type Sized = Pick<ArchiveEntry, 'name' | 'size'>;

export function archiveFileName(index: number): string {
  return `mirror_${String(index).padStart(6, '0')}.tar`;
}

/** A size in GiB as oc-mirror's messages show it: whole numbers plain, others with a few decimals. */
export function formatGiB(bytes: number): string {
  if (bytes % GiB === 0) return String(bytes / GiB);
  return (bytes / GiB).toFixed(bytes >= GiB / 100 ? 2 : 9).replace(/\.?0+$/, '');
}

function checkEntries(entries: readonly Sized[], seen = new Set<string>()): void {
  for (const e of entries) {
    const parts = e.name.split('/');
    if (e.name === '' || e.name.startsWith('/') || e.name.includes('\0') || parts.some((p) => p === '' || p === '.' || p === '..')) {
      throw new ArchiveError(`archive entry name "${e.name}" is not a clean relative path`);
    }
    if (!Number.isSafeInteger(e.size) || e.size < 0) throw new ArchiveError(`archive entry "${e.name}" has an invalid size ${e.size}`);
    if (seen.has(e.name)) throw new ArchiveError(`archive entry "${e.name}" is listed twice`);
    seen.add(e.name);
  }
}

function checkContent(entries: readonly ArchiveEntry[]): void {
  for (const e of entries) {
    if ((e.bytes === undefined) === (e.source === undefined)) throw new ArchiveError(`archive entry "${e.name}" needs either its bytes or a source`);
    if (e.bytes && e.bytes.length !== e.size) throw new ArchiveError(`archive entry "${e.name}": its ${e.bytes.length} bytes are not the ${e.size} announced`);
  }
}

function checkLimit(maxArchiveBytes: number): void {
  if (!Number.isSafeInteger(maxArchiveBytes) || maxArchiveBytes <= 0) throw new ArchiveError(`invalid maximum archive size ${maxArchiveBytes} bytes`);
}

interface Placement {
  name: string;
  /** bytes of its entries so far, end blocks not included */
  contentBytes: number;
  /** indexes of its entries, in writing order */
  members: number[];
  oversized: boolean;
}

/** Next-fit placement, one entry at a time, so entries known later continue where the others stopped. */
class Placer {
  readonly archives: Placement[] = [];
  private current: Placement | undefined;

  constructor(private readonly maxArchiveBytes: number) {}

  /** The archive the entry goes to, the offset of its first header there, and its bytes in all. */
  add(index: number, entry: Sized): { archive: Placement; offset: number; bytes: number } {
    const bytes = tarEntrySize(entry.name, entry.size);
    let archive: Placement;
    if (bytes + END_OF_ARCHIVE_BYTES > this.maxArchiveBytes) archive = this.open(true);
    else {
      if (!this.current || this.current.contentBytes + bytes + END_OF_ARCHIVE_BYTES > this.maxArchiveBytes) this.current = this.open(false);
      archive = this.current;
    }
    const offset = archive.contentBytes;
    archive.members.push(index);
    archive.contentBytes += bytes;
    return { archive, offset, bytes };
  }

  private open(oversized: boolean): Placement {
    const p: Placement = { name: archiveFileName(this.archives.length + 1), contentBytes: 0, members: [], oversized };
    this.archives.push(p);
    return p;
  }
}

/** The archives `writeArchives` would write for these entries: names, exact sizes, entry counts. */
export function planArchives(entries: readonly Sized[], maxArchiveBytes: number): PredictedArchive[] {
  checkLimit(maxArchiveBytes);
  checkEntries(entries);
  const placer = new Placer(maxArchiveBytes);
  entries.forEach((e, i) => placer.add(i, e));
  return placer.archives.map((p) => ({ name: p.name, bytes: p.contentBytes + END_OF_ARCHIVE_BYTES, entries: p.members.length, oversized: p.oversized }));
}

/** The exact byte sizes of the archives `writeArchives` would write, in order (for --dry-run). */
export function predictArchives(entries: readonly Sized[], maxArchiveBytes: number): number[] {
  return planArchives(entries, maxArchiveBytes).map((p) => p.bytes);
}

function oversizedMessage(entries: readonly Sized[], placements: Placement[], maxArchiveBytes: number, strict: boolean): string | undefined {
  const lone = placements.filter((p) => p.oversized);
  if (lone.length === 0) return undefined;
  const limit = formatGiB(maxArchiveBytes);
  const bytes = (p: Placement) => p.contentBytes + END_OF_ARCHIVE_BYTES;
  const sufficient = Math.ceil(Math.max(...lone.map(bytes)) / GiB);
  if (strict) {
    const p = lone[0]!;
    const e = entries[p.members[0]!]!;
    const more = lone.length > 1 ? ` (and ${lone.length - 1} more file${lone.length > 2 ? 's' : ''} too large; archiveSize ${sufficient} would hold them all)` : '';
    return `maxArchiveSize ${limit}G is too small compared to sizes of files that need to be included in the archive. `
      + `${e.name}: ${formatGiB(e.size)}G (an archive holding it alone needs ${bytes(p)} bytes)${more} Aborting archive generation`;
  }
  const list = lone.map((p) => {
    const e = entries[p.members[0]!]!;
    return `${e.name} (${formatGiB(e.size)}G, in ${p.name})`;
  });
  return `${lone.length} file${lone.length > 1 ? 's are' : ' is'} larger than archiveSize ${limit}G and ${lone.length > 1 ? 'were each' : 'was'} written alone into ${lone.length > 1 ? 'their own archives' : 'its own archive'}: `
    + `${list.join(', ')}; set archiveSize to at least ${sufficient} to keep every archive within the limit`;
}

/**
 * Deletes `mirror_*.tar` (and leftovers of interrupted writes) in `dir`, as oc-mirror does before
 * every mirror-to-disk run, dry runs included. Returns the deleted paths.
 */
export async function removePastArchives(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ArchiveError(`cannot list "${dir}" to remove past archives: ${errorMessage(err)}`);
  }
  const past = names.filter((n) => /^mirror_.*\.tar(\.partial)?$/.test(n)).map((n) => join(dir, n));
  for (const path of past) await rm(path, { force: true });
  return past;
}

/** Refuses to start writing what cannot fit: better now than after hours of writing. */
export async function checkFreeSpace(dir: string, neededBytes: number): Promise<void> {
  let available: number;
  try {
    const fs = await statfs(dir);
    available = fs.bavail * fs.bsize;
  } catch {
    return; // file systems that cannot tell: writing will tell
  }
  if (available < neededBytes) {
    throw new ArchiveError(`not enough free space in "${dir}" for the archives: they need ${neededBytes} bytes (${formatGiB(neededBytes)}G) and ${available} bytes (${formatGiB(available)}G) are available`);
  }
}

/**
 * What claimed entries write reaches the disk before the write returns (O_DSYNC): while blobs
 * stream in, the disk works beside the network instead of after it, and the final sync has little
 * left to do. Syncing in steps instead was measured slower (its flushes fight the store's own).
 * Headers and what `finish` fills go through a plain handle: small or sequential writes that the
 * final sync covers better.
 */
const STREAMED_CONTENT_FLAGS = constants.O_WRONLY | (constants.O_DSYNC ?? 0);
/** Content read from a source is gathered up to this many bytes per write system call. */
const FILL_WRITE_BYTES = 1024 * 1024;
/** Known bytes are gathered up to this many buffers per write system call. */
const SPAN_BUFFERS = 256;

interface ArchiveFile {
  placement: Placement;
  path: string;
  partial: string;
  handle: FileHandle;
  /** for the content claimed entries write; see STREAMED_CONTENT_FLAGS */
  streamed: FileHandle;
}

interface Slot {
  entry: ArchiveEntry;
  placement: Placement;
  /** set when its header is written, right after placing */
  file?: ArchiveFile;
  /** offset of the entry's content in its archive */
  dataOffset: number;
  state: 'open' | 'claimed' | 'done';
}

/** Archives whose layout is fixed: see the file comment. Use `ArchiveWriter.open`, then `finish` or `abandon`. */
export class ArchiveWriter {
  private readonly entries: ArchiveEntry[] = [];
  private readonly names = new Set<string>();
  private readonly slots = new Map<string, Slot>();
  private readonly files = new Map<Placement, ArchiveFile>();
  private readonly placer: Placer;
  private readonly inflight = new Set<Promise<void>>();
  private writtenBytes = 0;
  private totalBytes = 0;
  private closed = false;
  private finished = false;
  private abandoned = false;
  private finishing = false;

  private constructor(private readonly plan: ArchivePlan) {
    this.placer = new Placer(plan.maxArchiveBytes);
  }

  /**
   * Places every entry, fails if strict mode forbids the result or the space is lacking, creates
   * the `.partial` files and writes all headers and known bytes. Past archives are removed.
   */
  static async open(plan: ArchivePlan): Promise<ArchiveWriter> {
    checkLimit(plan.maxArchiveBytes);
    const writer = new ArchiveWriter(plan);
    const slots = writer.place(plan.entries);
    const oversized = oversizedMessage(writer.entries, writer.placer.archives, plan.maxArchiveBytes, plan.strict);
    if (oversized && plan.strict) throw new ArchiveError(oversized);
    try {
      await mkdir(plan.outDir, { recursive: true });
      await removePastArchives(plan.outDir);
      await checkFreeSpace(plan.outDir, writer.totalBytes);
      await writer.writeKnown(slots);
    } catch (err) {
      await writer.abandon();
      throw asArchiveError(err, plan.outDir);
    }
    return writer;
  }

  /**
   * Hands the writing of an entry's content to the caller (a download that can write the blob
   * here while it streams elsewhere). Undefined when the entry is not one to fill, or is already
   * claimed or written: then nothing is to be done, `finish` sees to it.
   */
  claim(name: string): EntrySink | undefined {
    const slot = this.slots.get(name);
    const file = slot?.file;
    if (!slot || !file || slot.state !== 'open' || this.finishing || this.closed) return undefined;
    slot.state = 'claimed';
    let ended = false;
    return {
      write: async (chunks, offset) => {
        const length = chunks.reduce((n, c) => n + c.length, 0);
        if (ended) throw new ArchiveError(`archive entry "${slot.entry.name}": written after its writer ended`);
        if (offset < 0 || offset + length > slot.entry.size) throw new ArchiveError(`archive entry "${slot.entry.name}": ${length} bytes at ${offset} overrun its ${slot.entry.size} bytes`);
        const done = this.writeAt(file, chunks, slot.dataOffset + offset, file.streamed);
        this.inflight.add(done);
        try {
          await done;
        } finally {
          this.inflight.delete(done);
        }
      },
      complete: () => {
        if (ended) return;
        ended = true;
        slot.state = 'done';
        // The padding after the content is a hole in the file: zeros, counted as written.
        this.writtenBytes += paddingFor(slot.entry.size);
      },
      release: () => {
        if (ended) return;
        ended = true;
        slot.state = 'open';
      },
    };
  }

  /**
   * Appends `tail` (entries known only now, like the run's report) after the others, fills every
   * entry no one wrote, ends and syncs each archive, and renames them into place.
   */
  async finish(tail: ArchiveEntry[] = []): Promise<ArchiveResult> {
    if (this.closed) throw new ArchiveError('the archives were already closed');
    this.finishing = true;
    try {
      await Promise.allSettled([...this.inflight]);
      await this.writeKnown(this.place(tail));
      const warning = oversizedMessage(this.entries, this.placer.archives, this.plan.maxArchiveBytes, false);
      for (const slot of this.slots.values()) if (slot.state !== 'done') await this.fill(slot);
      const files = [...this.files.values()];
      for (const file of files) {
        const end = file.placement.contentBytes;
        await this.writeAt(file, [Buffer.alloc(END_OF_ARCHIVE_BYTES)], end);
        await file.handle.datasync();
        const { size } = await file.handle.stat();
        if (size !== end + END_OF_ARCHIVE_BYTES) throw new ArchiveError(`${file.placement.name}: it has ${size} bytes where ${end + END_OF_ARCHIVE_BYTES} were planned`);
      }
      for (const file of files) {
        await file.streamed.close();
        await file.handle.close();
      }
      for (const file of files) await rename(file.partial, file.path);
      this.closed = true;
      this.finished = true;
      return {
        archives: files.map((f) => ({ path: f.path, bytes: f.placement.contentBytes + END_OF_ARCHIVE_BYTES })),
        warnings: warning ? [warning] : [],
      };
    } catch (err) {
      await this.abandon();
      throw asArchiveError(err, this.plan.outDir);
    }
  }

  /** Removes everything this writer wrote; nothing once `finish` succeeded. */
  async abandon(): Promise<void> {
    if (this.finished || this.abandoned) return;
    this.abandoned = true;
    this.closed = true;
    await Promise.allSettled([...this.inflight]);
    for (const file of this.files.values()) {
      await file.streamed.close().catch(() => undefined);
      await file.handle.close().catch(() => undefined);
      await rm(file.partial, { force: true });
      await rm(file.path, { force: true });
    }
  }

  /** Places entries after those placed before; their slots, in order. */
  private place(entries: ArchiveEntry[]): Slot[] {
    checkEntries(entries, this.names);
    checkContent(entries);
    return entries.map((entry) => {
      const { archive, offset, bytes } = this.placer.add(this.entries.push(entry) - 1, entry);
      this.totalBytes += bytes;
      if (archive.members.length === 1) this.totalBytes += END_OF_ARCHIVE_BYTES;
      // The content ends the entry, before its padding: headers take the rest.
      const dataOffset = offset + bytes - entry.size - paddingFor(entry.size);
      const slot: Slot = { entry, placement: archive, dataOffset, state: entry.bytes ? 'done' : 'open' };
      this.slots.set(entry.name, slot);
      return slot;
    });
  }

  /** Writes the headers of the slots' entries and the content of those whose bytes are known, in spans. */
  private async writeKnown(slots: Slot[]): Promise<void> {
    let span: { file: ArchiveFile; start: number; buffers: Buffer[]; end: number } | undefined;
    // Spans do not overlap: they are written all at once, a round trip to the disk for all.
    const writes: Promise<void>[] = [];
    const flush = () => {
      if (span?.buffers.length) writes.push(this.writeAt(span.file, span.buffers, span.start));
      span = undefined;
    };
    for (const slot of slots) {
      const { entry } = slot;
      const file = (slot.file = await this.fileOf(slot.placement));
      const header = fileHeaderBytes(entry.name, entry.size, this.plan.mtime);
      const start = slot.dataOffset - header.length;
      if (!span || span.file !== file || span.end !== start || span.buffers.length >= SPAN_BUFFERS) {
        flush();
        span = { file, start, buffers: [], end: start };
      }
      span.buffers.push(header);
      span.end += header.length;
      if (!entry.bytes) {
        // The content comes later; the padding after it is never written and reads as zeros.
        flush();
        continue;
      }
      span.buffers.push(entry.bytes);
      const padding = paddingFor(entry.size);
      if (padding) span.buffers.push(Buffer.alloc(padding));
      span.end += entry.size + padding;
    }
    flush();
    const failed = (await Promise.allSettled(writes)).find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** The archive file of a placement, created on first use. */
  private async fileOf(placement: Placement): Promise<ArchiveFile> {
    let file = this.files.get(placement);
    if (!file) {
      const path = join(this.plan.outDir, placement.name);
      const partial = `${path}.partial`;
      const handle = await open(partial, 'w');
      let streamed: FileHandle;
      try {
        streamed = await open(partial, STREAMED_CONTENT_FLAGS);
      } catch (err) {
        await handle.close();
        throw err;
      }
      file = { placement, path, partial, handle, streamed };
      this.files.set(placement, file);
    }
    return file;
  }

  /** Streams an entry's source into its place, verifying size and, when it has one, digest. */
  private async fill(slot: Slot): Promise<void> {
    const { entry } = slot;
    const file = slot.file!;
    let source: Readable | undefined;
    try {
      if (!entry.source) throw new ArchiveError('its content was never written');
      source = await entry.source();
      let seen = 0;
      let gathered: Buffer[] = [];
      let gatheredBytes = 0;
      const write = async () => {
        await this.writeAt(file, gathered, slot.dataOffset + seen - gatheredBytes);
        gathered = [];
        gatheredBytes = 0;
      };
      for await (const chunk of source as AsyncIterable<Uint8Array | string>) {
        const bytes = chunkBytes(chunk);
        seen += bytes.length;
        if (seen > entry.size) throw new ArchiveError(`its content is longer than the ${entry.size} bytes announced`);
        gathered.push(bytes);
        gatheredBytes += bytes.length;
        if (gatheredBytes >= FILL_WRITE_BYTES) await write();
      }
      if (seen !== entry.size) throw new ArchiveError(`its content has ${seen} of the ${entry.size} bytes announced`);
      const padding = paddingFor(entry.size);
      if (padding) gathered.push(Buffer.alloc(padding));
      if (gatheredBytes || padding) await write();
      slot.state = 'done';
    } catch (err) {
      source?.destroy();
      throw new ArchiveError(`writing "${entry.name}" into ${slot.placement.name}: ${errorMessage(err)}`);
    }
  }

  private async writeAt(file: ArchiveFile, buffers: Buffer[], position: number, handle = file.handle): Promise<void> {
    const length = await writeFully(handle, buffers, position);
    this.writtenBytes += length;
    this.plan.onProgress?.({ archive: file.placement.name, writtenBytes: this.writtenBytes, totalBytes: this.totalBytes });
  }
}

function asArchiveError(err: unknown, outDir: string): ArchiveError {
  if (err instanceof ArchiveError) return err;
  return new ArchiveError(`writing archives into "${outDir}": ${errorMessage(err)}`);
}

/** Writes archives whose content all comes from the entries themselves. */
export async function writeArchives(plan: ArchivePlan): Promise<ArchiveResult> {
  const writer = await ArchiveWriter.open(plan);
  return writer.finish();
}
