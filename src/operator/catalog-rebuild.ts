/**
 * Rebuilds a filtered catalog (ref §7.4) into the local store: every platform of the original
 * keeps its layers and gets one more, holding the filtered FBC under `/configs` with an opaque
 * whiteout that hides the original configs; the image config points the label and the command
 * at it. The same original and the same FBC give the same bytes, hence the same digest: the layer
 * tar has fixed mtimes (0), owners (0) and modes, entries in sorted order, the gzip stream has
 * fixed settings and no timestamp, and nothing in the configs or manifests records the time.
 *
 * The opm cache: catalogs ship a cache pre-computed for their original configs (`/tmp/cache`,
 * served with `--cache-dir=/tmp/cache`). With new configs that cache is stale, and opm's attempt
 * to rebuild it in place fails for the random UIDs OpenShift runs catalog pods with (ref §15
 * item 8). As oc-mirror does, the command becomes `serve /configs` without `--cache-dir`: opm then
 * builds its cache in a fresh temporary directory at start. The stale cache is left in the lower
 * layers rather than whited out: nothing reads it, and a whiteout would have to recreate its
 * parent directories (`/tmp`, mode 1777) in the new layer, where a wrong mode or owner breaks the
 * pod for exactly those random UIDs.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { TarWriter } from '../archive/tar.js';
import { Limiter } from '../copy/limit.js';
import { errorMessage, OcMirrorError } from '../errors.js';
import { digestOf, digestTag, VerifyingStream } from '../image/digest.js';
import { isIndexMediaType, MediaType, type Descriptor, type RawManifest } from '../image/manifest.js';
import type { ImageSource } from '../image/transport.js';
import type { StoreRepository } from '../store/store.js';
import { CONFIGS_LABEL, type CatalogImage, type CatalogPlatform } from './catalog-image.js';

/** Where the filtered FBC lives in the rebuilt image, as oc-mirror puts it. */
export const REBUILT_CONFIGS_DIR = 'configs';
const SERVE_COMMAND = ['serve', `/${REBUILT_CONFIGS_DIR}`];
const OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
const DOCKER_LAYER_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
/** Fixed compressor settings: part of what makes a rebuild reproducible. */
const GZIP_OPTIONS = { level: 9, memLevel: 8, windowBits: 15 } as const;

export interface RebuiltCatalog {
  /** the top manifest (index, or the manifest of a single-platform catalog) */
  digest: string;
  mediaType: string;
  tag: string;
}

/** Copies every platform's config and layers into the store repository (verified, skipping what is there). */
export async function copyCatalogBlobs(source: ImageSource, image: CatalogImage, repo: StoreRepository, what: string): Promise<void> {
  const blobs = new Map<string, Descriptor>();
  for (const p of image.platforms) for (const d of [p.config, ...p.layers]) if (!d.urls?.length) blobs.set(d.digest, d);
  const limiter = new Limiter(4);
  await Promise.all(
    [...blobs.values()].map((d) =>
      limiter.run(async () => {
        if (await repo.hasBlob(d)) return;
        const verifier = new VerifyingStream(d.digest, d.size, `${what} blob ${d.digest}`);
        const body = await source.getBlob(d);
        body.on('error', (err) => verifier.destroy(err));
        try {
          await repo.putBlob(d, body.pipe(verifier));
        } catch (err) {
          throw err instanceof OcMirrorError ? err : new OcMirrorError(`${what} blob ${d.digest}: ${errorMessage(err)}`);
        }
      }),
    ),
  );
}

/**
 * Builds the filtered catalog from the original (whose blobs must already be in `repo`) and the
 * filtered FBC files, and stores it in `repo` under `tag` (undefined: `sha256-<digest>` of the
 * result, for catalogs named by digest only). `scratch` is a file path for the layer's tar.
 */
export async function rebuildCatalog(
  image: CatalogImage,
  fbc: readonly { path: string; content: Buffer }[],
  repo: StoreRepository,
  tag: string | undefined,
  scratch: string,
): Promise<RebuiltCatalog> {
  const layer = await buildFbcLayer(fbc, image.configsDir, scratch);
  try {
    const rebuilt: { platform: CatalogPlatform; manifest: RawManifest }[] = [];
    for (const platform of image.platforms) {
      const docker = platform.manifest.mediaType === MediaType.DockerManifest;
      const layerDesc: Descriptor = { mediaType: docker ? DOCKER_LAYER_GZIP : OCI_LAYER_GZIP, digest: layer.digest, size: layer.size };
      if (!(await repo.hasBlob(layerDesc))) await repo.putBlob(layerDesc, layer.stream());
      const configBytes = rebuiltConfig(platform.configBytes, layer.diffId);
      const configDesc: Descriptor = { mediaType: platform.config.mediaType, digest: digestOf(configBytes), size: configBytes.length };
      await repo.putBlob(configDesc, Readable.from([configBytes]));
      const manifest = rebuiltManifest(platform.manifest, configDesc, layerDesc);
      await repo.putManifest(manifest, manifest.digest);
      rebuilt.push({ platform, manifest });
    }
    const top = image.isIndex ? rebuiltIndex(image.top, rebuilt) : rebuilt[0]!.manifest;
    const finalTag = tag ?? digestTag(top.digest);
    await repo.putManifest(top, finalTag);
    return { digest: top.digest, mediaType: top.mediaType, tag: finalTag };
  } finally {
    await rm(scratch, { force: true });
  }
}

interface FbcLayer {
  digest: string;
  size: number;
  diffId: string;
  /** a fresh stream of the compressed bytes (the same bytes every time) */
  stream(): Readable;
}

/**
 * The new layer: `configs/` with an opaque whiteout (the original configs, if they were there,
 * are hidden; this layer's files are not), the FBC files below it, and a whiteout of the
 * original configs directory when the label pointed elsewhere at the top level. The tar goes to
 * a scratch file; its gzip is produced twice (once to digest it, once to store it) rather than
 * held in memory.
 */
async function buildFbcLayer(fbc: readonly { path: string; content: Buffer }[], originalDir: string, scratch: string): Promise<FbcLayer> {
  const files = [...fbc].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const handle = await open(scratch, 'w');
  try {
    const tar = new TarWriter(handle, new Date(0));
    if (originalDir !== REBUILT_CONFIGS_DIR && !originalDir.includes('/')) await tar.addFile(`.wh.${originalDir}`, 0, bytes());
    await tar.addDirectory(`${REBUILT_CONFIGS_DIR}/`);
    await tar.addFile(`${REBUILT_CONFIGS_DIR}/.wh..wh..opq`, 0, bytes());
    // Each directory right before its first file: entries in path order, parents first.
    const emitted = new Set<string>();
    for (const f of files) {
      const parts = f.path.split('/');
      for (let i = 1; i < parts.length; i++) {
        const dir = parts.slice(0, i).join('/');
        if (!emitted.has(dir)) {
          emitted.add(dir);
          await tar.addDirectory(`${REBUILT_CONFIGS_DIR}/${dir}/`);
        }
      }
      await tar.addFile(`${REBUILT_CONFIGS_DIR}/${f.path}`, f.content.length, bytes(f.content));
    }
    await tar.finish();
  } finally {
    await handle.close();
  }
  const diffId = await hashStream(createReadStream(scratch));
  const gzipped = () => createReadStream(scratch).pipe(createGzip(GZIP_OPTIONS));
  let size = 0;
  const hash = createHash('sha256');
  await pipeline(gzipped(), async (chunks: AsyncIterable<Buffer>) => {
    for await (const c of chunks) {
      hash.update(c);
      size += c.length;
    }
  });
  const digest = `sha256:${hash.digest('hex')}`;
  return { digest, size, diffId: diffId.digest, stream: () => gzipped().pipe(new VerifyingStream(digest, size, 'the rebuilt catalog layer')) };
}

async function* bytes(...chunks: Buffer[]): AsyncGenerator<Buffer> {
  yield* chunks;
}

async function hashStream(stream: Readable): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const c of stream) {
    hash.update(c as Buffer);
    size += (c as Buffer).length;
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

/** The original config with the new layer's diff_id and history, the label and the command. */
export function rebuiltConfig(original: Buffer, diffId: string): Buffer {
  const cfg = JSON.parse(original.toString('utf8')) as {
    config?: { Labels?: Record<string, string>; Cmd?: string[] };
    rootfs?: { type?: string; diff_ids?: string[] };
    history?: Record<string, unknown>[];
  };
  cfg.config = { ...cfg.config, Cmd: SERVE_COMMAND, Labels: { ...cfg.config?.Labels, [CONFIGS_LABEL]: `/${REBUILT_CONFIGS_DIR}` } };
  cfg.rootfs = { type: cfg.rootfs?.type ?? 'layers', diff_ids: [...(cfg.rootfs?.diff_ids ?? []), diffId] };
  // No `created`: a timestamp would make every rebuild a different image.
  cfg.history = [...(cfg.history ?? []), { created_by: 'oc-mirror: filtered file-based catalog in /configs', author: 'oc-mirror' }];
  return Buffer.from(JSON.stringify(cfg));
}

function rebuiltManifest(original: RawManifest, config: Descriptor, layer: Descriptor): RawManifest {
  const m = JSON.parse(original.bytes.toString('utf8')) as { config: Descriptor; layers: Descriptor[] };
  m.config = { ...m.config, digest: config.digest, size: config.size };
  m.layers = [...m.layers, layer];
  const bytes = Buffer.from(JSON.stringify(m));
  return { bytes, mediaType: original.mediaType, digest: digestOf(bytes) };
}

function rebuiltIndex(original: RawManifest, platforms: { platform: CatalogPlatform; manifest: RawManifest }[]): RawManifest {
  const index = JSON.parse(original.bytes.toString('utf8')) as { manifests: Descriptor[] };
  // Entries that are not platforms of the catalog (attestations) described the original: dropped.
  index.manifests = platforms.map(({ platform, manifest }) => ({
    ...platform.descriptor!,
    mediaType: manifest.mediaType,
    digest: manifest.digest,
    size: manifest.bytes.length,
  }));
  const bytes = Buffer.from(JSON.stringify(index));
  const mediaType = isIndexMediaType(original.mediaType) ? original.mediaType : MediaType.OciIndex;
  return { bytes, mediaType, digest: digestOf(bytes) };
}
