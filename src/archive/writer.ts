/**
 * Writes the mirror archives `mirror_000001.tar`, `mirror_000002.tar`, … (ref §4.3, §4.4).
 *
 * Splitting follows oc-mirror's next-fit rule (an entry goes to the current archive if it fits,
 * otherwise a new one is started; an entry that fits in no archive goes alone into its own, which
 * takes the next number while the current archive stays open), but counts the real tar bytes,
 * headers, padding and end blocks included, so every archive but a lone oversized entry really is
 * within archiveSize. Placement is computed before anything is written: `predictArchives` gives
 * the exact sizes, strict mode fails before the first byte, and free space is checked up front
 * (§15 item 18).
 *
 * Each archive is written as `<name>.partial`, synced and renamed, so a crash never leaves a
 * truncated `mirror_*.tar`; when writing fails, the archives of this run are removed, since a
 * partial set would mislead the disk-to-mirror side.
 */
import { mkdir, open, readdir, rename, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { errorMessage } from '../errors.js';
import { ArchiveError } from './errors.js';
import { END_OF_ARCHIVE_BYTES, TarWriter, tarEntrySize } from './tar.js';

export const GiB = 1024 ** 3;

export interface ArchiveEntry {
  /** path in the tar, relative, `/`-separated, e.g. `docker/registry/v2/blobs/sha256/ab/ab…/data` */
  name: string;
  /** bytes the source will yield; checked while writing */
  size: number;
  /** opened only when the entry is written, so thousands of entries hold no open files */
  source: () => Promise<Readable>;
}

export interface ArchiveProgress {
  /** the archive being written, e.g. `mirror_000002.tar` */
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

interface Placement extends PredictedArchive {
  /** indexes into the entries, in writing order */
  members: number[];
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

function checkEntries(entries: readonly Sized[]): void {
  const seen = new Set<string>();
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

function checkLimit(maxArchiveBytes: number): void {
  if (!Number.isSafeInteger(maxArchiveBytes) || maxArchiveBytes <= 0) throw new ArchiveError(`invalid maximum archive size ${maxArchiveBytes} bytes`);
}

/** Which entries go into which archive, numbered in the order the archives are opened. */
function place(entries: readonly Sized[], maxArchiveBytes: number): Placement[] {
  const placements: Placement[] = [];
  let current: Placement | undefined;
  const open = (oversized: boolean): Placement => {
    const p: Placement = { name: archiveFileName(placements.length + 1), bytes: END_OF_ARCHIVE_BYTES, entries: 0, oversized, members: [] };
    placements.push(p);
    return p;
  };
  entries.forEach((entry, i) => {
    const bytes = tarEntrySize(entry.name, entry.size);
    let target: Placement;
    if (bytes + END_OF_ARCHIVE_BYTES > maxArchiveBytes) target = open(true);
    else {
      if (!current || current.bytes + bytes > maxArchiveBytes) current = open(false);
      target = current;
    }
    target.members.push(i);
    target.entries++;
    target.bytes += bytes;
  });
  return placements;
}

/** The archives `writeArchives` would write for these entries: names, exact sizes, entry counts. */
export function planArchives(entries: readonly Sized[], maxArchiveBytes: number): PredictedArchive[] {
  checkLimit(maxArchiveBytes);
  checkEntries(entries);
  return place(entries, maxArchiveBytes).map(({ members: _members, ...p }) => p);
}

/** The exact byte sizes of the archives `writeArchives` would write, in order (for --dry-run). */
export function predictArchives(entries: readonly Sized[], maxArchiveBytes: number): number[] {
  return planArchives(entries, maxArchiveBytes).map((p) => p.bytes);
}

function oversizedMessages(entries: readonly Sized[], placements: Placement[], maxArchiveBytes: number, strict: boolean): string | undefined {
  const lone = placements.filter((p) => p.oversized);
  if (lone.length === 0) return undefined;
  const limit = formatGiB(maxArchiveBytes);
  const largest = Math.max(...lone.map((p) => p.bytes));
  const sufficient = Math.ceil(largest / GiB);
  if (strict) {
    const p = lone[0]!;
    const e = entries[p.members[0]!]!;
    const more = lone.length > 1 ? ` (and ${lone.length - 1} more file${lone.length > 2 ? 's' : ''} too large; archiveSize ${sufficient} would hold them all)` : '';
    return `maxArchiveSize ${limit}G is too small compared to sizes of files that need to be included in the archive. `
      + `${e.name}: ${formatGiB(e.size)}G (an archive holding it alone needs ${p.bytes} bytes)${more} Aborting archive generation`;
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

async function writeOne(path: string, placement: Placement, plan: ArchivePlan, onBytes: (n: number) => void): Promise<void> {
  const partial = `${path}.partial`;
  const file = await open(partial, 'w');
  try {
    const tar = new TarWriter(file, plan.mtime, onBytes);
    for (const i of placement.members) {
      const entry = plan.entries[i]!;
      let source: Readable | undefined;
      try {
        source = await entry.source();
        await tar.addFile(entry.name, entry.size, source);
      } catch (err) {
        source?.destroy();
        throw new ArchiveError(`writing "${entry.name}" into ${placement.name}: ${errorMessage(err)}`);
      }
    }
    await tar.finish();
    if (tar.bytesWritten !== placement.bytes) {
      throw new ArchiveError(`${placement.name}: wrote ${tar.bytesWritten} bytes where ${placement.bytes} were planned`);
    }
    await file.datasync();
  } catch (err) {
    await file.close().catch(() => undefined);
    await rm(partial, { force: true });
    throw err;
  }
  await file.close();
  await rename(partial, path);
}

export async function writeArchives(plan: ArchivePlan): Promise<ArchiveResult> {
  checkLimit(plan.maxArchiveBytes);
  checkEntries(plan.entries);
  const placements = place(plan.entries, plan.maxArchiveBytes);
  const oversized = oversizedMessages(plan.entries, placements, plan.maxArchiveBytes, plan.strict);
  if (oversized && plan.strict) throw new ArchiveError(oversized);

  await mkdir(plan.outDir, { recursive: true });
  await removePastArchives(plan.outDir);
  const totalBytes = placements.reduce((sum, p) => sum + p.bytes, 0);
  await checkFreeSpace(plan.outDir, totalBytes);

  const written: { path: string; bytes: number }[] = [];
  let writtenBytes = 0;
  try {
    for (const placement of placements) {
      const path = join(plan.outDir, placement.name);
      const onBytes = (n: number) => {
        writtenBytes += n;
        plan.onProgress?.({ archive: placement.name, writtenBytes, totalBytes });
      };
      await writeOne(path, placement, plan, onBytes);
      written.push({ path, bytes: placement.bytes });
    }
  } catch (err) {
    for (const { path } of written) await rm(path, { force: true });
    if (err instanceof ArchiveError) throw err;
    throw new ArchiveError(`writing archives into "${plan.outDir}": ${errorMessage(err)}`);
  }
  return { archives: written, warnings: oversized ? [oversized] : [] };
}
