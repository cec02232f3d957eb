/**
 * Incremental archive history (ref §4.5): `working-dir/.history/.history-<RFC3339 UTC>`, one
 * blob digest per line. Each file is cumulative (the previous file's digests plus this run's), so
 * reading one file tells every blob shipped up to its time. `--since D` picks the newest file
 * strictly before D, so everything shipped on or after D is shipped again.
 */
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../errors.js';
import { isDigest } from '../image/digest.js';
import { ArchiveError } from './errors.js';

export const HISTORY_DIR = '.history';
const FILE_PREFIX = '.history-';
/** Go's time.RFC3339 (oc-mirror writes UTC, `Z`); offsets are accepted in case a file was made elsewhere. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** `.history-2025-01-31T12:00:00Z` for that instant: RFC3339 in UTC, whole seconds, as oc-mirror. */
export function historyFileName(now: Date): string {
  return `${FILE_PREFIX}${now.toISOString().replace(/\.\d{3}Z$/, 'Z')}`;
}

interface HistoryFile {
  path: string;
  time: number;
}

/** History files, oldest first; other files in the directory (our own temporaries) are ignored. */
async function historyFiles(workingDir: string): Promise<HistoryFile[]> {
  const dir = join(workingDir, HISTORY_DIR);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ArchiveError(`cannot read history in "${dir}": ${errorMessage(err)}`);
  }
  const files: HistoryFile[] = [];
  for (const name of names) {
    const stamp = name.startsWith(FILE_PREFIX) ? name.slice(FILE_PREFIX.length) : '';
    const time = RFC3339.test(stamp) ? Date.parse(stamp) : NaN;
    if (!Number.isNaN(time)) files.push({ path: join(dir, name), time });
  }
  return files.sort((a, b) => a.time - b.time || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

async function readDigests(path: string): Promise<Set<string>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ArchiveError(`cannot read history file "${path}": ${errorMessage(err)}`);
  }
  // A line that is not a digest is dropped: it can only make us ship more, never less.
  return new Set(text.split('\n').map((l) => l.trim()).filter(isDigest));
}

/**
 * The digests already shipped: from the newest history file, or with `since`, the newest whose
 * timestamp is strictly before it. Nothing found → an empty set (everything is shipped).
 */
export async function readHistory(workingDir: string, since?: Date): Promise<Set<string>> {
  const files = await historyFiles(workingDir);
  const eligible = since ? files.filter((f) => f.time < since.getTime()) : files;
  const chosen = eligible[eligible.length - 1];
  return chosen ? readDigests(chosen.path) : new Set();
}

/**
 * Writes a new history file holding the newest file's digests plus `digests`; returns its path.
 * Written to a temporary name and renamed, so a crash never leaves a short history (which would
 * silently drop blobs from the next incremental archive).
 */
export async function writeHistory(workingDir: string, digests: Iterable<string>, now: Date): Promise<string> {
  const all = await readHistory(workingDir);
  for (const d of digests) {
    if (!isDigest(d)) throw new ArchiveError(`history: "${d}" is not a digest`);
    all.add(d);
  }
  const dir = join(workingDir, HISTORY_DIR);
  const path = join(dir, historyFileName(now));
  const temporary = `${path}.partial`;
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(temporary, [...all].sort().map((d) => `${d}\n`).join(''));
    await rename(temporary, path);
  } catch (err) {
    throw new ArchiveError(`cannot write history file "${path}": ${errorMessage(err)}`);
  }
  return path;
}
