/**
 * The slice of Azure Blob Storage that the toolkit clients touch through signed (SAS-like) URLs:
 * what @azure/storage-blob's BlockBlobClient sends for uploadFile / uploadStream, and the plain
 * GET the clients use to download.
 *
 *   PUT  <blob>                          single-shot upload (x-ms-blob-type: BlockBlob)
 *   PUT  <blob>?comp=block&blockid=<b64>  stage one block
 *   PUT  <blob>?comp=blocklist            commit: XML <BlockList><Latest>id</Latest>…</BlockList>
 *   GET/HEAD <blob>                       download, single Range supported
 *
 * URLs are path-style (`/<account>/<container>/<blob>`) because the SDK parses an IP host that way.
 * Bodies are streamed to disk, never buffered. Writes are refused unless the owning service opened
 * the blob for writing (a reservation), so an entry cannot change after it is finalized.
 */
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

export const BLOB_ACCOUNT = 'devstoreaccount1';
/** A block list is ids only (≤ 50,000 of ≤ 64 bytes each), so it is read into memory. */
const MAX_BLOCK_LIST_XML = 8 * 1024 * 1024;

export interface BlobInfo {
  size: number;
  contentType: string | undefined;
  etag: string;
  lastModified: Date;
}

/** Response headers a signed read URL pins, like a SAS's rscd / rsct. */
export interface SignedReadHeaders {
  contentDisposition?: string;
  contentType?: string;
}

export interface BlobStoreHooks {
  /** status to fail this upload request with, if a fault is armed */
  uploadFailure(): number | undefined;
  downloadFailure(): number | undefined;
}

function blobKey(container: string, blob: string): string {
  return `${container}/${blob}`;
}

function fileId(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function xmlUnescape(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

function sendStorageError(res: ServerResponse, status: number, code: string, message: string): void {
  const body = `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  res.writeHead(status, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(body),
    'x-ms-error-code': code,
    'x-ms-request-id': randomUUID(),
  });
  res.end(body);
}

/** Reads and discards a request body so an early error answer does not reset the connection. */
async function drain(req: IncomingMessage): Promise<void> {
  if (req.readableEnded) return;
  req.resume();
  await new Promise<void>((resolve) => {
    req.once('end', resolve);
    req.once('close', resolve);
  });
}

async function readSmallBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export class BlobStore {
  private readonly blobs = new Map<string, BlobInfo>();
  private readonly writable = new Set<string>();
  private readonly secret = Buffer.from(randomUUID());

  constructor(
    private readonly root: string,
    private readonly hooks: BlobStoreHooks,
  ) {}

  async init(): Promise<void> {
    await Promise.all(['blobs', 'staging', 'tmp'].map((d) => mkdir(join(this.root, d), { recursive: true })));
  }

  /** Opens a blob for writing until sealWrites; the service's reservation. */
  allowWrites(container: string, blob: string): void {
    this.writable.add(blobKey(container, blob));
  }

  sealWrites(container: string, blob: string): void {
    this.writable.delete(blobKey(container, blob));
  }

  info(container: string, blob: string): BlobInfo | undefined {
    return this.blobs.get(blobKey(container, blob));
  }

  /** Where a committed blob's bytes live (for inspection by tests). */
  filePath(container: string, blob: string): string {
    return join(this.root, 'blobs', fileId(blobKey(container, blob)));
  }

  async remove(container: string, blob: string): Promise<void> {
    const key = blobKey(container, blob);
    this.blobs.delete(key);
    this.writable.delete(key);
    await rm(this.filePath(container, blob), { force: true });
    await rm(this.stagingDir(key), { recursive: true, force: true });
  }

  /**
   * A URL the SDK or a plain GET can use. `permissions` follows SAS `sp`: 'r' to read, 'cw' to
   * create and write. The signature binds the path, permissions, expiry and pinned headers.
   */
  signedUrl(
    origin: string,
    container: string,
    blob: string,
    permissions: 'r' | 'cw',
    lifetimeMs = 6 * 3600_000,
    headers: SignedReadHeaders = {},
  ): string {
    const pathname = `/${BLOB_ACCOUNT}/${encodeURIComponent(container)}/${blob.split('/').map(encodeURIComponent).join('/')}`;
    const url = new URL(pathname, origin);
    url.searchParams.set('sv', '2025-01-05');
    url.searchParams.set('sr', 'b');
    url.searchParams.set('sp', permissions);
    url.searchParams.set('se', new Date(Date.now() + lifetimeMs).toISOString());
    if (headers.contentDisposition) url.searchParams.set('rscd', headers.contentDisposition);
    if (headers.contentType) url.searchParams.set('rsct', headers.contentType);
    url.searchParams.set('sig', this.signature(url));
    return url.href;
  }

  private signature(url: URL): string {
    const p = url.searchParams;
    const signed = [url.pathname, p.get('sp'), p.get('se'), p.get('rscd') ?? '', p.get('rsct') ?? ''].join('\n');
    return createHmac('sha256', this.secret).update(signed).digest('base64');
  }

  private signatureValid(url: URL): boolean {
    const given = Buffer.from(url.searchParams.get('sig') ?? '');
    const expected = Buffer.from(this.signature(url));
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private stagingDir(key: string): string {
    return join(this.root, 'staging', fileId(key));
  }

  private tmpPath(): string {
    return join(this.root, 'tmp', randomUUID());
  }

  /** Handles a request whose path starts with `/<account>/`. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const match = /^\/[^/]+\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (!match) {
      await drain(req);
      return sendStorageError(res, 400, 'InvalidUri', 'The requested URI does not represent any resource on the server.');
    }
    const container = decodeURIComponent(match[1]!);
    const blob = match[2]!.split('/').map(decodeURIComponent).join('/');
    const key = blobKey(container, blob);
    const permissions = url.searchParams.get('sp') ?? '';
    const expiry = Date.parse(url.searchParams.get('se') ?? '');
    if (!this.signatureValid(url) || !(expiry > Date.now())) {
      await drain(req);
      return sendStorageError(res, 403, 'AuthenticationFailed', 'Server failed to authenticate the request.');
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (!permissions.includes('r')) {
        return sendStorageError(res, 403, 'AuthorizationPermissionMismatch', 'This request is not authorized to perform this operation using this permission.');
      }
      return this.read(req, res, container, blob, url);
    }
    if (req.method !== 'PUT') {
      await drain(req);
      return sendStorageError(res, 405, 'UnsupportedHttpVerb', 'The resource doesn\'t support the specified HTTP verb.');
    }
    if (!permissions.includes('w') || !this.writable.has(key)) {
      await drain(req);
      return sendStorageError(res, 403, 'AuthorizationPermissionMismatch', 'This request is not authorized to perform this operation using this permission.');
    }
    const injected = this.hooks.uploadFailure();
    if (injected !== undefined) {
      await drain(req);
      return sendStorageError(res, injected, injected >= 500 ? 'InternalError' : 'AuthorizationFailure', 'Injected upload failure.');
    }
    switch (url.searchParams.get('comp')) {
      case null:
        return this.putWhole(req, res, key);
      case 'block':
        return this.putBlock(req, res, key, url.searchParams.get('blockid'));
      case 'blocklist':
        return this.putBlockList(req, res, key);
      default:
        await drain(req);
        return sendStorageError(res, 400, 'InvalidQueryParameterValue', 'Value for one of the query parameters specified in the request URI is invalid.');
    }
  }

  private sendCreated(res: ServerResponse, info?: BlobInfo): void {
    res.writeHead(201, {
      'content-length': 0,
      'x-ms-request-id': randomUUID(),
      'x-ms-version': '2025-01-05',
      'x-ms-request-server-encrypted': 'true',
      ...(info ? { etag: info.etag, 'last-modified': info.lastModified.toUTCString() } : {}),
    });
    res.end();
  }

  /** Streams the body to a temp file; undefined when the client went away or sent less than it said. */
  private async receive(req: IncomingMessage): Promise<string | undefined> {
    const tmp = this.tmpPath();
    try {
      await pipeline(req, createWriteStream(tmp));
      const declared = req.headers['content-length'];
      if (declared !== undefined && Number(declared) !== (await stat(tmp)).size) throw new Error('short body');
      return tmp;
    } catch {
      await rm(tmp, { force: true });
      return undefined;
    }
  }

  private async commit(key: string, tmp: string, contentType: string | undefined): Promise<BlobInfo> {
    const final = join(this.root, 'blobs', fileId(key));
    await rename(tmp, final);
    const info: BlobInfo = {
      size: (await stat(final)).size,
      contentType,
      etag: `"0x${randomUUID().replace(/-/g, '').slice(0, 15).toUpperCase()}"`,
      lastModified: new Date(),
    };
    this.blobs.set(key, info);
    return info;
  }

  private async putWhole(req: IncomingMessage, res: ServerResponse, key: string): Promise<void> {
    if (req.headers['x-ms-blob-type'] !== 'BlockBlob') {
      await drain(req);
      return sendStorageError(res, 400, 'MissingRequiredHeader', 'An HTTP header that\'s mandatory for this request is not specified: x-ms-blob-type.');
    }
    const tmp = await this.receive(req);
    if (!tmp) return sendStorageError(res, 400, 'InvalidInput', 'The request body is incomplete.');
    const info = await this.commit(key, tmp, req.headers['x-ms-blob-content-type'] as string | undefined);
    await rm(this.stagingDir(key), { recursive: true, force: true });
    this.sendCreated(res, info);
  }

  private async putBlock(req: IncomingMessage, res: ServerResponse, key: string, blockId: string | null): Promise<void> {
    // Azure: block ids are base64 of at most 64 bytes.
    if (!blockId || Buffer.from(blockId, 'base64').length > 64) {
      await drain(req);
      return sendStorageError(res, 400, 'InvalidQueryParameterValue', 'Value for one of the query parameters specified in the request URI is invalid.');
    }
    const tmp = await this.receive(req);
    if (!tmp) return sendStorageError(res, 400, 'InvalidInput', 'The request body is incomplete.');
    const dir = this.stagingDir(key);
    await mkdir(dir, { recursive: true });
    await rename(tmp, join(dir, fileId(blockId)));
    this.sendCreated(res);
  }

  private async putBlockList(req: IncomingMessage, res: ServerResponse, key: string): Promise<void> {
    const xml = await readSmallBody(req, MAX_BLOCK_LIST_XML);
    if (!xml) return sendStorageError(res, 413, 'RequestBodyTooLarge', 'The request body is too large.');
    const ids = [...xml.toString('utf8').matchAll(/<(Latest|Committed|Uncommitted)>([^<]*)<\/\1>/g)].map((m) => xmlUnescape(m[2]!));
    const dir = this.stagingDir(key);
    const parts = ids.map((id) => join(dir, fileId(id)));
    for (const part of parts) {
      if (!(await stat(part).catch(() => undefined))) {
        return sendStorageError(res, 400, 'InvalidBlockList', 'The specified block list is invalid.');
      }
    }
    const tmp = this.tmpPath();
    const out = createWriteStream(tmp);
    try {
      for (const part of parts) await pipeline(createReadStream(part), out, { end: false });
      await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    } catch (err) {
      out.destroy();
      await rm(tmp, { force: true });
      throw err;
    }
    const info = await this.commit(key, tmp, req.headers['x-ms-blob-content-type'] as string | undefined);
    await rm(dir, { recursive: true, force: true });
    this.sendCreated(res, info);
  }

  private async read(req: IncomingMessage, res: ServerResponse, container: string, blob: string, url: URL): Promise<void> {
    const info = this.info(container, blob);
    if (!info) return sendStorageError(res, 404, 'BlobNotFound', 'The specified blob does not exist.');
    const injected = this.hooks.downloadFailure();
    if (injected !== undefined) return sendStorageError(res, injected, 'InternalError', 'Injected download failure.');
    let start = 0;
    let end = info.size - 1;
    let status = 200;
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
    if (range && (range[1] || range[2])) {
      if (range[1]) {
        start = Number(range[1]);
        if (range[2]) end = Math.min(Number(range[2]), end);
      } else {
        start = Math.max(0, info.size - Number(range[2]));
      }
      if (start > end) {
        res.writeHead(416, { 'content-range': `bytes */${info.size}` });
        return void res.end();
      }
      status = 206;
    }
    const headers: Record<string, string | number> = {
      'content-length': end - start + 1,
      'content-type': url.searchParams.get('rsct') ?? info.contentType ?? 'application/octet-stream',
      'accept-ranges': 'bytes',
      etag: info.etag,
      'last-modified': info.lastModified.toUTCString(),
      'x-ms-blob-type': 'BlockBlob',
      'x-ms-request-id': randomUUID(),
    };
    const disposition = url.searchParams.get('rscd');
    if (disposition) headers['content-disposition'] = disposition;
    if (status === 206) headers['content-range'] = `bytes ${start}-${end}/${info.size}`;
    res.writeHead(status, headers);
    if (req.method === 'HEAD' || info.size === 0) return void res.end();
    await pipeline(createReadStream(this.filePath(container, blob), { start, end }), res).catch(() => {
      // the client hung up mid-download; nothing to clean
    });
  }
}
