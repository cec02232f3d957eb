import { pipeline, type Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage, NotFoundError, OcMirrorError } from '../errors.js';
import { VerifyingStream } from '../image/digest.js';
import { viewManifest, type Descriptor, type RawManifest } from '../image/manifest.js';
import { parseReference, pullReference, type ImageReference } from '../image/reference.js';
import type { ImageDestination, ImageSource } from '../image/transport.js';
import type { CopyTask } from '../plan/types.js';
import type { CopyListener, ImageCopyResult } from './events.js';
import { Limiter } from './limit.js';
import { ManifestPuts } from './manifest-puts.js';
import { isRetryable, retryDelay, type RetryPolicy } from './retry.js';

/** Opens the source and destination of a task; the registry client, the store and archives provide these. */
export interface Endpoints {
  source(ref: ImageReference): ImageSource;
  destination(ref: ImageReference): ImageDestination;
}

export interface CopyOptions extends RetryPolicy {
  parallelImages: number;
  parallelLayers: number;
  /** bounds one image including its retries */
  imageTimeoutMs: number;
  listener?: CopyListener;
  /**
   * Tasks whose failure stops the run (release images, ref §12.2): no further image is started,
   * images in flight are cancelled, and all of them are reported as skipped.
   */
  stopsRunOnFailure?(task: CopyTask): boolean;
}

export type TaskOutcome =
  | { task: CopyTask; ok: true; result: ImageCopyResult }
  /** `skipped`: not copied because another image's failure stopped the run */
  | { task: CopyTask; ok: false; error: string; skipped?: true };

/** A blob being written to a destination host, so other images needing it wait instead of sending it again. */
interface BlobInFlight {
  repository: string;
  done: Promise<void>;
}

const PROGRESS_INTERVAL_MS = 250;

/**
 * Copies images, children before parents so that a registry never sees a manifest whose
 * references are missing. Blobs stream from source to destination through a verifier; nothing is
 * staged on disk and no layer is held in memory.
 */
export class CopyEngine {
  private readonly images: Limiter;
  /** host|repository|digest → the blob is (being made) present there in this run */
  private readonly present = new Map<string, Promise<void>>();
  /** host → repositories where the probe found an image already present */
  private readonly presentRepositories = new Map<string, Set<string>>();
  /** host|digest → a repository of that host that has or is getting the blob: a mount source */
  private readonly located = new Map<string, BlobInFlight>();
  private readonly manifestPuts = new ManifestPuts();

  constructor(
    private readonly endpoints: Endpoints,
    private readonly options: CopyOptions,
  ) {
    this.images = new Limiter(options.parallelImages);
  }

  /**
   * Runs every task; one failing image never stops the others. Outcomes keep the tasks' order.
   * First every image is probed with wide concurrency (a manifest GET and a HEAD are cheap), so a
   * re-run of an unchanged set finishes in the time of its requests; only images that need copying
   * then queue for the `parallelImages` slots, taking the manifest they were probed with along.
   */
  async run(tasks: CopyTask[], signal?: AbortSignal): Promise<TaskOutcome[]> {
    const probes = new Limiter(Math.max(this.options.parallelImages, this.options.parallelImages * this.options.parallelLayers));
    // All probes finish before the first copy, so every copy knows which images (and blobs) the
    // destination already holds: disk to mirror of an incremental archive mounts blobs that an
    // earlier archive brought instead of looking for them in this one.
    const probed = await Promise.all(tasks.map((task) => probes.run(() => this.probe(task, signal))));
    const stop = new AbortController();
    let stoppedBy: string | undefined;
    const copySignal = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
    const skipped = (task: CopyTask): TaskOutcome => ({ task, ok: false, skipped: true, error: `not mirrored: the run stopped after ${stoppedBy} failed to mirror` });
    const settle = (outcome: TaskOutcome): TaskOutcome => {
      if (outcome.ok) return outcome;
      if (stoppedBy !== undefined) return stoppedBy === outcome.task.source ? outcome : skipped(outcome.task);
      if (this.options.stopsRunOnFailure?.(outcome.task)) {
        stoppedBy = outcome.task.source;
        stop.abort();
      }
      return outcome;
    };
    return Promise.all(tasks.map((task, i) => this.runTask(task, probed[i], copySignal, settle, () => (stoppedBy !== undefined ? skipped(task) : undefined))));
  }

  /**
   * One task after the probes: failed or present as probed, else copied when a slot frees, unless
   * the run stopped meanwhile. `settle` sees each outcome before the slot is handed on, so a
   * failure that stops the run stops the very next image.
   */
  private async runTask(
    task: CopyTask,
    probe: Probe | undefined,
    signal: AbortSignal,
    settle: (outcome: TaskOutcome) => TaskOutcome,
    stopped: () => TaskOutcome | undefined,
  ): Promise<TaskOutcome> {
    if (probe && 'carriedMissing' in probe) {
      const error = `${task.pullFrom ?? task.source}: an earlier archive carried this image (${task.expectedDigest}), and the destination does not have it: push that archive first`;
      this.options.listener?.({ type: 'image-started', task });
      this.options.listener?.({ type: 'image-failed', task, error });
      return settle({ task, ok: false as const, error });
    }
    if (probe?.present) {
      const result: ImageCopyResult = { digest: probe.digest, bytesCopied: 0, blobsCopied: 0, blobsReused: 0, alreadyPresent: true };
      this.options.listener?.({ type: 'image-started', task });
      this.options.listener?.({ type: 'image-succeeded', task, result });
      return { task, ok: true as const, result };
    }
    return this.images.run(async () => stopped() ?? settle(await this.copyWithRetries(task, signal, probe && 'top' in probe ? probe.top : undefined)));
  }

  /** Remembers that the destination holds an image: its repository is a mount source for its blobs. */
  private notePresent(dst: ImageDestination, top?: RawManifest): void {
    let repos = this.presentRepositories.get(dst.host);
    if (!repos) this.presentRepositories.set(dst.host, (repos = new Set()));
    repos.add(dst.repository);
    if (!top) return;
    const view = viewManifest(top, dst.name);
    if (view.kind !== 'image') return;
    for (const blob of [...(view.config ? [view.config] : []), ...view.layers]) {
      const key = `${dst.host}|${blob.digest}`;
      if (!this.located.has(key)) this.located.set(key, { repository: dst.repository, done: Promise.resolve() });
    }
  }

  /**
   * A blob the source does not have may still be at the destination, in the repository of an
   * image found present (an index's children were not read): try those as mount sources.
   */
  private async mountFromPresentImages(desc: Descriptor, dst: ImageDestination, signal: AbortSignal): Promise<boolean> {
    if (!dst.mountBlob) return false;
    const repos = [...(this.presentRepositories.get(dst.host) ?? [])].filter((r) => r !== dst.repository).slice(0, 32);
    for (const repo of repos) if (await dst.mountBlob(desc, repo, signal)) return true;
    return false;
  }

  /**
   * The source manifest, and whether the destination already has it under the tag. Any error
   * leaves the answer to the copy itself, which has retries, a timeout and error reporting.
   */
  private async probe(task: CopyTask, outer?: AbortSignal): Promise<Probe | undefined> {
    try {
      const timeout = AbortSignal.timeout(Math.min(this.options.imageTimeoutMs, 60_000));
      const signal = outer ? AbortSignal.any([outer, timeout]) : timeout;
      const srcRef = parseReference(task.pullFrom ?? task.source);
      const dstRef = parseReference(task.destination);
      const dst = this.endpoints.destination(dstRef);
      let top: RawManifest;
      try {
        top = await this.endpoints.source(srcRef).getManifest(pullReference(srcRef), signal);
      } catch (err) {
        if (!(err instanceof NotFoundError) || !task.expectedDigest) throw err;
        // Carried by an earlier archive: the destination must have exactly that image.
        const there = await dst.manifestDigest(dstRef.tag ?? task.expectedDigest, signal);
        if (there !== task.expectedDigest) return { carriedMissing: true };
        this.notePresent(dst);
        return { present: true, digest: there };
      }
      const present = (await dst.manifestDigest(dstRef.tag ?? top.digest, signal)) === top.digest;
      if (present) this.notePresent(dst, top);
      return { top, present, digest: top.digest };
    } catch {
      return undefined;
    }
  }

  private async copyWithRetries(task: CopyTask, outer?: AbortSignal, probed?: RawManifest): Promise<TaskOutcome> {
    const emit = this.options.listener ?? (() => {});
    if (outer?.aborted) return { task, ok: false, error: 'cancelled' };
    emit({ type: 'image-started', task });
    const timeout = AbortSignal.timeout(this.options.imageTimeoutMs);
    const signal = outer ? AbortSignal.any([outer, timeout]) : timeout;
    for (let attempt = 1; ; attempt++) {
      try {
        // The probed manifest saves a request on the first attempt; a retry starts afresh.
        const result = await this.copyImage(task, signal, attempt === 1 ? probed : undefined);
        emit({ type: 'image-succeeded', task, result });
        return { task, ok: true, result };
      } catch (err) {
        let message = errorMessage(err);
        if (timeout.aborted) message = `timed out after ${formatDuration(this.options.imageTimeoutMs)} (--image-timeout)`;
        else if (outer?.aborted) message = 'cancelled';
        const retry = !signal.aborted && attempt <= this.options.retryTimes && isRetryable(err);
        if (!retry) {
          emit({ type: 'image-failed', task, error: message });
          return { task, ok: false, error: message };
        }
        const delayMs = retryDelay(this.options, attempt, err);
        emit({ type: 'image-retrying', task, attempt, delayMs, error: message });
        try {
          await sleep(delayMs, undefined, { signal });
        } catch {
          const why = timeout.aborted ? `timed out after ${formatDuration(this.options.imageTimeoutMs)} (--image-timeout); last error: ${message}` : 'cancelled';
          emit({ type: 'image-failed', task, error: why });
          return { task, ok: false, error: why };
        }
      }
    }
  }

  private async copyImage(task: CopyTask, signal: AbortSignal, probed?: RawManifest): Promise<ImageCopyResult> {
    const srcRef = parseReference(task.pullFrom ?? task.source);
    const dstRef = parseReference(task.destination);
    const src = this.endpoints.source(srcRef);
    const dst = this.endpoints.destination(dstRef);
    const top = probed ?? (await src.getManifest(pullReference(srcRef), signal));
    const target = dstRef.tag ?? top.digest;
    if (dstRef.digest && dstRef.digest !== top.digest) {
      throw new OcMirrorError(`${task.source}: source manifest is ${top.digest}, the plan expected ${dstRef.digest}`);
    }
    const result: ImageCopyResult = { digest: top.digest, bytesCopied: 0, blobsCopied: 0, blobsReused: 0, alreadyPresent: false };
    if (!probed && (await dst.manifestDigest(target, signal)) === top.digest) {
      result.alreadyPresent = true;
      return result;
    }
    const job: ImageJob = { src, dst, result, signal, progress: new Progress(task, this.options.listener), layers: new Limiter(this.options.parallelLayers) };
    try {
      await this.copyTree(top, target, job);
    } finally {
      job.progress.flush();
    }
    return result;
  }

  /** Copies what a manifest references (children first), then the manifest itself under `reference`. */
  private async copyTree(manifest: RawManifest, reference: string, job: ImageJob): Promise<void> {
    const { src, signal } = job;
    const view = viewManifest(manifest, src.name);
    if (view.kind === 'index') {
      await Promise.all(
        view.manifests.map(async (child) => {
          if (await this.manifestPlaced(child.digest, job)) return;
          const childManifest = await src.getManifest(child.digest, signal);
          await this.copyTree(childManifest, child.digest, job);
        }),
      );
    } else {
      const blobs = uniqueBlobs([...(view.config ? [view.config] : []), ...view.layers]);
      await Promise.all(blobs.map((blob) => job.layers.run(() => this.copyBlob(blob, job))));
    }
    const children = view.kind === 'index' ? view.manifests.map((m) => m.digest) : [];
    await this.manifestPuts.run(repositoryKey(job.dst), manifest.digest, reference === manifest.digest, children, () =>
      job.dst.putManifest(manifest, reference, signal),
    );
  }

  /**
   * Whether a manifest is in the destination repository: put there earlier in this run, or found
   * there. A put in flight is not waited for: its index's PUT waits for it (ManifestPuts).
   */
  private async manifestPlaced(digest: string, job: ImageJob): Promise<boolean> {
    if (this.manifestPuts.has(repositoryKey(job.dst), digest)) return true;
    return (await job.dst.manifestDigest(digest, job.signal)) === digest;
  }

  /**
   * Makes a blob present in the destination repository, once per repository per run: later
   * needs in the same repository wait for the first. Two writers of one blob into one repository
   * are not just waste: distribution rewrites the repository's link file in place, and a manifest
   * PUT that reads it at that moment fails with DIGEST_INVALID.
   */
  private async copyBlob(desc: Descriptor, job: ImageJob): Promise<void> {
    const { dst, result } = job;
    if (desc.urls?.length) {
      // Foreign layers (Windows base layers) are fetched by clients from their URLs, not pushed.
      return;
    }
    const key = `${dst.host}|${dst.repository}|${desc.digest}`;
    for (;;) {
      const pending = this.present.get(key);
      if (!pending) break;
      try {
        await pending;
        result.blobsReused++;
        return;
      } catch {
        // The first attempt failed; the loop lets exactly one waiter try again.
      }
    }
    const attempt = this.placeBlob(desc, job);
    this.present.set(key, attempt);
    attempt.catch(() => this.present.delete(key));
    await attempt;
  }

  /** Mount from a repository of the same host that has (or is getting) the blob, else HEAD, else transfer. */
  private async placeBlob(desc: Descriptor, job: ImageJob): Promise<void> {
    const { dst, result, signal } = job;
    const hostKey = `${dst.host}|${desc.digest}`;
    const elsewhere = this.located.get(hostKey);
    if (elsewhere && elsewhere.repository !== dst.repository && dst.mountBlob) {
      if ((await succeeded(elsewhere.done)) && (await dst.mountBlob(desc, elsewhere.repository, signal))) {
        result.blobsReused++;
        return;
      }
    }
    const done = this.transferIfMissing(desc, job);
    if (!this.located.has(hostKey)) {
      this.located.set(hostKey, { repository: dst.repository, done });
      done.catch(() => this.located.delete(hostKey));
    }
    await done;
  }

  private async transferIfMissing(desc: Descriptor, job: ImageJob): Promise<void> {
    const { src, dst, result, progress, signal } = job;
    if (await dst.hasBlob(desc, signal)) {
      result.blobsReused++;
      return;
    }
    let body: Readable;
    try {
      body = await src.getBlob(desc, signal);
    } catch (err) {
      if (err instanceof NotFoundError && (await this.mountFromPresentImages(desc, dst, signal))) {
        result.blobsReused++;
        return;
      }
      throw err;
    }
    const verifier = new VerifyingStream(desc.digest, desc.size, `${src.name}@${desc.digest}`, (n) => progress.add(n));
    let streamError: Error | undefined;
    pipeline(body, verifier, (err) => {
      if (err) streamError ??= err;
    });
    verifier.on('error', (err) => {
      streamError ??= err;
    });
    try {
      await dst.putBlob(desc, verifier, signal);
    } catch (err) {
      // Free the source connection when the upload stopped before reading it all.
      body.destroy();
      verifier.destroy();
      // The verifier's or the source's own error says more than the upload's "body error".
      throw streamError ?? err;
    }
    if (streamError) throw streamError;
    result.blobsCopied++;
    result.bytesCopied += desc.size;
  }
}

/** What the presence check found: the source manifest and whether the destination has it. */
type Probe = { top: RawManifest; present: boolean; digest: string } | { present: true; digest: string } | { carriedMissing: true };

/** What the steps of one image's copy share. */
interface ImageJob {
  src: ImageSource;
  dst: ImageDestination;
  result: ImageCopyResult;
  progress: Progress;
  /** bounds the blobs of this image in flight (--parallel-layers) */
  layers: Limiter;
  signal: AbortSignal;
}

/** Names a destination repository across hosts. */
function repositoryKey(dst: ImageDestination): string {
  return `${dst.host}/${dst.repository}`;
}

function succeeded(p: Promise<unknown>): Promise<boolean> {
  return p.then(
    () => true,
    () => false,
  );
}

function uniqueBlobs(descs: Descriptor[]): Descriptor[] {
  const seen = new Set<string>();
  return descs.filter((d) => !seen.has(d.digest) && (seen.add(d.digest), true));
}

/** Batches byte counts into events a few times a second, so listeners are not called per chunk. */
class Progress {
  private pending = 0;
  private last = Date.now();

  constructor(
    private readonly task: CopyTask,
    private readonly listener: CopyListener | undefined,
  ) {}

  add(n: number): void {
    this.pending += n;
    const now = Date.now();
    if (now - this.last >= PROGRESS_INTERVAL_MS) {
      this.last = now;
      this.flush();
    }
  }

  flush(): void {
    if (this.pending > 0 && this.listener) this.listener({ type: 'image-progress', task: this.task, bytes: this.pending });
    this.pending = 0;
  }
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
