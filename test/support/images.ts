/**
 * Builds deterministic test images and pushes them straight over the registry HTTP API
 * (POST+PUT monolithic blob uploads, PUT manifests), independently of the project's own client.
 *
 * Layers are real tar+gzip blobs of pseudo-random bytes: a tar with one file whose content is an
 * AES-256-CTR keystream keyed by the layer seed, gzipped with "stored" (uncompressed) deflate
 * blocks written by hand. So same (seed, size) gives the same bytes on every run and machine
 * (no dependency on zlib's compressor), sizes are exact and known upfront, generation runs at
 * memory speed, and a 100 MB layer never sits in memory: it is generated twice as a stream (once
 * to digest it, once to upload it), with the digests cached per (seed, size).
 */
import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { RegistryHttp, type RegistryAccess } from './http.js';

export const MediaTypes = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  cosignSimpleSigning: 'application/vnd.dev.cosign.simplesigning.v1+json',
} as const;

/** Anything we can push to: a TestRegistry, or url/credentials/CA of another registry. */
export type PushTarget = RegistryAccess & { host: string };

export interface LayerSpec {
  /** bytes of pseudo-random file content; the blob is a little larger (tar + gzip framing) */
  size: number;
  /** same seed and size give the same blob: use one seed in two images to share a layer */
  seed?: string;
}

export interface PlatformSpec {
  os: string;
  architecture: string;
  variant?: string;
}

export interface ImageSpec {
  /** 'oci' (default): OCI manifest/index; 'docker': schema 2 manifest/manifest list */
  format?: 'oci' | 'docker';
  /** default: one 1 KiB layer */
  layers?: LayerSpec[];
  /** when set: an index / manifest list with one child image per platform */
  platforms?: PlatformSpec[];
  /** makes the image's config, and the layers without their own seed, unique; default repo:ref */
  seed?: string;
  /** config labels (part of the config blob, so of the digest) */
  labels?: Record<string, string>;
}

export interface BlobRef {
  digest: string;
  size: number;
}

export interface PushedImage {
  /** host/repo:tag, or host/repo@digest for a child or an untagged push */
  reference: string;
  /** host/repo@digest */
  digestReference: string;
  repo: string;
  tag?: string;
  digest: string;
  mediaType: string;
  /** the exact manifest bytes pushed */
  manifest: Buffer;
  /** single images: the config blob */
  config?: BlobRef;
  /** single images: the layers, in order */
  layers?: BlobRef[];
  platform?: PlatformSpec;
  /** indexes: the child images, in index order */
  children?: PushedImage[];
  /** every config and layer blob of the image and all its children, without duplicates */
  blobs: BlobRef[];
}

// ---------------------------------------------------------------------------------------------
// Deterministic layer blobs

const DEFLATE_STORED_MAX = 65535;
const GEN_CHUNK = 1024 * 1024;
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff]); // mtime 0, OS unknown

/** Digest, blob size and diff_id (sha256 of the tar) of a layer. */
export interface LayerInfo extends BlobRef {
  diffId: string;
}

function tarSize(payload: number): number {
  return 512 + Math.ceil(payload / 512) * 512 + 1024;
}

function blobSize(payload: number): number {
  const t = tarSize(payload);
  return GZIP_HEADER.length + Math.ceil(t / DEFLATE_STORED_MAX) * 5 + t + 8;
}

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

/** A ustar header for one regular file (fixed mtime/owner so it is deterministic). */
function tarHeader(name: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(0o644, 8), 100);
  h.write(octal(0, 8), 108);
  h.write(octal(0, 8), 116);
  h.write(octal(size, 12), 124);
  h.write(octal(0, 12), 136);
  h.fill(' ', 148, 156); // checksum is computed with its own field as spaces
  h.write('0', 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(octal(sum, 7) + ' ', 148);
  return h;
}

/** The layer's tar stream in chunks: header, keystream content, padding, end-of-archive. */
function* tarChunks(seed: string, payload: number): Generator<Buffer> {
  const key = createHash('sha256').update(`oc-mirror-action test layer\0${seed}`).digest();
  yield tarHeader(`layer-${key.toString('hex').slice(0, 16)}.bin`, payload);
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(GEN_CHUNK);
  for (let left = payload; left > 0; left -= GEN_CHUNK) {
    yield cipher.update(left >= GEN_CHUNK ? zeros : zeros.subarray(0, left));
  }
  yield Buffer.alloc(Math.ceil(payload / 512) * 512 - payload + 1024);
}

/**
 * Yields the gzip blob, calling `onTar` with every tar chunk (for the diff_id). Deflate "stored"
 * blocks: a byte with BFINAL (BTYPE 00), then LEN and ~LEN little-endian, then LEN raw bytes.
 */
function* gzipChunks(seed: string, payload: number, onTar?: (b: Buffer) => void): Generator<Buffer> {
  const total = tarSize(payload);
  yield GZIP_HEADER;
  let crc = 0;
  let emitted = 0;
  const block = function* (data: Buffer): Generator<Buffer> {
    emitted += data.length;
    const head = Buffer.alloc(5);
    head[0] = emitted === total ? 1 : 0;
    head.writeUInt16LE(data.length, 1);
    head.writeUInt16LE(~data.length & 0xffff, 3);
    crc = crc32(data, crc);
    yield head;
    yield data;
  };
  // tar chunks do not line up with 64 KiB blocks: slice them, carrying the remainder over
  let carry: Buffer | undefined;
  for (const chunk of tarChunks(seed, payload)) {
    onTar?.(chunk);
    let off = 0;
    if (carry) {
      const need = DEFLATE_STORED_MAX - carry.length;
      if (chunk.length < need) {
        carry = Buffer.concat([carry, chunk]);
        continue;
      }
      yield* block(Buffer.concat([carry, chunk.subarray(0, need)]));
      off = need;
      carry = undefined;
    }
    for (; chunk.length - off >= DEFLATE_STORED_MAX; off += DEFLATE_STORED_MAX) {
      yield* block(chunk.subarray(off, off + DEFLATE_STORED_MAX));
    }
    if (off < chunk.length) carry = chunk.subarray(off);
  }
  if (carry) yield* block(carry);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(total % 2 ** 32, 4);
  yield trailer;
}

/** Groups small generator pieces into ~1 MiB buffers: fewer, larger writes when uploading. */
function* coalesce(source: Iterable<Buffer>): Generator<Buffer> {
  let parts: Buffer[] = [];
  let len = 0;
  for (const b of source) {
    parts.push(b);
    len += b.length;
    if (len >= GEN_CHUNK) {
      yield Buffer.concat(parts, len);
      parts = [];
      len = 0;
    }
  }
  if (len > 0) yield Buffer.concat(parts, len);
}

const layerInfoCache = new Map<string, LayerInfo>();

/** Digest, size and diff_id of the layer blob for (seed, size); computed once per process. */
export function layerInfo(seed: string, size: number): LayerInfo {
  const key = `${size}\0${seed}`;
  let info = layerInfoCache.get(key);
  if (!info) {
    const blobHash = createHash('sha256');
    const tarHash = createHash('sha256');
    let n = 0;
    for (const chunk of gzipChunks(seed, size, (b) => tarHash.update(b))) {
      blobHash.update(chunk);
      n += chunk.length;
    }
    if (n !== blobSize(size)) throw new Error(`layer generator: ${n} bytes, expected ${blobSize(size)}`);
    info = { digest: `sha256:${blobHash.digest('hex')}`, size: n, diffId: `sha256:${tarHash.digest('hex')}` };
    layerInfoCache.set(key, info);
  }
  return info;
}

/** A fresh stream of the layer blob's bytes (for uploading, or writing a fixture to disk). */
export function layerStream(seed: string, size: number): Readable {
  return Readable.from(coalesce(gzipChunks(seed, size)), { objectMode: false });
}

// ---------------------------------------------------------------------------------------------
// Pushing

const clients = new WeakMap<object, RegistryHttp>();

/** One client per target, so tokens obtained for a repository are reused across pushes. */
export function clientFor(reg: PushTarget): RegistryHttp {
  let c = clients.get(reg);
  if (!c) {
    c = new RegistryHttp(reg);
    clients.set(reg, c);
  }
  return c;
}

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/**
 * Pushes one blob unless the repository already has it. `data` is the bytes, or a stream factory
 * with the digest and size known upfront (big layers).
 */
export async function pushBlob(
  reg: PushTarget,
  repo: string,
  data: Buffer | { digest: string; size: number; stream: () => Readable },
): Promise<BlobRef> {
  const http = clientFor(reg);
  const ref: BlobRef = Buffer.isBuffer(data) ? { digest: sha256(data), size: data.length } : { digest: data.digest, size: data.size };
  const head = await http.request('HEAD', `/v2/${repo}/blobs/${ref.digest}`, { repo });
  if (head.status === 200) return ref;
  const started = await http.expect('POST', `/v2/${repo}/blobs/uploads/`, [202], { repo });
  const location = RegistryHttp.header(started.headers, 'location');
  if (!location) throw new Error(`upload to ${reg.host}/${repo}: 202 without Location`);
  const put = new URL(location, reg.url);
  put.searchParams.set('digest', ref.digest);
  await http.expect('PUT', put.toString(), [201], {
    repo,
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(ref.size) },
    body: Buffer.isBuffer(data) ? data : data.stream,
  });
  return ref;
}

/** PUTs manifest bytes under a tag or digest; returns the digest of the bytes. */
export async function pushManifest(reg: PushTarget, repo: string, ref: string, manifest: Buffer, mediaType: string): Promise<string> {
  const digest = sha256(manifest);
  const res = await clientFor(reg).expect('PUT', `/v2/${repo}/manifests/${ref}`, [201], {
    repo,
    headers: { 'content-type': mediaType },
    body: manifest,
  });
  const answered = RegistryHttp.header(res.headers, 'docker-content-digest');
  if (answered && answered !== digest) {
    throw new Error(`registry computed ${answered} for manifest ${repo}:${ref}, we computed ${digest}`);
  }
  return digest;
}

/**
 * 3-space indentation, as docker writes its manifests: any tool that re-serialises a manifest
 * (and so changes its digest) shows up in byte-for-byte comparisons.
 */
function serialise(obj: unknown): Buffer {
  return Buffer.from(JSON.stringify(obj, null, 3));
}

function dedupe(blobs: BlobRef[]): BlobRef[] {
  const seen = new Map<string, BlobRef>();
  for (const b of blobs) if (!seen.has(b.digest)) seen.set(b.digest, b);
  return [...seen.values()];
}

function refs(reg: PushTarget, repo: string, tag: string | null, digest: string) {
  const digestReference = `${reg.host}/${repo}@${digest}`;
  return { reference: tag ? `${reg.host}/${repo}:${tag}` : digestReference, digestReference, tag: tag ?? undefined };
}

async function pushSingle(
  reg: PushTarget,
  repo: string,
  tag: string | null,
  spec: ImageSpec,
  seed: string,
  platform: PlatformSpec,
): Promise<PushedImage> {
  const docker = spec.format === 'docker';
  const layerSpecs = spec.layers ?? [{ size: 1024 }];
  const layers: LayerInfo[] = [];
  for (const [i, l] of layerSpecs.entries()) {
    const layerSeed = l.seed ?? `${seed}/layer${i}`;
    const info = layerInfo(layerSeed, l.size);
    await pushBlob(reg, repo, { ...info, stream: () => layerStream(layerSeed, l.size) });
    layers.push(info);
  }
  const created = '2024-01-01T00:00:00Z';
  const config = serialise({
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    created,
    config: {
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      Labels: { 'io.oc-mirror-action.test.seed': seed, ...spec.labels },
    },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map((_, i) => ({ created, created_by: `oc-mirror-action test layer ${i}` })),
  });
  const configRef = await pushBlob(reg, repo, config);
  const mediaType = docker ? MediaTypes.dockerManifest : MediaTypes.ociManifest;
  const manifest = serialise({
    schemaVersion: 2,
    mediaType,
    config: { mediaType: docker ? MediaTypes.dockerConfig : MediaTypes.ociConfig, ...configRef },
    layers: layers.map((l) => ({
      mediaType: docker ? MediaTypes.dockerLayerGzip : MediaTypes.ociLayerGzip,
      digest: l.digest,
      size: l.size,
    })),
  });
  const digest = sha256(manifest);
  await pushManifest(reg, repo, tag ?? digest, manifest, mediaType);
  const layerRefs = layers.map(({ digest: d, size }) => ({ digest: d, size }));
  return {
    ...refs(reg, repo, tag, digest),
    repo,
    digest,
    mediaType,
    manifest,
    config: configRef,
    layers: layerRefs,
    platform,
    blobs: dedupe([configRef, ...layerRefs]),
  };
}

/**
 * Builds and pushes an image (or, with `platforms`, an index / manifest list whose children are
 * pushed by digest first: distribution 2.8 refuses an index whose children it does not have).
 * `ref` is the tag; `null` pushes by digest only (an untagged image).
 */
export async function pushImage(reg: PushTarget, repo: string, ref: string | null, spec: ImageSpec = {}): Promise<PushedImage> {
  const seed = spec.seed ?? `${repo}:${ref ?? ''}`;
  if (!spec.platforms) {
    return pushSingle(reg, repo, ref, spec, seed, { os: 'linux', architecture: 'amd64' });
  }
  const docker = spec.format === 'docker';
  const children: PushedImage[] = [];
  for (const p of spec.platforms) {
    const childSeed = `${seed}/${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
    children.push(await pushSingle(reg, repo, null, spec, childSeed, p));
  }
  const mediaType = docker ? MediaTypes.dockerList : MediaTypes.ociIndex;
  const manifest = serialise({
    schemaVersion: 2,
    mediaType,
    manifests: children.map((c) => ({
      mediaType: c.mediaType,
      digest: c.digest,
      size: c.manifest.length,
      platform: c.platform,
    })),
  });
  const digest = sha256(manifest);
  await pushManifest(reg, repo, ref ?? digest, manifest, mediaType);
  return {
    ...refs(reg, repo, ref, digest),
    repo,
    digest,
    mediaType,
    manifest,
    children,
    blobs: dedupe(children.flatMap((c) => c.blobs)),
  };
}

export interface ArtifactSpec {
  /** digest of the manifest this signature is for */
  signs: string;
  /** default `sha256-<hex>.sig`, cosign's tag scheme */
  tag?: string;
  /** docker-reference written into the signed payload; default host/repo of the push */
  identity?: string;
}

/**
 * Pushes a cosign-style signature: an OCI manifest whose single layer is an
 * `application/vnd.dev.cosign.simplesigning.v1+json` payload (not a tar), tagged
 * `sha256-<hex>.sig`. It is not an image, which is the point: mirrors must pass it through as is.
 * The signature annotation is a fixed dummy: nothing verifies it in these tests.
 */
export async function pushArtifact(reg: PushTarget, repo: string, spec: ArtifactSpec): Promise<PushedImage> {
  const tag = spec.tag ?? `${spec.signs.replace(':', '-')}.sig`;
  const payload = Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': spec.identity ?? `${reg.host}/${repo}` },
        image: { 'docker-manifest-digest': spec.signs },
        type: 'cosign container image signature',
      },
      optional: null,
    }),
  );
  const payloadRef = await pushBlob(reg, repo, payload);
  const created = '0001-01-01T00:00:00Z';
  const config = Buffer.from(
    JSON.stringify({
      architecture: '',
      created,
      history: [{ created }],
      os: '',
      rootfs: { type: 'layers', diff_ids: [payloadRef.digest] },
      config: {},
    }),
  );
  const configRef = await pushBlob(reg, repo, config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaTypes.ociManifest,
      config: { mediaType: MediaTypes.ociConfig, ...configRef },
      layers: [
        {
          mediaType: MediaTypes.cosignSimpleSigning,
          ...payloadRef,
          annotations: { 'dev.cosignproject.cosign/signature': Buffer.from(`test signature of ${spec.signs}`).toString('base64') },
        },
      ],
    }),
  );
  const digest = await pushManifest(reg, repo, tag, manifest, MediaTypes.ociManifest);
  return {
    ...refs(reg, repo, tag, digest),
    repo,
    digest,
    mediaType: MediaTypes.ociManifest,
    manifest,
    config: configRef,
    layers: [payloadRef],
    blobs: [configRef, payloadRef],
  };
}
