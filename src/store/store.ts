/**
 * The local content store (oc-mirror's cache, `<cacheDir>/.oc-mirror/.cache`): the distribution
 * registry's filesystem layout (see layout.ts), written directly, so docker-registry can serve it
 * and oc-mirror's archives carry it unchanged.
 *
 * Why many writers need no lock (async tasks in one process, or several oc-mirror runs sharing
 * one store):
 *  - Every file appears under `docker/` by rename(2) of a complete file written under a unique
 *    temp name (pid + random) in `.oc-mirror-tmp/`, on the same filesystem and outside `docker/`
 *    so a registry serving the directory never sees it. Readers (this store, another run,
 *    docker-registry) see no file or a whole one, never a partial one; no two writers share a
 *    temp file.
 *  - A file's content follows from its name: blob data is its digest, a layer or revision link
 *    holds the digest that is in its own path. Racing writers of one of them write identical
 *    bytes, so whichever rename lands last changes nothing. The exception is a tag's
 *    `current/link`, where the last writer wins, as with any registry.
 *  - Order carries the meaning: blob data is fsynced, renamed and its directory fsynced before any
 *    link to it is written; an image manifest is accepted only when its blobs are linked; the
 *    revision link precedes the tag links. A writer killed at any instant leaves at worst a temp
 *    file or data nothing links yet (the next run links it instead of downloading it again),
 *    never a link to something absent.
 *  - Writers never delete. `deleteManifest` removes links only (blob data may be shared), and
 *    moves a tag aside atomically before checking it, so it never removes a tag a concurrent
 *    run has just moved. `pruneUnreferenced` (on request only: `delete --force-cache-delete`)
 *    is the exception: like a registry's garbage collection it must not run beside a writer. `removeTemporaries` removes only temp files idle for a long time (an
 *    active download touches its file's mtime with every write).
 * Links are not fsynced: after a power loss a link may be missing or empty, which every reader
 * here treats as absent and the next run rewrites. Data is fsynced because a link to it may
 * survive the crash.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { constants, createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { DigestMismatchError, errorMessage, NotFoundError, OcMirrorError, ReferenceError } from '../errors.js';
import { algorithmOf, digestOf, isDigest, VerifyingStream } from '../image/digest.js';
import { viewManifest, type Descriptor, type RawManifest } from '../image/manifest.js';
import type { ImageDestination, ImageSource } from '../image/transport.js';
import { DirectoryLayout } from './directory-reader.js';
import {
  blobDataPath,
  layerLinkPath,
  repositoryPath,
  revisionLinkPath,
  tagCurrentLinkPath,
  tagIndexLinkPath,
  V2,
  type LayoutReader,
} from './layout.js';
import { LayoutSource } from './layout-source.js';
import { writeFully } from '../write-fully.js';

/** oc-mirror's name for its cache registry (`localhost:55000/...`, ref §4.1). */
export const DEFAULT_STORE_HOST = 'localhost:55000';

/** Beside `docker/`, not in it: on the same filesystem (rename is atomic), invisible to a registry. */
export const STORE_TEMP_DIR = '.oc-mirror-tmp';

const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
/** distribution's repository name grammar: also guarantees no `..` and no `_manifests`-like names */
const REPOSITORY_RE = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const TAG_RE = /^\w[\w.-]{0,127}$/;

/**
 * Wants a copy of the blobs the store writes, as they stream in (mirror to disk writes them into
 * the archive at the same time, so no blob is read back from the store).
 */
export interface BlobTee {
  /** Where this blob's bytes should also go; undefined when no copy is wanted (or another writer makes it). */
  claim(desc: Descriptor): BlobCopy | undefined;
}

/** One blob's copy: its bytes in order, then `complete` once they are verified and stored, or `release`. */
export interface BlobCopy {
  write(chunks: Buffer[], offset: number): Promise<void>;
  complete(): void;
  release(): void;
}

/** What `pruneUnreferenced` removed. */
export interface PruneResult {
  /** revision links of manifests no tag reaches */
  manifests: number;
  /** blob data files (manifests and layers) */
  blobs: number;
  bytes: number;
}

/** What `deleteManifest` removed. */
export interface DeletedManifest {
  repository: string;
  digest: string;
  /** the repository's revision link existed and was removed */
  revision: boolean;
  /** tags that pointed at the manifest and were removed */
  tags: string[];
}

export class LocalStore {
  readonly reader: LayoutReader;

  private constructor(
    /** absolute; the directory that contains `docker/` */
    readonly root: string,
    readonly host: string,
    private readonly files: StoreFiles,
  ) {
    this.reader = files.layout;
  }

  /**
   * Opens (creating if needed) the store in `root`. `host` is the pseudo registry host its
   * repositories report (the copy engine mounts blobs only between repositories of one host).
   */
  static async open(root: string, host: string = DEFAULT_STORE_HOST): Promise<LocalStore> {
    const absolute = resolve(root);
    const files = new StoreFiles(new DirectoryLayout(absolute), join(absolute, STORE_TEMP_DIR));
    try {
      await mkdir(join(absolute, V2), { recursive: true });
      await mkdir(files.tempDir, { recursive: true });
    } catch (err) {
      throw new OcMirrorError(`cannot create the local cache in ${absolute}: ${errorMessage(err)}`, { cause: err });
    }
    return new LocalStore(absolute, host, files);
  }

  /** A repository; blobs it stores are also written to `tee` when given. */
  repository(name: string, tee?: BlobTee): StoreRepository {
    return new StoreRepository(this.files, this.host, name, this.root, tee);
  }

  /** Every repository (a directory holding `_manifests`), nested ones included, sorted. */
  async listRepositories(): Promise<string[]> {
    const found: string[] = [];
    const walk = async (prefix: string): Promise<void> => {
      const names = await this.reader.list(prefix ? repositoryPath(prefix) : `${V2}/repositories`);
      for (const name of names) {
        // `_manifests`, `_layers`, `_uploads`: a repository's own data, not a nested repository
        if (name.startsWith('_')) continue;
        const repo = prefix ? `${prefix}/${name}` : name;
        const entries = await this.reader.list(repositoryPath(repo));
        if (entries.includes('_manifests')) found.push(repo);
        await walk(repo);
      }
    };
    await walk('');
    return found.sort();
  }

  /** Tags of a repository whose `current/link` holds a digest, sorted. */
  async listTags(repository: string): Promise<string[]> {
    checkRepository(repository);
    const names = await this.reader.list(`${repositoryPath(repository)}/_manifests/tags`);
    const tags: string[] = [];
    for (const tag of names) {
      if (TAG_RE.test(tag) && (await this.files.readLink(tagCurrentLinkPath(repository, tag))) !== undefined) tags.push(tag);
    }
    return tags;
  }

  async hasBlobData(digest: string): Promise<boolean> {
    return (await this.files.dataSize(digest)) !== undefined;
  }

  /** Absolute path of a blob's data file (which may not exist). */
  blobPath(digest: string): string {
    return this.files.layout.resolve(blobDataPath(digest));
  }

  /**
   * A blob's data, verified against its digest and size while it is read. Data that does not
   * match (a disk fault, a power loss on a file system that lost it) is removed from the store as
   * the stream fails, so the next run downloads it again instead of failing on it forever.
   */
  readVerifiedBlob(desc: Descriptor): Readable {
    const path = this.blobPath(desc.digest);
    // Named so that the mismatch message (the only one that uses the name) says what was done.
    const verifier = new VerifyingStream(desc.digest, desc.size, `${desc.digest} in the local cache ${this.root} (found corrupt there and removed: run again to download it)`);
    // 1 MiB reads: the archive writer gathers writes, and 64 KiB reads would cost 16× the syscalls.
    const file = createReadStream(path, { highWaterMark: 1 << 20 });
    file.on('error', (err) => verifier.destroy(err));
    verifier.on('error', (err) => {
      if (err instanceof DigestMismatchError) void rm(dirname(path), { recursive: true, force: true });
    });
    return file.pipe(verifier);
  }

  /**
   * Removes a manifest from a repository as a registry's DELETE does: the tags whose current
   * link points at it, then its revision link (in that order, so no tag ever points at a removed
   * revision). Blob data stays: other manifests and repositories may share it.
   */
  async deleteManifest(repository: string, digest: string): Promise<DeletedManifest> {
    checkRepository(repository);
    if (!isDigest(digest)) throw new ReferenceError(`${repository}: "${digest}" is not a digest`);
    const tags: string[] = [];
    for (const tag of await this.reader.list(`${repositoryPath(repository)}/_manifests/tags`)) {
      if (!TAG_RE.test(tag) || (await this.files.readLink(tagCurrentLinkPath(repository, tag))) !== digest) continue;
      if (await this.files.removeDirIf(dirname(dirname(tagCurrentLinkPath(repository, tag))), 'current/link', digest)) tags.push(tag);
    }
    const revision = await this.files.removeDirIf(dirname(revisionLinkPath(repository, digest)), 'link', digest);
    return { repository, digest, revision, tags };
  }

  /**
   * Garbage collection, as distribution's mark and sweep with untagged manifests removed: what a
   * tag reaches (its manifest, an index's children, an image's config and layers) stays; every
   * other revision link, the layer and tag-history links naming data that goes, and that data
   * itself are removed, links before data so no link ever names absent data. A blob written by a
   * concurrent run but not yet linked by its manifest would be swept: the caller runs it alone.
   */
  async pruneUnreferenced(): Promise<PruneResult> {
    const result: PruneResult = { manifests: 0, blobs: 0, bytes: 0 };
    const kept = new Set<string>();
    const repositories = await this.listRepositories();
    const keptManifests = new Map<string, Set<string>>();
    for (const repository of repositories) {
      const manifests = new Set<string>();
      keptManifests.set(repository, manifests);
      const mark = async (digest: string): Promise<void> => {
        if (manifests.has(digest)) return;
        manifests.add(digest);
        kept.add(digest);
        let manifest: RawManifest;
        try {
          manifest = await this.repository(repository).getManifest(digest);
        } catch (err) {
          // a sparse index's absent child: nothing of it to keep
          if (err instanceof NotFoundError) return;
          throw err;
        }
        const view = viewManifest(manifest, `${repository}@${digest}`);
        if (view.kind === 'index') for (const child of view.manifests) await mark(child.digest);
        else for (const blob of [...(view.config ? [view.config] : []), ...view.layers]) kept.add(blob.digest);
      };
      for (const tag of await this.listTags(repository)) {
        const digest = await this.files.readLink(tagCurrentLinkPath(repository, tag));
        if (digest && isDigest(digest)) await mark(digest);
      }
    }
    const linkDirs = async (dir: string): Promise<{ path: string; digest: string }[]> =>
      (await this.reader.list(`${dir}/sha256`)).filter((hex) => /^[a-f0-9]{64}$/.test(hex)).map((hex) => ({ path: `${dir}/sha256/${hex}`, digest: `sha256:${hex}` }));
    for (const repository of repositories) {
      const base = repositoryPath(repository);
      for (const { path, digest } of await linkDirs(`${base}/_manifests/revisions`)) {
        if (!keptManifests.get(repository)!.has(digest) && (await this.files.removeDirIf(path, 'link', digest))) result.manifests++;
      }
      for (const tag of await this.reader.list(`${base}/_manifests/tags`)) {
        for (const { path, digest } of await linkDirs(`${base}/_manifests/tags/${tag}/index`)) {
          if (!kept.has(digest)) await this.files.removeDirIf(path, 'link', digest);
        }
      }
      for (const { path, digest } of await linkDirs(`${base}/_layers`)) {
        if (!kept.has(digest)) await this.files.removeDirIf(path, 'link', digest);
      }
    }
    for (const two of await this.reader.list(`${V2}/blobs/sha256`)) {
      for (const hex of await this.reader.list(`${V2}/blobs/sha256/${two}`)) {
        const digest = `sha256:${hex}`;
        if (!isDigest(digest) || kept.has(digest)) continue;
        const size = await this.files.dataSize(digest);
        await rm(this.files.layout.resolve(dirname(blobDataPath(digest))), { recursive: true, force: true });
        result.blobs++;
        result.bytes += size ?? 0;
      }
    }
    return result;
  }

  /**
   * Removes temp files (and directories moved aside by deletes) not modified for `olderThanMs`:
   * left behind by killed runs. A download in progress updates its file's mtime on every write,
   * so only a transfer stalled for longer than `olderThanMs` could be hit; choose it in hours.
   * Returns how many entries were removed.
   */
  async removeTemporaries(olderThanMs: number): Promise<number> {
    const cutoff = Date.now() - olderThanMs;
    let removed = 0;
    let names: string[];
    try {
      names = await readdir(this.files.tempDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
    for (const name of names) {
      const path = join(this.files.tempDir, name);
      try {
        if ((await stat(path)).mtimeMs >= cutoff) continue;
        await rm(path, { recursive: true, force: true });
        removed++;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    return removed;
  }
}

/**
 * One repository of the store, as a source (reads are the LayoutSource's: the same code serves
 * archives) and as a copy destination.
 */
export class StoreRepository implements ImageSource, ImageDestination {
  readonly name: string;
  private readonly source: LayoutSource;

  /** Use `LocalStore.repository()`. */
  constructor(
    private readonly files: StoreFiles,
    readonly host: string,
    readonly repository: string,
    storeLabel: string,
    private readonly tee?: BlobTee,
  ) {
    checkRepository(repository);
    this.source = new LayoutSource(files.layout, repository, storeLabel);
    this.name = this.source.name;
  }

  async getManifest(reference: string, signal?: AbortSignal): Promise<RawManifest> {
    if (!isDigest(reference)) checkTag(this.name, reference);
    return this.source.getManifest(reference, signal);
  }

  getBlob(desc: Descriptor, signal?: AbortSignal): Promise<Readable> {
    return this.source.getBlob(desc, signal);
  }

  /**
   * The manifest's digest when the tag (or digest) resolves to an image that is whole here: its
   * manifests and the data of all its blobs (data found corrupt is removed, see readVerifiedBlob,
   * and the image must then be copied again).
   */
  async manifestDigest(reference: string, _signal?: AbortSignal): Promise<string | undefined> {
    const digest = await this.storedManifest(reference);
    return digest && (await this.isWhole(digest)) ? digest : undefined;
  }

  /** The digest of the manifest stored under the tag (or digest), whole or not: what a delete removes. */
  async storedManifest(reference: string): Promise<string | undefined> {
    let digest = reference;
    if (!isDigest(reference)) {
      checkTag(this.name, reference);
      const linked = await this.files.readLink(tagCurrentLinkPath(this.repository, reference));
      if (!linked || !isDigest(linked)) return undefined;
      digest = linked;
    }
    return (await this.hasManifest(digest)) ? digest : undefined;
  }

  private async isWhole(digest: string): Promise<boolean> {
    if (!(await this.hasManifest(digest))) return false;
    const view = viewManifest(await this.source.getManifest(digest), `${this.name}@${digest}`);
    if (view.kind === 'index') {
      for (const child of view.manifests) if (!(await this.isWhole(child.digest))) return false;
      return true;
    }
    for (const blob of [...(view.config ? [view.config] : []), ...view.layers]) {
      if (!blob.urls?.length && (await this.files.dataSize(blob.digest)) !== blob.size) return false;
    }
    return true;
  }

  /**
   * Stores manifest bytes as a blob, links the revision, then the tag (index link, then current
   * link: the tag moves last). An image manifest is refused unless its blobs are here, so a tag
   * never names an image with missing layers. Indexes are not checked for their children: the
   * copy engine writes children first, and oc-mirror's cache accepts sparse lists (ref §4.1).
   */
  async putManifest(manifest: RawManifest, reference: string, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const { digest } = manifest;
    if (!isDigest(digest)) throw new DigestMismatchError(`${this.name}: manifest has no valid digest ("${digest}")`);
    const actual = digestOf(manifest.bytes, algorithmOf(digest));
    if (actual !== digest) throw new DigestMismatchError(`${this.name}: manifest content has digest ${actual}, expected ${digest}`);
    const tag = isDigest(reference) ? undefined : reference;
    if (tag === undefined && reference !== digest) {
      throw new DigestMismatchError(`${this.name}: manifest ${digest} cannot be stored under digest ${reference}`);
    }
    if (tag !== undefined) checkTag(this.name, tag);
    await this.requireBlobs(manifest);
    signal?.throwIfAborted();
    await this.files.storeBytes(digest, manifest.bytes, `${this.name}@${digest}`);
    await this.files.writeLink(revisionLinkPath(this.repository, digest), digest);
    if (tag !== undefined) {
      await this.files.writeLink(tagIndexLinkPath(this.repository, tag, digest), digest);
      await this.files.writeLink(tagCurrentLinkPath(this.repository, tag), digest);
    }
  }

  /**
   * True when the blob's data is in the store with the expected size; the repository is then
   * made to link it if it did not. The store is content addressed: data written for any
   * repository by any run is the same bytes, so linking it is all another repository needs, and
   * a blob stored before a run was killed is linked rather than downloaded again.
   */
  async hasBlob(desc: Descriptor, _signal?: AbortSignal): Promise<boolean> {
    if ((await this.files.dataSize(desc.digest)) !== desc.size) return false;
    await this.files.writeLink(layerLinkPath(this.repository, desc.digest), desc.digest);
    return true;
  }

  /** Within one store every repository can link any data: the source repository does not matter. */
  async mountBlob(desc: Descriptor, _fromRepository: string, signal?: AbortSignal): Promise<boolean> {
    return this.hasBlob(desc, signal);
  }

  /**
   * Streams the blob into a temp file, verifying its digest and size, then moves it under its
   * digest and links it. When the data is already there (another writer finished first) the
   * body is still read to its end rather than destroyed: the caller's pipeline would report a
   * destroyed stream as a failed copy.
   * `signal` is checked between chunks (no listener per blob: one image's signal is shared by
   * all its blobs); a stalled body is the source's to abort, which it does with the same signal.
   */
  async putBlob(desc: Descriptor, body: Readable, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const what = `${this.name}@${desc.digest}`;
    if ((await this.files.dataSize(desc.digest)) === desc.size) {
      for await (const _chunk of body) {
        // discarded: the stored data is the same bytes
        signal?.throwIfAborted();
      }
    } else {
      await this.files.storeStream(desc, body, what, signal, this.tee);
    }
    await this.files.writeLink(layerLinkPath(this.repository, desc.digest), desc.digest);
  }

  private async hasManifest(digest: string): Promise<boolean> {
    const linked = (await this.files.readLink(revisionLinkPath(this.repository, digest))) === digest;
    return linked && (await this.files.dataSize(digest)) !== undefined;
  }

  private async requireBlobs(manifest: RawManifest): Promise<void> {
    const view = viewManifest(manifest, `${this.name}@${manifest.digest}`);
    if (view.kind !== 'image') return;
    for (const blob of [...(view.config ? [view.config] : []), ...view.layers]) {
      // foreign layers are fetched from their URLs by clients and never stored
      if (blob.urls?.length) continue;
      if (!(await this.hasBlob(blob))) {
        throw new OcMirrorError(
          `${this.name}: manifest ${manifest.digest} needs blob ${blob.digest} (${blob.size} bytes), which the store does not have; blobs must be stored before their manifest`,
        );
      }
    }
  }
}

function checkRepository(name: string): void {
  if (!REPOSITORY_RE.test(name)) throw new ReferenceError(`"${name}" is not a valid repository name for the local cache`);
}

function checkTag(where: string, tag: string): void {
  if (!TAG_RE.test(tag)) throw new ReferenceError(`${where}: "${tag}" is neither a tag nor a digest`);
}

/**
 * The store's file operations: reads through the DirectoryLayout, writes by temp file + rename.
 * Shared by the store and its repositories; holds no state but paths.
 */
class StoreFiles {
  constructor(
    readonly layout: DirectoryLayout,
    readonly tempDir: string,
  ) {}

  async dataSize(digest: string): Promise<number | undefined> {
    return this.layout.size(blobDataPath(digest));
  }

  /** A link's digest text, or undefined when absent or empty. */
  async readLink(path: string): Promise<string | undefined> {
    const text = (await this.layout.readSmall(path))?.toString('utf8').trim();
    return text || undefined;
  }

  /** Writes a link unless it already holds `digest`: links are idempotent. */
  async writeLink(path: string, digest: string): Promise<void> {
    if ((await this.readLink(path)) === digest) return;
    const temp = this.tempPath('link');
    await this.onDisk(`cannot write ${path}`, async () => {
      try {
        await this.inTempDir(() => writeFile(temp, digest, { flag: 'wx', mode: 0o644 }));
        await this.commit(temp, path, false);
      } catch (err) {
        await rm(temp, { force: true });
        throw err;
      }
    });
  }

  /** Manifests: small, already verified, written whole. */
  async storeBytes(digest: string, bytes: Buffer, what: string): Promise<void> {
    if ((await this.dataSize(digest)) === bytes.length) return;
    const temp = this.tempPath('blob');
    await this.onDisk(`${what}: cannot store the manifest`, async () => {
      try {
        const file = await this.inTempDir(() => open(temp, 'wx', 0o644));
        try {
          await writeFully(file, [bytes]);
          await file.sync();
        } finally {
          await file.close();
        }
        await this.commit(temp, blobDataPath(digest), true);
      } catch (err) {
        await rm(temp, { force: true });
        throw err;
      }
    });
  }

  /**
   * Streams, hashes and counts a blob into a temp file, then commits it under its digest.
   * Errors of the body (network, the caller's verifier) pass through unchanged, so the copy
   * engine still sees them as what they are (retryable or not); disk errors name the store.
   */
  async storeStream(desc: Descriptor, body: Readable, what: string, signal?: AbortSignal, tee?: BlobTee): Promise<void> {
    const failed = `${what}: cannot store the blob`;
    const temp = this.tempPath('blob');
    const file = await this.onDisk(failed, () => this.inTempDir(() => open(temp, BLOB_FLAGS, 0o644)));
    const copy = tee?.claim(desc);
    let committed = false;
    try {
      // A verifier upstream already hashes these bytes and fails the stream before its last
      // chunk if they are wrong: hashing again here would double the CPU cost per byte.
      const verified = body instanceof VerifyingStream && body.verifies(desc.digest, desc.size);
      const hash = verified ? undefined : createHash(algorithmOf(desc.digest));
      let seen = 0;
      let written = 0;
      let gathered: Buffer[] = [];
      let gatheredBytes = 0;
      // Network chunks are small (16-64 KiB): written one by one they cost a system call each,
      // several times the cost of the copy itself. Gathered, they go out in few large writes.
      const flush = async () => {
        const chunks = gathered;
        const offset = written;
        gathered = [];
        written += gatheredBytes;
        gatheredBytes = 0;
        await Promise.all([this.onDisk(failed, () => writeFully(file, chunks)), copy?.write(chunks, offset)]);
      };
      for await (const data of body) {
        signal?.throwIfAborted();
        const chunk = Buffer.isBuffer(data) ? data : Buffer.from(data as Uint8Array);
        seen += chunk.length;
        if (seen > desc.size) throw new DigestMismatchError(`${what}: received more than the ${desc.size} bytes announced`);
        hash?.update(chunk);
        gathered.push(chunk);
        gatheredBytes += chunk.length;
        if (gatheredBytes >= WRITE_BYTES) await flush();
      }
      if (seen !== desc.size) throw new DigestMismatchError(`${what}: received ${seen} of the ${desc.size} bytes announced`);
      if (hash) {
        const actual = `${algorithmOf(desc.digest)}:${hash.digest('hex')}`;
        if (actual !== desc.digest) throw new DigestMismatchError(`${what}: content has digest ${actual}, expected ${desc.digest}`);
      }
      if (gatheredBytes) await flush();
      await this.onDisk(failed, async () => {
        await file.sync();
        await file.close();
        await this.commit(temp, blobDataPath(desc.digest), true);
      });
      committed = true;
      copy?.complete();
    } finally {
      if (!committed) {
        copy?.release();
        await file.close().catch(() => {});
        await rm(temp, { force: true });
      }
    }
  }

  /**
   * Removes a directory of the layout when its `link` file holds `digest`, first moving it aside
   * in one rename: a concurrent writer then either changed the link before the move (we see it
   * and put the directory back, unless that writer has already made a new one, which is newer)
   * or recreates the directory afterwards (its write stands).
   */
  async removeDirIf(dir: string, link: string, digest: string): Promise<boolean> {
    const aside = this.tempPath('deleted');
    try {
      await rename(this.layout.resolve(dir), aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw new OcMirrorError(`cannot remove ${dir} in the local cache ${this.layout.root}: ${errorMessage(err)}`, { cause: err });
    }
    const moved = new DirectoryLayout(aside);
    const linked = (await moved.readSmall(link))?.toString('utf8').trim();
    if (linked !== digest) {
      await rename(aside, this.layout.resolve(dir)).catch(() => rm(aside, { recursive: true, force: true }));
      return false;
    }
    await rm(aside, { recursive: true, force: true });
    return true;
  }

  /** A name no other writer, in this process or another, can be using. */
  tempPath(kind: 'blob' | 'link' | 'deleted'): string {
    return join(this.tempDir, `${kind}-${process.pid}-${randomBytes(8).toString('hex')}`);
  }

  /** Runs a temp file creation, recreating the temp dir if someone removed it. */
  private async inTempDir<T>(create: () => Promise<T>): Promise<T> {
    try {
      return await create();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await mkdir(this.tempDir, { recursive: true });
      return create();
    }
  }

  /**
   * Moves a finished temp file to its layout path. A concurrent delete may remove the target's
   * parent directories between our mkdir and the rename: make them again and retry.
   * `durable`: fsync the directory, so the name is on disk before anything links to it.
   */
  private async commit(temp: string, path: string, durable: boolean): Promise<void> {
    const target = this.layout.resolve(path);
    for (let attempt = 1; ; attempt++) {
      await mkdir(dirname(target), { recursive: true });
      try {
        await rename(temp, target);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 3) throw err;
      }
    }
    if (durable) await syncDirectory(dirname(target));
  }

  /** Runs filesystem work; its errors become one-line errors naming the object and the store. */
  private async onDisk<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof OcMirrorError) throw err;
      throw new OcMirrorError(`${what} in the local cache ${this.layout.root}: ${errorMessage(err)}`, { cause: err });
    }
  }
}

/** Blob bytes are gathered up to this many per write system call. */
const WRITE_BYTES = 512 * 1024;
/**
 * Blob data reaches the disk write by write (O_DSYNC) while the rest of the blob still streams
 * in, rather than all at once in the fsync before the rename, which then has little left to do.
 */
const BLOB_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_DSYNC ?? 0);

/** Some platforms cannot open or fsync a directory; there the rename's durability is the OS's. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF') throw err;
  } finally {
    await handle?.close();
  }
}
