/**
 * Faults a test can switch on while the services run. Counters are consumed one per matching
 * request, so `faults.rateLimitNext = 2` affects exactly the next two twirp calls.
 */
export interface ActionsFaults {
  /** CreateCacheEntry refuses with the service's "insufficient usage" error */
  quotaReached: boolean;
  /** CreateArtifact refuses with the service's "insufficient usage" error */
  artifactQuotaReached: boolean;
  /** the next N twirp calls answer 429 with Retry-After (see rateLimitOnly) */
  rateLimitNext: number;
  /** when set, only twirp calls to this method (e.g. 'FinalizeCacheEntryUpload') are rate limited */
  rateLimitOnly: string | undefined;
  /** Retry-After seconds sent with a 429 */
  retryAfterSeconds: number;
  /** the next N blob PUTs (single shot, block or block list) fail with failUploadsStatus */
  failUploadsNext: number;
  /**
   * 500 (default) and 503 are retried by the Azure SDK (4 tries; delays 0 s, 4 s, 12 s);
   * other statuses fail the upload at once.
   */
  failUploadsStatus: number;
  /** the next N blob GETs/HEADs fail with failDownloadsStatus */
  failDownloadsNext: number;
  failDownloadsStatus: number;
}

export function noFaults(): ActionsFaults {
  return {
    quotaReached: false,
    artifactQuotaReached: false,
    rateLimitNext: 0,
    rateLimitOnly: undefined,
    retryAfterSeconds: 60,
    failUploadsNext: 0,
    failUploadsStatus: 500,
    failDownloadsNext: 0,
    failDownloadsStatus: 500,
  };
}

/** Consumes one injected upload failure; the status to answer with, or undefined. */
export function takeUploadFailure(faults: ActionsFaults): number | undefined {
  if (faults.failUploadsNext <= 0) return undefined;
  faults.failUploadsNext--;
  return faults.failUploadsStatus;
}

export function takeDownloadFailure(faults: ActionsFaults): number | undefined {
  if (faults.failDownloadsNext <= 0) return undefined;
  faults.failDownloadsNext--;
  return faults.failDownloadsStatus;
}

/** Consumes one rate-limit token if this twirp method is targeted. */
export function takeRateLimit(faults: ActionsFaults, method: string): boolean {
  if (faults.rateLimitNext <= 0) return false;
  if (faults.rateLimitOnly !== undefined && faults.rateLimitOnly !== method) return false;
  faults.rateLimitNext--;
  return true;
}
