import type { CollectedImage } from './types.js';

const TRANSPORT_PREFIX = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * blockedImages (ref §10.2): each pattern is matched unanchored against the image source and its
 * destination, both without a `xxx://` prefix; a match on either blocks the image. An image without
 * a source is never blocked. `search` is used rather than `test` because it ignores and restores
 * `lastIndex`, so a pattern compiled with the `g` flag gives the same answer on every call.
 */
export function isBlocked(image: CollectedImage, destination: string, patterns: readonly RegExp[]): boolean {
  if (!image.source) return false;
  const candidates = [image.source, destination].filter((s) => s.length > 0).map((s) => s.replace(TRANSPORT_PREFIX, ''));
  return patterns.some((pattern) => candidates.some((candidate) => candidate.search(pattern) >= 0));
}
