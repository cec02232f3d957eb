import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  findNode,
  GraphFormatError,
  headNode,
  lowestNode,
  nodesInRange,
  parseGraph,
  shortestPath,
  type Graph,
} from '../../src/release/graph.js';
import { testGraph as graph } from '../support/release-graphs.js';

const versionsOf = (g: Graph, nodes: number[] | undefined) => nodes?.map((n) => g.nodes[n]!.version);

describe('parseGraph', () => {
  it('reads nodes, metadata and edges', () => {
    const g = parseGraph(
      JSON.stringify({
        nodes: [
          { version: '4.18.2', payload: 'r@sha256:b', metadata: { 'io.openshift.upgrades.graph.release.channels': 'stable-4.18' } },
          { version: '4.18.1', payload: 'r@sha256:a' },
        ],
        edges: [[1, 0]],
        conditionalEdges: [],
      }),
    );
    assert.deepEqual(g, {
      nodes: [
        { version: '4.18.2', payload: 'r@sha256:b', metadata: { 'io.openshift.upgrades.graph.release.channels': 'stable-4.18' } },
        { version: '4.18.1', payload: 'r@sha256:a' },
      ],
      edges: [[1, 0]],
    });
  });

  it('reads an empty graph', () => {
    assert.deepEqual(parseGraph('{"nodes":[],"edges":[]}'), { nodes: [], edges: [] });
  });

  const bad: [string, string, RegExp][] = [
    ['not JSON', '{"nodes": [', /^not JSON: /],
    ['a list', '[]', /^not a JSON object$/],
    ['nodes not a list', '{"nodes": {}}', /^"nodes" is not a list$/],
    ['a version that is not semver', '{"nodes":[{"version":"4.18","payload":"r@sha256:a"}]}', /^nodes\[0\]\.version "4\.18" is not a semantic version$/],
    ['a node without payload', '{"nodes":[{"version":"4.18.1"}]}', /^nodes\[0\]\.payload is not a pull spec$/],
    ['an edge to no node', '{"nodes":[{"version":"4.18.1","payload":"r@sha256:a"}],"edges":[[0,1]]}', /^edges\[0\] \[0,1\] is not a pair of node indexes$/],
    ['an edge of three', '{"nodes":[{"version":"4.18.1","payload":"r@sha256:a"}],"edges":[[0,0,0]]}', /^edges\[0\] /],
  ];
  for (const [name, text, message] of bad) {
    it(`refuses ${name}`, () => {
      assert.throws(() => parseGraph(text), (err: unknown) => err instanceof GraphFormatError && message.test(err.message));
    });
  }
});

describe('head, lowest, find, range', () => {
  // Listed out of order, as Cincinnati does; 4.18.10 sorts after 4.18.9 (semver, not text).
  const g = graph(['4.18.9', '4.18.10', '4.18.0-rc.1', '4.18.0', '4.18.2+build.7']);

  it('head is the highest semver, lowest the lowest (pre-releases first)', () => {
    assert.equal(g.nodes[headNode(g)!]!.version, '4.18.10');
    assert.equal(g.nodes[lowestNode(g)!]!.version, '4.18.0-rc.1');
    assert.equal(headNode(graph([])), undefined);
  });

  it('finds versions ignoring build metadata', () => {
    assert.equal(findNode(g, '4.18.2'), 4);
    assert.equal(findNode(g, '4.18.3'), undefined);
  });

  it('ranges are inclusive, ascending, with open ends', () => {
    assert.deepEqual(versionsOf(g, nodesInRange(g, '4.18.0', '4.18.9')), ['4.18.0', '4.18.2+build.7', '4.18.9']);
    assert.deepEqual(versionsOf(g, nodesInRange(g, '4.18.3')), ['4.18.9', '4.18.10']);
    assert.deepEqual(versionsOf(g, nodesInRange(g, undefined, '4.18.0')), ['4.18.0-rc.1', '4.18.0']);
    assert.deepEqual(nodesInRange(g, '4.18.3', '4.18.8'), []);
  });
});

describe('shortestPath', () => {
  // 1 → 2 → 3 → 4 → 6, with shortcuts 1 → 4 (so 1→4→6 is two hops) and a branch 2 → 5 → 6.
  const g = graph(
    ['4.18.1', '4.18.2', '4.18.3', '4.18.4', '4.18.5', '4.18.6'],
    [
      ['4.18.1', '4.18.2'],
      ['4.18.2', '4.18.3'],
      ['4.18.3', '4.18.4'],
      ['4.18.4', '4.18.6'],
      ['4.18.1', '4.18.4'],
      ['4.18.2', '4.18.5'],
      ['4.18.5', '4.18.6'],
    ],
  );
  const path = (from: string, to: string) => versionsOf(g, shortestPath(g, findNode(g, from)!, findNode(g, to)!));

  it('takes the fewest hops', () => {
    assert.deepEqual(path('4.18.1', '4.18.6'), ['4.18.1', '4.18.4', '4.18.6']);
    assert.deepEqual(path('4.18.2', '4.18.4'), ['4.18.2', '4.18.3', '4.18.4']);
  });

  it('a path from a version to itself is that version', () => {
    assert.deepEqual(path('4.18.3', '4.18.3'), ['4.18.3']);
  });

  it('undefined when the target cannot be reached (edges are directed)', () => {
    assert.equal(path('4.18.6', '4.18.1'), undefined);
    assert.equal(path('4.18.3', '4.18.5'), undefined);
  });

  it('between equal-length paths, prefers the higher version at the first differing hop, whatever the node order', () => {
    // 2 → 3 → 6 and 2 → 5 → 6 are both two hops; 5 wins.
    const diamond: [string, string][] = [
      ['4.18.2', '4.18.3'],
      ['4.18.2', '4.18.5'],
      ['4.18.3', '4.18.6'],
      ['4.18.5', '4.18.6'],
    ];
    for (const order of [
      ['4.18.2', '4.18.3', '4.18.5', '4.18.6'],
      ['4.18.6', '4.18.5', '4.18.3', '4.18.2'],
    ]) {
      for (const edges of [diamond, [...diamond].reverse()]) {
        const d = graph(order, edges);
        assert.deepEqual(versionsOf(d, shortestPath(d, findNode(d, '4.18.2')!, findNode(d, '4.18.6')!)), ['4.18.2', '4.18.5', '4.18.6']);
      }
    }
  });

  it('duplicate edges and cycles do not change the answer', () => {
    const c = graph(
      ['4.18.1', '4.18.2', '4.18.3'],
      [
        ['4.18.1', '4.18.2'],
        ['4.18.1', '4.18.2'],
        ['4.18.2', '4.18.1'],
        ['4.18.2', '4.18.3'],
      ],
    );
    assert.deepEqual(versionsOf(c, shortestPath(c, 0, 2)), ['4.18.1', '4.18.2', '4.18.3']);
  });
});
