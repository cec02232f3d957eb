/**
 * Which release payloads `mirror.platform` (or `delete.platform`) names: the release-selection half
 * of the platform collector (ref §8.1–8.3). Plain data out; the payload contents (image-references,
 * signatures, graph image) are read by the release content collector from what this returns.
 */
import { randomUUID } from 'node:crypto';
import semver from 'semver';
import type { CollectContext } from '../collect/types.js';
import { normalizeSemver } from '../config/semver.js';
import type { Platform, ReleaseChannel } from '../config/types.js';
import { ConfigError, OcMirrorError } from '../errors.js';
import { releaseArchitectures, type CincinnatiArchitecture } from './architectures.js';
import { CincinnatiError, CincinnatiGraphs, type ChannelGraph } from './cincinnati.js';
import { compareVersions, findNode, headNode, lowestNode, nodesInRange, shortestPath, type Graph } from './graph.js';

export type { ChannelGraph } from './cincinnati.js';

export interface SelectedRelease {
  /** `4.18.3`, as Cincinnati spells it; '' for `platform.release` (known once the payload is read) */
  version: string;
  /**
   * Cincinnati arch name: amd64, arm64, ppc64le, s390x, multi. For `platform.release`, the one the
   * configuration names (`multi` with platforms, else the first of architectures, else amd64): the
   * payload itself is the truth.
   */
  architecture: CincinnatiArchitecture;
  /**
   * Pull spec: by digest as Cincinnati gives it (`quay.io/openshift-release-dev/ocp-release@sha256:…`),
   * or `platform.release` exactly as the user wrote it (tag or digest).
   */
  payload: string;
  /**
   * the channels it was selected through, in the order met: configured channels first, then the
   * intermediate channels of the upgrade path between channels; [] for `platform.release`
   */
  channels: string[];
  /** `graph`: from a Cincinnati channel; `release`: `platform.release`, no Cincinnati involved */
  origin: 'graph' | 'release';
}

export interface ReleaseSelection {
  /** one entry per (architecture, payload); by architecture (config order), then version ascending */
  releases: SelectedRelease[];
  /** every graph consulted (configured channels and intermediate channels), in load order */
  graphs: ChannelGraph[];
  /** already logged as warnings; returned for summaries */
  warnings: string[];
}

/**
 * Resolves a platform stanza into the releases to mirror (or delete).
 * - mirrorToMirror, mirrorToDisk: queries Cincinnati through ctx.http and saves each answer, raw,
 *   with ctx.metadata under `hold-release/cincinnati-graph-data/<arch>-<channel>.json` (oc-mirror's
 *   naming, ref §3.1).
 * - diskToMirror, delete: reads those files back through ctx.metadata, never the network; a missing
 *   file is an error naming the channel.
 * `where` names the stanza in messages (`isc.yaml mirror.platform`). `env` is read for
 * `UPDATE_URL_OVERRIDE`. A stanza with neither `release` nor channels selects nothing (a graph-only
 * stanza); channels that together select nothing are an error.
 */
export async function selectReleases(
  ctx: CollectContext,
  platform: Platform,
  where: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ReleaseSelection> {
  const warnings: string[] = [];
  const warn = (message: string) => {
    warnings.push(message);
    ctx.log.warn(message);
  };
  const { architectures } = releaseArchitectures(platform);
  // oc-mirror writes `architectures: [amd64]` into delete configurations itself (ref §2.2).
  if (platform.architectures?.length && ctx.mode !== 'delete') {
    warn(`${where}.architectures is deprecated: use ${where}.platforms (os/architecture pairs of the multi-arch payload)`);
  }

  if (platform.release) {
    if (platform.channels?.length) warn(`${where}.channels are ignored: ${where}.release names the one release to mirror`);
    const release: SelectedRelease = { version: '', architecture: architectures[0]!, payload: platform.release, channels: [], origin: 'release' };
    return { releases: [release], graphs: [], warnings };
  }
  const channels = platform.channels ?? [];
  if (channels.length === 0) return { releases: [], graphs: [], warnings };
  channels.forEach((ch, i) => checkChannelName(ch.name, `${where}.channels[${i}].name`));

  const graphs = new CincinnatiGraphs({
    http: ctx.http,
    metadata: ctx.metadata,
    offline: ctx.mode === 'diskToMirror' || ctx.mode === 'delete',
    env,
    clientId: randomUUID(),
  });
  const releases = new ReleaseSet();
  const eus = eusWarning(channels, where);
  if (eus) warn(eus);

  for (const arch of architectures) {
    const bounds: ChannelBounds[] = [];
    for (const [i, ch] of channels.entries()) {
      const field = `${where}.channels[${i}]`;
      const type = ch.type ?? 'ocp';
      let loaded: ChannelGraph;
      try {
        loaded = await graphs.load(ch.name, type, arch);
      } catch (err) {
        if (err instanceof CincinnatiError) throw new OcMirrorError(`${field}: ${err.message}`);
        throw err;
      }
      const selected = selectInChannel(loaded.graph, ch, field);
      for (const w of selected.warnings) warn(`${field} (${arch}): ${w}`);
      if (selected.nodes.length === 0) warn(`${field} (${arch}): channel "${ch.name}" has no release between ${selected.min} and ${selected.max}`);
      for (const n of selected.nodes) releases.add(arch, loaded.graph.nodes[n]!, ch.name);
      if (type === 'ocp') bounds.push({ name: ch.name, min: selected.min, max: selected.max, graph: loaded.graph });
    }
    if (bounds.length > 1) {
      const loadIntermediate = async (name: string): Promise<Graph | { unavailable: string }> => {
        try {
          return (await graphs.load(name, 'ocp', arch)).graph;
        } catch (err) {
          if (!(err instanceof CincinnatiError)) throw err;
          if (err.reason !== 'failed') return { unavailable: err.message };
          throw new OcMirrorError(`${where}.channels (${arch}), upgrade path between channels: ${err.message}`);
        }
      };
      const path = await upgradePathAcrossChannels(bounds, loadIntermediate);
      for (const w of path.warnings) warn(`${where}.channels (${arch}): ${w}`);
      for (const step of path.steps) releases.add(arch, step.node, step.channel);
    }
  }

  const list = releases.list(architectures);
  if (list.length === 0) throw new OcMirrorError(`${where}.channels: no release selected in any channel (see the warnings above)`);
  return { releases: list, graphs: graphs.loaded(), warnings };
}

/** A channel name becomes a file name under working-dir; anything Cincinnati names is plain. */
function checkChannelName(name: string, field: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new ConfigError(`${field}: "${name}" is not a release channel name (letters, digits, '.', '_' and '-', e.g. stable-4.18)`);
  }
}

/**
 * oc-mirror's one-time EUS warning (ref §8.2): an EUS channel whose range spans two minors or more
 * needs the intermediate minor's releases, which oc-mirror does not compute.
 */
function eusWarning(channels: ReleaseChannel[], where: string): string | undefined {
  for (const [i, ch] of channels.entries()) {
    if (!ch.name.includes('eus') || !ch.minVersion || !ch.maxVersion) continue;
    const min = normalizeSemver(ch.minVersion);
    const max = normalizeSemver(ch.maxVersion);
    if (!min || !max || semver.minor(max) - semver.minor(min) < 2) continue;
    return (
      `${where}.channels[${i}]: Extended Update Support (EUS) channel "${ch.name}" spans ${ch.minVersion} to ${ch.maxVersion}: an EUS to EUS update ` +
      'goes through an intermediate minor version; check the path at https://access.redhat.com/labs/ocpupgradegraph/update_path and add its releases'
    );
  }
  return undefined;
}

export interface ChannelSelection {
  /** the range actually applied, after defaults (head, lowest) */
  min: string;
  max: string;
  /** node indexes, lowest version first (shortestPath: in path order, which is ascending too) */
  nodes: number[];
  warnings: string[];
}

/**
 * One channel's releases (ref §8.2):
 * - neither minVersion nor maxVersion: the head only, or the whole channel with `full: true`;
 * - only minVersion: min..head; only maxVersion: lowest..max (`full` changes nothing);
 * - both: min..max;
 * - `shortestPath: true`: instead of every release in the range, the fewest-hops upgrade path from
 *   min to max (both must be releases of the channel); when max cannot be reached from min, the two
 *   ends only, with a warning (oc-mirror does the same, silently).
 * Config versions are loose semver (`4.18` is 4.18.0); comparisons ignore build metadata.
 */
export function selectInChannel(graph: Graph, ch: ReleaseChannel, field: string): ChannelSelection {
  const head = headNode(graph);
  const lowest = lowestNode(graph);
  if (head === undefined || lowest === undefined) throw new OcMirrorError(`${field}: channel "${ch.name}" has no releases`);
  const configMin = ch.minVersion ? configVersion(ch.minVersion, `${field}.minVersion`) : undefined;
  const configMax = ch.maxVersion ? configVersion(ch.maxVersion, `${field}.maxVersion`) : undefined;
  const headVersion = graph.nodes[head]!.version;
  const lowestVersion = graph.nodes[lowest]!.version;
  let min: string;
  let max: string;
  if (configMin === undefined && configMax === undefined) {
    max = headVersion;
    min = ch.full ? lowestVersion : headVersion;
  } else {
    min = configMin ?? lowestVersion;
    max = configMax ?? headVersion;
  }

  if (!ch.shortestPath) return { min, max, nodes: nodesInRange(graph, min, max), warnings: [] };

  const from = findNode(graph, min);
  if (from === undefined) throw new OcMirrorError(`${field}.minVersion: ${min} is not a release of channel "${ch.name}", so no upgrade path can start there`);
  const to = findNode(graph, max);
  if (to === undefined) throw new OcMirrorError(`${field}.maxVersion: ${max} is not a release of channel "${ch.name}", so no upgrade path can end there`);
  const path = shortestPath(graph, from, to);
  if (path) return { min, max, nodes: path, warnings: [] };
  return {
    min,
    max,
    nodes: from === to ? [from] : [from, to],
    warnings: [`channel "${ch.name}" has no upgrade path from ${min} to ${max}: only these two releases are selected`],
  };
}

function configVersion(v: string, field: string): string {
  const normalized = normalizeSemver(v);
  if (!normalized) throw new ConfigError(`${field}: "${v}" is not a semantic version`);
  return normalized;
}

export interface ChannelBounds {
  name: string;
  /** the range the channel's own selection applied */
  min: string;
  max: string;
  graph: Graph;
}

export interface PathStep {
  channel: string;
  node: Graph['nodes'][number];
}

const CHANNEL_NAME = /^(.+)-(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$/;

/**
 * The upgrade path between several OCP channels (ref §8.2), what oc-mirror adds on top of each
 * channel's own selection: from the lowest min of all channels to the highest max, minor by minor.
 * 1. The start is the channel with the lowest min, the target the one with the highest max (the
 *    first in config order on ties). Same channel: the shortest path within it.
 * 2. Same major.minor (stable-4.18 → fast-4.18): the shortest path in the target channel, from the
 *    start version when the target channel has it.
 * 3. Otherwise: the shortest path to the start channel's head; then, for each following minor, the
 *    channel `<start prefix>-<major>.<minor>` (the target channel itself at its minor), the shortest
 *    path from the previous step's end to that channel's head (to the target max at the end).
 * A step whose channel lacks the version reached so far is a blocked edge: oc-mirror's warning
 * `No upgrade path for <v> in target channel <c>`, the target max is added alone, and the walk
 * stops. An intermediate channel Cincinnati does not know (`loadChannel` answers `unavailable`) stops
 * the walk too (oc-mirror fails the run there). Versions that are not releases of their channel are moved to the nearest release
 * inside the range (min upwards, max downwards).
 */
export async function upgradePathAcrossChannels(
  channels: ChannelBounds[],
  loadChannel: (name: string) => Promise<Graph | { unavailable: string }>,
): Promise<{ steps: PathStep[]; warnings: string[] }> {
  const steps: PathStep[] = [];
  const warnings: string[] = [];
  const add = (channel: string, graph: Graph, nodes: number[]) => {
    for (const n of nodes) steps.push({ channel, node: graph.nodes[n]! });
  };
  const walk = (channel: string, graph: Graph, from: number, to: number) => {
    const path = shortestPath(graph, from, to);
    if (path) return add(channel, graph, path);
    warnings.push(`no upgrade path from ${graph.nodes[from]!.version} to ${graph.nodes[to]!.version} in channel "${channel}": only these two releases are added`);
    add(channel, graph, from === to ? [from] : [from, to]);
  };

  let first = channels[0]!;
  let last = channels[0]!;
  for (const ch of channels) {
    if (compareVersions(ch.min, first.min) < 0) first = ch;
    if (compareVersions(ch.max, last.max) > 0) last = ch;
  }
  const start = atOrAbove(first.graph, first.min, first.max);
  const target = atOrBelow(last.graph, last.max, last.min);
  if (start === undefined || target === undefined) return { steps, warnings };
  const targetVersion = last.graph.nodes[target]!.version;

  if (first === last) {
    walk(first.name, first.graph, start, target);
    return { steps, warnings };
  }
  const source = CHANNEL_NAME.exec(first.name);
  const goal = CHANNEL_NAME.exec(last.name);
  if (!source || !goal) {
    warnings.push(`no upgrade path computed between channels "${first.name}" and "${last.name}": their names do not end in -<major>.<minor>`);
    return { steps, warnings };
  }
  const prefix = source[1]!;
  const [major, sourceMinor] = [Number(source[2]), Number(source[3])];
  const [goalMajor, goalMinor] = [Number(goal[2]), Number(goal[3])];
  if (goalMajor !== major || goalMinor < sourceMinor) {
    warnings.push(`no upgrade path computed from channel "${first.name}" to channel "${last.name}": oc-mirror only walks up minor versions of one major`);
    return { steps, warnings };
  }
  const blocked = (version: string, channel: string) => {
    warnings.push(`No upgrade path for ${version} in target channel ${channel}: only ${targetVersion} of channel "${last.name}" is added`);
    add(last.name, last.graph, [target]);
  };

  if (goalMinor === sourceMinor) {
    const from = findNode(last.graph, first.graph.nodes[start]!.version);
    if (from === undefined) blocked(first.graph.nodes[start]!.version, last.name);
    else walk(last.name, last.graph, from, target);
    return { steps, warnings };
  }

  const sourceHead = headNode(first.graph)!;
  walk(first.name, first.graph, start, sourceHead);
  let reached = first.graph.nodes[sourceHead]!.version;
  for (let minor = sourceMinor + 1; minor <= goalMinor; minor++) {
    const isGoal = minor === goalMinor;
    const name = isGoal ? last.name : `${prefix}-${major}.${minor}`;
    const graph = isGoal ? last.graph : await loadChannel(name);
    if ('unavailable' in graph) {
      warnings.push(`the upgrade path between channels stops at ${reached}: ${graph.unavailable}`);
      return { steps, warnings };
    }
    const from = findNode(graph, reached);
    if (from === undefined) {
      blocked(reached, name);
      return { steps, warnings };
    }
    const to = isGoal ? target : headNode(graph)!;
    walk(name, graph, from, to);
    reached = graph.nodes[to]!.version;
  }
  return { steps, warnings };
}

/** the lowest release ≥ v (and ≤ bound), when v itself is not one */
function atOrAbove(graph: Graph, v: string, bound: string): number | undefined {
  return findNode(graph, v) ?? nodesInRange(graph, v, bound)[0];
}

/** the highest release ≤ v (and ≥ bound), when v itself is not one */
function atOrBelow(graph: Graph, v: string, bound: string): number | undefined {
  return findNode(graph, v) ?? nodesInRange(graph, bound, v).at(-1);
}

/** Releases merged across channels: one per (architecture, payload), channels accumulated. */
class ReleaseSet {
  private readonly byKey = new Map<string, SelectedRelease>();

  add(architecture: CincinnatiArchitecture, node: Graph['nodes'][number], channel: string): void {
    const key = `${architecture}\0${node.payload}`;
    const existing = this.byKey.get(key);
    if (existing) {
      if (!existing.channels.includes(channel)) existing.channels.push(channel);
      return;
    }
    this.byKey.set(key, { version: node.version, architecture, payload: node.payload, channels: [channel], origin: 'graph' });
  }

  list(order: readonly CincinnatiArchitecture[]): SelectedRelease[] {
    return [...this.byKey.values()].sort(
      (a, b) => order.indexOf(a.architecture) - order.indexOf(b.architecture) || compareVersions(a.version, b.version) || a.payload.localeCompare(b.payload),
    );
  }
}
