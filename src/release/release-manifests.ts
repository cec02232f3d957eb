/**
 * The files of a release payload's `release-manifests/` directory that say what the release is
 * made of (ref §8.4): the image-references ImageStream (its components), release-metadata (its
 * version) and the CoreOS boot images ConfigMap (its KubeVirt container disks).
 */
import { parse as parseYaml } from 'yaml';
import { OcMirrorError } from '../errors.js';
import { isDigest } from '../image/digest.js';
import { parseReference } from '../image/reference.js';

export const IMAGE_REFERENCES = 'release-manifests/image-references';
export const RELEASE_METADATA = 'release-manifests/release-metadata';
export const BOOT_IMAGES = 'release-manifests/0000_50_installer_coreos-bootimages.yaml';

export interface ReleaseComponent {
  /** the ImageStream tag, e.g. `etcd` */
  name: string;
  /** pull spec, normally by digest */
  image: string;
}

export interface ImageReferences {
  /** `metadata.name` of the ImageStream: the release version */
  version?: string;
  components: ReleaseComponent[];
}

function object(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function json(bytes: Buffer, what: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new OcMirrorError(`${what}: not JSON (${(err as Error).message})`);
  }
  const o = object(doc);
  if (!o) throw new OcMirrorError(`${what}: not a JSON object`);
  return o;
}

/** `spec.tags[].name` + `.from.name` of the image-references ImageStream; `what` names the file in errors. */
export function parseImageReferences(bytes: Buffer, what: string): ImageReferences {
  const doc = json(bytes, what);
  if (doc.kind !== 'ImageStream') throw new OcMirrorError(`${what}: kind is ${JSON.stringify(doc.kind)}, expected ImageStream`);
  const name = object(doc.metadata)?.name;
  const tags = object(doc.spec)?.tags;
  if (!Array.isArray(tags)) throw new OcMirrorError(`${what}: spec.tags is not a list`);
  const seen = new Set<string>();
  const components = tags.map((t, i) => {
    const tag = object(t);
    const from = object(tag?.from);
    if (typeof tag?.name !== 'string' || !tag.name) throw new OcMirrorError(`${what}: spec.tags[${i}].name is missing`);
    if (typeof from?.name !== 'string' || !from.name) throw new OcMirrorError(`${what}: spec.tags[${i}] (${tag.name}) has no from.name`);
    if (seen.has(tag.name)) throw new OcMirrorError(`${what}: spec.tags[${i}]: tag ${tag.name} is listed twice`);
    seen.add(tag.name);
    try {
      parseReference(from.name);
    } catch (err) {
      throw new OcMirrorError(`${what}: spec.tags[${i}] (${tag.name}): ${(err as Error).message}`);
    }
    return { name: tag.name, image: from.name };
  });
  return { ...(typeof name === 'string' && name && { version: name }), components };
}

/** `version` of release-metadata (`{"kind":"cincinnati-metadata-v0","version":…}`). */
export function parseReleaseMetadata(bytes: Buffer, what: string): string | undefined {
  const version = json(bytes, what).version;
  return typeof version === 'string' && version ? version : undefined;
}

/** CoreOS stream architecture names (`x86_64`, …) of Go architectures. */
const COREOS_ARCH: Readonly<Record<string, string>> = { amd64: 'x86_64', arm64: 'aarch64', ppc64le: 'ppc64le', s390x: 's390x' };

export function coreosArchitecture(goArch: string): string {
  return COREOS_ARCH[goArch] ?? goArch;
}

/**
 * The KubeVirt container disks of a release (ref §8.4): in the boot images ConfigMap, `data.stream`
 * is CoreOS stream JSON whose `architectures.<arch>.images.kubevirt.digest-ref` names the image.
 * Returns one per asked CoreOS architecture that has one, in the order asked.
 */
export function kubeVirtImages(bytes: Buffer, architectures: readonly string[], what: string): { architecture: string; image: string }[] {
  let configMap: unknown;
  try {
    configMap = parseYaml(bytes.toString('utf8'));
  } catch (err) {
    throw new OcMirrorError(`${what}: not YAML (${(err as Error).message})`);
  }
  const stream = object(object(configMap)?.data)?.stream;
  if (typeof stream !== 'string') throw new OcMirrorError(`${what}: data.stream is missing`);
  const arches = object(json(Buffer.from(stream), `${what} data.stream`).architectures) ?? {};
  const out: { architecture: string; image: string }[] = [];
  for (const architecture of architectures) {
    const ref = object(object(object(arches[architecture])?.images)?.kubevirt)?.['digest-ref'];
    if (typeof ref !== 'string' || !ref) continue;
    let digest: string | undefined;
    try {
      digest = parseReference(ref).digest;
    } catch (err) {
      throw new OcMirrorError(`${what}: the ${architecture} kubevirt digest-ref: ${(err as Error).message}`);
    }
    if (!digest || !isDigest(digest)) throw new OcMirrorError(`${what}: the ${architecture} kubevirt digest-ref "${ref}" has no digest`);
    out.push({ architecture, image: ref });
  }
  return out;
}
