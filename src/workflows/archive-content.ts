import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { ArchiveEntry } from '../archive/writer.js';
import { imageContent } from '../image/content.js';
import { parseReference } from '../image/reference.js';
import type { CopyTask } from '../plan/types.js';
import { blobDataPath, layerLinkPath, revisionLinkPath, tagCurrentLinkPath, tagIndexLinkPath } from '../store/layout.js';
import type { LocalStore } from '../store/store.js';

/** Where disk to mirror finds what earlier archives carried: store reference → top manifest digest. */
export const CARRIED_IMAGES_ENTRY = 'working-dir/carried-images.json';

export interface ArchiveContent {
  entries: ArchiveEntry[];
  /** images an earlier archive carried whole: destination in the store → digest */
  carried: Record<string, string>;
  /** digests whose data is in these archives (for the history) */
  shipped: Set<string>;
  /** digests left out because an earlier archive carried them */
  skipped: number;
}

/**
 * What an archive must hold so that disk to mirror can serve the given images: for each image the
 * repository's links (tag, revisions, layers) and the data of every manifest and blob — except
 * data an earlier archive already carried (the history). Only these images' repositories travel,
 * never the whole store (oc-mirror re-ships everything, ref §15 item 1).
 */
export async function gatherArchiveContent(store: LocalStore, tasks: CopyTask[], history: Set<string>): Promise<ArchiveContent> {
  const entries = new Map<string, ArchiveEntry>();
  const shipped = new Set<string>();
  const carried: Record<string, string> = {};
  let skipped = 0;
  const link = (name: string, digest: string) => {
    if (!entries.has(name)) entries.set(name, { name, size: Buffer.byteLength(digest), source: async () => Readable.from([Buffer.from(digest)]) });
  };
  const data = (digest: string, size: number, always = false) => {
    const name = blobDataPath(digest);
    if (entries.has(name)) return;
    if (history.has(digest) && !always) {
      skipped++;
      return;
    }
    shipped.add(digest);
    // 1 MiB reads: the tar writer batches writes, and 64 KiB reads would cost 16× the syscalls.
    entries.set(name, { name, size, source: async () => createReadStream(store.blobPath(digest), { highWaterMark: 1 << 20 }) });
  };
  for (const task of tasks) {
    const ref = parseReference(task.destination);
    const repo = store.repository(ref.repository);
    const content = await imageContent(repo, ref.tag ?? ref.digest!);
    // An image whose every manifest and blob an earlier archive carried travels as one line of
    // carried-images.json: disk to mirror checks the destination has it instead of re-reading it.
    if ([...content.manifests.map((m) => m.digest), ...content.blobs.map((b) => b.digest)].every((d) => history.has(d))) {
      carried[task.destination] = content.top.digest;
      continue;
    }
    if (ref.tag) {
      link(tagCurrentLinkPath(ref.repository, ref.tag), content.top.digest);
      link(tagIndexLinkPath(ref.repository, ref.tag, content.top.digest), content.top.digest);
    }
    for (const m of content.manifests) {
      link(revisionLinkPath(ref.repository, m.digest), m.digest);
      // The manifests of an image that changed travel again even when an earlier archive had
      // some of them: a few KiB, and disk to mirror reads the whole tree of a changed image.
      data(m.digest, m.bytes.length, true);
    }
    for (const b of content.blobs) {
      link(layerLinkPath(ref.repository, b.digest), b.digest);
      data(b.digest, b.size);
    }
  }
  // Byte order, not locale order: the same content gives the same archive on every machine.
  const sorted = [...entries.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { entries: sorted, carried, shipped, skipped };
}
