/**
 * Reads a few small files out of an image's filesystem without unpacking it: layers are read
 * newest first, each streamed through gunzip into the tar scanner, and no older layer is opened
 * once every file is found or hidden by a whiteout. Every layer read is verified against its
 * digest (the rest of a layer is still hashed after the files are found), so what the files say
 * is as trustworthy as the digest the image was pulled by.
 */
import { PassThrough, pipeline, type Readable, type Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { OcMirrorError } from '../errors.js';
import { VerifyingStream } from '../image/digest.js';
import { viewManifest, type Descriptor, type RawManifest } from '../image/manifest.js';
import type { ImageSource } from '../image/transport.js';
import { scanTar } from '../archive/tar-stream.js';

/** Release manifests are kilobytes; a file this large in their place is not one. */
const MAX_FILE_BYTES = 64 * 1024 * 1024;

export interface ImageFiles {
  /** path (as asked, no leading `/`) → content, for the files found */
  files: Map<string, Buffer>;
  /** the single-platform manifest the files were read from (the first linux/amd64 child of an index, else its first child) */
  image: RawManifest;
}

/**
 * The files at `paths` in the image `top` (a manifest or an index) of `source`. Absent files are
 * absent from the map. `what` names the image in errors.
 */
export async function readImageFiles(source: ImageSource, top: RawManifest, paths: readonly string[], what: string, signal?: AbortSignal): Promise<ImageFiles> {
  const image = await singleImage(source, top, what, signal);
  const view = viewManifest(image, what);
  if (view.kind !== 'image') throw new OcMirrorError(`${what}: the image manifest lists no layers`);
  const files = new Map<string, Buffer>();
  const unresolved = new Set(paths);
  for (const layer of [...view.layers].reverse()) {
    if (unresolved.size === 0) break;
    const hidden = await readLayer(source, layer, unresolved, files, `${what} layer ${layer.digest}`, signal);
    for (const p of [...files.keys(), ...hidden]) unresolved.delete(p);
  }
  return { files, image };
}

async function singleImage(source: ImageSource, top: RawManifest, what: string, signal?: AbortSignal): Promise<RawManifest> {
  const view = viewManifest(top, what);
  if (view.kind === 'image') return top;
  const children = view.manifests.filter((m) => !m.platform || m.platform.os !== 'unknown');
  const chosen = children.find((m) => m.platform?.os === 'linux' && m.platform.architecture === 'amd64') ?? children[0];
  if (!chosen) throw new OcMirrorError(`${what}: the image index lists no image`);
  return singleImage(source, await source.getManifest(chosen.digest, signal), what, signal);
}

/**
 * Reads one layer: wanted files it holds go into `found`; returns the wanted paths a whiteout in
 * it hides (they are absent from the image, whatever older layers hold).
 */
async function readLayer(
  source: ImageSource,
  layer: Descriptor,
  wanted: ReadonlySet<string>,
  found: Map<string, Buffer>,
  what: string,
  signal?: AbortSignal,
): Promise<string[]> {
  if (/zstd/.test(layer.mediaType)) throw new OcMirrorError(`${what}: zstd-compressed layers cannot be read (media type ${layer.mediaType})`);
  const body = await source.getBlob(layer, signal);
  const verifier = new VerifyingStream(layer.digest, layer.size, what);
  const verified = streamEnd(verifier);
  verified.catch(() => {}); // awaited below, after the scan; this only keeps it from counting as unhandled meanwhile
  pipeline(body, verifier, () => {});
  const tar: Transform = /gzip/.test(layer.mediaType) ? createGunzip() : new PassThrough();
  verifier.pipe(tar);
  const inThisLayer = new Set<string>();
  /** hidden by a `.wh.<name>` entry: settled */
  const whitedOut = new Set<string>();
  /** under an opaque directory: hidden unless this very layer has the file, maybe further on */
  const opaque = new Set<string>();
  const settled = () => [...wanted].every((p) => inThisLayer.has(p) || whitedOut.has(p));
  let scanError: unknown;
  try {
    await scanTar(
      tar,
      what,
      (entry) => {
        const slash = entry.name.lastIndexOf('/');
        const base = entry.name.slice(slash + 1);
        const dir = slash >= 0 ? entry.name.slice(0, slash) : '';
        if (base === '.wh..wh..opq') {
          for (const p of wanted) if (p.startsWith(`${dir}/`)) opaque.add(p);
        } else if (base.startsWith('.wh.')) {
          const target = `${dir ? `${dir}/` : ''}${base.slice(4)}`;
          for (const p of wanted) if (p === target || p.startsWith(`${target}/`)) whitedOut.add(p);
        } else if (wanted.has(entry.name) && !inThisLayer.has(entry.name)) {
          inThisLayer.add(entry.name);
          if (entry.type === 'file') return { read: MAX_FILE_BYTES };
          throw new OcMirrorError(`${what}: ${entry.name} is a ${entry.type}, not a regular file`);
        }
        return settled() ? 'stop' : 'skip';
      },
      (entry, data) => {
        found.set(entry.name, data);
        return settled() ? 'stop' : undefined;
      },
    );
  } catch (err) {
    scanError = err;
  }
  // Stop decompressing; the compressed rest still flows through the verifier to be hashed, and a
  // digest mismatch explains a scan error better than the scan error itself.
  verifier.unpipe(tar);
  tar.destroy();
  verifier.resume();
  await verified;
  if (scanError) throw scanError;
  return [...whitedOut, ...opaque].filter((p) => !found.has(p));
}

/** A small blob (an image config), verified against its digest. */
export async function readSmallBlob(source: ImageSource, desc: Descriptor, what: string, signal?: AbortSignal): Promise<Buffer> {
  if (desc.size > 16 * 1024 * 1024) throw new OcMirrorError(`${what}: ${desc.digest} is ${desc.size} bytes, too large for an image config`);
  const verifier = new VerifyingStream(desc.digest, desc.size, `${what} ${desc.digest}`);
  pipeline(await source.getBlob(desc, signal), verifier, () => {});
  const chunks: Buffer[] = [];
  for await (const chunk of verifier) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function streamEnd(stream: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.once('end', resolve);
    stream.once('error', reject);
  });
}
