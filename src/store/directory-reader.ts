import { open, readdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, normalize, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { OcMirrorError } from '../errors.js';
import type { LayoutReader } from './layout.js';

/** Big reads: a blob is streamed in few large chunks rather than many 64 KiB ones. */
const BLOB_READ_CHUNK = 1024 * 1024;

/** Errors that mean "nothing there" for a path inside the layout. */
function isAbsent(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * A distribution layout in a directory of the local filesystem: `root` is the directory that
 * contains `docker/` (what docker-registry calls `rootdirectory`).
 */
export class DirectoryLayout implements LayoutReader {
  constructor(readonly root: string) {}

  /**
   * The absolute path of a layout path. Layout paths are built from repository names, tags and
   * digests that come from user input; refusing `..` and absolute paths here means no caller
   * can be tricked into reading or writing outside the layout.
   */
  resolve(path: string): string {
    const clean = normalize(path);
    if (isAbsolute(path) || clean === '..' || clean.startsWith(`..${sep}`)) {
      throw new OcMirrorError(`layout path "${path}" leaves the layout at ${this.root}`);
    }
    return join(this.root, clean);
  }

  async readSmall(path: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.resolve(path));
    } catch (err) {
      if (isAbsent(err) || (err as NodeJS.ErrnoException).code === 'EISDIR') return undefined;
      throw err;
    }
  }

  async size(path: string): Promise<number | undefined> {
    try {
      const st = await stat(this.resolve(path));
      return st.isFile() ? st.size : undefined;
    } catch (err) {
      if (isAbsent(err)) return undefined;
      throw err;
    }
  }

  /**
   * The file is opened before returning, so "absent" is an answer here rather than an error
   * event on the stream later.
   */
  async open(path: string): Promise<Readable | undefined> {
    let handle;
    try {
      handle = await open(this.resolve(path), 'r');
    } catch (err) {
      if (isAbsent(err)) return undefined;
      throw err;
    }
    if (!(await handle.stat()).isFile()) {
      await handle.close();
      return undefined;
    }
    return handle.createReadStream({ highWaterMark: BLOB_READ_CHUNK });
  }

  async list(dir: string): Promise<string[]> {
    try {
      return (await readdir(this.resolve(dir))).sort();
    } catch (err) {
      if (isAbsent(err)) return [];
      throw err;
    }
  }
}
