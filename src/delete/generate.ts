/** From a plan of the delete configuration's images to the items of the delete list (ref §11.1). */
import { NotFoundError } from '../errors.js';
import { digestTag } from '../image/digest.js';
import { viewManifest } from '../image/manifest.js';
import { parseReference, repositoryName, type ImageReference } from '../image/reference.js';
import type { ImageSource } from '../image/transport.js';
import type { Logger } from '../log.js';
import type { CopyTask } from '../plan/types.js';
import type { DeleteItem } from './list.js';

export function itemsOfPlan(tasks: readonly CopyTask[]): DeleteItem[] {
  return tasks.map((t) => ({ imageName: `docker://${t.source}`, imageReference: `docker://${t.destination}`, type: t.kind }));
}

/**
 * `--delete-signatures` (ref §11.1): an item per sigstore tag (`sha256-<hex>.sig`) of each image
 * and, for an index, of each of its children. The digests come from the local cache, where mirror
 * to disk stored the image (`task.pullFrom`), else from the image's own name when it has one;
 * an image with neither cannot have its signatures named and is counted in the warning.
 */
export async function signatureItems(tasks: readonly CopyTask[], stored: (ref: ImageReference) => ImageSource, log: Logger): Promise<DeleteItem[]> {
  const items: DeleteItem[] = [];
  let unknown = 0;
  for (const task of tasks) {
    if (task.kind === 'cincinnatiGraph') continue;
    const digests = await digestsOf(task, stored);
    if (!digests.length) {
      unknown++;
      log.debug(`${task.source}: neither named by digest nor in the local cache: its signatures are not listed`);
      continue;
    }
    const name = repositoryName(parseReference(task.source));
    const destination = repositoryName(parseReference(task.destination));
    for (const digest of digests) {
      const tag = `${digestTag(digest)}.sig`;
      items.push({ imageName: `docker://${name}:${tag}`, imageReference: `docker://${destination}:${tag}`, type: task.kind });
    }
  }
  if (unknown) log.warn(`${unknown} image(s) are neither named by digest nor in the local cache: their signatures are not listed (pass the --cache-dir of the mirror run)`);
  return items;
}

async function digestsOf(task: CopyTask, stored: (ref: ImageReference) => ImageSource): Promise<string[]> {
  if (task.pullFrom) {
    const ref = parseReference(task.pullFrom);
    try {
      const top = await stored(ref).getManifest(ref.digest ?? ref.tag!);
      const view = viewManifest(top, task.pullFrom);
      return [top.digest, ...(view.kind === 'index' ? view.manifests.map((m) => m.digest) : [])];
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }
  const digest = parseReference(task.source).digest;
  return digest ? [digest] : [];
}
