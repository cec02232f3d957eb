/**
 * Mirror archives read in place (ref §4.6, and §15 items 5 and 19): instead of extracting every
 * `mirror_NNNNNN.tar` into a cache before pushing, as oc-mirror does, the archives are indexed
 * from their headers and served as a distribution layout straight from the tar files. Archives
 * stack in name order: a later archive's copy of a path wins, so incremental archives apply on
 * top of earlier ones.
 *
 * Unsafe content refuses the whole set before anything is served or extracted: absolute names,
 * `..` components, and every entry type but regular files and directories.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { errorMessage } from '../errors.js';
import type { LayoutReader } from '../store/layout.js';
import { ArchiveError } from './errors.js';
import { readTarIndex, type TarEntry } from './tar.js';

export const ARCHIVE_NAME_PATTERN = /^mirror_[0-9]{6}\.tar$/;
/** readSmall is for link files and manifests; more than this is a caller's mistake or a hostile archive. */
const MAX_SMALL_BYTES = 64 * 1024 * 1024;

/** Where the bytes of one file are: which archive, from which offset, how many. */
export interface ArchivedFile {
  archive: string;
  offset: number;
  size: number;
}

const TYPE_WORDS: Record<TarEntry['type'], string> = {
  file: 'a regular file',
  directory: 'a directory',
  symlink: 'a symbolic link',
  hardlink: 'a hard link',
  'char-device': 'a character device',
  'block-device': 'a block device',
  fifo: 'a FIFO',
  other: 'an entry of an unsupported type',
};

/**
 * The entry's name as a clean relative path (no `.` or empty components, no trailing slash), or
 * '' for the archive root itself. Throws on anything that could escape the destination.
 */
function safeName(archive: string, entry: TarEntry): string {
  const refuse = (why: string) => new ArchiveError(`archive "${archive}": entry "${entry.name}" ${why}; refusing to read these archives`);
  if (entry.type !== 'file' && entry.type !== 'directory') {
    const detail = entry.type === 'other' ? ` (tar type '${entry.typeflag.replace(/\0/g, '\\0')}')` : entry.linkName ? ` to "${entry.linkName}"` : '';
    throw refuse(`is ${TYPE_WORDS[entry.type]}${detail}, and archives may hold only regular files and directories`);
  }
  if (entry.name.startsWith('/')) throw refuse('has an absolute path');
  if (entry.name.includes('\0')) throw refuse('has a NUL byte in its name');
  const parts = entry.name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw refuse('has a ".." path component');
  return parts.join('/');
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash === -1 ? '' : path.slice(0, slash);
}

function trimSlashes(path: string): string {
  return path.replace(/^\/+|\/+$/g, '');
}

export class ArchiveSet implements LayoutReader {
  private constructor(
    /** the directory the archives were found in */
    readonly dir: string,
    /** archive paths, in the order they stack */
    readonly archives: readonly string[],
    private readonly byPath: ReadonlyMap<string, ArchivedFile>,
    private readonly children: ReadonlyMap<string, ReadonlySet<string>>,
  ) {}

  /** Indexes every `mirror_NNNNNN.tar` in `dir`; see openArchives. */
  static async open(dir: string): Promise<ArchiveSet> {
    let names: string[];
    try {
      names = (await readdir(dir)).filter((n) => ARCHIVE_NAME_PATTERN.test(n)).sort();
    } catch (err) {
      throw new ArchiveError(`cannot list archives in "${dir}": ${errorMessage(err)}`);
    }
    if (names.length === 0) throw new ArchiveError(`no tar archives matching "mirror_[0-9]{6}\\.tar" found in "${dir}"`);
    const archives = names.map((n) => join(dir, n));
    const indexes = await Promise.all(archives.map((a) => indexArchive(a)));

    const byPath = new Map<string, ArchivedFile>();
    const children = new Map<string, Set<string>>();
    const addAncestors = (path: string) => {
      for (let p = path; p !== ''; p = parentOf(p)) {
        const parent = parentOf(p);
        const child = p.slice(parent === '' ? 0 : parent.length + 1);
        let set = children.get(parent);
        if (!set) children.set(parent, (set = new Set()));
        else if (set.has(child)) break; // its own ancestors were recorded with it
        set.add(child);
      }
    };
    indexes.forEach((entries, i) => {
      const archive = archives[i]!;
      for (const entry of entries) {
        const name = safeName(archive, entry);
        if (name === '') continue;
        addAncestors(name);
        if (entry.type === 'file') byPath.set(name, { archive, offset: entry.offset, size: entry.size });
      }
    });
    return new ArchiveSet(dir, archives, byPath, children);
  }

  /** Where a file's bytes are, or undefined when no archive holds it. */
  locate(path: string): ArchivedFile | undefined {
    return this.byPath.get(path);
  }

  async size(path: string): Promise<number | undefined> {
    return this.byPath.get(path)?.size;
  }

  async readSmall(path: string): Promise<Buffer | undefined> {
    const file = this.byPath.get(path);
    if (!file) return undefined;
    if (file.size > MAX_SMALL_BYTES) throw new ArchiveError(`archive "${file.archive}": entry "${path}" is ${file.size} bytes, too large to read whole`);
    const handle = await open(file.archive, 'r');
    try {
      const buffer = Buffer.alloc(file.size);
      const { bytesRead } = await handle.read(buffer, 0, file.size, file.offset);
      if (bytesRead !== file.size) throw new ArchiveError(`archive "${file.archive}": entry "${path}" was cut short (the archive changed after it was indexed?)`);
      return buffer;
    } finally {
      await handle.close();
    }
  }

  async open(path: string): Promise<Readable | undefined> {
    const file = this.byPath.get(path);
    if (!file) return undefined;
    if (file.size === 0) return Readable.from([]);
    return createReadStream(file.archive, { start: file.offset, end: file.offset + file.size - 1 });
  }

  async list(dir: string): Promise<string[]> {
    return [...(this.children.get(trimSlashes(dir)) ?? [])].sort();
  }

  /** Every file under `prefix` (a directory path; '' for all), sorted. */
  files(prefix = ''): string[] {
    const base = trimSlashes(prefix);
    const start = base === '' ? '' : `${base}/`;
    return [...this.byPath.keys()].filter((p) => p.startsWith(start)).sort();
  }

  /** Writes one file's content to `dest` (parents created); returns the bytes written. */
  async extractFile(name: string, dest: string): Promise<number> {
    const file = this.byPath.get(name);
    const source = await this.open(name);
    if (!file || !source) throw new ArchiveError(`no entry "${name}" in the archives in "${this.dir}"`);
    try {
      await mkdir(dirname(dest), { recursive: true });
      await pipeline(source, createWriteStream(dest));
    } catch (err) {
      throw new ArchiveError(`extracting "${name}" from "${file.archive}" to "${dest}": ${errorMessage(err)}`);
    }
    return file.size;
  }

  /**
   * Writes every file under `prefix` below `destRoot`, keeping archive paths (so
   * `working-dir/...` lands in `<destRoot>/working-dir/...`); returns how many files.
   * Entry names were checked when the set was opened, so none can land outside destRoot.
   */
  async extractFiles(prefix: string, destRoot: string): Promise<number> {
    const names = this.files(prefix);
    for (const name of names) await this.extractFile(name, join(destRoot, ...name.split('/')));
    return names.length;
  }
}

async function indexArchive(archive: string): Promise<TarEntry[]> {
  let handle;
  try {
    const info = await stat(archive);
    if (!info.isFile()) throw new ArchiveError(`archive "${archive}" is not a regular file`);
    if (info.size === 0) throw new ArchiveError(`archive "${archive}" is empty`);
    handle = await open(archive, 'r');
    return await readTarIndex(handle, archive);
  } catch (err) {
    if (err instanceof ArchiveError) throw err;
    throw new ArchiveError(`cannot read archive "${archive}": ${errorMessage(err)}`);
  } finally {
    await handle?.close();
  }
}

/**
 * Finds `mirror_NNNNNN.tar` in `dir` and indexes them without extracting anything. The result is
 * a LayoutReader over `docker/registry/v2/...` and gives access to `working-dir/...` metadata.
 */
export function openArchives(dir: string): Promise<ArchiveSet> {
  return ArchiveSet.open(dir);
}
