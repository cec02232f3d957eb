/**
 * The Cincinnati client (ref §8.1): one GET per channel and architecture, answers saved raw under
 * working-dir so disk to mirror and delete compute the same selection without a network.
 */
import type { MetadataFiles } from '../collect/types.js';
import type { ChannelType } from '../config/types.js';
import { errorMessage, OcMirrorError } from '../errors.js';
import { HttpError, redact, type HttpClient } from '../http/client.js';
import type { CincinnatiArchitecture } from './architectures.js';
import { GraphFormatError, parseGraph, type Graph } from './graph.js';

export const OCP_GRAPH_URL = 'https://api.openshift.com/api/upgrades_info/v1/graph';
export const OKD_GRAPH_URL = 'https://origin-release.ci.openshift.org/graph';
/** under working-dir */
export const GRAPH_DATA_DIR = 'hold-release/cincinnati-graph-data';

/** Channel graphs are a few MB; anything far larger is not a channel graph. */
const MAX_GRAPH_BYTES = 256 * 1024 * 1024;

/**
 * `UPDATE_URL_OVERRIDE` replaces the OCP endpoint (an OpenShift Update Service inside the enclave);
 * OKD has its own endpoint, which oc-mirror never overrides.
 */
export function graphEndpoint(type: ChannelType, env: NodeJS.ProcessEnv): string {
  if (type === 'okd') return OKD_GRAPH_URL;
  return env.UPDATE_URL_OVERRIDE || OCP_GRAPH_URL;
}

/**
 * The query oc-mirror sends: `id` (a random UUID per run, Cincinnati's client id), `channel`,
 * `arch`. Parameters already in the endpoint URL are kept. oc-mirror also sends `version` when it
 * computes a path from a given version; the graph served does not depend on it, so we never do.
 */
export function graphQueryUrl(endpoint: string, query: { id?: string; channel: string; arch: string }): string {
  const url = new URL(endpoint);
  if (query.id) url.searchParams.set('id', query.id);
  url.searchParams.set('channel', query.channel);
  url.searchParams.set('arch', query.arch);
  return url.toString();
}

/** oc-mirror's file name for a saved answer (ref §3.1). */
export function graphMetadataPath(arch: string, channel: string): string {
  return `${GRAPH_DATA_DIR}/${arch}-${channel}.json`;
}

/** One Cincinnati answer, as saved under working-dir and parsed. */
export interface ChannelGraph {
  channel: string;
  type: ChannelType;
  architecture: CincinnatiArchitecture;
  /** the URL queried (mirrorTo*) or that would have been (diskToMirror, delete), without the run's id */
  url: string;
  /** path under working-dir, `hold-release/cincinnati-graph-data/<arch>-<channel>.json` */
  metadataPath: string;
  graph: Graph;
}

/**
 * - `unknown-channel`: Cincinnati answered 4xx or a graph without releases.
 * - `not-saved`: offline, and no earlier mirror to disk saved this graph.
 * - `failed`: unreachable, 5xx, or an answer that is not a graph.
 * Messages name the channel, the architecture and the URL or file; callers prefix the config field.
 */
export class CincinnatiError extends OcMirrorError {
  override name = 'CincinnatiError';
  constructor(
    message: string,
    readonly reason: 'unknown-channel' | 'not-saved' | 'failed',
  ) {
    super(message);
  }
}

export interface CincinnatiGraphsOptions {
  http: HttpClient;
  metadata: MetadataFiles;
  /** true in diskToMirror and delete: saved graphs only, never the network */
  offline: boolean;
  env: NodeJS.ProcessEnv;
  /** the `id` query parameter */
  clientId: string;
}

/** Loads each (channel, type, architecture) graph once per run: fetched and saved, or read back. */
export class CincinnatiGraphs {
  private readonly cache = new Map<string, Promise<ChannelGraph>>();
  private readonly done: ChannelGraph[] = [];

  constructor(private readonly opts: CincinnatiGraphsOptions) {}

  load(channel: string, type: ChannelType, arch: CincinnatiArchitecture): Promise<ChannelGraph> {
    const key = `${type}\0${arch}\0${channel}`;
    let pending = this.cache.get(key);
    if (!pending) {
      pending = this.fetchOrRead(channel, type, arch).then((g) => {
        this.done.push(g);
        return g;
      });
      this.cache.set(key, pending);
    }
    return pending;
  }

  /** the graphs loaded so far, in load order */
  loaded(): ChannelGraph[] {
    return [...this.done];
  }

  private async fetchOrRead(channel: string, type: ChannelType, arch: CincinnatiArchitecture): Promise<ChannelGraph> {
    const endpoint = graphEndpoint(type, this.opts.env);
    const shownUrl = redact(graphQueryUrl(endpoint, { channel, arch }));
    const metadataPath = graphMetadataPath(arch, channel);
    const what = `channel "${channel}" (${arch})`;
    const base = { channel, type, architecture: arch, url: shownUrl, metadataPath };

    if (this.opts.offline) {
      const saved = await this.opts.metadata.read(metadataPath);
      if (!saved) {
        throw new CincinnatiError(
          `no saved Cincinnati graph for ${what}: working-dir/${metadataPath} is neither in the archives nor in the workspace (run mirror to disk with this configuration first)`,
          'not-saved',
        );
      }
      const graph = this.parse(saved, `the saved Cincinnati graph of ${what} (working-dir/${metadataPath})`);
      if (graph.nodes.length === 0) throw new CincinnatiError(`the saved Cincinnati graph of ${what} (working-dir/${metadataPath}) has no releases`, 'unknown-channel');
      return { ...base, graph };
    }

    const url = graphQueryUrl(endpoint, { id: this.opts.clientId, channel, arch });
    let bytes: Buffer;
    try {
      bytes = await this.opts.http.getBytes(url, { accept: 'application/json', maxBytes: MAX_GRAPH_BYTES });
    } catch (err) {
      const reason = errorMessage(err).replace(`GET ${redact(url)}: `, '');
      if (err instanceof HttpError && err.status !== undefined && err.status >= 400 && err.status < 500) {
        throw new CincinnatiError(`Cincinnati does not know ${what}: ${shownUrl} answered ${reason}`, 'unknown-channel');
      }
      throw new CincinnatiError(`cannot fetch the Cincinnati graph of ${what} from ${shownUrl}: ${reason}`, 'failed');
    }
    const graph = this.parse(bytes, `the Cincinnati graph of ${what} from ${shownUrl}`);
    if (graph.nodes.length === 0) {
      throw new CincinnatiError(`Cincinnati has no releases in ${what} at ${shownUrl}: check the channel name and architecture`, 'unknown-channel');
    }
    // Saved as received: disk to mirror re-reads the very bytes Cincinnati answered.
    await this.opts.metadata.write(metadataPath, bytes);
    return { ...base, graph };
  }

  private parse(bytes: Buffer, what: string): Graph {
    try {
      return parseGraph(bytes);
    } catch (err) {
      if (err instanceof GraphFormatError) throw new CincinnatiError(`${what} is not a valid graph: ${err.message}`, 'failed');
      throw err;
    }
  }
}
