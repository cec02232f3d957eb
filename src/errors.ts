/**
 * Every error a user can see derives from OcMirrorError: its message is the one line printed on
 * stderr, so it must name the object at fault (field, image, flag) and never carry a stack or a secret.
 */
export class OcMirrorError extends Error {
  override name = 'OcMirrorError';
}

/** A flag, argument or combination of them that we refuse before doing anything. */
export class UsageError extends OcMirrorError {
  override name = 'UsageError';
}

/** An ImageSetConfiguration or DeleteImageSetConfiguration that does not validate. */
export class ConfigError extends OcMirrorError {
  override name = 'ConfigError';
}

/** An image reference that does not parse. */
export class ReferenceError extends OcMirrorError {
  override name = 'ReferenceError';
}

/** Bytes that do not match the digest or size they were announced with. */
export class DigestMismatchError extends OcMirrorError {
  override name = 'DigestMismatchError';
}

/** A registry answered with an HTTP status we cannot go on from. */
export class RegistryError extends OcMirrorError {
  override name = 'RegistryError';
  constructor(
    message: string,
    readonly status: number | undefined,
    /** seconds the registry asked us to wait (Retry-After), if any */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

/** The registry refused our credentials, or we had none and it wanted some. */
export class AuthError extends RegistryError {
  override name = 'AuthError';
}

/** Something was not found at a registry (manifest unknown, blob unknown, repository unknown). */
export class NotFoundError extends RegistryError {
  override name = 'NotFoundError';
}

/**
 * A collector could not say what to mirror: the run stops before copying, and the exit code
 * carries the bit of the content kind (ref §12.4: release 2, operator 4, additional 8, helm 16).
 */
export class CollectionError extends OcMirrorError {
  override name = 'CollectionError';
  constructor(
    message: string,
    readonly origin: 'release' | 'operator' | 'additional' | 'helm',
  ) {
    super(message);
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    // undici wraps socket errors: the cause says what actually happened.
    const cause = (err as { cause?: unknown }).cause;
    if (!(err instanceof OcMirrorError) && cause instanceof Error && cause.message && cause.message !== err.message) {
      return `${err.message}: ${cause.message}`;
    }
    return err.message;
  }
  return String(err);
}
