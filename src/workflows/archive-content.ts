import type { ArchiveEntry } from '../archive/writer.js';
import { Limiter } from '../copy/limit.js';
import { imageContent, type ImageContent } from '../image/content.js';
import { parseReference } from '../image/reference.js';
import type { CopyTask } from '../plan/types.js';
import { blobDataPath, layerLinkPath, revisionLinkPath, tagCurrentLinkPath, tagIndexLinkPath } from '../store/layout.js';
import type { LocalStore } from '../store/store.js';

/** Where disk to mirror finds what earlier archives carried: store reference → top manifest digest. */
export const CARRIED_IMAGES_ENTRY = 'working-dir/carried-images.json';

export interface ArchiveContent {
  /** sorted by name; carried-images.json included when some image was carried */
  entries: ArchiveEntry[];
  /** images an earlier archive carried whole: destination in the store → digest */
  carried: Record<string, string>;
  /** digests whose data is in these archives (for the history) */
  shipped: Set<string>;
  /** digests left out because an earlier archive carried them */
  skipped: number;
}

/** An image's content for a task; undefined leaves the image out. */
export type ContentReader = (task: CopyTask) => Promise<ImageContent | undefined>;

/** Reads images where mirror to disk put them: the store, under the task's destination. */
export function storeContent(store: LocalStore): ContentReader {
  return (task) => {
    const ref = parseReference(task.destination);
    return imageContent(store.repository(ref.repository), ref.tag ?? ref.digest!);
  };
}

/** Manifest reads in flight while gathering: small requests, many at once. */
const CONTENT_READS = 16;

/**
 * What an archive must hold so that disk to mirror can serve the given images: for each image the
 * repository's links (tag, revisions, layers) and the data of every manifest and blob — except
 * data an earlier archive already carried (the history). Only these images' repositories travel,
 * never the whole store (oc-mirror re-ships everything, ref §15 item 1). Blob data is read from
 * the store, verified against its digest, when the archive writer needs it (see ArchiveWriter).
 */
export async function gatherArchiveContent(store: LocalStore, tasks: CopyTask[], history: Set<string>, read: ContentReader = storeContent(store)): Promise<ArchiveContent> {
  const reads = new Limiter(CONTENT_READS);
  const contents = await Promise.all(tasks.map((task) => reads.run(() => read(task))));
  const entries = new Map<string, ArchiveEntry>();
  const shipped = new Set<string>();
  const carried: Record<string, string> = {};
  let skipped = 0;
  const add = (name: string, bytes: Buffer) => {
    if (!entries.has(name)) entries.set(name, { name, size: bytes.length, bytes });
  };
  const link = (name: string, digest: string) => add(name, Buffer.from(digest));
  tasks.forEach((task, i) => {
    const content = contents[i];
    if (!content) return;
    const ref = parseReference(task.destination);
    // An image whose every manifest and blob an earlier archive carried travels as one line of
    // carried-images.json: disk to mirror checks the destination has it instead of re-reading it.
    if ([...content.manifests.map((m) => m.digest), ...content.blobs.map((b) => b.digest)].every((d) => history.has(d))) {
      carried[task.destination] = content.top.digest;
      return;
    }
    if (ref.tag) {
      link(tagCurrentLinkPath(ref.repository, ref.tag), content.top.digest);
      link(tagIndexLinkPath(ref.repository, ref.tag, content.top.digest), content.top.digest);
    }
    for (const m of content.manifests) {
      link(revisionLinkPath(ref.repository, m.digest), m.digest);
      // The manifests of an image that changed travel again even when an earlier archive had
      // some of them: a few KiB, and disk to mirror reads the whole tree of a changed image.
      shipped.add(m.digest);
      add(blobDataPath(m.digest), m.bytes);
    }
    for (const b of content.blobs) {
      link(layerLinkPath(ref.repository, b.digest), b.digest);
      const name = blobDataPath(b.digest);
      if (entries.has(name)) continue;
      if (history.has(b.digest)) {
        skipped++;
        continue;
      }
      shipped.add(b.digest);
      entries.set(name, { name, size: b.size, source: async () => store.readVerifiedBlob(b) });
    }
  });
  if (Object.keys(carried).length) add(CARRIED_IMAGES_ENTRY, Buffer.from(JSON.stringify(carried, null, 1) + '\n'));
  // Byte order, not locale order: the same content gives the same archive on every machine.
  const sorted = [...entries.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { entries: sorted, carried, shipped, skipped };
}

/** Whether two entry lists make the same archives: names, sizes and content, in order. */
export function sameEntries(a: readonly ArchiveEntry[], b: readonly ArchiveEntry[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((x, i) => {
    const y = b[i]!;
    if (x.name !== y.name || x.size !== y.size) return false;
    if (x.bytes || y.bytes) return !!x.bytes && !!y.bytes && x.bytes.equals(y.bytes);
    return true;
  });
}
