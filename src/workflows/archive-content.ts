import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { ArchiveEntry } from '../archive/writer.js';
import { imageContent } from '../image/content.js';
import { parseReference } from '../image/reference.js';
import type { CopyTask } from '../plan/types.js';
import { blobDataPath, layerLinkPath, revisionLinkPath, tagCurrentLinkPath, tagIndexLinkPath } from '../store/layout.js';
import type { LocalStore } from '../store/store.js';

export interface ArchiveContent {
  entries: ArchiveEntry[];
  /** blob digests whose data is in these archives (for the history; manifests always travel) */
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
    if (!always) shipped.add(digest);
    // 1 MiB reads: the tar writer batches writes, and 64 KiB reads would cost 16× the syscalls.
    entries.set(name, { name, size, source: async () => createReadStream(store.blobPath(digest), { highWaterMark: 1 << 20 }) });
  };
  for (const task of tasks) {
    const ref = parseReference(task.destination);
    const repo = store.repository(ref.repository);
    const content = await imageContent(repo, ref.tag ?? ref.digest!);
    if (ref.tag) {
      link(tagCurrentLinkPath(ref.repository, ref.tag), content.top.digest);
      link(tagIndexLinkPath(ref.repository, ref.tag, content.top.digest), content.top.digest);
    }
    for (const m of content.manifests) {
      link(revisionLinkPath(ref.repository, m.digest), m.digest);
      // Manifests always travel (a few KiB): without them disk to mirror cannot even tell that
      // the destination already has an image an earlier archive carried.
      data(m.digest, m.bytes.length, true);
    }
    for (const b of content.blobs) {
      link(layerLinkPath(ref.repository, b.digest), b.digest);
      data(b.digest, b.size);
    }
  }
  // Byte order, not locale order: the same content gives the same archive on every machine.
  return { entries: [...entries.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)), shipped, skipped };
}
