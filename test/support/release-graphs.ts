/** Cincinnati graphs for unit tests of the graph and selection logic. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Graph } from '../../src/release/graph.js';

/** A release payload pull spec unique to a version. */
export const payloadOf = (version: string) => `quay.io/openshift-release-dev/ocp-release@sha256:${createHash('sha256').update(version).digest('hex')}`;

/** A graph from versions (node order as given) and upgrade edges by version. */
export function testGraph(versions: string[], edges: [string, string][] = []): Graph {
  const at = (v: string) => {
    const i = versions.indexOf(v);
    assert.ok(i >= 0, `test graph: ${v} is not a node`);
    return i;
  };
  return { nodes: versions.map((version) => ({ version, payload: payloadOf(version) })), edges: edges.map(([a, b]) => [at(a), at(b)]) };
}
