/**
 * A deliberately small registry HTTP client for the test world (pushing fixtures, probing
 * readiness, asserting blob presence). It is independent of the project's own registry client on
 * purpose: fixtures written by the code under test would prove nothing.
 *
 * Auth: on a 401 it answers the challenge (Basic, or Bearer via the token realm with the
 * challenge's scope) and retries once; credentials are cached per repository afterwards.
 */
import { readFileSync } from 'node:fs';
import { Agent, request, type Dispatcher } from 'undici';
import type { Readable } from 'node:stream';

/** What a client needs to reach a registry; a TestRegistry has all of it. */
export interface RegistryAccess {
  /** http(s)://127.0.0.1:<port> */
  url: string;
  caCertPath?: string;
  username?: string;
  password?: string;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  /** a Buffer, or a factory for a fresh stream (so the request can be replayed after a 401) */
  body?: Buffer | string | (() => Readable);
  /** repository the request is about: auth is cached per repository */
  repo?: string;
}

const agents = new Map<string, Agent>();

/** One undici Agent per CA file, trusting exactly that CA (plus nothing else). */
export function dispatcherFor(access: Pick<RegistryAccess, 'caCertPath'>): Dispatcher | undefined {
  if (!access.caCertPath) return undefined;
  let agent = agents.get(access.caCertPath);
  if (!agent) {
    agent = new Agent({ connect: { ca: readFileSync(access.caCertPath, 'utf8') } });
    agents.set(access.caCertPath, agent);
  }
  return agent;
}

function header(h: HttpResponse['headers'], name: string): string | undefined {
  const v = h[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** Parses `Bearer realm="...",service="...",scope="..."` (also `Basic realm=...`). */
export function parseChallenge(value: string): { scheme: string; params: Record<string, string> } {
  const space = value.indexOf(' ');
  const scheme = (space < 0 ? value : value.slice(0, space)).toLowerCase();
  const params: Record<string, string> = {};
  const re = /([a-zA-Z_]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (const m of (space < 0 ? '' : value.slice(space + 1)).matchAll(re)) {
    params[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
  }
  return { scheme, params };
}

export class RegistryHttp {
  private readonly auth = new Map<string, string>();

  constructor(private readonly access: RegistryAccess) {}

  private basic(): string | undefined {
    const { username, password } = this.access;
    if (username === undefined || password === undefined) return undefined;
    return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  }

  private async raw(method: string, url: string, opts: RequestOptions, authorization?: string): Promise<HttpResponse> {
    const headers: Record<string, string> = { ...opts.headers };
    if (authorization) headers.authorization = authorization;
    const body = typeof opts.body === 'function' ? opts.body() : opts.body;
    const res = await request(url, {
      method: method as Dispatcher.HttpMethod,
      headers,
      body,
      dispatcher: dispatcherFor(this.access),
    });
    const buf = Buffer.from(await res.body.arrayBuffer());
    return { status: res.statusCode, headers: res.headers, body: buf };
  }

  /** Answers a 401 challenge; returns the Authorization value to retry with, if any. */
  private async authenticate(challengeHeader: string | undefined, repo: string | undefined): Promise<string | undefined> {
    if (!challengeHeader) return undefined;
    const { scheme, params } = parseChallenge(challengeHeader);
    if (scheme === 'basic') return this.basic();
    if (scheme !== 'bearer' || !params.realm) return undefined;
    const realm = new URL(params.realm);
    if (params.service) realm.searchParams.set('service', params.service);
    // the challenge names the scope the request needs; fall back to pull,push on the repository
    const scope = params.scope ?? (repo ? `repository:${repo}:pull,push` : undefined);
    if (scope) for (const s of scope.split(' ')) realm.searchParams.append('scope', s);
    const basic = this.basic();
    const res = await request(realm, {
      method: 'GET',
      headers: basic ? { authorization: basic } : {},
      dispatcher: dispatcherFor(this.access),
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`token request ${realm} answered ${res.statusCode}: ${text}`);
    const parsed = JSON.parse(text) as { token?: string; access_token?: string };
    const token = parsed.token ?? parsed.access_token;
    if (!token) throw new Error(`token response from ${realm} has no token`);
    return `Bearer ${token}`;
  }

  /**
   * `path` is relative to the registry URL (`/v2/...`) or an absolute URL (upload Locations).
   * Does not throw on HTTP errors: callers check `status`.
   */
  async request(method: string, path: string, opts: RequestOptions = {}): Promise<HttpResponse> {
    const url = new URL(path, this.access.url).toString();
    const key = opts.repo ?? '';
    let res = await this.raw(method, url, opts, this.auth.get(key) ?? this.auth.get('*'));
    if (res.status !== 401) return res;
    const challenge = header(res.headers, 'www-authenticate');
    const authorization = await this.authenticate(challenge, opts.repo);
    if (!authorization) return res;
    // Basic credentials hold for the whole registry, tokens only for their scope
    this.auth.set(authorization.startsWith('Basic ') ? '*' : key, authorization);
    res = await this.raw(method, url, opts, authorization);
    return res;
  }

  /** Like request() but throws with the response body when the status is not in `expected`. */
  async expect(method: string, path: string, expected: number[], opts: RequestOptions = {}): Promise<HttpResponse> {
    const res = await this.request(method, path, opts);
    if (!expected.includes(res.status)) {
      throw new Error(`${method} ${path} on ${this.access.url}: HTTP ${res.status} (expected ${expected.join('/')}): ${res.body.toString('utf8').slice(0, 500)}`);
    }
    return res;
  }

  static header = header;
}
