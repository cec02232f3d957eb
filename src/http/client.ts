import { Agent, EnvHttpProxyAgent, interceptors, request, type Dispatcher } from 'undici';
import type { Readable } from 'node:stream';
import { errorMessage, OcMirrorError } from '../errors.js';
import type { CredentialLookup } from '../registry/credentials.js';
import { extraCertificates } from '../registry/tls.js';

/** A plain HTTP(S) endpoint (Cincinnati graph, signature store, helm repository) answered with an error. */
export class HttpError extends OcMirrorError {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface HttpClientOptions {
  /** `--src-tls-verify` */
  tlsVerify: boolean;
  /** `--src-cert-dir`; otherwise the certs.d directories of the host */
  certDir?: string;
  /** Basic credentials from the authfile when the host matches (helm repositories) */
  credentials?: CredentialLookup;
  /** per request, headers to body end */
  timeoutMs?: number;
}

export interface GetOptions {
  accept?: string;
  signal?: AbortSignal;
  /** send Basic credentials the authfile holds for the URL's host */
  authenticate?: boolean;
  /** refuse bodies larger than this (bytes); default 512 MiB */
  maxBytes?: number;
}

/**
 * GETs of non-registry content with the run's proxy (HTTP(S)_PROXY/NO_PROXY) and TLS policy: one
 * client per run, one pool per host. Errors name the URL (never a credential) and the status.
 */
export class HttpClient {
  private readonly agents = new Map<string, Dispatcher>();

  constructor(private readonly options: HttpClientOptions) {}

  /** The whole body; 2xx only. */
  async getBytes(url: string, opts: GetOptions = {}): Promise<Buffer> {
    const body = await this.getStream(url, opts);
    const max = opts.maxBytes ?? 512 * 1024 * 1024;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body) {
      size += (chunk as Buffer).length;
      if (size > max) {
        body.destroy();
        throw new HttpError(`GET ${redact(url)}: the answer is larger than ${max} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  }

  /** A stream of the body; 2xx only. The caller must consume or destroy it. */
  async getStream(url: string, opts: GetOptions = {}): Promise<Readable> {
    const res = await this.get(url, opts);
    if (res.statusCode < 200 || res.statusCode >= 300) {
      const text = (await res.body.text().catch(() => '')).trim().split('\n')[0]?.slice(0, 200) ?? '';
      throw new HttpError(`GET ${redact(url)}: HTTP ${res.statusCode}${text ? `: ${text}` : ''}`, res.statusCode);
    }
    return res.body;
  }

  /** The raw answer, any status: for callers that treat 404 as "absent". */
  async get(url: string, opts: GetOptions = {}): Promise<Dispatcher.ResponseData> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new HttpError(`"${redact(url)}" is not a URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new HttpError(`"${redact(url)}": only http and https URLs can be fetched`);
    const headers: Record<string, string> = { 'user-agent': 'oc-mirror-action' };
    if (opts.accept) headers.accept = opts.accept;
    if (parsed.username || parsed.password) {
      headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString('base64')}`;
      parsed.username = '';
      parsed.password = '';
    } else if (opts.authenticate && this.options.credentials) {
      const creds = await this.options.credentials(parsed.host, parsed.pathname.replace(/^\/+|\/+$/g, ''));
      if (creds?.username !== undefined && creds.password !== undefined) {
        headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
      }
    }
    const timeout = this.options.timeoutMs ?? 120_000;
    try {
      return await request(parsed, {
        method: 'GET',
        headers,
        dispatcher: this.agent(parsed.host),
        headersTimeout: timeout,
        bodyTimeout: timeout,
        ...(opts.signal && { signal: opts.signal }),
      });
    } catch (err) {
      throw new HttpError(`GET ${redact(url)}: ${errorMessage(err)}`);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.agents.values()].map((a) => a.close()));
  }

  private agent(host: string): Dispatcher {
    let agent = this.agents.get(host);
    if (!agent) {
      const ca = extraCertificates(host, this.options.certDir);
      const tls = { rejectUnauthorized: this.options.tlsVerify, ...(ca && { ca }) };
      const usesProxy = ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy'].some((k) => process.env[k]);
      const base: Dispatcher = usesProxy ? new EnvHttpProxyAgent({ connect: tls, requestTls: tls }) : new Agent({ connect: tls });
      agent = base.compose(interceptors.redirect({ maxRedirections: 5 }));
      this.agents.set(host, agent);
    }
    return agent;
  }
}

/** A URL fit for messages: userinfo and query values removed (tokens hide there). */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    for (const k of [...u.searchParams.keys()]) if (/token|key|sig|secret|password/i.test(k)) u.searchParams.set(k, 'REDACTED');
    return u.toString();
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//');
  }
}
