/**
 * The local store kept in the Actions cache between runs of `pack`.
 *
 * Cache entries are immutable, limited in total size, evicted least recently used, and created at
 * most ~200 a minute; saveCache answers -1 alike for "that key exists", "quota reached" and "rate
 * limited". So the store is never saved as one entry that would have to be overwritten:
 * - blob data goes into *packs*, entries keyed by the digests they hold (the same blobs always
 *   make the same key, so a pack is saved once and then only restored);
 * - a small *index* entry lists the packs a run used, saved under a new key every run
 *   (`<prefix>-index-<config hash>-<run id>-<attempt>`) and restored by prefix: the newest index of
 *   the same configuration, else of any configuration with that prefix.
 * Only blob data travels (manifests are blobs too); repositories and tags are rebuilt by the copy,
 * which links blob data already in the store instead of downloading it again. Every restored blob
 * is checked against its digest before it enters the store. Nothing here fails the step: a cache
 * that refuses or is unreachable costs downloads, not the pack.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { copyFile, link, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as cache from '@actions/cache';
import { errorMessage } from '../errors.js';
import { isDigest } from '../image/digest.js';
import type { Logger } from '../log.js';
import { blobDataPath } from '../store/layout.js';
import { STORE_TEMP_DIR } from '../store/store.js';

/** Blob bytes per pack: big enough to keep the number of entries low, small enough to restore in pieces. */
export const PACK_BYTES = 1024 ** 3;

export interface PackEntry {
  key: string;
  blobs: { digest: string; size: number }[];
}

export interface StoreIndex {
  version: 1;
  packs: PackEntry[];
}

export interface StoreCacheOptions {
  /** cache-key-prefix */
  prefix: string;
  /** short hash of the configuration's content */
  configHash: string;
  /** the store root (the directory holding `docker/`) */
  storeRoot: string;
  /** where packs are staged: the same path on save and on restore, as the cache version is a hash of it */
  tempDir: string;
  env: NodeJS.ProcessEnv;
  log: Logger;
}

export interface RestoreResult {
  /** the index restored, undefined when none was found */
  index?: StoreIndex;
  indexKey?: string;
  packsRestored: number;
  blobsRestored: number;
}

export interface SaveResult {
  packsSaved: number;
  /** packs the cache already held (restored or saved by another job) */
  packsKept: number;
  /** packs the cache refused (quota, rate limit, a concurrent save) */
  packsRefused: number;
  indexKey?: string;
}

export function storeCacheAvailable(): boolean {
  try {
    return cache.isFeatureAvailable();
  } catch {
    return false;
  }
}

function indexPrefix(opts: StoreCacheOptions, withConfig: boolean): string {
  return `${opts.prefix}-index-${withConfig ? `${opts.configHash}-` : ''}`;
}

const indexDir = (opts: StoreCacheOptions): string => join(opts.tempDir, 'oc-mirror-cache-index');
const packDir = (opts: StoreCacheOptions): string => join(opts.tempDir, 'oc-mirror-cache-pack');

/** Restores the newest index and the packs it lists whose blobs the store lacks. */
export async function restoreStore(opts: StoreCacheOptions): Promise<RestoreResult> {
  const result: RestoreResult = { packsRestored: 0, blobsRestored: 0 };
  const dir = indexDir(opts);
  await rm(dir, { recursive: true, force: true });
  const indexKey = await quietly(opts.log, 'restoring the store index from the Actions cache', () =>
    cache.restoreCache([dir], indexPrefix(opts, true), [indexPrefix(opts, false)]),
  );
  if (!indexKey) {
    opts.log.info('store cache: no index found, starting from an empty store');
    return result;
  }
  const index = parseIndex(await readFile(join(dir, 'index.json'), 'utf8').catch(() => ''));
  await rm(dir, { recursive: true, force: true });
  if (!index) {
    opts.log.warn(`store cache: the index ${indexKey} is unreadable; starting from an empty store`);
    return result;
  }
  result.index = index;
  result.indexKey = indexKey;
  for (const pack of index.packs) {
    const missing = await missingBlobs(opts.storeRoot, pack.blobs);
    if (missing.length === 0) continue;
    const staged = packDir(opts);
    await rm(staged, { recursive: true, force: true });
    const hit = await quietly(opts.log, `restoring ${pack.key}`, () => cache.restoreCache([staged], pack.key));
    if (hit !== pack.key) {
      opts.log.info(`store cache: ${pack.key} is gone from the cache (evicted); its ${missing.length} blobs will be downloaded`);
      continue;
    }
    result.packsRestored++;
    for (const blob of missing) {
      if (await adoptBlob(opts.storeRoot, join(staged, packPath(blob.digest)), blob, opts.log)) result.blobsRestored++;
    }
    await rm(staged, { recursive: true, force: true });
  }
  opts.log.info(`store cache: index ${indexKey}, ${result.packsRestored} pack(s) restored, ${result.blobsRestored} blobs`);
  return result;
}

/**
 * Saves what this run used: packs of the restored index that hold any used blob are kept as they
 * are; used blobs in none of them go into new packs. The index is saved when its packs changed.
 */
export async function saveStore(
  opts: StoreCacheOptions,
  restored: RestoreResult,
  used: ReadonlyMap<string, number>,
): Promise<SaveResult> {
  const result: SaveResult = { packsSaved: 0, packsKept: 0, packsRefused: 0 };
  const kept = (restored.index?.packs ?? []).filter((p) => p.blobs.some((b) => used.has(b.digest)));
  const covered = new Set(kept.flatMap((p) => p.blobs.map((b) => b.digest)));
  const fresh: { digest: string; size: number }[] = [];
  for (const [digest, size] of used) {
    if (!covered.has(digest) && (await blobSize(opts.storeRoot, digest)) === size) fresh.push({ digest, size });
  }
  const packs = [...kept];
  result.packsKept = kept.length;
  let refused = false;
  for (const pack of cutPacks(opts.prefix, fresh)) {
    if (refused) {
      result.packsRefused++;
      continue;
    }
    const staged = packDir(opts);
    await rm(staged, { recursive: true, force: true });
    const exists = await quietly(opts.log, `looking up ${pack.key}`, () => cache.restoreCache([staged], pack.key, [], { lookupOnly: true }));
    if (exists === pack.key) {
      packs.push(pack);
      result.packsKept++;
      continue;
    }
    for (const blob of pack.blobs) await linkOrCopy(join(opts.storeRoot, blobDataPath(blob.digest)), join(staged, packPath(blob.digest)));
    const id = await quietly(opts.log, `saving ${pack.key}`, () => cache.saveCache([staged], pack.key));
    await rm(staged, { recursive: true, force: true });
    if (id !== undefined && id > 0) {
      packs.push(pack);
      result.packsSaved++;
    } else {
      // -1 is all the client says for a full cache, a rate limit or a save in flight; the next
      // packs would meet the same, and each refused save still counts against the rate limit.
      refused = true;
      result.packsRefused++;
    }
  }
  if (result.packsRefused > 0) {
    const total = packs.length + result.packsRefused;
    opts.log.warn(
      `store cache: the Actions cache refused to save ${result.packsRefused} of ${total} store pack(s) ` +
        '(the repository cache quota is reached, the save rate limit was hit, or another job is saving the same pack); ' +
        'the next run downloads what they hold again. The pack itself is complete.',
    );
  }
  const before = (restored.index?.packs ?? []).map((p) => p.key).sort().join('\n');
  const after = packs.map((p) => p.key).sort().join('\n');
  if (packs.length === 0 || before === after) {
    opts.log.info(`store cache: ${packs.length} pack(s), index unchanged`);
    return result;
  }
  const indexKey = `${indexPrefix(opts, true)}${opts.env.GITHUB_RUN_ID ?? Date.now()}-${opts.env.GITHUB_RUN_ATTEMPT ?? 1}`;
  const dir = indexDir(opts);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'index.json'), JSON.stringify({ version: 1, packs } satisfies StoreIndex));
  const id = await quietly(opts.log, `saving ${indexKey}`, () => cache.saveCache([dir], indexKey));
  await rm(dir, { recursive: true, force: true });
  if (id !== undefined && id > 0) {
    result.indexKey = indexKey;
    opts.log.info(`store cache: index ${indexKey} saved: ${packs.length} pack(s), ${result.packsSaved} new`);
  } else {
    opts.log.warn(`store cache: the Actions cache refused to save the index ${indexKey}; the next run starts from the previous index`);
  }
  return result;
}

/** Blobs sorted by digest, cut into packs of at most `packBytes` (a bigger blob gets a pack of its own). */
export function cutPacks(prefix: string, blobs: readonly { digest: string; size: number }[], packBytes = PACK_BYTES): PackEntry[] {
  const sorted = [...blobs].sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
  const groups: { digest: string; size: number }[][] = [];
  let current: { digest: string; size: number }[] = [];
  let bytes = 0;
  for (const blob of sorted) {
    if (current.length > 0 && bytes + blob.size > packBytes) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(blob);
    bytes += blob.size;
  }
  if (current.length > 0) groups.push(current);
  return groups.map((group) => {
    const hash = createHash('sha256').update(group.map((b) => b.digest).join('\n')).digest('hex').slice(0, 40);
    return { key: `${prefix}-pack-${hash}`, blobs: group };
  });
}

export function parseIndex(text: string): StoreIndex | undefined {
  try {
    const doc = JSON.parse(text) as StoreIndex;
    if (doc.version !== 1 || !Array.isArray(doc.packs)) return undefined;
    const valid = doc.packs.every(
      (p) => typeof p.key === 'string' && Array.isArray(p.blobs) && p.blobs.every((b) => isDigest(b.digest) && Number.isSafeInteger(b.size) && b.size >= 0),
    );
    return valid ? doc : undefined;
  } catch {
    return undefined;
  }
}

/** A blob's place inside a pack: flat, by algorithm and hex. */
function packPath(digest: string): string {
  const [algorithm, hex] = digest.split(':') as [string, string];
  return join('blobs', algorithm, hex);
}

async function blobSize(storeRoot: string, digest: string): Promise<number | undefined> {
  try {
    return (await stat(join(storeRoot, blobDataPath(digest)))).size;
  } catch {
    return undefined;
  }
}

async function missingBlobs(storeRoot: string, blobs: readonly { digest: string; size: number }[]): Promise<{ digest: string; size: number }[]> {
  const missing = [];
  for (const blob of blobs) if ((await blobSize(storeRoot, blob.digest)) !== blob.size) missing.push(blob);
  return missing;
}

/** Moves a restored blob into the store once its bytes match its digest; a mismatch is dropped with a warning. */
async function adoptBlob(storeRoot: string, file: string, blob: { digest: string; size: number }, log: Logger): Promise<boolean> {
  if (!existsSync(file)) {
    log.warn(`store cache: ${blob.digest} is listed in its pack but missing from it`);
    return false;
  }
  const [algorithm] = blob.digest.split(':') as [string];
  const hash = createHash(algorithm);
  await pipeline(createReadStream(file), hash);
  const actual = `${algorithm}:${hash.digest('hex')}`;
  if (actual !== blob.digest || (await stat(file)).size !== blob.size) {
    log.warn(`store cache: a cached blob does not match its digest ${blob.digest} (has ${actual}); it is downloaded again instead`);
    return false;
  }
  const target = join(storeRoot, blobDataPath(blob.digest));
  await mkdir(dirname(target), { recursive: true });
  const temp = join(storeRoot, STORE_TEMP_DIR, `blob-${process.pid}-${randomBytes(8).toString('hex')}`);
  await mkdir(dirname(temp), { recursive: true });
  try {
    await rename(file, temp);
  } catch {
    await copyFile(file, temp);
  }
  await rename(temp, target);
  return true;
}

async function linkOrCopy(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  try {
    await link(from, to);
  } catch {
    await copyFile(from, to);
  }
}

/** Runs a cache call; a throw (the client throws only for bad arguments or local trouble) becomes a warning. */
async function quietly<T>(log: Logger, what: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    log.warn(`store cache: ${what}: ${errorMessage(err)}`);
    return undefined;
  }
}
