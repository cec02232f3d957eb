/**
 * The distribution API's error vocabulary. Clients (skopeo, podman, oc) branch on `code`, so the
 * codes and their HTTP statuses are distribution's own (registry/api/errcode, registry/api/v2).
 */

export type ApiErrorCode =
  | 'BLOB_UNKNOWN'
  | 'BLOB_UPLOAD_INVALID'
  | 'BLOB_UPLOAD_UNKNOWN'
  | 'DIGEST_INVALID'
  | 'MANIFEST_BLOB_UNKNOWN'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_UNKNOWN'
  | 'NAME_INVALID'
  | 'NAME_UNKNOWN'
  | 'PAGINATION_NUMBER_INVALID'
  | 'RANGE_INVALID'
  | 'SIZE_INVALID'
  | 'TAG_INVALID'
  | 'UNSUPPORTED'
  | 'NOT_FOUND'
  | 'UNKNOWN';

const STATUS_AND_MESSAGE: Record<ApiErrorCode, [number, string]> = {
  BLOB_UNKNOWN: [404, 'blob unknown to registry'],
  BLOB_UPLOAD_INVALID: [400, 'blob upload invalid'],
  BLOB_UPLOAD_UNKNOWN: [404, 'blob upload unknown to registry'],
  DIGEST_INVALID: [400, 'provided digest did not match uploaded content'],
  MANIFEST_BLOB_UNKNOWN: [400, 'blob unknown to registry'],
  MANIFEST_INVALID: [400, 'manifest invalid'],
  MANIFEST_UNKNOWN: [404, 'manifest unknown'],
  NAME_INVALID: [400, 'invalid repository name'],
  NAME_UNKNOWN: [404, 'repository name not known to registry'],
  PAGINATION_NUMBER_INVALID: [400, 'invalid number of results requested'],
  RANGE_INVALID: [416, 'invalid content range'],
  SIZE_INVALID: [400, 'provided length did not match content length'],
  TAG_INVALID: [400, 'manifest tag did not match URI'],
  UNSUPPORTED: [405, 'The operation is unsupported.'],
  // distribution answers an unknown route with a bare 404; a JSON body is friendlier to curl users
  NOT_FOUND: [404, 'no such route in the registry API'],
  UNKNOWN: [500, 'unknown error'],
};

/** An answer of the registry API other than success; thrown by handlers, written by the server. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly status: number;

  constructor(
    readonly code: ApiErrorCode,
    readonly detail?: unknown,
    status?: number,
  ) {
    const [defaultStatus, message] = STATUS_AND_MESSAGE[code];
    super(message);
    this.status = status ?? defaultStatus;
  }

  /** distribution's body: `{"errors":[{"code","message","detail"}]}` */
  body(): string {
    const entry: Record<string, unknown> = { code: this.code, message: this.message };
    if (this.detail !== undefined) entry.detail = this.detail;
    return JSON.stringify({ errors: [entry] });
  }
}
