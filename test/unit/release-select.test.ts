import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReleaseChannel } from '../../src/config/types.js';
import { OcMirrorError } from '../../src/errors.js';
import { releaseArchitectures } from '../../src/release/architectures.js';
import { graphEndpoint, graphMetadataPath, graphQueryUrl, OCP_GRAPH_URL, OKD_GRAPH_URL } from '../../src/release/cincinnati.js';
import type { Graph } from '../../src/release/graph.js';
import { selectInChannel, upgradePathAcrossChannels, type ChannelBounds } from '../../src/release/select.js';
import { testGraph as graph } from '../support/release-graphs.js';

/** Edges from each version to every later one in the list (a channel where any upgrade is fine). */
function chain(versions: string[]): [string, string][] {
  return versions.slice(0, -1).map((v, i) => [v, versions[i + 1]!]);
}

const FIELD = 'isc.yaml mirror.platform.channels[0]';

describe('selectInChannel (ref §8.2)', () => {
  // Out of order on purpose; 4.18.10 is the head.
  const g = graph(
    ['4.18.2', '4.18.10', '4.18.1', '4.18.5', '4.18.3'],
    [
      ['4.18.1', '4.18.2'],
      ['4.18.2', '4.18.3'],
      ['4.18.3', '4.18.5'],
      ['4.18.5', '4.18.10'],
      ['4.18.1', '4.18.3'],
      ['4.18.3', '4.18.10'],
    ],
  );
  const select = (ch: Omit<ReleaseChannel, 'name'>) => {
    const s = selectInChannel(g, { name: 'stable-4.18', ...ch }, FIELD);
    return { min: s.min, max: s.max, versions: s.nodes.map((n) => g.nodes[n]!.version), warnings: s.warnings };
  };

  const cases: [string, Omit<ReleaseChannel, 'name'>, string, string, string[]][] = [
    ['neither min nor max: the head only', {}, '4.18.10', '4.18.10', ['4.18.10']],
    ['full: the whole channel', { full: true }, '4.18.1', '4.18.10', ['4.18.1', '4.18.2', '4.18.3', '4.18.5', '4.18.10']],
    ['min and max: the range, inclusive', { minVersion: '4.18.2', maxVersion: '4.18.5' }, '4.18.2', '4.18.5', ['4.18.2', '4.18.3', '4.18.5']],
    ['min only: up to the head', { minVersion: '4.18.3' }, '4.18.3', '4.18.10', ['4.18.3', '4.18.5', '4.18.10']],
    ['max only: from the lowest', { maxVersion: '4.18.2' }, '4.18.1', '4.18.2', ['4.18.1', '4.18.2']],
    ['max only with full: the same', { maxVersion: '4.18.2', full: true }, '4.18.1', '4.18.2', ['4.18.1', '4.18.2']],
    ['full with a range: bounded by it', { full: true, minVersion: '4.18.3', maxVersion: '4.18.5' }, '4.18.3', '4.18.5', ['4.18.3', '4.18.5']],
    ['bounds need not be releases', { minVersion: '4.18.4', maxVersion: '4.18.9' }, '4.18.4', '4.18.9', ['4.18.5']],
    ['loose config versions (v prefix, no patch)', { minVersion: 'v4.18', maxVersion: '4.18.2' }, '4.18.0', '4.18.2', ['4.18.1', '4.18.2']],
    ['a range with no release selects nothing', { minVersion: '4.18.6', maxVersion: '4.18.9' }, '4.18.6', '4.18.9', []],
    ['shortestPath: fewest hops from min to max', { minVersion: '4.18.1', maxVersion: '4.18.10', shortestPath: true }, '4.18.1', '4.18.10', ['4.18.1', '4.18.3', '4.18.10']],
    ['shortestPath, min only: to the head', { minVersion: '4.18.2', shortestPath: true }, '4.18.2', '4.18.10', ['4.18.2', '4.18.3', '4.18.10']],
    ['shortestPath with full: lowest to head', { full: true, shortestPath: true }, '4.18.1', '4.18.10', ['4.18.1', '4.18.3', '4.18.10']],
    ['shortestPath alone: the head', { shortestPath: true }, '4.18.10', '4.18.10', ['4.18.10']],
  ];
  for (const [name, ch, min, max, versions] of cases) {
    it(name, () => assert.deepEqual(select(ch), { min, max, versions, warnings: [] }));
  }

  it('shortestPath without a path: the two ends and a warning', () => {
    const h = graph(['4.18.1', '4.18.2', '4.18.3'], [['4.18.1', '4.18.2']]);
    const s = selectInChannel(h, { name: 'stable-4.18', minVersion: '4.18.1', maxVersion: '4.18.3', shortestPath: true }, FIELD);
    assert.deepEqual(s.nodes.map((n) => h.nodes[n]!.version), ['4.18.1', '4.18.3']);
    assert.deepEqual(s.warnings, ['channel "stable-4.18" has no upgrade path from 4.18.1 to 4.18.3: only these two releases are selected']);
  });

  it('shortestPath from or to a version that is not a release: an error naming the field', () => {
    assert.throws(
      () => select({ minVersion: '4.18.4', maxVersion: '4.18.10', shortestPath: true }),
      new OcMirrorError(`${FIELD}.minVersion: 4.18.4 is not a release of channel "stable-4.18", so no upgrade path can start there`),
    );
    assert.throws(
      () => select({ minVersion: '4.18.1', maxVersion: '4.18.11', shortestPath: true }),
      new OcMirrorError(`${FIELD}.maxVersion: 4.18.11 is not a release of channel "stable-4.18", so no upgrade path can end there`),
    );
  });
});

describe('upgradePathAcrossChannels (ref §8.2)', () => {
  const v416 = ['4.16.0', '4.16.1', '4.16.2'];
  const v417 = ['4.16.1', '4.16.2', '4.17.0', '4.17.1', '4.17.2'];
  const v418 = ['4.17.1', '4.17.2', '4.18.0', '4.18.1'];
  const stable416 = graph(v416, chain(v416));
  // 4.16.2 → 4.17.2 directly: the shortest path skips 4.17.0 and 4.17.1.
  const stable417 = graph(v417, [...chain(v417), ['4.16.2', '4.17.2']]);
  const stable418 = graph(v418, [...chain(v418), ['4.17.2', '4.18.1']]);
  const known: Record<string, Graph> = { 'stable-4.16': stable416, 'stable-4.17': stable417, 'stable-4.18': stable418 };

  const run = async (channels: ChannelBounds[], extra: Record<string, Graph> = known) => {
    const loads: string[] = [];
    const out = await upgradePathAcrossChannels(channels, async (name) => {
      loads.push(name);
      return extra[name] ?? { unavailable: `channel "${name}" is unknown` };
    });
    return { steps: out.steps.map((s) => `${s.channel}:${s.node.version}`), warnings: out.warnings, loads };
  };

  it('minor by minor through the intermediate channel, to the highest max', async () => {
    const out = await run([
      { name: 'stable-4.16', min: '4.16.0', max: '4.16.0', graph: stable416 },
      { name: 'stable-4.18', min: '4.18.1', max: '4.18.1', graph: stable418 },
    ]);
    assert.deepEqual(out, {
      steps: ['stable-4.16:4.16.0', 'stable-4.16:4.16.1', 'stable-4.16:4.16.2', 'stable-4.17:4.16.2', 'stable-4.17:4.17.2', 'stable-4.18:4.17.2', 'stable-4.18:4.18.1'],
      warnings: [],
      loads: ['stable-4.17'],
    });
  });

  it('the start is the channel with the lowest min whatever the config order', async () => {
    const out = await run([
      { name: 'stable-4.17', min: '4.17.2', max: '4.17.2', graph: stable417 },
      { name: 'stable-4.16', min: '4.16.2', max: '4.16.2', graph: stable416 },
    ]);
    assert.deepEqual(out.steps, ['stable-4.16:4.16.2', 'stable-4.17:4.16.2', 'stable-4.17:4.17.2']);
    assert.deepEqual(out.loads, []);
  });

  it('a blocked edge: oc-mirror warning, the target max alone, no further walk', async () => {
    // stable-4.17 does not list 4.16.2 here.
    const blocked417 = graph(['4.16.1', '4.17.0', '4.17.2'], chain(['4.16.1', '4.17.0', '4.17.2']));
    const out = await run(
      [
        { name: 'stable-4.16', min: '4.16.2', max: '4.16.2', graph: stable416 },
        { name: 'stable-4.18', min: '4.18.1', max: '4.18.1', graph: stable418 },
      ],
      { 'stable-4.17': blocked417 },
    );
    assert.deepEqual(out.steps, ['stable-4.16:4.16.2', 'stable-4.18:4.18.1']);
    assert.deepEqual(out.warnings, ['No upgrade path for 4.16.2 in target channel stable-4.17: only 4.18.1 of channel "stable-4.18" is added']);
  });

  it('an intermediate channel Cincinnati does not know stops the walk with a warning', async () => {
    const out = await run(
      [
        { name: 'eus-4.16', min: '4.16.2', max: '4.16.2', graph: stable416 },
        { name: 'eus-4.18', min: '4.18.1', max: '4.18.1', graph: stable418 },
      ],
      {},
    );
    assert.deepEqual(out.steps, ['eus-4.16:4.16.2']);
    assert.deepEqual(out.warnings, ['the upgrade path between channels stops at 4.16.2: channel "eus-4.17" is unknown']);
    assert.deepEqual(out.loads, ['eus-4.17']);
  });

  it('same minor, other prefix: the path in the target channel from the start', async () => {
    const fast = graph(['4.18.0', '4.18.1', '4.18.2'], chain(['4.18.0', '4.18.1', '4.18.2']));
    const out = await run([
      { name: 'stable-4.18', min: '4.18.0', max: '4.18.1', graph: stable418 },
      { name: 'fast-4.18', min: '4.18.2', max: '4.18.2', graph: fast },
    ]);
    assert.deepEqual(out.steps, ['fast-4.18:4.18.0', 'fast-4.18:4.18.1', 'fast-4.18:4.18.2']);
  });

  it('same channel holds both ends: the shortest path within it', async () => {
    const out = await run([
      { name: 'stable-4.17', min: '4.16.1', max: '4.17.2', graph: stable417 },
      { name: 'stable-4.16', min: '4.16.1', max: '4.16.2', graph: stable416 },
    ]);
    assert.deepEqual(out.steps, ['stable-4.17:4.16.1', 'stable-4.17:4.16.2', 'stable-4.17:4.17.2']);
  });

  it('names without -<major>.<minor>, or across majors: no path, a warning', async () => {
    const a = await run([
      { name: 'stable-4.16', min: '4.16.0', max: '4.16.0', graph: stable416 },
      { name: 'custom', min: '4.18.1', max: '4.18.1', graph: stable418 },
    ]);
    assert.deepEqual(a.steps, []);
    assert.deepEqual(a.warnings, ['no upgrade path computed between channels "stable-4.16" and "custom": their names do not end in -<major>.<minor>']);
    const b = await run([
      { name: 'stable-4.16', min: '4.16.0', max: '4.16.0', graph: stable416 },
      { name: 'stable-5.0', min: '4.18.1', max: '4.18.1', graph: stable418 },
    ]);
    assert.deepEqual(b.steps, []);
    assert.match(b.warnings[0]!, /^no upgrade path computed from channel "stable-4\.16" to channel "stable-5\.0"/);
  });
});

describe('architectures (ref §8.3)', () => {
  it('platforms → the multi-arch graph only', () => {
    const platforms = [{ os: 'linux', architecture: 'arm64' }];
    assert.deepEqual(releaseArchitectures({ platforms, architectures: [] }), { architectures: ['multi'], platforms });
  });
  it('architectures → one graph each, duplicates dropped; default amd64', () => {
    assert.deepEqual(releaseArchitectures({ architectures: ['s390x', 'amd64', 's390x'] }), { architectures: ['s390x', 'amd64'] });
    assert.deepEqual(releaseArchitectures({}), { architectures: ['amd64'] });
  });
});

describe('Cincinnati endpoints and names (ref §8.1, §3.1)', () => {
  it('OCP default, UPDATE_URL_OVERRIDE, OKD', () => {
    assert.equal(graphEndpoint('ocp', {}), OCP_GRAPH_URL);
    assert.equal(OCP_GRAPH_URL, 'https://api.openshift.com/api/upgrades_info/v1/graph');
    assert.equal(graphEndpoint('ocp', { UPDATE_URL_OVERRIDE: 'https://osus.example/graph' }), 'https://osus.example/graph');
    assert.equal(graphEndpoint('okd', { UPDATE_URL_OVERRIDE: 'https://osus.example/graph' }), OKD_GRAPH_URL);
    assert.equal(OKD_GRAPH_URL, 'https://origin-release.ci.openshift.org/graph');
  });
  it('query keeps the endpoint parameters and sets id, channel, arch', () => {
    assert.equal(
      graphQueryUrl('https://osus.example/graph?tenant=a', { id: 'u-1', channel: 'stable-4.18', arch: 'arm64' }),
      'https://osus.example/graph?tenant=a&id=u-1&channel=stable-4.18&arch=arm64',
    );
  });
  it('saved as <arch>-<channel>.json', () => {
    assert.equal(graphMetadataPath('amd64', 'stable-4.18'), 'hold-release/cincinnati-graph-data/amd64-stable-4.18.json');
  });
});
