import { Readable } from 'node:stream';
import { Agent, EnvHttpProxyAgent, interceptors, request, type Dispatcher } from 'undici';
import { AuthError, DigestMismatchError, NotFoundError, OcMirrorError, RegistryError } from '../errors.js';
import { MANIFEST_ACCEPT, receivedManifest, type Descriptor, type RawManifest } from '../image/manifest.js';
import { isDigest } from '../image/digest.js';
import { DOCKER_HUB } from '../image/reference.js';
import type { ImageDestination, ImageSource } from '../image/transport.js';
import { parseChallenge, type Challenge } from './challenge.js';
import type { CredentialLookup, Credentials } from './credentials.js';
import { extraCertificates } from './tls.js';

export interface RegistryOptions {
  /** false: accept unverified certificates and fall back to plain HTTP */
  tlsVerify: boolean;
  /** directory of extra CA certificates (`*.crt`) */
  certDir?: string;
  credentials: CredentialLookup;
  /** connection pool size per host; size it to images × layers in flight */
  connections: number;
  /** blobs larger than this are uploaded in PATCH chunks of this size; 0 = always monolithic */
  uploadChunkSize: number;
  log?: (message: string) => void;
}

type Access = 'pull' | 'push';

const MAX_MANIFEST_BYTES = 8 * 1024 * 1024;
const USER_AGENT = 'oc-mirror-action/0.1';

interface Token {
  value: string;
  expiresAt: number;
}

interface RequestOptions {
  scopes: string[];
  headers?: Record<string, string>;
  body?: Buffer | Readable;
  signal?: AbortSignal | undefined;
}

/**
 * One registry host: connection pool, scheme detection, and authentication (anonymous, Basic,
 * Bearer tokens per repository scope, cached until they expire). Repositories are views on it.
 */
export class Registry {
  private readonly dispatcher: Dispatcher;
  private readonly apiHost: string;
  private base: Promise<string> | undefined;
  private challenge: Challenge | undefined;
  private readonly tokens = new Map<string, Promise<Token>>();

  constructor(
    readonly host: string,
    private readonly options: RegistryOptions,
  ) {
    this.apiHost = host === DOCKER_HUB ? 'registry-1.docker.io' : host;
    const ca = extraCertificates(host, options.certDir);
    const tls = { rejectUnauthorized: options.tlsVerify, ...(ca && { ca }) };
    const usesProxy = ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy'].some((k) => process.env[k]);
    const pool = { connections: options.connections, connect: tls, keepAliveTimeout: 30_000 };
    const agent: Dispatcher = usesProxy ? new EnvHttpProxyAgent({ ...pool, requestTls: tls }) : new Agent(pool);
    this.dispatcher = agent.compose(interceptors.redirect({ maxRedirections: 5 }));
  }

  repository(name: string, access: Access): RegistryRepository {
    return new RegistryRepository(this, name, access, this.options.uploadChunkSize);
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  /** `GET /v2/`: finds the scheme (https, or http when verification is off) and the auth challenge. */
  baseUrl(signal?: AbortSignal): Promise<string> {
    this.base ??= this.detectBase(signal);
    return this.base;
  }

  private async detectBase(signal?: AbortSignal): Promise<string> {
    const https = `https://${this.apiHost}`;
    try {
      await this.probe(https, signal);
      return https;
    } catch (err) {
      if (this.options.tlsVerify || err instanceof RegistryError) {
        this.base = undefined;
        throw this.connectionError(err);
      }
    }
    const http = `http://${this.apiHost}`;
    try {
      await this.probe(http, signal);
      return http;
    } catch (err) {
      this.base = undefined;
      throw this.connectionError(err);
    }
  }

  private async probe(base: string, signal?: AbortSignal): Promise<void> {
    const res = await request(`${base}/v2/`, { method: 'GET', dispatcher: this.dispatcher, headers: { 'user-agent': USER_AGENT }, signal });
    await res.body.dump();
    if (res.statusCode === 401) {
      this.challenge = parseChallenge(header(res.headers, 'www-authenticate'));
      return;
    }
    if (res.statusCode >= 400) throw new RegistryError(`${this.host}: GET /v2/ answered ${res.statusCode}; is this a container registry?`, res.statusCode);
  }

  private connectionError(err: unknown): Error {
    if (err instanceof RegistryError) return err;
    const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
    const code = e.cause?.code ?? e.code ?? '';
    const detail = e.cause?.message ?? e.message ?? String(err);
    if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|HOSTNAME|ALTNAME/.test(code)) {
      return Object.assign(
        new OcMirrorError(
          `${this.host}: TLS certificate not trusted (${detail}); add its CA with --src-cert-dir/--dest-cert-dir or /etc/containers/certs.d/${this.host}/, or use --src-tls-verify=false/--dest-tls-verify=false`,
        ),
        { code },
      );
    }
    if (/EPROTO|WRONG_VERSION/.test(code + detail) && this.options.tlsVerify) {
      return Object.assign(
        new OcMirrorError(`${this.host}: does not speak TLS; if it is a plain-HTTP registry, use --src-tls-verify=false/--dest-tls-verify=false`),
        { code },
      );
    }
    // Network errors keep their code so the retry policy can recognise them.
    return Object.assign(new OcMirrorError(`${this.host}: ${detail}`), { code: code || 'ECONNECTION' });
  }

  /**
   * Sends one request with the right Authorization. A 401 on a replayable request refreshes the
   * challenge and token and tries once more; a streamed body is never replayed, so callers make
   * an unstreamed request to the same scopes first.
   */
  async send(method: Dispatcher.HttpMethod, pathOrUrl: string, opts: RequestOptions): Promise<Dispatcher.ResponseData> {
    const base = await this.baseUrl(opts.signal);
    const url = pathOrUrl.startsWith('http://') || pathOrUrl.startsWith('https://') ? pathOrUrl : `${base}${pathOrUrl}`;
    for (let attempt = 0; ; attempt++) {
      const authorization = await this.authorization(opts.scopes, attempt > 0, opts.signal);
      let res: Dispatcher.ResponseData;
      try {
        res = await request(url, {
          method,
          dispatcher: this.dispatcher,
          headers: { 'user-agent': USER_AGENT, ...opts.headers, ...(authorization && { authorization }) },
          body: opts.body,
          signal: opts.signal,
          // undici closes the connection after a HEAD unless told not to; registries answer HEAD
          // without a body, so the connection can be reused (one TCP/TLS handshake saved per HEAD).
          ...(method === 'HEAD' && { reset: false }),
        });
      } catch (err) {
        if ((err as Error).name === 'AbortError' || opts.signal?.aborted) throw err;
        throw this.connectionError(err);
      }
      if (res.statusCode === 401 && attempt === 0 && !(opts.body instanceof Readable)) {
        const challenge = parseChallenge(header(res.headers, 'www-authenticate'));
        if (challenge) {
          this.challenge = challenge;
          await res.body.dump();
          continue;
        }
      }
      return res;
    }
  }

  private async authorization(scopes: string[], refresh: boolean, signal?: AbortSignal): Promise<string | undefined> {
    const challenge = this.challenge;
    if (!challenge) return undefined;
    const repository = scopes[0]?.split(':')[1] ?? '';
    if (challenge.scheme === 'basic') {
      const creds = await this.options.credentials(this.host, repository);
      return creds && basic(creds);
    }
    if (challenge.scheme !== 'bearer' || !challenge.params.realm) return undefined;
    const key = [...scopes].sort().join(' ');
    let pending = this.tokens.get(key);
    if (pending && !refresh) {
      const token = await pending.catch(() => undefined);
      if (token && token.expiresAt > Date.now() + 10_000) return `Bearer ${token.value}`;
    }
    pending = this.fetchToken(challenge, scopes, repository, signal);
    this.tokens.set(key, pending);
    pending.catch(() => this.tokens.delete(key));
    return `Bearer ${(await pending).value}`;
  }

  private async fetchToken(challenge: Challenge, scopes: string[], repository: string, signal?: AbortSignal): Promise<Token> {
    const realm = new URL(challenge.params.realm!);
    if (challenge.params.service) realm.searchParams.set('service', challenge.params.service);
    for (const s of scopes) realm.searchParams.append('scope', s);
    const creds = await this.options.credentials(this.host, repository);
    const started = Date.now();
    let res: Dispatcher.ResponseData;
    try {
      res = await request(realm, {
        method: 'GET',
        dispatcher: this.dispatcher,
        headers: { 'user-agent': USER_AGENT, ...(creds && { authorization: basic(creds) }) },
        signal,
      });
    } catch (err) {
      throw this.connectionError(err);
    }
    if (res.statusCode !== 200) {
      await res.body.dump();
      const why = res.statusCode === 401 || res.statusCode === 403 ? (creds ? 'credentials were rejected' : 'no credentials found for it') : `answered ${res.statusCode}`;
      throw new AuthError(`${this.host}: token service ${realm.origin}${realm.pathname} ${why}`, res.statusCode, retryAfter(res.headers));
    }
    const body = (await res.body.json()) as { token?: string; access_token?: string; expires_in?: number };
    const value = body.token ?? body.access_token;
    if (!value) throw new AuthError(`${this.host}: token service answered without a token`, 200);
    this.options.log?.(`${this.host}: new token for ${scopes.join(' ')}`);
    return { value, expiresAt: started + (body.expires_in && body.expires_in > 0 ? body.expires_in : 60) * 1000 };
  }

  /** Pre-flight: can we reach the registry, and does it accept our credentials (if any)? */
  async checkAccess(signal?: AbortSignal): Promise<void> {
    const res = await this.send('GET', '/v2/', { scopes: [], signal });
    if (res.statusCode === 200) {
      await res.body.dump();
      return;
    }
    return this.fail(res, 'check access', '');
  }

  /** Turns a non-success response into a typed error naming the operation. */
  async fail(res: Dispatcher.ResponseData, operation: string, repository: string): Promise<never> {
    let detail = '';
    try {
      const text = await res.body.text();
      const parsed = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
      detail = (parsed.errors ?? []).map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ');
    } catch {
      /* the body is informative only */
    }
    const msg = `${this.host}/${repository}: ${operation}: HTTP ${res.statusCode}${detail ? ` (${detail})` : ''}`;
    if (res.statusCode === 401 || res.statusCode === 403) {
      const creds = await this.options.credentials(this.host, repository);
      throw new AuthError(`${msg}; ${creds ? 'the credentials were rejected or lack permission' : `no credentials found for ${this.host} in the auth file`}`, res.statusCode);
    }
    if (res.statusCode === 404) throw new NotFoundError(msg, 404);
    throw new RegistryError(msg, res.statusCode, retryAfter(res.headers));
  }
}

/** One repository of a registry, as a source and a destination of the copy engine. */
export class RegistryRepository implements ImageSource, ImageDestination {
  readonly name: string;
  readonly host: string;
  private readonly scope: string;

  constructor(
    private readonly registry: Registry,
    readonly repository: string,
    access: Access,
    private readonly uploadChunkSize = 0,
  ) {
    this.host = registry.host;
    this.name = `${registry.host}/${repository}`;
    this.scope = `repository:${repository}:${access === 'push' ? 'pull,push' : 'pull'}`;
  }

  async getManifest(reference: string, signal?: AbortSignal): Promise<RawManifest> {
    const res = await this.registry.send('GET', `/v2/${this.repository}/manifests/${reference}`, {
      scopes: [this.scope],
      headers: { accept: MANIFEST_ACCEPT },
      signal,
    });
    if (res.statusCode !== 200) return this.registry.fail(res, `get manifest ${reference}`, this.repository);
    const length = Number(header(res.headers, 'content-length') ?? 0);
    if (length > MAX_MANIFEST_BYTES) {
      await res.body.dump();
      throw new RegistryError(`${this.name}: manifest ${reference} is ${length} bytes, more than a manifest may be`, 200);
    }
    const bytes = Buffer.from(await res.body.arrayBuffer());
    const what = `${this.name}:${reference}`;
    const expected = isDigest(reference) ? reference : header(res.headers, 'docker-content-digest');
    const mediaType = (header(res.headers, 'content-type') ?? '').split(';')[0]!.trim();
    return receivedManifest(bytes, mediaType, what, expected && isDigest(expected) ? expected : undefined);
  }

  async getBlob(desc: Descriptor, signal?: AbortSignal): Promise<Readable> {
    const res = await this.registry.send('GET', `/v2/${this.repository}/blobs/${desc.digest}`, { scopes: [this.scope], signal });
    if (res.statusCode !== 200) return this.registry.fail(res, `get blob ${desc.digest}`, this.repository);
    return res.body;
  }

  async manifestDigest(reference: string, signal?: AbortSignal): Promise<string | undefined> {
    const res = await this.registry.send('HEAD', `/v2/${this.repository}/manifests/${reference}`, {
      scopes: [this.scope],
      headers: { accept: MANIFEST_ACCEPT },
      signal,
    });
    await res.body.dump();
    if (res.statusCode === 404) return undefined;
    if (res.statusCode !== 200) return this.registry.fail(res, `check manifest ${reference}`, this.repository);
    const digest = header(res.headers, 'docker-content-digest');
    if (digest && isDigest(digest)) return digest;
    return (await this.getManifest(reference, signal)).digest;
  }

  async putManifest(manifest: RawManifest, reference: string, signal?: AbortSignal): Promise<void> {
    const res = await this.registry.send('PUT', `/v2/${this.repository}/manifests/${reference}`, {
      scopes: [this.scope],
      headers: { 'content-type': manifest.mediaType },
      body: manifest.bytes,
      signal,
    });
    if (res.statusCode !== 201 && res.statusCode !== 200 && res.statusCode !== 202) {
      return this.registry.fail(res, `put manifest ${reference}`, this.repository);
    }
    await res.body.dump();
    const stored = header(res.headers, 'docker-content-digest');
    if (stored && isDigest(stored) && stored !== manifest.digest) {
      throw new RegistryError(`${this.name}: registry stored manifest ${reference} as ${stored}, not as the ${manifest.digest} we sent`, res.statusCode);
    }
  }

  /**
   * `DELETE /v2/<repo>/manifests/<digest>`: removes the manifest and every tag pointing at it in
   * this repository. True when the registry deleted it (202), false when it was already gone (404).
   * A registry that does not allow deletion answers 405, which surfaces as a RegistryError.
   */
  async deleteManifest(digest: string, signal?: AbortSignal): Promise<boolean> {
    if (!isDigest(digest)) throw new RegistryError(`${this.name}: delete needs a digest, not "${digest}"`, undefined);
    const res = await this.registry.send('DELETE', `/v2/${this.repository}/manifests/${digest}`, {
      scopes: [this.scope, `repository:${this.repository}:delete`],
      signal,
    });
    if (res.statusCode === 202 || res.statusCode === 200 || res.statusCode === 204) {
      await res.body.dump();
      return true;
    }
    if (res.statusCode === 404) {
      await res.body.dump();
      return false;
    }
    return this.registry.fail(res, `delete manifest ${digest}`, this.repository);
  }

  /** Every tag of the repository (`GET /v2/<repo>/tags/list`, following `Link` pages); [] when the repository is unknown. */
  async listTags(signal?: AbortSignal): Promise<string[]> {
    const tags: string[] = [];
    let path: string | undefined = `/v2/${this.repository}/tags/list?n=1000`;
    for (let page = 0; path && page < 10_000; page++) {
      const res = await this.registry.send('GET', path, { scopes: [this.scope], signal });
      if (res.statusCode === 404) {
        await res.body.dump();
        return tags;
      }
      if (res.statusCode !== 200) return this.registry.fail(res, 'list tags', this.repository);
      const body = (await res.body.json()) as { tags?: unknown };
      if (Array.isArray(body.tags)) tags.push(...body.tags.filter((t): t is string => typeof t === 'string'));
      // `Link: </v2/<repo>/tags/list?last=x&n=1000>; rel="next"`
      path = /<([^>]+)>\s*;\s*rel="?next"?/.exec(header(res.headers, 'link') ?? '')?.[1];
    }
    return tags;
  }

  async hasBlob(desc: Descriptor, signal?: AbortSignal): Promise<boolean> {
    const res = await this.registry.send('HEAD', `/v2/${this.repository}/blobs/${desc.digest}`, { scopes: [this.scope], signal });
    await res.body.dump();
    if (res.statusCode === 200) return true;
    if (res.statusCode === 404) return false;
    return this.registry.fail(res, `check blob ${desc.digest}`, this.repository);
  }

  async mountBlob(desc: Descriptor, fromRepository: string, signal?: AbortSignal): Promise<boolean> {
    const query = new URLSearchParams({ mount: desc.digest, from: fromRepository });
    const res = await this.registry.send('POST', `/v2/${this.repository}/blobs/uploads/?${query}`, {
      scopes: [this.scope, `repository:${fromRepository}:pull`],
      headers: { 'content-length': '0' },
      signal,
    });
    await res.body.dump();
    if (res.statusCode === 201) return true;
    if (res.statusCode === 202) {
      // The registry opened an upload instead; close it rather than leave it dangling.
      const location = header(res.headers, 'location');
      if (location) await this.cancelUpload(location, signal);
      return false;
    }
    return false;
  }

  async putBlob(desc: Descriptor, body: Readable, signal?: AbortSignal): Promise<void> {
    const location = await this.startUpload(signal);
    if (this.uploadChunkSize > 0 && desc.size > this.uploadChunkSize) {
      const last = await this.uploadChunks(location, desc, body, signal);
      await this.finishUpload(last, desc, Buffer.alloc(0), 0, signal);
    } else {
      await this.finishUpload(location, desc, body, desc.size, signal);
    }
  }

  private async startUpload(signal?: AbortSignal): Promise<string> {
    const res = await this.registry.send('POST', `/v2/${this.repository}/blobs/uploads/`, {
      scopes: [this.scope],
      headers: { 'content-length': '0' },
      signal,
    });
    if (res.statusCode !== 202) return this.registry.fail(res, 'start blob upload', this.repository);
    await res.body.dump();
    const location = header(res.headers, 'location');
    if (!location) throw new RegistryError(`${this.name}: start blob upload: no Location in the answer`, res.statusCode);
    return location;
  }

  private async uploadChunks(location: string, desc: Descriptor, body: Readable, signal?: AbortSignal): Promise<string> {
    const slicer = new StreamSlicer(body);
    for (let offset = 0; offset < desc.size; ) {
      const length = Math.min(this.uploadChunkSize, desc.size - offset);
      const res = await this.registry.send('PATCH', await this.absolute(location), {
        scopes: [this.scope],
        headers: {
          'content-type': 'application/octet-stream',
          'content-length': String(length),
          'content-range': `${offset}-${offset + length - 1}`,
        },
        body: Readable.from(slicer.slice(length)),
        signal,
      });
      if (res.statusCode !== 202) return this.registry.fail(res, `upload chunk of ${desc.digest} at ${offset}`, this.repository);
      await res.body.dump();
      location = header(res.headers, 'location') ?? location;
      offset += length;
    }
    await slicer.finish();
    return location;
  }

  private async finishUpload(location: string, desc: Descriptor, body: Readable | Buffer, length: number, signal?: AbortSignal): Promise<void> {
    const url = new URL(await this.absolute(location));
    url.searchParams.set('digest', desc.digest);
    const res = await this.registry.send('PUT', url.toString(), {
      scopes: [this.scope],
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(length) },
      body,
      signal,
    });
    if (res.statusCode !== 201 && res.statusCode !== 204) return this.registry.fail(res, `upload blob ${desc.digest}`, this.repository);
    await res.body.dump();
  }

  private async cancelUpload(location: string, signal?: AbortSignal): Promise<void> {
    try {
      const res = await this.registry.send('DELETE', await this.absolute(location), { scopes: [this.scope], signal });
      await res.body.dump();
    } catch {
      /* best effort: registries expire abandoned uploads */
    }
  }

  /** Upload locations may be relative to the registry. */
  private async absolute(location: string): Promise<string> {
    if (/^https?:\/\//.test(location)) return location;
    const base = await this.registry.baseUrl();
    return `${base}${location.startsWith('/') ? '' : '/'}${location}`;
  }
}

/**
 * Hands out consecutive slices of a stream as streams of their own, each pulling exactly its
 * length from the shared source when it is sent: one network chunk in memory at a time.
 */
class StreamSlicer {
  private readonly it: AsyncIterator<Buffer>;
  private carry: Buffer | undefined;

  constructor(source: Readable) {
    this.it = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  async *slice(length: number): AsyncGenerator<Buffer> {
    let left = length;
    while (left > 0) {
      if (!this.carry) {
        const next = await this.it.next();
        if (next.done) throw new DigestMismatchError(`stream ended ${left} bytes before the end of a chunk`);
        this.carry = next.value;
      }
      const take = Math.min(left, this.carry.length);
      yield this.carry.subarray(0, take);
      this.carry = take < this.carry.length ? this.carry.subarray(take) : undefined;
      left -= take;
    }
  }

  /** Drains the source so that a verifier at its end gets to check the digest. */
  async finish(): Promise<void> {
    if (this.carry?.length) throw new DigestMismatchError('stream has more bytes than announced');
    const next = await this.it.next();
    if (!next.done) throw new DigestMismatchError('stream has more bytes than announced');
  }
}

function basic(creds: Credentials): string {
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
}

function header(headers: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function retryAfter(headers: Dispatcher.ResponseData['headers']): number | undefined {
  const v = header(headers, 'retry-after');
  if (!v) return undefined;
  const seconds = Number(v);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(v);
  return Number.isFinite(date) ? Math.max(0, (date - Date.now()) / 1000) : undefined;
}
