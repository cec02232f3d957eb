/**
 * A Docker token-auth server (the "realm" of `WWW-Authenticate: Bearer realm=...`) on loopback.
 *
 * Protocol: `GET <realm>?service=S&scope=repository:NAME:pull,push[&scope=...]` with optional
 * Basic credentials answers `{token, access_token, expires_in, issued_at}`. The token is an RS256
 * JWT whose header carries `x5c` = [base64 DER of the signing certificate]; distribution verifies
 * that chain against its `auth.token.rootcertbundle` (our test CA), then checks iss/aud/exp/nbf
 * and the `access` claim against the request's repository and action.
 *
 * Every request is recorded so tests can assert which scopes a client asked for (per-repository
 * scopes, `repository:<from>:pull` for cross-repository mounts, ...).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID, sign } from 'node:crypto';
import { LOOPBACK } from './ports.js';
import { testPki } from './certs.js';
import type { Hookable } from './cleanup.js';

export interface Credentials {
  username: string;
  password: string;
}

/** One entry of the JWT `access` claim (and of a parsed `scope` parameter). */
export interface Access {
  type: string;
  name: string;
  actions: string[];
}

export interface TokenRequestRecord {
  /** Date.now() when it arrived */
  time: number;
  method: string;
  /** the Basic user name, also when its password was wrong; undefined when anonymous */
  username?: string;
  authenticated: boolean;
  service?: string;
  /** raw scope strings, one per scope parameter (space-separated lists are split) */
  scopes: string[];
  /** what the token grants (empty when nothing, or when refused) */
  granted: Access[];
  /** HTTP status answered: 200, or 401 for bad credentials */
  status: number;
}

/**
 * Decides which actions of `requested` a caller gets. `user` is undefined for anonymous callers.
 * The default: valid users get everything they ask for; anonymous callers get `pull` only when
 * `anonymousPull` is set, nothing otherwise.
 */
export type AuthorizeFn = (user: string | undefined, requested: Access) => string[];

export interface TokenServerOptions {
  users?: Credentials[];
  anonymousPull?: boolean;
  /** token lifetime in seconds as the registry will enforce it (default 300); settable later */
  expiresIn?: number;
  service?: string;
  issuer?: string;
  authorize?: AuthorizeFn;
}

export interface TokenServer {
  /** http://127.0.0.1:<port> */
  url: string;
  /** the realm to configure in the registry: `${url}/token` */
  realm: string;
  service: string;
  issuer: string;
  /** PEM bundle distribution must trust for our tokens (the test CA) */
  rootCertBundlePath: string;
  /** all requests so far, oldest first */
  readonly requests: TokenRequestRecord[];
  /** lifetime of tokens issued from now on, in seconds: the registry accepts them for at least
   * that long and rejects them less than a second later */
  expiresIn: number;
  /** every distinct scope string requested so far */
  scopesRequested(): string[];
  /**
   * Whether some request asked for `scope` (`type:name:actions`) or more: same type and name, and
   * at least these actions in any order. Use this rather than comparing strings: distribution
   * builds its challenge scopes from a Go map, so it says `pull,push` or `push,pull` at random.
   */
  hasRequested(scope: string): boolean;
  /** forget the recorded requests (e.g. between two phases of a test) */
  clearRequests(): void;
  stop(): Promise<void>;
}

/**
 * distribution 2.8 accepts a token up to 60 s after its `exp` (and before its `nbf`): the
 * `Leeway` constant in registry/auth/token. To make a token really die `expiresIn` seconds after
 * issue (so clients' refresh paths can be tested in seconds, not minutes), `exp` is set that much
 * earlier. Clients must treat tokens as opaque and go by `expires_in`, which is the real lifetime.
 */
export const REGISTRY_TOKEN_LEEWAY_SECONDS = 60;

/** Parses `type[(class)]:name:actions`; the name may itself contain ':' (it never should). */
export function parseScope(scope: string): Access | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last === first) return undefined;
  const type = scope.slice(0, first).replace(/\(.*\)$/, '');
  const name = scope.slice(first + 1, last);
  const actions = scope.slice(last + 1).split(',').filter((a) => a !== '');
  return { type, name, actions };
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

function parseBasic(header: string | undefined): { username: string; password: string } | undefined {
  if (!header) return undefined;
  const m = /^Basic\s+(\S+)$/i.exec(header);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function json(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...extra });
  res.end(text);
}

export async function startTokenServer(options: TokenServerOptions = {}, t?: Hookable): Promise<TokenServer> {
  const pki = await testPki();
  const users = new Map((options.users ?? []).map((u) => [u.username, u.password]));
  const service = options.service ?? 'oc-mirror-test-registry';
  const issuer = options.issuer ?? 'oc-mirror-test-token-server';
  const requests: TokenRequestRecord[] = [];
  const authorize: AuthorizeFn =
    options.authorize ??
    ((user, requested) => {
      if (user !== undefined) return requested.actions;
      return options.anonymousPull ? requested.actions.filter((a) => a === 'pull') : [];
    });

  const state = { expiresIn: options.expiresIn ?? 300 };

  const issue = (subject: string, access: Access[]): { token: string; issuedAt: Date } => {
    const nowMs = Date.now();
    const now = Math.floor(nowMs / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [pki.signerCertDerBase64] };
    const claims = {
      iss: issuer,
      sub: subject,
      // a plain string: distribution 2.8's ClaimSet.Audience is a Go string, a JSON array fails
      aud: service,
      // rounded up: claims are whole seconds, and a token must never die before `expires_in`
      exp: Math.ceil(nowMs / 1000 + state.expiresIn) - REGISTRY_TOKEN_LEEWAY_SECONDS,
      nbf: now - 1,
      iat: now,
      jti: randomUUID(),
      access,
    };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = sign('sha256', Buffer.from(signingInput), pki.signerKeyPem);
    return { token: `${signingInput}.${b64url(signature)}`, issuedAt: new Date(nowMs) };
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://token.invalid');
    if (url.pathname !== '/token' || req.method !== 'GET') {
      json(res, req.method === 'GET' ? 404 : 405, { errors: [{ code: 'UNSUPPORTED', message: 'GET /token only' }] });
      return;
    }
    const scopes = url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter((s) => s !== '');
    const creds = parseBasic(req.headers.authorization);
    const record: TokenRequestRecord = {
      time: Date.now(),
      method: req.method,
      username: creds?.username,
      authenticated: false,
      service: url.searchParams.get('service') ?? undefined,
      scopes,
      granted: [],
      status: 200,
    };
    requests.push(record);
    if (creds && users.get(creds.username) !== creds.password) {
      record.status = 401;
      json(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'invalid username or password' }] },
        { 'www-authenticate': 'Basic realm="oc-mirror-test-token-server"' });
      return;
    }
    record.authenticated = creds !== undefined;
    for (const scope of scopes) {
      const requested = parseScope(scope);
      if (!requested) continue;
      const actions = authorize(creds?.username, requested);
      if (actions.length > 0) record.granted.push({ ...requested, actions });
    }
    const { token, issuedAt } = issue(creds?.username ?? '', record.granted);
    json(res, 200, { token, access_token: token, expires_in: state.expiresIn, issued_at: issuedAt.toISOString() });
  };

  const server: Server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (err) {
      json(res, 500, { errors: [{ code: 'UNKNOWN', message: String(err) }] });
    }
  });
  // port 0: the kernel picks a free port atomically (no race with other test processes)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('token server: no TCP address');
  const port = address.port;
  // keep-alive sockets from clients would hold close() open otherwise
  server.keepAliveTimeout = 1000;

  const url = `http://${LOOPBACK}:${port}`;
  let stopped: Promise<void> | undefined;
  const ts: TokenServer = {
    url,
    realm: `${url}/token`,
    service,
    issuer,
    rootCertBundlePath: pki.caCertPath,
    requests,
    get expiresIn() {
      return state.expiresIn;
    },
    set expiresIn(v: number) {
      state.expiresIn = v;
    },
    scopesRequested: () => [...new Set(requests.flatMap((r) => r.scopes))],
    hasRequested: (scope: string) => {
      const want = parseScope(scope);
      if (!want) throw new Error(`not a scope: ${scope}`);
      return requests.some((r) =>
        r.scopes.some((s) => {
          const got = parseScope(s);
          return got?.type === want.type && got.name === want.name && want.actions.every((a) => got.actions.includes(a));
        }),
      );
    },
    clearRequests: () => {
      requests.length = 0;
    },
    stop: () => {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopped;
    },
  };
  t?.after(() => ts.stop());
  return ts;
}
