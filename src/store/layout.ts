/**
 * The CNCF distribution registry's filesystem storage layout, which our local store, our archives
 * and oc-mirror's archives all share (ref §4.1). Everything is under `docker/registry/v2/`:
 *
 *   blobs/sha256/<2 hex>/<hex>/data                                  content, manifests included
 *   repositories/<name>/_layers/sha256/<hex>/link                     "this repo may serve blob hex"
 *   repositories/<name>/_manifests/revisions/sha256/<hex>/link        "this repo has manifest hex"
 *   repositories/<name>/_manifests/tags/<tag>/current/link            tag → manifest digest
 *   repositories/<name>/_manifests/tags/<tag>/index/sha256/<hex>/link history of the tag
 *
 * A link file holds the digest text (`sha256:<hex>`), no newline. Paths here are relative to the
 * layout root (the directory that contains `docker/`), always with `/` separators.
 */
import type { Readable } from 'node:stream';
import { isDigest } from '../image/digest.js';

export const V2 = 'docker/registry/v2';

function hexOf(digest: string): { algorithm: string; hex: string } {
  if (!isDigest(digest)) throw new Error(`not a digest: ${digest}`);
  const [algorithm, hex] = digest.split(':') as [string, string];
  return { algorithm, hex };
}

export function blobDataPath(digest: string): string {
  const { algorithm, hex } = hexOf(digest);
  return `${V2}/blobs/${algorithm}/${hex.slice(0, 2)}/${hex}/data`;
}

export function repositoryPath(repository: string): string {
  return `${V2}/repositories/${repository}`;
}

export function layerLinkPath(repository: string, digest: string): string {
  const { algorithm, hex } = hexOf(digest);
  return `${repositoryPath(repository)}/_layers/${algorithm}/${hex}/link`;
}

export function revisionLinkPath(repository: string, digest: string): string {
  const { algorithm, hex } = hexOf(digest);
  return `${repositoryPath(repository)}/_manifests/revisions/${algorithm}/${hex}/link`;
}

export function tagCurrentLinkPath(repository: string, tag: string): string {
  return `${repositoryPath(repository)}/_manifests/tags/${tag}/current/link`;
}

export function tagIndexLinkPath(repository: string, tag: string, digest: string): string {
  const { algorithm, hex } = hexOf(digest);
  return `${repositoryPath(repository)}/_manifests/tags/${tag}/index/${algorithm}/${hex}/link`;
}

/**
 * Read access to a layout, wherever it lives: a directory (the store), tar archives indexed in
 * place, or several of them stacked. The image source over a layout is written once against this.
 */
export interface LayoutReader {
  /** small files (links): the whole content, or undefined when absent */
  readSmall(path: string): Promise<Buffer | undefined>;
  /** size of a file, or undefined when absent */
  size(path: string): Promise<number | undefined>;
  /** a stream of a file's bytes (blobs), or undefined when absent */
  open(path: string): Promise<Readable | undefined>;
  /** names directly under a directory (repositories listing, tags listing); [] when absent */
  list(dir: string): Promise<string[]>;
}
