import { viewManifest, type Descriptor, type RawManifest } from './manifest.js';
import type { ImageSource } from './transport.js';

/** Everything an image consists of: its manifests (top first, then children) and its distinct blobs. */
export interface ImageContent {
  top: RawManifest;
  manifests: RawManifest[];
  blobs: Descriptor[];
}

/** Reads an image's manifest tree from a source; no blob is read. */
export async function imageContent(source: ImageSource, reference: string, signal?: AbortSignal): Promise<ImageContent> {
  const top = await source.getManifest(reference, signal);
  const manifests: RawManifest[] = [];
  const blobs = new Map<string, Descriptor>();
  const visit = async (m: RawManifest): Promise<void> => {
    manifests.push(m);
    const view = viewManifest(m, source.name);
    if (view.kind === 'index') {
      // Fetched together (a round trip each), visited in order (the result's order is the index's).
      const children = await Promise.all(view.manifests.map((child) => source.getManifest(child.digest, signal)));
      for (const child of children) await visit(child);
      return;
    }
    for (const d of [...(view.config ? [view.config] : []), ...view.layers]) if (!d.urls?.length) blobs.set(d.digest, d);
  };
  await visit(top);
  return { top, manifests, blobs: [...blobs.values()] };
}
