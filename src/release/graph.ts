/**
 * The Cincinnati update graph (nodes are releases, edges are supported upgrades) and the questions
 * release selection asks of it. Pure functions over plain data: no I/O here.
 */
import semver from 'semver';

export interface GraphNode {
  /** strict semver, as Cincinnati spells it (`4.18.3`, `4.19.0-rc.2`) */
  version: string;
  /** pull spec by digest */
  payload: string;
  metadata?: Record<string, unknown>;
}

export interface Graph {
  nodes: GraphNode[];
  /** [from, to] indexes into nodes */
  edges: [number, number][];
}

/** A Cincinnati answer that is not a graph; the reason names the element at fault. */
export class GraphFormatError extends Error {
  override name = 'GraphFormatError';
}

/**
 * Parses a Cincinnati answer: `{"nodes":[{"version","payload","metadata"}],"edges":[[from,to]]}`.
 * Versions must be semantic (oc-mirror refuses the whole graph otherwise) and edges must point at nodes.
 */
export function parseGraph(bytes: Buffer | string): Graph {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString());
  } catch (err) {
    throw new GraphFormatError(`not JSON: ${(err as Error).message}`);
  }
  if (!isObject(doc)) throw new GraphFormatError('not a JSON object');
  const rawNodes = doc.nodes ?? [];
  const rawEdges = doc.edges ?? [];
  if (!Array.isArray(rawNodes)) throw new GraphFormatError('"nodes" is not a list');
  if (!Array.isArray(rawEdges)) throw new GraphFormatError('"edges" is not a list');
  const nodes = rawNodes.map((n: unknown, i): GraphNode => {
    if (!isObject(n)) throw new GraphFormatError(`nodes[${i}] is not an object`);
    const { version, payload, metadata } = n;
    if (typeof version !== 'string' || semver.valid(version) === null) {
      throw new GraphFormatError(`nodes[${i}].version ${JSON.stringify(version)} is not a semantic version`);
    }
    if (typeof payload !== 'string' || payload === '') throw new GraphFormatError(`nodes[${i}].payload is not a pull spec`);
    if (metadata !== undefined && !isObject(metadata)) throw new GraphFormatError(`nodes[${i}].metadata is not an object`);
    return { version, payload, ...(metadata !== undefined && { metadata }) };
  });
  const edges = rawEdges.map((e: unknown, i): [number, number] => {
    const ok =
      Array.isArray(e) && e.length === 2 && e.every((x) => Number.isInteger(x) && (x as number) >= 0 && (x as number) < nodes.length);
    if (!ok) throw new GraphFormatError(`edges[${i}] ${JSON.stringify(e)} is not a pair of node indexes`);
    return [e[0] as number, e[1] as number];
  });
  return { nodes, edges };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Semver order; build metadata is ignored, as in oc-mirror. */
export function compareVersions(a: string, b: string): number {
  return semver.compare(a, b);
}

/** Node indexes, lowest version first (ties by index, so the order is stable). */
export function sortedNodeIndexes(graph: Graph): number[] {
  return graph.nodes.map((_, i) => i).sort((a, b) => compareVersions(graph.nodes[a]!.version, graph.nodes[b]!.version) || a - b);
}

/** The channel's latest release (its head); undefined for an empty graph. */
export function headNode(graph: Graph): number | undefined {
  return sortedNodeIndexes(graph).at(-1);
}

/** The channel's lowest release; undefined for an empty graph. */
export function lowestNode(graph: Graph): number | undefined {
  return sortedNodeIndexes(graph)[0];
}

/** The node of a version (semver equality, build metadata ignored); the first one if listed twice. */
export function findNode(graph: Graph, version: string): number | undefined {
  const i = graph.nodes.findIndex((n) => semver.eq(n.version, version));
  return i < 0 ? undefined : i;
}

/** Every node with min ≤ version ≤ max (either bound optional), lowest first. */
export function nodesInRange(graph: Graph, min?: string, max?: string): number[] {
  return sortedNodeIndexes(graph).filter((i) => {
    const v = graph.nodes[i]!.version;
    return (min === undefined || compareVersions(v, min) >= 0) && (max === undefined || compareVersions(v, max) <= 0);
  });
}

/**
 * The upgrade path with the fewest hops from `from` to `to` (both node indexes, both included),
 * by breadth-first search over the edges; undefined when `to` cannot be reached. Among paths of
 * equal length the one taking the higher version at the earliest differing hop wins, as in
 * oc-mirror (it visits each node's successors highest version first).
 */
export function shortestPath(graph: Graph, from: number, to: number): number[] | undefined {
  const successors = new Map<number, number[]>();
  for (const [a, b] of graph.edges) {
    const list = successors.get(a) ?? [];
    if (!list.includes(b)) list.push(b);
    successors.set(a, list);
  }
  for (const list of successors.values()) {
    list.sort((a, b) => compareVersions(graph.nodes[b]!.version, graph.nodes[a]!.version) || a - b);
  }
  const previous = new Map<number, number>([[from, -1]]);
  const queue = [from];
  for (let head = 0; head < queue.length && !previous.has(to); head++) {
    for (const next of successors.get(queue[head]!) ?? []) {
      if (previous.has(next)) continue;
      previous.set(next, queue[head]!);
      queue.push(next);
    }
  }
  if (!previous.has(to)) return undefined;
  const path: number[] = [];
  for (let at = to; at !== -1; at = previous.get(at)!) path.push(at);
  return path.reverse();
}
