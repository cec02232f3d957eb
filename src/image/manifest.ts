import { DigestMismatchError } from '../errors.js';
import { digestOf, isDigest } from './digest.js';

export const MediaType = {
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  OciArtifactManifest: 'application/vnd.oci.artifact.manifest.v1+json',
} as const;

/** What we tell registries we can read; everything else reaches us only if they ignore Accept. */
export const MANIFEST_ACCEPT = [
  MediaType.OciIndex,
  MediaType.DockerManifestList,
  MediaType.OciManifest,
  MediaType.DockerManifest,
  MediaType.OciArtifactManifest,
].join(', ');

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  urls?: string[];
  annotations?: Record<string, string>;
}

/**
 * A manifest exactly as the registry sent it. Digests are always over `bytes`, never over
 * re-serialised JSON, so the typed view below is for reading only.
 */
export interface RawManifest {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

/** The parts of a manifest that matter for copying, whatever its media type. */
export type ManifestView =
  | { kind: 'index'; manifests: Descriptor[] }
  | { kind: 'image'; config?: Descriptor; layers: Descriptor[] };

export function isIndexMediaType(mediaType: string): boolean {
  return mediaType === MediaType.OciIndex || mediaType === MediaType.DockerManifestList;
}

/**
 * Reads what a manifest references. Image and artifact manifests of any media type are read by
 * shape (`config`, `layers`, `blobs`), so that sigstore signatures, attestations and other OCI
 * artifacts pass through unchanged with their blobs.
 */
export function viewManifest(m: RawManifest, what: string): ManifestView {
  let doc: unknown;
  try {
    doc = JSON.parse(m.bytes.toString('utf8'));
  } catch {
    throw new DigestMismatchError(`${what}: manifest ${m.digest} is not valid JSON`);
  }
  if (typeof doc !== 'object' || doc === null) throw new DigestMismatchError(`${what}: manifest ${m.digest} is not a JSON object`);
  const o = doc as Record<string, unknown>;
  const mediaType = typeof o.mediaType === 'string' ? o.mediaType : m.mediaType;
  if (isIndexMediaType(mediaType) || (Array.isArray(o.manifests) && !o.layers && !o.config)) {
    return { kind: 'index', manifests: descriptors(o.manifests, what) };
  }
  if (o.schemaVersion === 1) {
    throw new DigestMismatchError(`${what}: Docker schema 1 manifests are not supported (convert the image to schema 2 or OCI)`);
  }
  const config = o.config ? descriptors([o.config], what)[0] : undefined;
  const layers = [...descriptors(o.layers ?? [], what), ...descriptors(o.blobs ?? [], what)];
  return { kind: 'image', ...(config && { config }), layers };
}

function descriptors(list: unknown, what: string): Descriptor[] {
  if (!Array.isArray(list)) throw new DigestMismatchError(`${what}: manifest has a malformed descriptor list`);
  return list.map((d) => {
    const desc = d as Descriptor;
    if (!desc || typeof desc.digest !== 'string' || !isDigest(desc.digest) || typeof desc.size !== 'number' || desc.size < 0) {
      throw new DigestMismatchError(`${what}: manifest has a descriptor without a valid digest and size`);
    }
    return desc;
  });
}

/** Builds a RawManifest from received bytes and checks them against what we asked for. */
export function receivedManifest(bytes: Buffer, mediaType: string, what: string, expectedDigest?: string): RawManifest {
  const algorithm = expectedDigest ? (expectedDigest.slice(0, expectedDigest.indexOf(':')) as 'sha256') : 'sha256';
  const digest = digestOf(bytes, algorithm);
  if (expectedDigest && digest !== expectedDigest) {
    throw new DigestMismatchError(`${what}: manifest content has digest ${digest}, expected ${expectedDigest}`);
  }
  return { bytes, mediaType: mediaType || sniffMediaType(bytes), digest };
}

function sniffMediaType(bytes: Buffer): string {
  try {
    const o = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; manifests?: unknown };
    if (o.mediaType) return o.mediaType;
    return o.manifests ? MediaType.OciIndex : MediaType.OciManifest;
  } catch {
    return MediaType.OciManifest;
  }
}
