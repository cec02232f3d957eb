/**
 * Twirp over JSON, server side: `POST /twirp/<package.Service>/<Method>` with a proto3-JSON body,
 * answered with proto3 JSON (proto field names, int64 as strings) or a Twirp error
 * `{"code": "...", "msg": "..."}` whose HTTP status follows the Twirp spec. The toolkit clients
 * read `msg` from error bodies and branch on the HTTP status, so both must be right.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readRuntimeToken, type RuntimeClaims } from './actions-token.js';

const TWIRP_STATUS = {
  invalid_argument: 400,
  malformed: 400,
  unauthenticated: 401,
  permission_denied: 403,
  not_found: 404,
  bad_route: 404,
  already_exists: 409,
  failed_precondition: 412,
  resource_exhausted: 429,
  internal: 500,
} as const;

export type TwirpCode = keyof typeof TWIRP_STATUS;

export class TwirpError extends Error {
  constructor(
    readonly code: TwirpCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export type TwirpBody = Record<string, unknown>;
export type TwirpMethod = (body: TwirpBody, caller: RuntimeClaims) => Promise<object> | object;
/** Methods of one service, by method name. */
export type TwirpService = Record<string, TwirpMethod>;

/** Called before a method runs; throwing a TwirpError answers with it (fault injection). */
export type TwirpGate = (service: string, method: string) => void;

const MAX_BODY = 1024 * 1024;

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, err: TwirpError): void {
  sendJson(res, TWIRP_STATUS[err.code], { code: err.code, msg: err.message }, err.headers);
}

async function readJson(req: IncomingMessage): Promise<TwirpBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new TwirpError('malformed', 'request body too large');
    chunks.push(chunk);
  }
  try {
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    return parsed as TwirpBody;
  } catch {
    throw new TwirpError('malformed', 'the json request could not be decoded');
  }
}

/** Handles a request whose path starts with `/twirp/`. */
export async function serveTwirp(
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
  services: ReadonlyMap<string, TwirpService>,
  gate: TwirpGate,
): Promise<void> {
  try {
    const route = /^\/twirp\/([^/]+)\/([^/]+)$/.exec(pathname);
    const service = route ? services.get(route[1]!) : undefined;
    const method = route && service && Object.hasOwn(service, route[2]!) ? service[route[2]!] : undefined;
    if (req.method !== 'POST' || !method) {
      req.resume();
      throw new TwirpError('bad_route', `no handler for path "${pathname}"`);
    }
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
      req.resume();
      throw new TwirpError('bad_route', 'this test service speaks only the JSON encoding');
    }
    const body = await readJson(req);
    const caller = readRuntimeToken(req.headers.authorization);
    if (!caller) throw new TwirpError('unauthenticated', 'missing or invalid runtime token');
    gate(route![1]!, route![2]!);
    sendJson(res, 200, await method(body, caller));
  } catch (err) {
    sendError(res, err instanceof TwirpError ? err : new TwirpError('internal', String(err)));
  }
}

// proto3 JSON readers: the clients send proto field names and omit default values.

export function stringField(body: TwirpBody, name: string): string {
  const v = body[name];
  return typeof v === 'string' ? v : '';
}

export function stringList(body: TwirpBody, name: string): string[] {
  const v = body[name];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** int64 and wrapper values arrive as strings (int64) or numbers; absent means unset. */
export function optionalNumber(body: TwirpBody, name: string): number | undefined {
  const v = body[name];
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  return undefined;
}

/** google.protobuf.StringValue is a bare string in JSON. */
export function optionalString(body: TwirpBody, name: string): string | undefined {
  const v = body[name];
  return typeof v === 'string' ? v : undefined;
}
