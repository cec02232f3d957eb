/**
 * What one release payload is made of, read from the payload image itself (ref §8.4) and kept as a
 * small record under working-dir so that disk to mirror knows it without reading the payload
 * (which an earlier, incremental archive may have carried).
 */
import { OcMirrorError } from '../errors.js';
import { viewManifest } from '../image/manifest.js';
import { parseReference } from '../image/reference.js';
import type { ImageSource } from '../image/transport.js';
import { readImageFiles, readSmallBlob } from './image-files.js';
import {
  BOOT_IMAGES,
  IMAGE_REFERENCES,
  kubeVirtImages,
  parseImageReferences,
  parseReleaseMetadata,
  RELEASE_METADATA,
  type ReleaseComponent,
} from './release-manifests.js';

export interface PayloadContent {
  /** from release-metadata, else the image-references ImageStream's name */
  version?: string;
  /** Go architecture of the payload image, or `multi` for an index */
  architecture: string;
  components: ReleaseComponent[];
  /** every KubeVirt container disk the boot images name, by CoreOS architecture */
  kubeVirt: { architecture: string; image: string }[];
}

/** Where a payload's record is kept under working-dir. */
export function payloadRecordPath(digest: string): string {
  return `hold-release/releases/${digest.replace(':', '-')}.json`;
}

const COREOS_ARCHITECTURES = ['x86_64', 'aarch64', 'ppc64le', 's390x'];

/** Reads the payload `digest` from `source`: its manifest, its architecture and its release manifests. */
export async function readPayload(source: ImageSource, digest: string, what: string, signal?: AbortSignal): Promise<PayloadContent> {
  const top = await source.getManifest(digest, signal);
  const { files, image } = await readImageFiles(source, top, [IMAGE_REFERENCES, RELEASE_METADATA, BOOT_IMAGES], what, signal);
  const references = files.get(IMAGE_REFERENCES);
  if (!references) throw new OcMirrorError(`${what}: the payload has no ${IMAGE_REFERENCES}: not a release payload`);
  const parsed = parseImageReferences(references, `${what} ${IMAGE_REFERENCES}`);
  const metadata = files.get(RELEASE_METADATA);
  const version = (metadata && parseReleaseMetadata(metadata, `${what} ${RELEASE_METADATA}`)) ?? parsed.version;
  const boot = files.get(BOOT_IMAGES);
  return {
    ...(version && { version }),
    architecture: viewManifest(top, what).kind === 'index' ? 'multi' : await imageArchitecture(source, image, what, signal),
    components: parsed.components,
    kubeVirt: boot ? kubeVirtImages(boot, COREOS_ARCHITECTURES, `${what} ${BOOT_IMAGES}`) : [],
  };
}

async function imageArchitecture(source: ImageSource, image: Parameters<typeof viewManifest>[0], what: string, signal?: AbortSignal): Promise<string> {
  const view = viewManifest(image, what);
  if (view.kind !== 'image' || !view.config) throw new OcMirrorError(`${what}: the payload image has no config`);
  const config = JSON.parse((await readSmallBlob(source, view.config, `${what} config`, signal)).toString('utf8')) as { architecture?: unknown };
  if (typeof config.architecture !== 'string' || !config.architecture) throw new OcMirrorError(`${what}: the payload image config names no architecture`);
  return config.architecture;
}

export function encodePayloadRecord(content: PayloadContent): string {
  return `${JSON.stringify(content, null, 1)}\n`;
}

/** A record read back from the archives: checked as untrusted input. */
export function decodePayloadRecord(bytes: Buffer, what: string): PayloadContent {
  const bad = (why: string) => new OcMirrorError(`${what}: ${why}`);
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw bad('not JSON');
  }
  const o = doc as Partial<PayloadContent> | null;
  if (!o || typeof o !== 'object' || typeof o.architecture !== 'string') throw bad('no architecture');
  if (o.version !== undefined && typeof o.version !== 'string') throw bad('version is not a string');
  const pairs = (list: unknown, key: 'name' | 'architecture', field: string) => {
    if (!Array.isArray(list)) throw bad(`${field} is not a list`);
    return list.map((e: Record<string, unknown>) => {
      if (typeof e?.[key] !== 'string' || typeof e.image !== 'string') throw bad(`${field} has a malformed entry`);
      parseReference(e.image);
      return { [key]: e[key], image: e.image } as Record<typeof key, string> & { image: string };
    });
  };
  return {
    ...(o.version && { version: o.version }),
    architecture: o.architecture,
    components: pairs(o.components, 'name', 'components') as ReleaseComponent[],
    kubeVirt: pairs(o.kubeVirt, 'architecture', 'kubeVirt') as { architecture: string; image: string }[],
  };
}
