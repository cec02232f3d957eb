import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { OcMirrorError } from '../errors.js';
import type { LayoutReader } from '../store/layout.js';
import type { MetadataFiles } from './types.js';

/** Where metadata sits inside a mirror archive, as oc-mirror lays it out. */
export const ARCHIVE_WORKING_DIR = 'working-dir';

/** Metadata is not bulk: a file larger than this in an archive is refused rather than held in memory. */
const MAX_METADATA_BYTES = 1024 * 1024 * 1024;

function cleanPath(path: string): string {
  const clean = normalize(path).split(sep).join('/');
  if (isAbsolute(path) || clean === '..' || clean.startsWith('../') || clean === '.' || clean === '') {
    throw new OcMirrorError(`metadata path "${path}" is not a relative path inside working-dir`);
  }
  return clean;
}

/** Metadata in a working-dir on disk; remembers what this run wrote, for the archive. */
export class DirectoryMetadata implements MetadataFiles {
  private readonly writtenPaths = new Set<string>();

  constructor(readonly root: string) {}

  async read(path: string): Promise<Buffer | undefined> {
    try {
      return await readFile(join(this.root, cleanPath(path)));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
      throw err;
    }
  }

  async write(path: string, bytes: Buffer | string): Promise<void> {
    const clean = cleanPath(path);
    const file = join(this.root, clean);
    await mkdir(dirname(file), { recursive: true });
    // Rename into place: a reader (or a killed run) never sees half a file.
    const temp = `${file}.tmp-${process.pid}`;
    await writeFile(temp, bytes);
    await rename(temp, file);
    this.writtenPaths.add(clean);
  }

  async list(dir: string): Promise<string[]> {
    try {
      return (await readdir(join(this.root, cleanPath(dir)))).filter((n) => !n.includes('.tmp-')).sort();
    } catch {
      return [];
    }
  }

  /** paths written by this run, sorted */
  written(): string[] {
    return [...this.writtenPaths].sort();
  }
}

/**
 * Disk to mirror: metadata read from `working-dir/` inside the archives first (what mirror to
 * disk shipped), then from the local working-dir. Writes go to the local working-dir.
 */
export class ArchivedMetadata implements MetadataFiles {
  constructor(
    private readonly archives: LayoutReader,
    private readonly local: DirectoryMetadata,
  ) {}

  async read(path: string): Promise<Buffer | undefined> {
    const inArchive = `${ARCHIVE_WORKING_DIR}/${cleanPath(path)}`;
    const size = await this.archives.size(inArchive);
    if (size === undefined) return this.local.read(path);
    if (size > MAX_METADATA_BYTES) throw new OcMirrorError(`${inArchive} in the archives is ${size} bytes, more than metadata may be`);
    const stream = await this.archives.open(inArchive);
    if (!stream) return this.local.read(path);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  write(path: string, bytes: Buffer | string): Promise<void> {
    return this.local.write(path, bytes);
  }

  async list(dir: string): Promise<string[]> {
    const names = new Set([...(await this.archives.list(`${ARCHIVE_WORKING_DIR}/${cleanPath(dir)}`)), ...(await this.local.list(dir))]);
    return [...names].sort();
  }
}
