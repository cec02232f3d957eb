/**
 * Which registry API endpoint a request path names. Repository names contain slashes, so a path is
 * read from its end: the last `/manifests/<ref>`, `/blobs/<digest>`, `/blobs/uploads/[<id>]` or
 * `/tags/list` decides, and everything before it is the repository name.
 */
import { ApiError } from './api-errors.js';

export type Route =
  | { kind: 'base' }
  | { kind: 'catalog' }
  | { kind: 'tags'; name: string }
  | { kind: 'manifest'; name: string; reference: string }
  | { kind: 'blob'; name: string; digest: string }
  | { kind: 'uploads'; name: string }
  | { kind: 'upload'; name: string; id: string };

// Each pattern is anchored at the end and its tail excludes `/`, so a repository component named
// "blobs" or "manifests" cannot be mistaken for the endpoint marker.
const ENDPOINTS: Array<[RegExp, (m: RegExpMatchArray) => Route]> = [
  [/^(.+)\/tags\/list$/, (m) => ({ kind: 'tags', name: m[1]! })],
  [/^(.+)\/manifests\/([^/]+)$/, (m) => ({ kind: 'manifest', name: m[1]!, reference: m[2]! })],
  [/^(.+)\/blobs\/uploads\/?$/, (m) => ({ kind: 'uploads', name: m[1]! })],
  [/^(.+)\/blobs\/uploads\/([^/]+)$/, (m) => ({ kind: 'upload', name: m[1]!, id: m[2]! })],
  [/^(.+)\/blobs\/([^/]+)$/, (m) => ({ kind: 'blob', name: m[1]!, digest: m[2]! })],
];

/** distribution's reference grammar for one path component of a repository name */
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const MAX_NAME_LENGTH = 255;
const TAG = /^[\w][\w.-]{0,127}$/;

/** The endpoint of a path, or undefined when the path is not part of the API. */
export function parseRoute(pathname: string): Route | undefined {
  if (pathname === '/v2' || pathname === '/v2/') return { kind: 'base' };
  if (!pathname.startsWith('/v2/')) return undefined;
  const rest = decodePath(pathname.slice('/v2/'.length));
  if (rest === undefined) return undefined;
  if (rest === '_catalog') return { kind: 'catalog' };
  for (const [pattern, build] of ENDPOINTS) {
    const m = rest.match(pattern);
    if (m) return build(m);
  }
  return undefined;
}

/** Percent-decoding per segment (some clients escape the `:` of digests); undefined when malformed. */
function decodePath(path: string): string | undefined {
  try {
    const segments = path.split('/').map((s) => decodeURIComponent(s));
    // a decoded slash would change how the path splits into name and endpoint
    if (segments.some((s) => s.includes('/'))) return undefined;
    return segments.join('/');
  } catch {
    return undefined;
  }
}

export function isValidRepositoryName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && name.split('/').every((c) => COMPONENT.test(c));
}

export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

/** Throws NAME_INVALID for a name distribution would refuse (it also keeps paths inside the layout). */
export function checkRepositoryName(name: string): void {
  if (!isValidRepositoryName(name)) throw new ApiError('NAME_INVALID', { name });
}
