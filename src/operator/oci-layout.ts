/**
 * An OCI image layout directory on disk (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`) as an
 * image source: how `oci://` catalogs are read. Manifests are verified against their digest;
 * blobs stream from disk and are verified by whoever reads them.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { NotFoundError, OcMirrorError } from '../errors.js';
import { digestOf, isDigest } from '../image/digest.js';
import { MediaType, receivedManifest, viewManifest, type Descriptor, type RawManifest } from '../image/manifest.js';
import type { ImageSource } from '../image/transport.js';

const MAX_MANIFEST_BYTES = 8 * 1024 * 1024;

export class OciLayoutSource implements ImageSource {
  readonly name: string;

  constructor(readonly dir: string) {
    this.name = `oci://${dir}`;
  }

  /**
   * The image the layout holds: its one manifest when `index.json` lists one, else `index.json`
   * itself read as a multi-platform index (as oc-mirror does with such layouts).
   */
  async top(): Promise<RawManifest> {
    let bytes: Buffer;
    try {
      bytes = await readFile(join(this.dir, 'index.json'));
    } catch (err) {
      throw new OcMirrorError(`${this.name}: not an OCI image layout (no readable index.json: ${(err as NodeJS.ErrnoException).code ?? err})`);
    }
    const index = receivedManifest(bytes, MediaType.OciIndex, `${this.name}/index.json`);
    const view = viewManifest(index, `${this.name}/index.json`);
    if (view.kind !== 'index' || view.manifests.length === 0) throw new OcMirrorError(`${this.name}: index.json lists no manifest`);
    if (view.manifests.length === 1) return this.getManifest(view.manifests[0]!.digest);
    return { ...index, mediaType: MediaType.OciIndex, digest: digestOf(bytes) };
  }

  async getManifest(reference: string, _signal?: AbortSignal): Promise<RawManifest> {
    if (!isDigest(reference)) throw new OcMirrorError(`${this.name}: manifests of a layout are read by digest, not "${reference}"`);
    const path = this.blobPath(reference);
    const size = await fileSize(path);
    if (size === undefined) throw new NotFoundError(`${this.name}: manifest ${reference} not found in blobs/`, 404);
    if (size > MAX_MANIFEST_BYTES) throw new OcMirrorError(`${this.name}: manifest ${reference} is ${size} bytes, more than a manifest may be`);
    return receivedManifest(await readFile(path), '', `${this.name}@${reference}`, reference);
  }

  async getBlob(desc: Descriptor, _signal?: AbortSignal): Promise<Readable> {
    const path = this.blobPath(desc.digest);
    if ((await fileSize(path)) === undefined) throw new NotFoundError(`${this.name}: blob ${desc.digest} not found in blobs/`, 404);
    return createReadStream(path, { highWaterMark: 1024 * 1024 });
  }

  private blobPath(digest: string): string {
    if (!isDigest(digest)) throw new OcMirrorError(`${this.name}: "${digest}" is not a digest`);
    const [algorithm, hex] = digest.split(':') as [string, string];
    return join(this.dir, 'blobs', algorithm, hex);
  }
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    const s = await stat(path);
    return s.isFile() ? s.size : undefined;
  } catch {
    return undefined;
  }
}
