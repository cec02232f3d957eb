import { AuthError, DigestMismatchError, NotFoundError, RegistryError } from '../errors.js';

export interface RetryPolicy {
  /** retries after the first attempt */
  retryTimes: number;
  /** constant delay between attempts; 0 = exponential backoff (1 s, 2 s, 4 s …, at most 60 s) */
  retryDelayMs: number;
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ECONNECTION',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

/** Network errors, 429 and 500–504 are worth another attempt; refusals and bad content are not. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof DigestMismatchError || err instanceof NotFoundError) return false;
  if (err instanceof AuthError) return err.status === 429;
  if (err instanceof RegistryError) return err.status === 429 || (err.status !== undefined && err.status >= 500 && err.status <= 504);
  const e = err as { code?: string; cause?: { code?: string }; name?: string };
  if (e?.name === 'AbortError' || e?.name === 'TimeoutError') return false;
  return NETWORK_CODES.has(e?.code ?? '') || NETWORK_CODES.has(e?.cause?.code ?? '');
}

/** How long to wait before attempt `attempt + 1`, honouring the registry's Retry-After. */
export function retryDelay(policy: RetryPolicy, attempt: number, err: unknown): number {
  const base = policy.retryDelayMs > 0 ? policy.retryDelayMs : Math.min(60_000, 1000 * 2 ** (attempt - 1));
  const after = err instanceof RegistryError && err.retryAfter !== undefined ? err.retryAfter * 1000 : 0;
  return Math.max(base, Math.min(after, 300_000));
}
