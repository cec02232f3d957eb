/**
 * The embedded registry: distribution's HTTP API (v2) over a backend, on node:http. Everything
 * streams (blob reads, uploads, commits), so memory stays flat whatever the image sizes.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DigestMismatchError, errorMessage, OcMirrorError } from '../errors.js';
import { isDigest, VerifyingStream } from '../image/digest.js';
import { MediaType, type RawManifest } from '../image/manifest.js';
import type { Logger } from '../log.js';
import { ApiError } from './api-errors.js';
import type { BackendRepository, RegistryBackend, RepositoryWriter } from './backend.js';
import { checkReferences, incomingManifest, MAX_MANIFEST_BYTES } from './manifest-checks.js';
import { paginate } from './pagination.js';
import { parseContentRange, requestedRange } from './ranges.js';
import { checkRepositoryName, isValidRepositoryName, isValidTag, parseRoute, type Route } from './routes.js';
import { UploadSessions, type UploadSession } from './uploads.js';

export interface RegistryServerOptions {
  backend: RegistryBackend;
  /** default 127.0.0.1: the registry has no authentication, so it is not exposed unless asked */
  host?: string;
  /** 0 picks a free port */
  port: number;
  log: Logger;
  /** where the server creates its upload directory (default: the system temp dir) */
  uploadParentDir?: string;
  /** refuse indexes whose children are not in the repository (default false, as oc-mirror's registry) */
  requireIndexChildren?: boolean;
  /** how long close() lets requests in flight finish before cutting them (default 1 s, as oc-mirror) */
  closeGraceMs?: number;
}

export interface RunningRegistry {
  /** http://<host>:<port> */
  url: string;
  host: string;
  port: number;
  /** Stops listening, ends connections, removes the upload directory. Idempotent. */
  close(): Promise<void>;
}

/** The port is taken: oc-mirror's own message. */
export class PortInUseError extends OcMirrorError {
  override name = 'PortInUseError';
  constructor(readonly port: number) {
    super(`${port} is already bound and cannot be used`);
  }
}

export async function startRegistryServer(options: RegistryServerOptions): Promise<RunningRegistry> {
  const host = options.host ?? '127.0.0.1';
  const uploads = await UploadSessions.create(options.uploadParentDir);
  const api = new RegistryApi(options.backend, uploads, options.log, options.requireIndexChildren ?? false);
  // no request timeout: a multi-gigabyte layer upload is one request
  const server = createServer({ requestTimeout: 0 }, (req, res) => void api.handle(req, res));
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  try {
    await listen(server, host, options.port);
  } catch (err) {
    await uploads.close();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = setTimeout(() => {
        for (const s of sockets) s.destroy();
      }, options.closeGraceMs ?? 1000);
      await stopped;
      clearTimeout(grace);
      await uploads.close();
    })();
    return closing;
  };
  return { url: `http://${urlHost}:${port}`, host, port, close };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (err.code === 'EADDRINUSE') reject(new PortInUseError(port));
      else reject(new OcMirrorError(`cannot listen on ${host}:${port}: ${err.message}`));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host, port, exclusive: true });
  });
}

// ---------------------------------------------------------------------------------------------

const OCTET_STREAM = 'application/octet-stream';

interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  query: URLSearchParams;
}

class RegistryApi {
  constructor(
    private readonly backend: RegistryBackend,
    private readonly uploads: UploadSessions,
    private readonly log: Logger,
    private readonly requireIndexChildren: boolean,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.once('finish', () => this.log.debug(`registry: ${req.method} ${req.url} ${res.statusCode}`));
    try {
      const url = new URL(req.url ?? '/', 'http://registry.invalid');
      const route = parseRoute(url.pathname);
      if (!route) throw new ApiError('NOT_FOUND', { path: url.pathname });
      await this.dispatch(route, { req, res, method: req.method ?? 'GET', query: url.searchParams });
    } catch (err) {
      this.fail(req, res, err);
    }
  }

  private fail(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    if (res.destroyed || !res.socket || res.socket.destroyed) {
      // the client went away (or the server is closing): nobody is left to answer
      this.log.debug(`registry: ${req.method} ${req.url}: connection closed: ${errorMessage(err)}`);
      return;
    }
    let apiError: ApiError;
    if (err instanceof ApiError) {
      apiError = err;
    } else {
      apiError = new ApiError('UNKNOWN', errorMessage(err));
      this.log.error(`registry: ${req.method} ${req.url}: ${errorMessage(err)}`);
    }
    if (res.headersSent) {
      // the status line is gone: cutting the connection is the only way to tell the client
      res.destroy();
      return;
    }
    // an unread request body would otherwise be read and thrown away before the next request
    if (!req.complete) res.setHeader('Connection', 'close');
    const body = apiError.body();
    res.writeHead(apiError.status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }

  private async dispatch(route: Route, x: Exchange): Promise<void> {
    const m = x.method;
    switch (route.kind) {
      case 'base':
        if (m !== 'GET' && m !== 'HEAD') break;
        return sendJson(x.res, 200, {});
      case 'catalog':
        if (m !== 'GET') break;
        return this.catalog(x);
      case 'tags':
        if (m !== 'GET') break;
        return this.tags(route.name, x);
      case 'manifest':
        checkRepositoryName(route.name);
        if (m === 'GET' || m === 'HEAD') return this.getManifest(route.name, route.reference, x);
        if (m === 'PUT') return this.putManifest(route.name, route.reference, x);
        if (m === 'DELETE') return this.deleteManifest(route.name, route.reference, x);
        break;
      case 'blob':
        checkRepositoryName(route.name);
        if (m === 'GET' || m === 'HEAD') return this.getBlob(route.name, route.digest, x);
        if (m === 'DELETE') return this.deleteBlob(route.name, route.digest, x);
        break;
      case 'uploads':
        checkRepositoryName(route.name);
        if (m === 'POST') return this.startUpload(route.name, x);
        break;
      case 'upload':
        checkRepositoryName(route.name);
        if (m === 'GET') return this.uploadStatus(route.name, route.id, x);
        if (m === 'PATCH') return this.patchUpload(route.name, route.id, x);
        if (m === 'PUT') return this.finishUpload(route.name, route.id, x);
        if (m === 'DELETE') return this.cancelUpload(route.name, route.id, x);
        break;
    }
    throw new ApiError('UNSUPPORTED', `${m} is not allowed on this endpoint`);
  }

  private writerOf(repo: BackendRepository): RepositoryWriter {
    if (!repo.writer) throw new ApiError('UNSUPPORTED', `${this.backend.description} is served read-only`);
    return repo.writer;
  }

  // --- listings ------------------------------------------------------------------------------

  private async catalog(x: Exchange): Promise<void> {
    const page = paginate(await this.backend.listRepositories(), x.query, '/v2/_catalog');
    if (page.link) x.res.setHeader('Link', page.link);
    sendJson(x.res, 200, { repositories: page.entries });
  }

  private async tags(name: string, x: Exchange): Promise<void> {
    checkRepositoryName(name);
    const tags = await this.backend.listTags(name);
    if (tags === undefined) throw new ApiError('NAME_UNKNOWN', { name });
    const page = paginate(tags, x.query, `/v2/${name}/tags/list`);
    if (page.link) x.res.setHeader('Link', page.link);
    sendJson(x.res, 200, { name, tags: page.entries });
  }

  // --- manifests -----------------------------------------------------------------------------

  private async getManifest(name: string, reference: string, x: Exchange): Promise<void> {
    if (!isDigest(reference) && !isValidTag(reference)) throw new ApiError('MANIFEST_UNKNOWN', { name, reference });
    const repo = this.backend.repository(name);
    const stored = await repo.getManifest(reference);
    if (!stored) throw new ApiError('MANIFEST_UNKNOWN', { name, reference });
    const manifest = await negotiate(stored, acceptedTypes(x.req), !isDigest(reference), repo);
    x.res.writeHead(200, {
      'Content-Type': manifest.mediaType,
      'Content-Length': manifest.bytes.length,
      'Docker-Content-Digest': manifest.digest,
      ETag: `"${manifest.digest}"`,
    });
    x.res.end(x.method === 'HEAD' ? undefined : manifest.bytes);
  }

  private async putManifest(name: string, reference: string, x: Exchange): Promise<void> {
    const repo = this.backend.repository(name);
    const writer = this.writerOf(repo);
    if (!isDigest(reference) && !isValidTag(reference)) throw new ApiError('TAG_INVALID', { tag: reference });
    const bytes = await readLimited(x.req, MAX_MANIFEST_BYTES);
    const manifest = incomingManifest(bytes, x.req.headers['content-type'], reference);
    await checkReferences(manifest, repo, { requireIndexChildren: this.requireIndexChildren });
    await writer.putManifest(manifest, reference);
    sendEmpty(x.res, 201, {
      Location: `/v2/${name}/manifests/${manifest.digest}`,
      'Docker-Content-Digest': manifest.digest,
    });
  }

  private async deleteManifest(name: string, reference: string, x: Exchange): Promise<void> {
    const writer = this.writerOf(this.backend.repository(name));
    // distribution 2.x deletes manifests, not tags; skopeo delete resolves the tag first
    if (!isDigest(reference)) throw new ApiError('UNSUPPORTED', 'delete a manifest by digest, not by tag');
    if (!(await writer.deleteManifest(reference))) throw new ApiError('MANIFEST_UNKNOWN', { name, reference });
    sendEmpty(x.res, 202);
  }

  // --- blobs ---------------------------------------------------------------------------------

  private async getBlob(name: string, digest: string, x: Exchange): Promise<void> {
    if (!isDigest(digest)) throw new ApiError('DIGEST_INVALID', { digest });
    const repo = this.backend.repository(name);
    const size = await repo.blobSize(digest);
    if (size === undefined) throw new ApiError('BLOB_UNKNOWN', { digest });
    const headers: Record<string, string | number> = {
      'Content-Type': OCTET_STREAM,
      'Docker-Content-Digest': digest,
      'Accept-Ranges': 'bytes',
      ETag: `"${digest}"`,
      'Cache-Control': 'max-age=31536000',
    };
    if (x.method === 'HEAD') {
      x.res.writeHead(200, { ...headers, 'Content-Length': size });
      x.res.end();
      return;
    }
    const range = requestedRange(x.req.headers.range, size);
    if (range === 'unsatisfiable') {
      x.res.setHeader('Content-Range', `bytes */${size}`);
      throw new ApiError('RANGE_INVALID', { size });
    }
    const body = await repo.openBlob(digest, range);
    if (!body) throw new ApiError('BLOB_UNKNOWN', { digest });
    if (range) {
      x.res.writeHead(206, { ...headers, 'Content-Length': range.end - range.start + 1, 'Content-Range': `bytes ${range.start}-${range.end}/${size}` });
    } else {
      x.res.writeHead(200, { ...headers, 'Content-Length': size });
    }
    try {
      await pipeline(body, x.res);
    } catch (err) {
      // a client that goes away mid-blob is routine (it resumes with a Range request)
      if (!x.res.destroyed && !x.req.destroyed) this.log.warn(`registry: sending blob ${digest} of ${name}: ${errorMessage(err)}`);
      x.res.destroy();
    }
  }

  private async deleteBlob(name: string, digest: string, x: Exchange): Promise<void> {
    const writer = this.writerOf(this.backend.repository(name));
    if (!isDigest(digest)) throw new ApiError('DIGEST_INVALID', { digest });
    if (!writer.deleteBlob) throw new ApiError('UNSUPPORTED', 'this store does not delete blobs');
    if (!(await writer.deleteBlob(digest))) throw new ApiError('BLOB_UNKNOWN', { digest });
    sendEmpty(x.res, 202);
  }

  // --- uploads -------------------------------------------------------------------------------

  private async startUpload(name: string, x: Exchange): Promise<void> {
    const repo = this.backend.repository(name);
    const writer = this.writerOf(repo);
    const mount = x.query.get('mount');
    const from = x.query.get('from');
    if (mount !== null && from !== null && (await this.tryMount(writer, mount, from))) {
      sendEmpty(x.res, 201, { Location: `/v2/${name}/blobs/${mount}`, 'Docker-Content-Digest': mount });
      return;
    }
    const digest = x.query.get('digest');
    if (digest !== null && !isDigest(digest)) throw new ApiError('DIGEST_INVALID', { digest });
    const session = await this.uploads.start(name);
    if (digest !== null) {
      // monolithic upload: the whole blob is the body of this POST
      await this.uploads.exclusive(session, async () => {
        await this.uploads.append(session, x.req);
        await this.commit(session, writer, digest);
      });
      sendEmpty(x.res, 201, { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest });
      return;
    }
    sendEmpty(x.res, 202, uploadHeaders(session));
  }

  /** Cross-repository mount; false (and a normal upload follows) when `from` lacks the blob. */
  private async tryMount(writer: RepositoryWriter, digest: string, from: string): Promise<boolean> {
    if (!isDigest(digest)) throw new ApiError('DIGEST_INVALID', { digest });
    if (!isValidRepositoryName(from)) return false;
    const size = await this.backend.repository(from).blobSize(digest);
    if (size === undefined) return false;
    return writer.mountBlob({ mediaType: OCTET_STREAM, digest, size }, from);
  }

  private uploadOf(name: string, id: string): UploadSession {
    return this.uploads.get(id, name);
  }

  private async uploadStatus(name: string, id: string, x: Exchange): Promise<void> {
    sendEmpty(x.res, 204, uploadHeaders(this.uploadOf(name, id)));
  }

  private async patchUpload(name: string, id: string, x: Exchange): Promise<void> {
    const session = this.uploadOf(name, id);
    await this.uploads.exclusive(session, async () => {
      const contentRange = x.req.headers['content-range'];
      if (contentRange !== undefined) {
        const range = parseContentRange(contentRange);
        // a chunk must continue exactly where the upload stands
        if (!range || range.start > range.end || range.start !== session.size) {
          x.res.setHeader('Range', rangeValue(session.size));
          throw new ApiError('RANGE_INVALID', { expectedStart: session.size, contentRange });
        }
        const length = x.req.headers['content-length'];
        if (length !== undefined && Number(length) !== range.end - range.start + 1) {
          throw new ApiError('SIZE_INVALID', { contentRange, contentLength: length });
        }
      }
      await this.uploads.append(session, x.req);
    });
    sendEmpty(x.res, 202, uploadHeaders(session));
  }

  private async finishUpload(name: string, id: string, x: Exchange): Promise<void> {
    const session = this.uploadOf(name, id);
    const writer = this.writerOf(this.backend.repository(name));
    const digest = x.query.get('digest');
    if (digest === null || !isDigest(digest)) throw new ApiError('DIGEST_INVALID', { digest });
    await this.uploads.exclusive(session, async () => {
      await this.uploads.append(session, x.req);
      await this.commit(session, writer, digest);
    });
    sendEmpty(x.res, 201, { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest });
  }

  /**
   * Hands the upload to the backend through a verifier: the backend never receives the last bytes
   * of content that does not match its digest. The upload ends here either way, as in distribution.
   */
  private async commit(session: UploadSession, writer: RepositoryWriter, digest: string): Promise<void> {
    const verifier = new VerifyingStream(digest, session.size, `upload ${session.id} to ${session.repository}`);
    let mismatch: DigestMismatchError | undefined;
    verifier.on('error', (err) => {
      if (err instanceof DigestMismatchError) mismatch = err;
    });
    const content: Readable = this.uploads.content(session);
    content.on('error', (err) => verifier.destroy(err));
    try {
      await writer.putBlob({ mediaType: OCTET_STREAM, digest, size: session.size }, content.pipe(verifier));
    } catch (err) {
      if (mismatch) throw new ApiError('DIGEST_INVALID', { digest, reason: mismatch.message });
      throw err;
    } finally {
      content.destroy();
      await this.uploads.discard(session);
    }
    if (mismatch) throw new ApiError('DIGEST_INVALID', { digest, reason: mismatch.message });
  }

  private async cancelUpload(name: string, id: string, x: Exchange): Promise<void> {
    const session = this.uploadOf(name, id);
    if (session.busy) throw new ApiError('BLOB_UPLOAD_INVALID', 'the upload is being written');
    await this.uploads.discard(session);
    sendEmpty(x.res, 204);
  }
}

// ---------------------------------------------------------------------------------------------

/** distribution's Range header for an upload: `0-<last byte>`, and `0-0` when empty. */
function rangeValue(size: number): string {
  return `0-${Math.max(size - 1, 0)}`;
}

function uploadHeaders(session: UploadSession): Record<string, string> {
  return {
    Location: `/v2/${session.repository}/blobs/uploads/${session.id}`,
    'Docker-Upload-UUID': session.id,
    Range: rangeValue(session.size),
  };
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, 'Content-Length': 0 });
  res.end();
}

/** A request body of at most `limit` bytes (manifests); more is MANIFEST_INVALID. */
async function readLimited(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new ApiError('MANIFEST_INVALID', `the manifest is larger than ${limit} bytes`);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > limit) throw new ApiError('MANIFEST_INVALID', `the manifest is larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function acceptedTypes(req: IncomingMessage): string[] {
  const raw = req.headers.accept;
  return (raw ?? '')
    .split(',')
    .map((t) => t.split(';')[0]!.trim().toLowerCase())
    .filter((t) => t !== '');
}

/**
 * distribution's content negotiation, loosely: by digest, or when the client names no types or
 * accepts anything, the manifest is served as stored. By tag, a client that lists types but not
 * OCI ones gets MANIFEST_UNKNOWN for an OCI manifest, and a client that does not list Docker
 * manifest lists gets the list's linux/amd64 image, as distribution answers old Docker clients.
 */
async function negotiate(manifest: RawManifest, accepted: string[], byTag: boolean, repo: BackendRepository): Promise<RawManifest> {
  if (!byTag || accepted.length === 0 || accepted.includes('*/*') || accepted.includes(manifest.mediaType)) return manifest;
  if (manifest.mediaType === MediaType.OciManifest || manifest.mediaType === MediaType.OciIndex) {
    throw new ApiError('MANIFEST_UNKNOWN', 'OCI manifest found, but accept header does not support OCI manifests');
  }
  if (manifest.mediaType === MediaType.DockerManifestList) {
    const list = JSON.parse(manifest.bytes.toString('utf8')) as { manifests?: Array<{ digest: string; platform?: { os?: string; architecture?: string } }> };
    const amd64 = list.manifests?.find((d) => d.platform?.os === 'linux' && d.platform.architecture === 'amd64');
    const child = amd64 && (await repo.getManifest(amd64.digest));
    if (!child) throw new ApiError('MANIFEST_UNKNOWN', 'linux/amd64 manifest not found in the manifest list');
    return child;
  }
  return manifest;
}
