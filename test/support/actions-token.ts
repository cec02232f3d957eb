/**
 * The runner's ACTIONS_RUNTIME_TOKEN as the toolkit clients and the fake results service read it.
 *
 * Neither client verifies the signature: @actions/artifact only decodes the payload (jwt-decode)
 * for its `scp` claim, @actions/cache sends the token as an opaque bearer. So an unsecured JWT
 * (RFC 7519 §6, `alg: none`, empty signature) with the right claims is all a step needs.
 */

/** Cache permission bits in the `ac` claim, as the service interprets them. */
export const CACHE_READ = 1;
export const CACHE_WRITE = 2;

/** One entry of the `ac` claim: a cache scope (a git ref) and what this job may do in it. */
export interface CacheScope {
  scope: string;
  permission: number;
}

/** What the service learns about its caller from the token. */
export interface RuntimeClaims {
  /** second field of `Actions.Results:<run>:<job>`: the workflow run's backend id */
  runBackendId: string;
  /** third field: the job's backend id */
  jobBackendId: string;
  /** in search order: the run's own ref first, then the default branch (read-only) */
  cacheScopes: CacheScope[];
}

function base64urlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

export function makeRuntimeToken(claims: RuntimeClaims, issuer: string, lifetimeSeconds = 6 * 3600): string {
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    iss: issuer,
    aud: issuer,
    nbf: now - 60,
    iat: now - 60,
    exp: now + lifetimeSeconds,
    // The real claim carries several space-separated scopes; the artifact client scans for the
    // Actions.Results one, so a neighbour is kept to exercise that scan.
    scp: `Actions.GenericRead:${claims.runBackendId} Actions.Results:${claims.runBackendId}:${claims.jobBackendId}`,
    // The cache service keeps the scopes as a JSON string inside the JWT, capitalised.
    ac: JSON.stringify(claims.cacheScopes.map((s) => ({ Scope: s.scope, Permission: s.permission }))),
  };
  return `${base64urlJson({ typ: 'JWT', alg: 'none' })}.${base64urlJson(payload)}.`;
}

/** Reads an `Authorization: Bearer <jwt>` header; undefined when absent or not one of our tokens. */
export function readRuntimeToken(authorization: string | undefined): RuntimeClaims | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  if (!match) return undefined;
  const parts = match[1]!.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as {
      scp?: unknown;
      ac?: unknown;
      exp?: unknown;
    };
    if (typeof payload.exp === 'number' && payload.exp * 1000 < Date.now()) return undefined;
    const results = String(payload.scp ?? '')
      .split(' ')
      .map((s) => s.split(':'))
      .find((s) => s[0] === 'Actions.Results' && s.length === 3);
    if (!results) return undefined;
    const scopes = JSON.parse(typeof payload.ac === 'string' ? payload.ac : '[]') as { Scope: string; Permission: number }[];
    return {
      runBackendId: results[1]!,
      jobBackendId: results[2]!,
      cacheScopes: scopes.map((s) => ({ scope: s.Scope, permission: s.Permission })),
    };
  } catch {
    return undefined;
  }
}
