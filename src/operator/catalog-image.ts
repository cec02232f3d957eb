/**
 * A catalog image as the collector sees it: its platforms, and the file-based catalog (FBC) that
 * the label `operators.operatorframework.io.index.configs.v1` points at (ref §7.1). The FBC is
 * read from one platform's layers only (every platform of a catalog carries the same configs),
 * streaming: each layer is verified against its digest and decompressed as it arrives, entries
 * outside the configs directory are skipped without being kept, and whiteouts are applied
 * across layers. The files land in a directory on disk, so memory holds one file at a time.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { PassThrough } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { errorMessage, OcMirrorError } from '../errors.js';
import { VerifyingStream } from '../image/digest.js';
import { viewManifest, type Descriptor, type Platform, type RawManifest } from '../image/manifest.js';
import type { ImageSource } from '../image/transport.js';
import { scanTar, type TarStreamEntry, type TarVisit } from '../archive/tar-stream.js';

export const CONFIGS_LABEL = 'operators.operatorframework.io.index.configs.v1';

/** A catalog's FBC files larger than this are refused rather than read whole. */
const MAX_FBC_FILE_BYTES = 512 * 1024 * 1024;

/** One platform of a catalog image: its manifest, the descriptor the index gave it, its config. */
export interface CatalogPlatform {
  manifest: RawManifest;
  /** absent for a single-manifest catalog */
  descriptor?: Descriptor;
  config: Descriptor;
  configBytes: Buffer;
  layers: Descriptor[];
}

export interface CatalogImage {
  top: RawManifest;
  /** true when `top` is an index (one entry per platform) */
  isIndex: boolean;
  platforms: CatalogPlatform[];
  /** the platform whose layers hold the FBC that is read */
  chosen: CatalogPlatform;
  /** the label's directory, without leading or trailing `/`, e.g. `configs` */
  configsDir: string;
}

const MAX_CONFIG_BYTES = 8 * 1024 * 1024;

/** Reads a catalog's manifests and configs (no layer) and finds its configs directory. */
export async function inspectCatalog(source: ImageSource, top: RawManifest, what: string): Promise<CatalogImage> {
  const view = viewManifest(top, what);
  const platforms: CatalogPlatform[] = [];
  if (view.kind === 'index') {
    for (const d of view.manifests) {
      // Attestations and other non-runnable entries (buildx writes `unknown/unknown`) are not platforms.
      if (d.platform && (d.platform.os === 'unknown' || d.platform.architecture === 'unknown')) continue;
      const child = await source.getManifest(d.digest);
      const childView = viewManifest(child, what);
      if (childView.kind !== 'image') throw new OcMirrorError(`${what}: nested indexes in a catalog image are not supported`);
      platforms.push(await platformOf(source, child, childView, what, d));
    }
  } else {
    platforms.push(await platformOf(source, top, view, what));
  }
  if (!platforms.length) throw new OcMirrorError(`${what}: the catalog image has no runnable platform`);
  const chosen = platforms.find((p) => isLinuxAmd64(p.descriptor?.platform)) ?? platforms[0]!;
  const labels = (JSON.parse(chosen.configBytes.toString('utf8')) as { config?: { Labels?: Record<string, string> } }).config?.Labels ?? {};
  const label = labels[CONFIGS_LABEL];
  if (!label) throw new OcMirrorError(`${what}: the image has no label ${CONFIGS_LABEL}: it is not a file-based catalog`);
  const configsDir = cleanEntryName(label);
  if (!configsDir || configsDir.split('/').includes('..')) throw new OcMirrorError(`${what}: label ${CONFIGS_LABEL}="${label}" is not a directory in the image`);
  return { top, isIndex: view.kind === 'index', platforms, chosen, configsDir };
}

function isLinuxAmd64(p: Platform | undefined): boolean {
  return p?.os === 'linux' && p.architecture === 'amd64';
}

async function platformOf(
  source: ImageSource,
  manifest: RawManifest,
  view: { config?: Descriptor; layers: Descriptor[] },
  what: string,
  descriptor?: Descriptor,
): Promise<CatalogPlatform> {
  if (!view.config) throw new OcMirrorError(`${what}: manifest ${manifest.digest} has no config`);
  if (view.config.size > MAX_CONFIG_BYTES) throw new OcMirrorError(`${what}: image config ${view.config.digest} is ${view.config.size} bytes`);
  const configBytes = await readBlob(source, view.config, what);
  return { manifest, ...(descriptor && { descriptor }), config: view.config, configBytes, layers: view.layers };
}

/** `./a/b/` → `a/b` */
function cleanEntryName(name: string): string {
  return name
    .split('/')
    .filter((c) => c !== '' && c !== '.')
    .join('/');
}

/** A small blob, whole and verified. */
export async function readBlob(source: ImageSource, desc: Descriptor, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const verifier = new VerifyingStream(desc.digest, desc.size, `${what} blob ${desc.digest}`);
  const sink = new PassThrough();
  sink.on('data', (c: Buffer) => chunks.push(c));
  await pipeline(await source.getBlob(desc), verifier, sink);
  return Buffer.concat(chunks);
}

function isGzip(mediaType: string): boolean {
  return mediaType.endsWith('+gzip') || mediaType.endsWith('.tar.gzip');
}

function isPlainTar(mediaType: string): boolean {
  return mediaType.endsWith('.tar') || mediaType === 'application/vnd.docker.image.rootfs.diff.tar';
}

/**
 * Writes the FBC of `image` under `dir` (the configs directory's content, relative paths kept).
 * Extraction goes to a temporary sibling renamed into place when complete; an existing `dir` is
 * a finished extraction of the same image digest and is reused.
 */
export async function extractConfigs(source: ImageSource, image: CatalogImage, dir: string, what: string): Promise<void> {
  if (await exists(dir)) return;
  const staging = `${dir}.tmp-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  try {
    /** files present so far (relative to the configs dir) → the layer that wrote them */
    const present = new Map<string, number>();
    const prefix = `${image.configsDir}/`;
    for (const [index, layer] of image.chosen.layers.entries()) {
      const removals: string[] = [];
      const layerWhat = `${what} layer ${layer.digest}`;
      await readLayer(source, layer, layerWhat, (e) => {
        const slash = e.name.lastIndexOf('/');
        const base = e.name.slice(slash + 1);
        if (base.startsWith('.wh.')) {
          const parent = e.name.slice(0, slash + 1);
          // `.wh..wh..opq` hides everything below its directory; `.wh.x` hides x (file or tree).
          removals.push(base === '.wh..wh..opq' ? parent : parent + base.slice('.wh.'.length));
          return 'skip';
        }
        if (e.type !== 'file' || !e.name.startsWith(prefix)) return 'skip';
        return { read: MAX_FBC_FILE_BYTES };
      }, async (e, data) => {
        const rel = e.name.slice(prefix.length);
        if (rel.split('/').includes('..')) throw new OcMirrorError(`${layerWhat}: entry ${e.name} leaves the configs directory`);
        await mkdir(dirname(join(staging, rel)), { recursive: true });
        await writeFile(join(staging, rel), data);
        present.set(rel, index);
      });
      // Whiteouts hide what lower layers wrote, never what this layer itself holds.
      for (const removed of removals) {
        const hidden = removed.endsWith('/') ? removed : `${removed}/`;
        for (const [rel, from] of present) {
          const full = prefix + rel;
          if (from === index) continue;
          if (removed === '' || full === removed || full.startsWith(hidden)) {
            await rm(join(staging, rel), { force: true });
            present.delete(rel);
          }
        }
      }
    }
    await mkdir(dirname(dir), { recursive: true });
    await rename(staging, dir);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Streams one layer through its digest check and gunzip into the tar scanner. The scan reads the
 * whole layer (configs may sit anywhere in it) but keeps only what `visit` asks for; the digest is
 * confirmed before the caller trusts anything it was given.
 */
async function readLayer(
  source: ImageSource,
  layer: Descriptor,
  what: string,
  visit: (e: TarStreamEntry) => TarVisit,
  onData: (e: TarStreamEntry, data: Buffer) => Promise<void>,
): Promise<void> {
  if (!isGzip(layer.mediaType) && !isPlainTar(layer.mediaType)) {
    throw new OcMirrorError(`${what}: layer media type ${layer.mediaType} is not supported (gzip or plain tar)`);
  }
  const verifier = new VerifyingStream(layer.digest, layer.size, what);
  const verified = pipeline(await source.getBlob(layer), verifier, isGzip(layer.mediaType) ? createGunzip() : new PassThrough(), async (tar: AsyncIterable<Buffer>) => {
    // Data is written to disk between entries, so the scan awaits each write: a queue keeps order.
    const pending: Promise<void>[] = [];
    await scanTar(tar, what, visit, (e, data) => {
      const written = onData(e, data);
      written.catch(() => {}); // awaited below; this only keeps it from counting as unhandled meanwhile
      pending.push(written);
    });
    await Promise.all(pending);
    for await (const _rest of tar) {
      // the end-of-archive padding: read so that the whole blob passes the digest check
    }
  });
  try {
    await verified;
  } catch (err) {
    throw err instanceof OcMirrorError ? err : new OcMirrorError(`${what}: ${errorMessage(err)}`);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await readdir(path);
    return true;
  } catch {
    return false;
  }
}

/** The files of an extracted FBC, one at a time, in a stable order. */
export async function* configFiles(dir: string): AsyncGenerator<{ path: string; content: Buffer }> {
  const walk = async function* (rel: string): AsyncGenerator<{ path: string; content: Buffer }> {
    const entries = (await readdir(join(dir, rel), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) yield* walk(path);
      else if (e.isFile()) yield { path, content: await readFile(join(dir, path)) };
    }
  };
  yield* walk('');
}
