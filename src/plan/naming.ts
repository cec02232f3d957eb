import { OcMirrorError } from '../errors.js';
import { digestTag } from '../image/digest.js';
import { parseReference, type ImageReference, type RegistryLocation } from '../image/reference.js';
import type { CollectedImage, ImageKind } from './types.js';

/**
 * Contract with the release collector (ref §5.3, §5.4): release images do not keep their source path
 * at the destination, so the collector sets `targetRepo` and `targetTag` on them:
 *  - payload (`ocpRelease`): `openshift/release-images`, `<releaseTag>` e.g. `4.18.1-x86_64`
 *    (the tag of the signature's docker-reference);
 *  - component (`ocpReleaseContent`, KubeVirt disks included): `openshift/release`,
 *    `<releaseTag>-<component name>` e.g. `4.18.1-x86_64-etcd`;
 *  - graph image (`cincinnatiGraph`): `openshift/graph-image`, `latest`.
 * The repositories below are only the fallback when `targetRepo` is missing; a component without
 * `targetTag` is a collector bug (its tag cannot be derived from the source), so it throws.
 */
const RELEASE_REPOSITORY: Partial<Record<ImageKind, string>> = {
  ocpRelease: 'openshift/release-images',
  ocpReleaseContent: 'openshift/release',
  cincinnatiGraph: 'openshift/graph-image',
};

/**
 * Where an image lands at `dest` (ref §5.2, §5.3): `<host>/<prefix>/<path>:<tag>`. The source host is
 * dropped and its path kept; `targetRepo` replaces the whole path and `targetTag` the tag. A
 * digest-only image gets the synthetic tag `sha256-<hex>`; a tag+digest image keeps its tag (it is
 * pulled by digest, see `pullSpec`). `--max-nested-paths` is not applied here: see
 * `applyMaxNestedPaths`.
 */
export function destinationFor(image: CollectedImage, dest: RegistryLocation): string {
  const ref = parseReference(image.source);
  const repository = image.targetRepo ?? RELEASE_REPOSITORY[image.kind] ?? ref.repository;
  const tag = image.targetTag ?? defaultTag(image, ref);
  return `${joinPath(dest.registry, dest.prefix, repository)}:${tag}`;
}

function defaultTag(image: CollectedImage, ref: ImageReference): string {
  switch (image.kind) {
    case 'cincinnatiGraph':
      return 'latest';
    case 'ocpRelease':
      // Without a signature identity oc-mirror names the payload by the bare digest hex (ref §5.4).
      return ref.tag ?? ref.digest!.slice(ref.digest!.indexOf(':') + 1);
    case 'ocpReleaseContent':
      throw new OcMirrorError(`release component ${image.source} has no destination tag (targetTag not set by the release collector)`);
    default:
      if (ref.tag) return ref.tag;
      if (ref.digest) return digestTag(ref.digest);
      throw new OcMirrorError(`${image.source}: tag and digest are empty`);
  }
}

function joinPath(...parts: string[]): string {
  return parts
    .flatMap((p) => p.split('/'))
    .filter((c) => c.length > 0)
    .join('/');
}

/** A destination (`[transport://]host/path[:tag][@digest]`) split structurally: the host is always first. */
export interface DestinationParts {
  transport: string;
  host: string;
  /** path components after the host */
  path: string[];
  /** `:tag`, `@digest`, `:tag@digest` or empty */
  suffix: string;
}

export function splitDestination(destination: string): DestinationParts {
  const transportMatch = /^[a-z][a-z0-9+.-]*:\/\//i.exec(destination);
  const transport = transportMatch ? transportMatch[0] : '';
  let rest = destination.slice(transport.length);
  let suffix = '';
  const at = rest.indexOf('@');
  if (at >= 0) {
    suffix = rest.slice(at);
    rest = rest.slice(0, at);
  }
  const slash = rest.indexOf('/');
  const host = slash >= 0 ? rest.slice(0, slash) : rest;
  let path = slash >= 0 ? rest.slice(slash + 1) : '';
  // The tag is looked for in the last component only, so a host port is never taken for a tag.
  const colon = path.indexOf(':', path.lastIndexOf('/') + 1);
  if (colon >= 0) {
    suffix = path.slice(colon) + suffix;
    path = path.slice(0, colon);
  }
  return { transport, host, path: path.split('/').filter((c) => c.length > 0), suffix };
}

/** `host/path` of a destination, without tag or digest. */
export function destinationRepository(destination: string): string {
  const { host, path } = splitDestination(destination);
  return [host, ...path].join('/');
}

/**
 * `--max-nested-paths N` (ref §5.6): counting the path components after the host (the destination
 * prefix included), when there are more than N the first N-1 are kept and the others are joined
 * with `-` into one last component. N=1 therefore flattens the whole path into a single component
 * (`host/a-b-c:tag`), where oc-mirror would produce `host//…`. N <= 0 means no limit.
 */
export function applyMaxNestedPaths(destination: string, n: number): string {
  if (!(n > 0)) return destination;
  const { transport, host, path, suffix } = splitDestination(destination);
  if (path.length <= n) return destination;
  const kept = [...path.slice(0, n - 1), path.slice(n - 1).join('-')];
  return `${transport}${host}/${kept.join('/')}${suffix}`;
}

/**
 * What to pull: `registry/repository@digest` when there is a digest, else `registry/repository:tag`.
 * Tools that read mapping.txt (containers/image among them) refuse references with both.
 */
export function pullSpec(source: string): string {
  const ref = parseReference(source);
  const name = `${ref.registry}/${ref.repository}`;
  if (ref.digest) return `${name}@${ref.digest}`;
  if (ref.tag) return `${name}:${ref.tag}`;
  return name;
}

/** `docker://host[/prefix]`, the way a destination is written on the command line. */
export function formatRegistryLocation(location: RegistryLocation): string {
  return `docker://${joinPath(location.registry, location.prefix)}`;
}
