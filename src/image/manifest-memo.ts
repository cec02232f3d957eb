import type { RawManifest } from './manifest.js';
import type { ImageSource } from './transport.js';

/**
 * Remembers the manifests read through it for the rest of a run, so that the run reads each
 * manifest from its source once and works on one snapshot of it: mirror to disk lays out its
 * archives from the manifests it then copies, and a tag moved in between cannot split the two.
 * Manifests only (a few KiB each); blobs pass through.
 */
export class ManifestMemo {
  private readonly manifests = new Map<string, Promise<RawManifest>>();

  source(inner: ImageSource): ImageSource {
    return {
      name: inner.name,
      getManifest: (reference, signal) => {
        const key = `${inner.name}\n${reference}`;
        let pending = this.manifests.get(key);
        if (!pending) {
          // Only answers are remembered: a failure is the caller's, the next one asks again.
          pending = inner.getManifest(reference, signal);
          this.manifests.set(key, pending);
          pending.catch(() => this.manifests.delete(key));
        }
        return pending;
      },
      getBlob: (desc, signal) => inner.getBlob(desc, signal),
    };
  }
}
