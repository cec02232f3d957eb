/**
 * A Cincinnati graph server on loopback, for tests of release selection and release mirroring.
 *
 *   const cin = await startCincinnatiServer({
 *     channels: {
 *       'stable-4.18': { amd64: [{ version: '4.18.1', payload: 'reg/ocp-release@sha256:…' }, …], arm64: […] },
 *       'stable-4.19': { amd64: […] },
 *     },
 *     edges: [['4.18.1', '4.18.2'], ['4.18.2', '4.19.0']],
 *   }, t);
 *   env.UPDATE_URL_OVERRIDE = cin.url;   // http://127.0.0.1:<port>/api/upgrades_info/v1/graph
 *   … cin.requests                       // every request: query parameters and Accept header
 *
 * Protocol, as api.openshift.com answers it: `GET <path>?channel=C&arch=A[&id=…]` with
 * `Accept: application/json` → `{"nodes":[{version,payload,metadata}],"edges":[[from,to]]}`.
 * - nodes: the releases of channel C for architecture A (arch defaults to amd64), in the order
 *   given; each node's metadata carries `io.openshift.upgrades.graph.release.channels` (every
 *   channel listing that version for A, comma-separated) like the real service.
 * - edges: the `edges` pairs (by version) whose two ends are both nodes of this answer.
 * - an unknown channel or architecture: 200 with an empty graph (what Cincinnati does);
 *   no `channel` parameter: 400; an Accept header without application/json: 406; another path: 404.
 * `override(request)` can answer instead (status + body), e.g. bad JSON or a 500, for one channel.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Hookable } from './cleanup.js';
import { LOOPBACK } from './ports.js';

export const CINCINNATI_PATH = '/api/upgrades_info/v1/graph';
export const CHANNELS_METADATA_KEY = 'io.openshift.upgrades.graph.release.channels';

export interface CincinnatiRelease {
  version: string;
  /** pull spec by digest */
  payload: string;
  /** merged into the node's metadata */
  metadata?: Record<string, string>;
}

export interface CincinnatiRequest {
  path: string;
  /** every query parameter (the last value when repeated) */
  query: Record<string, string>;
  accept: string | undefined;
  /** status answered */
  status: number;
}

export interface CincinnatiServerOptions {
  /** channel → architecture → releases */
  channels: Record<string, Record<string, CincinnatiRelease[]>>;
  /** upgrade edges by version, [from, to] */
  edges?: [string, string][];
  /** served path; default the api.openshift.com path */
  path?: string;
  override?: (request: Omit<CincinnatiRequest, 'status'>) => { status: number; body: string | Buffer } | undefined;
}

export interface CincinnatiServer {
  /** the graph endpoint, for UPDATE_URL_OVERRIDE */
  url: string;
  requests: CincinnatiRequest[];
  close(): Promise<void>;
}

export async function startCincinnatiServer(options: CincinnatiServerOptions, t?: Hookable): Promise<CincinnatiServer> {
  const path = options.path ?? CINCINNATI_PATH;
  const requests: CincinnatiRequest[] = [];

  const answer = (req: IncomingMessage): { status: number; body: string | Buffer } => {
    const url = new URL(req.url ?? '/', 'http://cincinnati');
    const query = Object.fromEntries(url.searchParams.entries());
    const accept = req.headers.accept;
    const overridden = options.override?.({ path: url.pathname, query, accept });
    if (overridden) return overridden;
    if (req.method !== 'GET' || url.pathname !== path) return { status: 404, body: 'not found' };
    if (!accept?.includes('application/json')) return { status: 406, body: 'only application/json is served' };
    const channel = query.channel;
    if (!channel) return { status: 400, body: 'mandatory client parameters missing: channel' };
    const arch = query.arch || 'amd64';
    return { status: 200, body: JSON.stringify(graphOf(options, channel, arch)) };
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const { status, body } = answer(req);
    const url = new URL(req.url ?? '/', 'http://cincinnati');
    requests.push({ path: url.pathname, query: Object.fromEntries(url.searchParams.entries()), accept: req.headers.accept, status });
    res.writeHead(status, { 'content-type': status === 200 ? 'application/json' : 'text/plain' });
    res.end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: LOOPBACK, port: 0 }, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('cincinnati server: no TCP address');
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  t?.after(close);
  return { url: `http://${LOOPBACK}:${address.port}${path}`, requests, close };
}

function graphOf(options: CincinnatiServerOptions, channel: string, arch: string) {
  const releases = options.channels[channel]?.[arch] ?? [];
  const index = new Map(releases.map((r, i) => [r.version, i]));
  const nodes = releases.map((r) => ({
    version: r.version,
    payload: r.payload,
    metadata: { [CHANNELS_METADATA_KEY]: channelsListing(options, r.version, arch), ...r.metadata },
  }));
  const edges: [number, number][] = [];
  for (const [from, to] of options.edges ?? []) {
    const a = index.get(from);
    const b = index.get(to);
    if (a !== undefined && b !== undefined) edges.push([a, b]);
  }
  return { nodes, edges };
}

function channelsListing(options: CincinnatiServerOptions, version: string, arch: string): string {
  return Object.entries(options.channels)
    .filter(([, byArch]) => byArch[arch]?.some((r) => r.version === version))
    .map(([name]) => name)
    .sort()
    .join(',');
}
