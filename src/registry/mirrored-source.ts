import type { Readable } from 'node:stream';
import { isRetryable } from '../copy/retry.js';
import { AuthError, DigestMismatchError, errorMessage, NotFoundError, OcMirrorError, RegistryError } from '../errors.js';
import { isDigest } from '../image/digest.js';
import type { Descriptor, RawManifest } from '../image/manifest.js';
import type { ImageSource } from '../image/transport.js';
import type { Logger } from '../log.js';

/** One candidate that could not serve a read, and why. */
export interface PullFailure {
  source: string;
  error: unknown;
}

/**
 * One image read through the pull sources registries.conf gives for it, in their order (mirrors,
 * then the primary location). A read goes to the first source that answers it; any failure but a
 * cancellation moves on to the next, as containers/image does: a mirror that is down, lacks the
 * image, refuses our credentials or serves bad bytes must not stop the pull.
 *
 * Meant to live as long as one image's copy: it remembers which source served each manifest, and
 * asks the one that served the image's first manifest before the others for child manifests and
 * blobs, since they are almost always held together.
 */
export class MirroredSource implements ImageSource {
  /** reference (tag or digest) → candidate that served it */
  private readonly servedBy = new Map<string, number>();
  /** candidate that served this image's first manifest */
  private imageSource: number | undefined;

  constructor(
    /** the image's own `registry/repository`, as the user named it */
    readonly name: string,
    private readonly candidates: readonly ImageSource[],
    private readonly log: Pick<Logger, 'debug'>,
  ) {
    if (candidates.length === 0) throw new OcMirrorError(`${name}: no pull source to read from`);
  }

  async getManifest(reference: string, signal?: AbortSignal): Promise<RawManifest> {
    const what = `${this.name}${isDigest(reference) ? '@' : ':'}${reference}`;
    const known = this.servedBy.get(reference);
    const { value, index, failures } = await this.firstServing(known ?? this.imageSource, what, (c) => c.getManifest(reference, signal), signal);
    if (known === undefined) {
      this.servedBy.set(reference, index);
      this.log.debug(`${what}: manifest served by ${this.candidates[index]!.name}${skipped(failures)}`);
    }
    this.imageSource ??= index;
    return value;
  }

  async getBlob(desc: Descriptor, signal?: AbortSignal): Promise<Readable> {
    const what = `${this.name}@${desc.digest}`;
    const { value, index, failures } = await this.firstServing(this.imageSource, what, (c) => c.getBlob(desc, signal), signal);
    // Only the unexpected case is worth a line: a blob not where its manifest was.
    if (failures.length > 0) this.log.debug(`${what}: blob served by ${this.candidates[index]!.name}${skipped(failures)}`);
    return value;
  }

  /** Tries the preferred candidate, then the others in their configured order. */
  private async firstServing<T>(
    preferred: number | undefined,
    what: string,
    read: (candidate: ImageSource) => Promise<T>,
    signal: AbortSignal | undefined,
  ): Promise<{ value: T; index: number; failures: PullFailure[] }> {
    const order = this.candidates.map((_, i) => i);
    if (preferred !== undefined) order.sort((a, b) => Number(b === preferred) - Number(a === preferred));
    const failures: PullFailure[] = [];
    for (const index of order) {
      const candidate = this.candidates[index]!;
      try {
        return { value: await read(candidate), index, failures };
      } catch (err) {
        // A cancelled or timed-out copy must stop, not try the next mirror.
        if (signal?.aborted || (err as Error)?.name === 'AbortError') throw err;
        failures.push({ source: candidate.name, error: err });
      }
    }
    throw allFailed(what, failures);
  }
}

function skipped(failures: PullFailure[]): string {
  return failures.length ? ` (skipped: ${failures.map(describeFailure).join('; ')})` : '';
}

/** `source: why`, on one line, without the source named twice. */
function describeFailure(f: PullFailure): string {
  const host = f.source.split('/')[0]!;
  let why = errorMessage(f.error).replace(/\s*\n\s*/g, ' ');
  for (const own of [`${f.source}: `, `${host}: `]) if (why.startsWith(own)) why = why.slice(own.length);
  return `${f.source}: ${why}`;
}

/**
 * The one-line error when every candidate failed. It takes the kind of the most hopeful failure
 * (one worth retrying, else one that is not "not found", else "not found") so that the retry
 * policy and not-found handling treat it as they would that failure alone: a mirror lacking the
 * image must not hide that the origin was merely unreachable.
 */
function allFailed(what: string, failures: PullFailure[]): Error {
  const message = `${what}: every pull source failed: ${failures.map(describeFailure).join('; ')}`;
  const decisive =
    failures.find((f) => isRetryable(f.error)) ?? failures.find((f) => !(f.error instanceof NotFoundError)) ?? failures[0]!;
  return sameKind(decisive.error, message);
}

function sameKind(err: unknown, message: string): Error {
  if (err instanceof NotFoundError) return new NotFoundError(message, err.status, err.retryAfter);
  if (err instanceof AuthError) return new AuthError(message, err.status, err.retryAfter);
  if (err instanceof RegistryError) return new RegistryError(message, err.status, err.retryAfter);
  if (err instanceof DigestMismatchError) return new DigestMismatchError(message);
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = typeof e?.code === 'string' ? e.code : typeof e?.cause?.code === 'string' ? e.cause.code : undefined;
  // Network errors are recognised by their code.
  return Object.assign(new OcMirrorError(message), code ? { code } : {});
}
