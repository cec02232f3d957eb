import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { DigestMismatchError } from '../errors.js';

const DIGEST_RE = /^(sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128})$/;

export function isDigest(s: string): boolean {
  return DIGEST_RE.test(s);
}

export function algorithmOf(digest: string): 'sha256' | 'sha384' | 'sha512' {
  return digest.slice(0, digest.indexOf(':')) as 'sha256' | 'sha384' | 'sha512';
}

export function digestOf(bytes: Uint8Array, algorithm: 'sha256' | 'sha384' | 'sha512' = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/** The synthetic tag oc-mirror gives a digest-only image at the destination: `sha256-<hex>`. */
export function digestTag(digest: string): string {
  return digest.replace(':', '-').slice(0, 127);
}

/**
 * Passes bytes through while hashing and counting them. The last chunk is held back until the
 * digest and size are confirmed, so a consumer never receives a complete body that is wrong:
 * an upload of a corrupt blob is aborted before its final byte instead of being committed.
 */
export class VerifyingStream extends Transform {
  private readonly hash: Hash;
  private held: Buffer | undefined;
  private seen = 0;

  constructor(
    private readonly expectedDigest: string,
    private readonly expectedSize: number,
    private readonly what: string,
    private readonly onBytes?: (n: number) => void,
  ) {
    super();
    this.hash = createHash(algorithmOf(expectedDigest));
  }

  /**
   * Whether reading this stream to its end proves content of `digest` and `size`: a consumer
   * downstream (the local store) can then skip hashing the same bytes a second time.
   */
  verifies(digest: string, size: number): boolean {
    return this.expectedDigest === digest && this.expectedSize === size;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    if (this.expectedSize >= 0 && this.seen > this.expectedSize) {
      cb(new DigestMismatchError(`${this.what}: received more than the ${this.expectedSize} bytes announced for ${this.expectedDigest}`));
      return;
    }
    this.hash.update(chunk);
    this.onBytes?.(chunk.length);
    const previous = this.held;
    this.held = chunk;
    if (previous) this.push(previous);
    cb();
  }

  override _flush(cb: TransformCallback): void {
    if (this.expectedSize >= 0 && this.seen !== this.expectedSize) {
      cb(new DigestMismatchError(`${this.what}: received ${this.seen} of the ${this.expectedSize} bytes of ${this.expectedDigest}`));
      return;
    }
    const actual = `${algorithmOf(this.expectedDigest)}:${this.hash.digest('hex')}`;
    if (actual !== this.expectedDigest) {
      cb(new DigestMismatchError(`${this.what}: content has digest ${actual}, expected ${this.expectedDigest}`));
      return;
    }
    if (this.held) this.push(this.held);
    cb();
  }
}
