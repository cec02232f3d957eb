import type { CopyTask } from '../plan/types.js';

/** What the copy engine reports; front ends draw progress bars, log lines or summaries from these. */
export type CopyEvent =
  | { type: 'image-started'; task: CopyTask }
  /** `bytes` transferred since the previous progress event of this image */
  | { type: 'image-progress'; task: CopyTask; bytes: number }
  | { type: 'image-retrying'; task: CopyTask; attempt: number; delayMs: number; error: string }
  | { type: 'image-succeeded'; task: CopyTask; result: ImageCopyResult }
  | { type: 'image-failed'; task: CopyTask; error: string };

export interface ImageCopyResult {
  /** digest of the top-level manifest (index or image) */
  digest: string;
  /** bytes of blobs actually transferred */
  bytesCopied: number;
  blobsCopied: number;
  /** blobs already present at the destination or mounted from another repository there */
  blobsReused: number;
  /** the destination already had this exact manifest under the tag: nothing was transferred */
  alreadyPresent: boolean;
}

export type CopyListener = (event: CopyEvent) => void;
