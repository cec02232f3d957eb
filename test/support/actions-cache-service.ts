/**
 * Cache service v2 (`github.actions.results.api.v1.CacheService`) as @actions/cache 6 drives it:
 *
 *   CreateCacheEntry {key, version}                  → {ok, signed_upload_url}
 *   (client uploads the archive to the signed URL with the Azure SDK)
 *   FinalizeCacheEntryUpload {key, version, size_bytes} → {ok, entry_id}
 *   GetCacheEntryDownloadURL {key, restore_keys, version} → {ok, signed_download_url, matched_key}
 *
 * Entries are immutable per (key, version, scope): a second create, even while the first upload is
 * still running, is the 409 the real service answers ("another job may be creating this cache").
 * Lookup searches the caller's readable scopes in token order (own ref, then default branch); in
 * each, for the primary key and then each restore key: the exact key, then the newest entry whose
 * key starts with it. Only finalized entries whose version matches are candidates.
 */
import { BlobStore } from './actions-blob-store.js';
import type { ActionsFaults } from './actions-faults.js';
import { CACHE_READ, CACHE_WRITE, type RuntimeClaims } from './actions-token.js';
import { optionalNumber, stringField, stringList, TwirpError, type TwirpBody, type TwirpService } from './actions-twirp.js';

export const CACHE_SERVICE = 'github.actions.results.api.v1.CacheService';
const CONTAINER = 'actions-cache';
const MAX_KEY_LENGTH = 512;

/** A cache entry as tests see it. */
export interface CacheEntryInfo {
  id: number;
  key: string;
  version: string;
  /** the git ref whose runs may restore it first */
  scope: string;
  /** archive bytes; 0 until finalized */
  size: number;
  createdAt: Date;
  finalized: boolean;
  lastAccessedAt: Date | undefined;
}

interface CacheEntry extends CacheEntryInfo {
  blob: string;
}

export interface CacheInspector {
  /** finalized entries, oldest first */
  entries(): CacheEntryInfo[];
  /** reserved entries whose upload was never finalized */
  pending(): CacheEntryInfo[];
  /** path of a finalized entry's archive (tar + zstd), for byte-level checks */
  archivePath(key: string, version?: string): string | undefined;
  /** drops entries with this key (eviction, or `gh cache delete`); returns how many went */
  evict(key: string, version?: string): Promise<number>;
}

export class CacheService {
  private readonly all: CacheEntry[] = [];
  private nextId = 1;

  constructor(
    private readonly blobs: BlobStore,
    private readonly faults: ActionsFaults,
    private readonly origin: () => string,
  ) {}

  readonly twirp: TwirpService = {
    CreateCacheEntry: (body, caller) => this.create(body, caller),
    FinalizeCacheEntryUpload: (body, caller) => this.finalize(body, caller),
    GetCacheEntryDownloadURL: (body, caller) => this.lookup(body, caller),
  };

  readonly inspector: CacheInspector = {
    entries: () => this.all.filter((e) => e.finalized).map(publicView),
    pending: () => this.all.filter((e) => !e.finalized).map(publicView),
    archivePath: (key, version) => {
      const entry = this.all.find((e) => e.finalized && e.key === key && (version === undefined || e.version === version));
      return entry && this.blobs.filePath(CONTAINER, entry.blob);
    },
    evict: async (key, version) => {
      const doomed = this.all.filter((e) => e.key === key && (version === undefined || e.version === version));
      for (const entry of doomed) {
        this.all.splice(this.all.indexOf(entry), 1);
        await this.blobs.remove(CONTAINER, entry.blob);
      }
      return doomed.length;
    },
  };

  private create(body: TwirpBody, caller: RuntimeClaims): object {
    const key = stringField(body, 'key');
    const version = stringField(body, 'version');
    if (!key || !version) throw new TwirpError('invalid_argument', 'key and version are required');
    if (key.length > MAX_KEY_LENGTH) throw new TwirpError('invalid_argument', `key exceeds ${MAX_KEY_LENGTH} characters`);
    const scope = writableScope(caller);
    // The service answers a read-only token with 200 ok=false and this prefix, which the client
    // turns into CacheWriteDeniedError.
    if (!scope) return { ok: false, message: 'cache write denied: token has no writable scopes' };
    if (this.faults.quotaReached) throw new TwirpError('permission_denied', 'insufficient usage to create cache entry');
    if (this.all.some((e) => e.key === key && e.version === version && e.scope === scope)) {
      throw new TwirpError('already_exists', 'cache entry with the same key, version, and scope already exists');
    }
    const id = this.nextId++;
    const entry: CacheEntry = {
      id,
      key,
      version,
      scope,
      size: 0,
      createdAt: new Date(),
      finalized: false,
      lastAccessedAt: undefined,
      blob: `${id}/cache.tzst`,
    };
    this.all.push(entry);
    this.blobs.allowWrites(CONTAINER, entry.blob);
    return { ok: true, signed_upload_url: this.blobs.signedUrl(this.origin(), CONTAINER, entry.blob, 'cw') };
  }

  private finalize(body: TwirpBody, caller: RuntimeClaims): object {
    const key = stringField(body, 'key');
    const version = stringField(body, 'version');
    const scope = writableScope(caller);
    const entry = this.all.find((e) => !e.finalized && e.key === key && e.version === version && e.scope === scope);
    if (!entry) throw new TwirpError('not_found', 'cache entry not found');
    const uploaded = this.blobs.info(CONTAINER, entry.blob);
    if (!uploaded) throw new TwirpError('failed_precondition', 'cache entry has no uploaded archive');
    const declared = optionalNumber(body, 'size_bytes');
    if (declared !== undefined && declared !== uploaded.size) {
      throw new TwirpError('invalid_argument', `size_bytes ${declared} does not match the uploaded ${uploaded.size} bytes`);
    }
    this.blobs.sealWrites(CONTAINER, entry.blob);
    entry.finalized = true;
    entry.size = uploaded.size;
    return { ok: true, entry_id: String(entry.id) };
  }

  private lookup(body: TwirpBody, caller: RuntimeClaims): object {
    const version = stringField(body, 'version');
    const keys = [stringField(body, 'key'), ...stringList(body, 'restore_keys')].filter((k) => k !== '');
    const candidates = this.all.filter((e) => e.finalized && e.version === version);
    for (const { scope } of caller.cacheScopes.filter((s) => s.permission & CACHE_READ)) {
      const inScope = candidates.filter((e) => e.scope === scope);
      for (const key of keys) {
        const hit =
          inScope.find((e) => e.key === key) ??
          inScope.filter((e) => e.key.startsWith(key)).sort((a, b) => b.id - a.id)[0];
        if (hit) {
          hit.lastAccessedAt = new Date();
          return {
            ok: true,
            signed_download_url: this.blobs.signedUrl(this.origin(), CONTAINER, hit.blob, 'r'),
            matched_key: hit.key,
          };
        }
      }
    }
    return { ok: false };
  }
}

function writableScope(caller: RuntimeClaims): string | undefined {
  return caller.cacheScopes.find((s) => s.permission & CACHE_WRITE)?.scope;
}

function publicView(e: CacheEntry): CacheEntryInfo {
  const { blob: _blob, ...info } = e;
  return { ...info };
}
