/**
 * What the registry HTTP layer serves from. Two backends: the local store (read-write, the
 * embedded registry oc-mirror runs on localhost:55000) and any distribution layout reader
 * (read-only: archives on a transfer disk served in place, without importing them first).
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { NotFoundError } from '../errors.js';
import { isDigest } from '../image/digest.js';
import type { Descriptor, RawManifest } from '../image/manifest.js';
import type { ImageDestination, ImageSource } from '../image/transport.js';
import { ArchiveSet } from '../archive/reader.js';
import { DirectoryLayout } from '../store/directory-reader.js';
import {
  blobDataPath,
  layerLinkPath,
  repositoryPath,
  revisionLinkPath,
  tagCurrentLinkPath,
  V2,
  type LayoutReader,
} from '../store/layout.js';
import { LayoutSource } from '../store/layout-source.js';
import { sliceStream, type ByteRange } from './ranges.js';

/** Reads of one repository, with distribution's visibility rule: only what the repository links. */
export interface RepositoryReader {
  readonly name: string;
  /** By tag or digest; undefined when the repository has no such manifest. */
  getManifest(reference: string): Promise<RawManifest | undefined>;
  hasManifest(digest: string): Promise<boolean>;
  /** Size of a blob the repository links (layers, configs, and its manifests), else undefined. */
  blobSize(digest: string): Promise<number | undefined>;
  /** The blob's bytes, or the inclusive range of them; undefined when not linked. */
  openBlob(digest: string, range?: ByteRange): Promise<Readable | undefined>;
}

/** Writes of one repository; every one of them leaves the layout consistent if interrupted. */
export interface RepositoryWriter {
  /** Stores the manifest and links it; a tag reference also moves the tag. */
  putManifest(manifest: RawManifest, reference: string): Promise<void>;
  /** Stores a blob from a stream the caller has already wrapped in a verifier. */
  putBlob(desc: Descriptor, body: Readable): Promise<void>;
  /** Links a blob that `fromRepository` links; false when it does not. */
  mountBlob(desc: Descriptor, fromRepository: string): Promise<boolean>;
  /** Removes the manifest and the tags pointing at it; false when there was none. */
  deleteManifest(digest: string): Promise<boolean>;
  /** Unlinks a blob from the repository; absent when the backend cannot. */
  deleteBlob?(digest: string): Promise<boolean>;
}

export interface BackendRepository extends RepositoryReader {
  /** absent on a read-only backend */
  readonly writer?: RepositoryWriter;
}

export interface RegistryBackend {
  /** what is served, for the `serving … on …` line and logs */
  readonly description: string;
  readonly readOnly: boolean;
  /** `name` has been validated against distribution's grammar by the caller. */
  repository(name: string): BackendRepository;
  listRepositories(): Promise<string[]>;
  /** undefined when the repository does not exist */
  listTags(name: string): Promise<string[] | undefined>;
}

// ---------------------------------------------------------------------------------------------
// Over any layout reader (read-only)

class LayoutRepository implements RepositoryReader {
  private readonly source: LayoutSource;

  constructor(
    private readonly layout: LayoutReader,
    readonly name: string,
    label: string,
  ) {
    this.source = new LayoutSource(layout, name, label);
  }

  async getManifest(reference: string): Promise<RawManifest | undefined> {
    try {
      return await this.source.getManifest(reference);
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  async hasManifest(digest: string): Promise<boolean> {
    return isDigest(digest) && (await this.layout.size(revisionLinkPath(this.name, digest))) !== undefined;
  }

  async blobSize(digest: string): Promise<number | undefined> {
    if (!isDigest(digest)) return undefined;
    // a repository serves its manifests as blobs too, as distribution does
    const linked =
      (await this.layout.size(layerLinkPath(this.name, digest))) !== undefined ||
      (await this.layout.size(revisionLinkPath(this.name, digest))) !== undefined;
    return linked ? this.layout.size(blobDataPath(digest)) : undefined;
  }

  async openBlob(digest: string, range?: ByteRange): Promise<Readable | undefined> {
    if ((await this.blobSize(digest)) === undefined) return undefined;
    const path = blobDataPath(digest);
    if (range) {
      // where the bytes sit in a file we can seek in, no byte before the range is read
      const at = fileLocation(this.layout, path);
      if (at) return createReadStream(at.file, { start: at.offset + range.start, end: at.offset + range.end, highWaterMark: READ_CHUNK });
    }
    const whole = await this.layout.open(path);
    if (!whole || !range) return whole;
    return sliceStream(whole, range);
  }
}

const READ_CHUNK = 1024 * 1024;

/** The file and offset holding a layout path's bytes, for the layouts that can tell. */
function fileLocation(layout: LayoutReader, path: string): { file: string; offset: number } | undefined {
  if (layout instanceof DirectoryLayout) return { file: layout.resolve(path), offset: 0 };
  if (layout instanceof ArchiveSet) {
    const found = layout.locate(path);
    return found && { file: found.archive, offset: found.offset };
  }
  return undefined;
}

/** Names of the repositories in a layout: directories under `repositories/` holding `_manifests`. */
export async function listLayoutRepositories(layout: LayoutReader): Promise<string[]> {
  const found: string[] = [];
  const walk = async (prefix: string): Promise<void> => {
    const dir = prefix === '' ? `${V2}/repositories` : repositoryPath(prefix);
    const entries = await layout.list(dir);
    if (prefix !== '' && entries.includes('_manifests')) found.push(prefix);
    for (const entry of entries) {
      // `_layers`, `_manifests`, `_uploads` are repository data; a name component never starts with `_`
      if (entry.startsWith('_')) continue;
      await walk(prefix === '' ? entry : `${prefix}/${entry}`);
    }
  };
  await walk('');
  return found.sort();
}

/** Tags of a repository that still point somewhere; undefined when the repository is absent. */
export async function listLayoutTags(layout: LayoutReader, repository: string): Promise<string[] | undefined> {
  const entries = await layout.list(repositoryPath(repository));
  if (entries.length === 0) return undefined;
  const tags = await layout.list(`${repositoryPath(repository)}/_manifests/tags`);
  const live = await Promise.all(tags.map(async (t) => ((await layout.size(tagCurrentLinkPath(repository, t))) !== undefined ? t : undefined)));
  return live.filter((t): t is string => t !== undefined);
}

/** Serves a layout (archives, a store directory) without ever writing to it. */
export class ReadOnlyLayoutBackend implements RegistryBackend {
  readonly readOnly = true;

  constructor(
    private readonly layout: LayoutReader,
    readonly description: string,
  ) {}

  repository(name: string): BackendRepository {
    return new LayoutRepository(this.layout, name, this.description);
  }

  listRepositories(): Promise<string[]> {
    return listLayoutRepositories(this.layout);
  }

  listTags(name: string): Promise<string[] | undefined> {
    return listLayoutTags(this.layout, name);
  }
}

// ---------------------------------------------------------------------------------------------
// Over the local store (read-write)

/**
 * What the store backend needs of `LocalStore` (src/store/store.ts). Written structurally so the
 * server depends on the store's behaviour, not on its construction.
 */
export interface WritableStore {
  /** the store's layout, read for serving (link rules, byte ranges) */
  readonly reader: LayoutReader;
  repository(name: string): ImageSource & ImageDestination;
  listRepositories(): Promise<string[]>;
  listTags(repository: string): Promise<string[]>;
  /** removes the repository's revision link and the tags pointing at the manifest */
  deleteManifest(repository: string, digest: string): Promise<{ revision: boolean; tags: string[] }>;
  /** unlinks a blob from a repository (distribution's blob DELETE); optional */
  deleteBlob?(repository: string, digest: string): Promise<unknown>;
}

class StoreRepositoryWriter implements RepositoryWriter {
  readonly deleteBlob?: (digest: string) => Promise<boolean>;

  constructor(
    private readonly store: WritableStore,
    private readonly name: string,
  ) {
    const remove = store.deleteBlob?.bind(store);
    if (remove) {
      this.deleteBlob = async (digest) => {
        if ((await this.store.reader.size(layerLinkPath(this.name, digest))) === undefined) return false;
        await remove(this.name, digest);
        return true;
      };
    }
  }

  putManifest(manifest: RawManifest, reference: string): Promise<void> {
    return this.store.repository(this.name).putManifest(manifest, reference);
  }

  putBlob(desc: Descriptor, body: Readable): Promise<void> {
    return this.store.repository(this.name).putBlob(desc, body);
  }

  async mountBlob(desc: Descriptor, fromRepository: string): Promise<boolean> {
    const repo = this.store.repository(this.name);
    if (!repo.mountBlob) return false;
    return repo.mountBlob(desc, fromRepository);
  }

  async deleteManifest(digest: string): Promise<boolean> {
    const deleted = await this.store.deleteManifest(this.name, digest);
    return deleted.revision || deleted.tags.length > 0;
  }
}

/** The local store, read and written: the embedded registry of the disk workflows. */
export class StoreBackend implements RegistryBackend {
  readonly readOnly = false;

  constructor(
    private readonly store: WritableStore,
    readonly description: string,
  ) {}

  repository(name: string): BackendRepository {
    const reads = new LayoutRepository(this.store.reader, name, this.description);
    const writer = new StoreRepositoryWriter(this.store, name);
    return {
      name,
      writer,
      getManifest: (reference) => reads.getManifest(reference),
      hasManifest: (digest) => reads.hasManifest(digest),
      blobSize: (digest) => reads.blobSize(digest),
      openBlob: (digest, range) => reads.openBlob(digest, range),
    };
  }

  listRepositories(): Promise<string[]> {
    return this.store.listRepositories();
  }

  async listTags(name: string): Promise<string[] | undefined> {
    if ((await this.store.reader.list(repositoryPath(name))).length === 0) return undefined;
    return this.store.listTags(name);
  }
}
