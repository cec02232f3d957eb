import { ReferenceError } from '../errors.js';
import { isDigest } from './digest.js';

/** A parsed, normalised `docker://` image reference. Plain data: safe to serialise. */
export interface ImageReference {
  /** host[:port], with Docker Hub normalised to `docker.io` */
  registry: string;
  /** path inside the registry, e.g. `library/nginx` */
  repository: string;
  tag?: string;
  digest?: string;
}

export const DOCKER_HUB = 'docker.io';

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_RE = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;

/** `targetRepo` / `targetCatalog` grammar: one or more path components separated by `/`. */
export function isValidRepositoryPath(path: string): boolean {
  return path.length > 0 && path.split('/').every((c) => PATH_COMPONENT_RE.test(c));
}

export function isValidTag(tag: string): boolean {
  return TAG_RE.test(tag);
}

/** Removes `docker://` (the only transport this parser accepts); any other `xxx:` transport is refused. */
function stripDockerTransport(input: string): string {
  if (input.startsWith('docker://')) return input.slice('docker://'.length);
  return input;
}

/**
 * Parses `[docker://][host[:port]/]path[:tag][@digest]`. A first component counts as a registry
 * host when it has a `.` or a `:` or is `localhost`, as Docker decides; otherwise the image is on
 * Docker Hub and single-component paths get `library/`. Structural parsing (the tag is looked for
 * only in the last path component) avoids oc-mirror's confusion of a port with a tag (ref §5.1).
 */
export function parseReference(input: string): ImageReference {
  const raw = input.trim();
  if (!raw) throw new ReferenceError('empty image reference');
  if (/^[a-z][a-z0-9+.-]*:(?!\d)/i.test(raw) && !raw.startsWith('docker://') && !looksLikeHostPort(raw)) {
    const transport = raw.slice(0, raw.indexOf(':'));
    throw new ReferenceError(`${raw}: transport "${transport}:" is not supported here (use docker://)`);
  }
  let rest = stripDockerTransport(raw);

  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(digest)) throw new ReferenceError(`${raw}: "${digest}" is not a valid digest`);
  }

  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.indexOf(':', lastSlash + 1);
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw new ReferenceError(`${raw}: "${tag}" is not a valid tag`);
  }

  let registry = DOCKER_HUB;
  let repository = rest;
  const firstSlash = rest.indexOf('/');
  if (firstSlash >= 0) {
    const first = rest.slice(0, firstSlash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('[')) {
      registry = first;
      repository = rest.slice(firstSlash + 1);
    }
  }
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = DOCKER_HUB;
  if (!DOMAIN_RE.test(registry)) throw new ReferenceError(`${raw}: "${registry}" is not a valid registry host`);
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  if (!isValidRepositoryPath(repository)) {
    throw new ReferenceError(`${raw}: "${repository}" is not a valid repository path (lower-case letters, digits and . _ - separators)`);
  }
  return { registry, repository, ...(tag !== undefined && { tag }), ...(digest !== undefined && { digest }) };
}

function looksLikeHostPort(raw: string): boolean {
  // `localhost:5000/x` or `myhost:5000/x` must not be taken for a `transport:` prefix.
  return /^[^/:]+:\d+(\/|$)/.test(raw);
}

/** `registry/repository` */
export function repositoryName(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}`;
}

/** `registry/repository[:tag][@digest]`, without transport. */
export function formatReference(ref: ImageReference): string {
  return `${repositoryName(ref)}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** What to ask the source registry for: the digest when known (immutable), else the tag. */
export function pullReference(ref: ImageReference): string {
  const r = ref.digest ?? ref.tag;
  if (!r) throw new ReferenceError(`${formatReference(ref)}: tag and digest are empty`);
  return r;
}

/** A `docker://host[:port][/prefix]` destination. */
export interface RegistryLocation {
  registry: string;
  /** path prefix under which everything is mirrored, possibly empty */
  prefix: string;
}

export function parseRegistryLocation(input: string): RegistryLocation {
  const rest = stripDockerTransport(input.trim()).replace(/\/+$/, '');
  const slash = rest.indexOf('/');
  const registry = slash >= 0 ? rest.slice(0, slash) : rest;
  const prefix = slash >= 0 ? rest.slice(slash + 1) : '';
  if (!registry || !DOMAIN_RE.test(registry)) throw new ReferenceError(`${input}: "${registry}" is not a valid registry host`);
  if (prefix && !isValidRepositoryPath(prefix)) {
    throw new ReferenceError(`${input}: "${prefix}" is not a valid repository path (no tag or digest, lower-case path components)`);
  }
  return { registry, prefix };
}
