import type { Readable } from 'node:stream';
import { NotFoundError, OcMirrorError } from '../errors.js';
import { isDigest } from '../image/digest.js';
import { receivedManifest, type Descriptor, type RawManifest } from '../image/manifest.js';
import type { ImageSource } from '../image/transport.js';
import { blobDataPath, layerLinkPath, revisionLinkPath, tagCurrentLinkPath, type LayoutReader } from './layout.js';

const MAX_MANIFEST_BYTES = 8 * 1024 * 1024;

/**
 * One repository of a distribution layout as an image source: tags resolve through their
 * `current/link`, content comes from `blobs/`, and a blob or manifest is served only when the
 * repository links it, as the registry would. Manifests are verified against their digest here;
 * blobs are verified by the copy engine while they stream.
 */
export class LayoutSource implements ImageSource {
  readonly name: string;

  constructor(
    private readonly layout: LayoutReader,
    readonly repository: string,
    /** how this layout is named in messages, e.g. the store path or `archives in /mnt/disk` */
    label: string,
    /** said when a blob is missing: what the user can do about it */
    private readonly missingHint?: string,
  ) {
    this.name = `${repository} (${label})`;
  }

  async getManifest(reference: string, _signal?: AbortSignal): Promise<RawManifest> {
    const digest = isDigest(reference) ? reference : await this.resolveTag(reference);
    if (!(await this.layout.size(revisionLinkPath(this.repository, digest)))) {
      throw new NotFoundError(`${this.name}: manifest ${reference} not found`, 404);
    }
    const size = await this.layout.size(blobDataPath(digest));
    if (size === undefined) throw new NotFoundError(`${this.name}: manifest ${digest} is linked but its content is missing`, 404);
    if (size > MAX_MANIFEST_BYTES) throw new OcMirrorError(`${this.name}: manifest ${digest} is ${size} bytes, more than a manifest may be`);
    const bytes = await this.layout.readSmall(blobDataPath(digest));
    if (!bytes) throw new NotFoundError(`${this.name}: manifest ${digest} content is missing`, 404);
    return receivedManifest(bytes, '', `${this.name}@${digest}`, digest);
  }

  async getBlob(desc: Descriptor, _signal?: AbortSignal): Promise<Readable> {
    const linked = (await this.layout.size(layerLinkPath(this.repository, desc.digest))) !== undefined
      || (await this.layout.size(revisionLinkPath(this.repository, desc.digest))) !== undefined;
    const stream = linked ? await this.layout.open(blobDataPath(desc.digest)) : undefined;
    if (!stream) throw new NotFoundError(`${this.name}: blob ${desc.digest} not found${this.missingHint ? `; ${this.missingHint}` : ''}`, 404);
    return stream;
  }

  /** The digest a tag points at. */
  async resolveTag(tag: string): Promise<string> {
    const link = await this.layout.readSmall(tagCurrentLinkPath(this.repository, tag));
    const digest = link?.toString('utf8').trim();
    if (!digest) throw new NotFoundError(`${this.name}: manifest ${tag} not found`, 404);
    if (!isDigest(digest)) throw new OcMirrorError(`${this.name}: tag ${tag} links to "${digest.slice(0, 80)}", which is not a digest`);
    return digest;
  }
}
