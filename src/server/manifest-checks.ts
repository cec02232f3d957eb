/**
 * What a manifest PUT must satisfy before it is stored, with distribution's answers: a body that
 * parses as a schema 2 / OCI manifest of the declared type, and whose blobs are already in the
 * repository (clients push blobs first; a manifest pointing at nothing would serve broken pulls).
 */
import { OcMirrorError } from '../errors.js';
import { digestOf, algorithmOf, isDigest } from '../image/digest.js';
import { MediaType, viewManifest, type Descriptor, type RawManifest } from '../image/manifest.js';
import { ApiError } from './api-errors.js';
import type { RepositoryReader } from './backend.js';

/** distribution's limit on a manifest body */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** Content types that say nothing about which manifest this is: the body's own mediaType decides. */
const GENERIC_TYPES = new Set(['', 'application/json', 'application/octet-stream', 'text/plain']);

/**
 * The manifest as it will be stored: its bytes untouched, its media type from Content-Type (or the
 * body when the header is generic), its digest over the bytes with the algorithm the reference
 * asks for.
 */
export function incomingManifest(bytes: Buffer, contentType: string | undefined, reference: string): RawManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new ApiError('MANIFEST_INVALID', 'the manifest is not valid JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ApiError('MANIFEST_INVALID', 'the manifest is not a JSON object');
  const o = doc as { mediaType?: unknown; schemaVersion?: unknown; manifests?: unknown };
  if (o.schemaVersion !== 2) throw new ApiError('MANIFEST_INVALID', `schemaVersion ${JSON.stringify(o.schemaVersion)} is not supported (only 2)`);
  const declared = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const inBody = typeof o.mediaType === 'string' ? o.mediaType : undefined;
  let mediaType: string;
  if (GENERIC_TYPES.has(declared)) {
    mediaType = inBody ?? (Array.isArray(o.manifests) ? MediaType.OciIndex : MediaType.OciManifest);
  } else {
    if (inBody !== undefined && inBody !== declared) {
      throw new ApiError('MANIFEST_INVALID', `mediaType in manifest is ${inBody}, but the request says ${declared}`);
    }
    mediaType = declared;
  }
  const digest = digestOf(bytes, isDigest(reference) ? algorithmOf(reference) : 'sha256');
  if (isDigest(reference) && digest !== reference) throw new ApiError('DIGEST_INVALID', { reference, digest });
  return { bytes, mediaType, digest };
}

export interface ReferenceCheckOptions {
  /**
   * Require every child of an index to be in the repository. oc-mirror runs distribution with
   * `validation.manifests.indexes.platforms: none`, which accepts sparse indexes (a release
   * mirrored for some architectures only), so the default is false.
   */
  requireIndexChildren: boolean;
}

/** Layers that live elsewhere by design (Windows base layers): distribution does not ask for them. */
function isForeign(desc: Descriptor): boolean {
  return /foreign|nondistributable/.test(desc.mediaType ?? '') && (desc.urls?.length ?? 0) > 0;
}

/** Throws MANIFEST_BLOB_UNKNOWN for the first referenced blob or child manifest the repository lacks. */
export async function checkReferences(manifest: RawManifest, repo: RepositoryReader, options: ReferenceCheckOptions): Promise<void> {
  let view;
  try {
    view = viewManifest(manifest, `${repo.name}@${manifest.digest}`);
  } catch (err) {
    if (err instanceof OcMirrorError) throw new ApiError('MANIFEST_INVALID', err.message);
    throw err;
  }
  if (view.kind === 'index') {
    if (!options.requireIndexChildren) return;
    const present = await Promise.all(view.manifests.map((d) => repo.hasManifest(d.digest)));
    const missing = view.manifests.find((_d, i) => !present[i]);
    if (missing) throw new ApiError('MANIFEST_BLOB_UNKNOWN', missing.digest);
    return;
  }
  const blobs = [...(view.config ? [view.config] : []), ...view.layers].filter((d) => !isForeign(d));
  const sizes = await Promise.all(blobs.map((d) => repo.blobSize(d.digest)));
  const missing = blobs.find((_d, i) => sizes[i] === undefined);
  if (missing) throw new ApiError('MANIFEST_BLOB_UNKNOWN', missing.digest);
}
