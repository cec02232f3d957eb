/**
 * Archive entries backed by files on disk: the store's blobs and link files, and working-dir.
 */
import { createReadStream, type Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ArchiveEntry } from './writer.js';

/**
 * A file as an entry of `size` bytes. Only the first `size` bytes are read, so a file that keeps
 * growing while archives are written (a log) is archived as it was when listed; one that shrank
 * makes the writer fail, since it yields fewer bytes than announced.
 */
export function fileEntry(name: string, path: string, size: number): ArchiveEntry {
  return {
    name,
    size,
    source: async () => (size === 0 ? Readable.from([]) : createReadStream(path, { start: 0, end: size - 1 })),
  };
}

/** Byte order, so the listing (and so the archives) do not depend on the locale. */
function byName(a: Dirent, b: Dirent): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * Every regular file under `dir`, as entries named `<tarPrefix>/<relative path>`, in a stable
 * order. Symbolic links and special files are not archived (oc-mirror archives regular files
 * only); they are returned in `skipped` so the caller can say so. A missing `dir` gives nothing.
 */
export async function directoryEntries(dir: string, tarPrefix: string): Promise<{ entries: ArchiveEntry[]; skipped: string[] }> {
  const entries: ArchiveEntry[] = [];
  const skipped: string[] = [];
  const walk = async (path: string, name: string): Promise<void> => {
    let children: Dirent[];
    try {
      children = await readdir(path, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && path === dir) return;
      throw err;
    }
    for (const child of children.sort(byName)) {
      const childPath = join(path, child.name);
      const childName = name === '' ? child.name : `${name}/${child.name}`;
      if (child.isDirectory()) await walk(childPath, childName);
      else if (child.isFile()) entries.push(fileEntry(childName, childPath, (await stat(childPath)).size));
      else skipped.push(childPath);
    }
  };
  await walk(dir, tarPrefix.replace(/^\/+|\/+$/g, ''));
  return { entries, skipped };
}
