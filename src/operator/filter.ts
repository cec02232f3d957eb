/**
 * Which bundles of a catalog an `operators[]` entry selects (ref §7.2, the scenarios of
 * oc-mirror's "How filtering works in the operator catalog"), and the filtered catalog that
 * holds exactly them. Differences from oc-mirror, on purpose:
 * - an unknown package or channel is an error naming the config entry and what exists, where
 *   oc-mirror silently selects nothing;
 * - `skipRange` counts as an edge of the upgrade graph (see channel-graph.ts);
 * - a range keeps the entries that connect the in-range ones to the new head, so a filtered
 *   channel always has one head (oc-mirror can fail with "multiple channel heads");
 * - bundle versions compare by semver precedence: prereleases are never excluded from a range;
 * - dependencies (`olm.package.required`, `olm.gvk.required`) are resolved transitively unless
 *   `skipDependencies: true`.
 */
import type { Operator, OperatorPackage } from '../config/types.js';
import { ConfigError } from '../errors.js';
import {
  compareStrings,
  parseDeclarativeConfig,
  type DeclarativeConfig,
  type FbcBundle,
  type FbcChannel,
  type FbcDeprecation,
  type FbcFile,
  type FbcPackage,
} from './declarative-config.js';
import { CatalogIndex } from './filter/catalog-index.js';
import { ChannelGraphError, type ChannelGraph } from './filter/channel-graph.js';
import { bundleRequirements, type Requirement } from './filter/dependencies.js';
import { configRange, VersionRangeError, type VersionRange } from './version-range.js';

export interface SelectedBundle {
  package: string;
  channels: string[];
  name: string;
  version: string;
  image: string;
  /** the bundle's related images, the bundle image itself included */
  relatedImages: { name?: string; image: string }[];
  /** e.g. "head of channel stable", "in range >=1.2.0 <=2.0.0 of channel fast", "dependency of a.v1.0.0 (olm.gvk.required example.com/v1 Foo)" */
  reasons: string[];
}

export interface CatalogFilterResult {
  /** the filtered catalog: kept packages, channels with only kept entries, kept bundles, deprecations of kept packages */
  config: DeclarativeConfig;
  /** sorted by package, then name */
  bundles: SelectedBundle[];
  /** packages the configuration did not name, added to satisfy dependencies */
  addedPackages: { package: string; reason: string }[];
  /** problems that did not stop filtering: unsatisfiable dependencies, unreadable skipRanges */
  warnings: string[];
  /**
   * False for `full: true` without packages: the catalog is mirrored as it is, `config` is the
   * catalog as parsed (its bundles may be outlines) and is not meant to be written back.
   */
  rebuild: boolean;
}

/** A catalog that cannot satisfy the configuration; the message names the config path. */
export class CatalogFilterError extends ConfigError {
  override name = 'CatalogFilterError';
}

export function filterCatalog(dc: DeclarativeConfig, operator: Operator, where: string): CatalogFilterResult {
  const index = new CatalogIndex(dc);
  if (operator.full && !operator.packages?.length) return wholeCatalog(index);
  const selection = new Selection(index);
  if (operator.packages?.length) {
    operator.packages.forEach((pkg, i) => {
      const path = `${where}.packages[${i}]`;
      selectPackage(selection, pkg, path, `${path} (${pkg.name})`, operator.full === true);
    });
  } else {
    for (const name of index.packageNames()) selectPackage(selection, { name }, where, `${where} package "${name}"`, false);
  }
  const addedPackages = operator.skipDependencies ? [] : resolveDependencies(selection, where);
  return selection.result(addedPackages);
}

/** Bundle key: package and name. */
function key(pkg: string, name: string): string {
  return `${pkg}\u0000${name}`;
}

class Selection {
  /** package → channel name → kept entry indexes of that channel's graph */
  readonly kept = new Map<string, Map<string, Set<number>>>();
  readonly defaultChannel = new Map<string, string>();
  private readonly reasons = new Map<string, string[]>();
  readonly warnings: string[] = [];

  constructor(readonly index: CatalogIndex) {}

  keptChannels(pkg: string): Map<string, Set<number>> {
    let channels = this.kept.get(pkg);
    if (!channels) this.kept.set(pkg, (channels = new Map()));
    return channels;
  }

  graph(channel: FbcChannel): ChannelGraph {
    const graph = this.index.graph(channel);
    for (const w of graph.warnings) if (!this.warnings.includes(`package "${channel.package}" ${w}`)) this.warnings.push(`package "${channel.package}" ${w}`);
    return graph;
  }

  /** Keeps `nodes` of a channel; returns the bundle names not selected before in any channel. An empty reason adds none. */
  keep(channel: FbcChannel, nodes: Iterable<number>, reasonOf: (node: number) => string): string[] {
    const graph = this.index.graph(channel);
    const channels = this.keptChannels(channel.package);
    let set = channels.get(channel.name);
    if (!set) channels.set(channel.name, (set = new Set()));
    const added: string[] = [];
    for (const node of nodes) {
      set.add(node);
      const name = graph.names[node]!;
      const k = key(channel.package, name);
      let reasons = this.reasons.get(k);
      if (!reasons) {
        this.reasons.set(k, (reasons = []));
        added.push(name);
      }
      const reason = reasonOf(node);
      if (reason && !reasons.includes(reason)) reasons.push(reason);
    }
    return added;
  }

  isSelected(bundle: FbcBundle): boolean {
    return this.reasons.has(key(bundle.package, bundle.name));
  }

  selectedBundles(): FbcBundle[] {
    return [...this.reasons.keys()]
      .sort(compareStrings)
      .map((k) => {
        const [pkg, name] = k.split('\u0000') as [string, string];
        return this.index.bundle(pkg, name)!;
      });
  }

  result(addedPackages: { package: string; reason: string }[]): CatalogFilterResult {
    const packages: FbcPackage[] = [];
    const channels: FbcChannel[] = [];
    const bundles: FbcBundle[] = [];
    const selected: SelectedBundle[] = [];
    const keptPackages = new Set<string>();
    const bundleChannels = new Map<string, string[]>();
    for (const pkgName of [...this.kept.keys()].sort(compareStrings)) {
      const pkg = this.index.packages.get(pkgName)!;
      keptPackages.add(pkgName);
      const override = this.defaultChannel.get(pkgName);
      packages.push(override && override !== pkg.defaultChannel ? { ...pkg, defaultChannel: override, raw: { ...pkg.raw, defaultChannel: override } } : pkg);
      const kept = this.kept.get(pkgName)!;
      for (const channelName of [...kept.keys()].sort(compareStrings)) {
        const channel = this.index.channel(pkgName, channelName)!;
        const names = new Set([...kept.get(channelName)!].map((n) => this.index.graph(channel).names[n]!));
        channels.push(filterChannel(channel, names));
        for (const name of names) {
          const k = key(pkgName, name);
          bundleChannels.set(k, [...(bundleChannels.get(k) ?? []), channelName]);
        }
      }
    }
    for (const bundle of this.selectedBundles()) {
      bundles.push(bundle);
      const relatedImages = [...bundle.relatedImages];
      if (bundle.image && !relatedImages.some((r) => r.image === bundle.image)) relatedImages.push({ image: bundle.image });
      selected.push({
        package: bundle.package,
        channels: bundleChannels.get(key(bundle.package, bundle.name)) ?? [],
        name: bundle.name,
        version: bundle.version,
        image: bundle.image,
        relatedImages,
        reasons: this.reasons.get(key(bundle.package, bundle.name))!,
      });
    }
    const keptBundles = new Set(bundles.map((b) => key(b.package, b.name)));
    const keptChannelKeys = new Set(channels.map((c) => key(c.package, c.name)));
    const deprecations = this.index.dc.deprecations.flatMap((d) =>
      keptPackages.has(d.package) ? filterDeprecation(d, keptChannelKeys, keptBundles) : [],
    );
    const others = this.index.dc.others.filter((o) => typeof o.package !== 'string' || o.package === '' || keptPackages.has(o.package));
    return {
      config: { packages, channels, bundles, deprecations, others },
      bundles: selected,
      addedPackages,
      warnings: this.warnings,
      rebuild: true,
    };
  }
}

function filterChannel(channel: FbcChannel, names: Set<string>): FbcChannel {
  if (names.size === channel.entries.length) return channel;
  const rawEntries = Array.isArray(channel.raw.entries) ? (channel.raw.entries as { name?: unknown }[]) : [];
  return {
    ...channel,
    entries: channel.entries.filter((e) => names.has(e.name)),
    raw: { ...channel.raw, entries: rawEntries.filter((e) => typeof e.name === 'string' && names.has(e.name)) },
  };
}

/** Drops deprecation entries about channels and bundles that were filtered out; nothing left, no object. */
function filterDeprecation(d: FbcDeprecation, channels: Set<string>, bundles: Set<string>): FbcDeprecation[] {
  const entries = Array.isArray(d.raw.entries) ? (d.raw.entries as { reference?: { schema?: unknown; name?: unknown } }[]) : [];
  const kept = entries.filter((e) => {
    const ref = e.reference;
    if (ref?.schema === 'olm.channel') return typeof ref.name === 'string' && channels.has(key(d.package, ref.name));
    if (ref?.schema === 'olm.bundle') return typeof ref.name === 'string' && bundles.has(key(d.package, ref.name));
    return true;
  });
  if (kept.length === 0) return [];
  return kept.length === entries.length ? [d] : [{ ...d, raw: { ...d.raw, entries: kept } }];
}

function wholeCatalog(index: CatalogIndex): CatalogFilterResult {
  const channelsOf = new Map<string, string[]>();
  const warnings: string[] = [];
  for (const c of [...index.dc.channels].sort((a, b) => compareStrings(a.package, b.package) || compareStrings(a.name, b.name))) {
    for (const e of c.entries) {
      const k = key(c.package, e.name);
      channelsOf.set(k, [...(channelsOf.get(k) ?? []), c.name]);
    }
  }
  const bundles = [...index.dc.bundles]
    .sort((a, b) => compareStrings(a.package, b.package) || compareStrings(a.name, b.name))
    .map((b): SelectedBundle => {
      const relatedImages = [...b.relatedImages];
      if (b.image && !relatedImages.some((r) => r.image === b.image)) relatedImages.push({ image: b.image });
      return {
        package: b.package,
        channels: channelsOf.get(key(b.package, b.name)) ?? [],
        name: b.name,
        version: b.version,
        image: b.image,
        relatedImages,
        reasons: ['full catalog (full: true)'],
      };
    });
  return { config: index.dc, bundles, addedPackages: [], warnings, rebuild: false };
}

/** `<owner> <noun>s are: a, b, c`, or the closest few of a long list. */
function listNames(names: string[], wanted: string, owner: string, noun: string): string {
  if (names.length === 0) return `${owner} ${noun}s: none`;
  if (names.length <= 20) return `${owner} ${noun}s are: ${names.join(', ')}`;
  const closest = [...names].sort((a, b) => distance(a, wanted) - distance(b, wanted) || compareStrings(a, b)).slice(0, 5);
  return `the closest of ${owner} ${names.length} ${noun}s: ${closest.join(', ')}`;
}

/** Levenshtein distance, for suggesting names. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

function rangeOf(min: string | undefined, max: string | undefined, path: string): VersionRange | undefined {
  try {
    return configRange(min, max);
  } catch (err) {
    if (err instanceof VersionRangeError) throw new CatalogFilterError(`${path}: ${err.message}`);
    throw err;
  }
}

function channelFailure(err: unknown, label: string): never {
  if (err instanceof ChannelGraphError) throw new CatalogFilterError(`${label}: ${err.message}`);
  throw err;
}

/**
 * Applies one package entry (or, with no packages listed, the implicit heads-only entry of every
 * package). `path` is the config path of the entry, `label` how errors start (path and package).
 */
function selectPackage(selection: Selection, spec: OperatorPackage, path: string, label: string, full: boolean): void {
  const index = selection.index;
  const pkg = index.packages.get(spec.name);
  if (!pkg) {
    throw new CatalogFilterError(`${label}: the catalog has no package "${spec.name}"; ${listNames(index.packageNames(), spec.name, "the catalog's", 'package')}`);
  }
  const existing = index.channels(pkg.name).map((c) => c.name);
  const wanted: { channel: FbcChannel; range?: VersionRange; path: string }[] = [];
  if (spec.channels?.length) {
    spec.channels.forEach((ch, j) => {
      const channelPath = `${path}.channels[${j}]`;
      const channel = index.channel(pkg.name, ch.name);
      if (!channel) {
        throw new CatalogFilterError(`${channelPath} (${ch.name}): package "${pkg.name}" has no channel "${ch.name}"; ${listNames(existing, ch.name, 'its', 'channel')}`);
      }
      const range = rangeOf(ch.minVersion, ch.maxVersion, channelPath);
      wanted.push({ channel, path: `${channelPath} (${ch.name})`, ...(range && { range }) });
    });
  } else {
    const range = rangeOf(spec.minVersion, spec.maxVersion, path);
    for (const channel of index.channels(pkg.name)) wanted.push({ channel, path: label, ...(range && { range }) });
  }
  if (spec.defaultChannel && !existing.includes(spec.defaultChannel)) {
    throw new CatalogFilterError(
      `${path}.defaultChannel (${spec.defaultChannel}): package "${pkg.name}" has no channel "${spec.defaultChannel}"; ${listNames(existing, spec.defaultChannel, 'its', 'channel')}`,
    );
  }

  const emptied = new Map<string, string>();
  for (const { channel, range, path: at } of wanted) {
    const where = at === label ? `${label} channel "${channel.name}"` : at;
    if (full) {
      selection.keep(channel, selection.graph(channel).all(), () => `in channel ${channel.name} (full: true)`);
      continue;
    }
    const graph = selection.graph(channel);
    let head: number;
    try {
      head = graph.head();
    } catch (err) {
      channelFailure(err, label);
    }
    if (!range) {
      selection.keep(channel, [head], () => `head of channel ${channel.name}`);
      continue;
    }
    const inRange = new Set<number>();
    graph.versions.forEach((v, node) => {
      if (!v) {
        throw new CatalogFilterError(
          `${where}: bundle ${graph.names[node]} has version "${graph.versionTexts[node]}", which is not semantic versioning, so a version range cannot apply`,
        );
      }
      if (range.matches(v)) inRange.add(node);
    });
    if (inRange.size === 0) {
      emptied.set(channel.name, range.text);
      // A package range drops the channels it does not reach (scenarios 5-7); a channel named with its own range is worth a word.
      if (at !== label) selection.warnings.push(`${at}: no bundle of the channel is in range ${range.text}; the channel is left out`);
      continue;
    }
    const { kept } = graph.span(inRange);
    selection.keep(channel, kept, (node) =>
      inRange.has(node) ? `in range ${range.text} of channel ${channel.name}` : `on the upgrade path of channel ${channel.name} (outside ${range.text})`,
    );
  }

  const kept = selection.keptChannels(pkg.name);
  const defaultChannel = spec.defaultChannel ?? pkg.defaultChannel;
  if (defaultChannel && !kept.has(defaultChannel)) {
    const keptNames = [...kept.keys()].sort(compareStrings);
    const advice = keptNames.length ? `set defaultChannel to one of the channels that keep bundles: ${keptNames.join(', ')}` : 'no channel keeps any bundle';
    const emptyRange = emptied.get(defaultChannel);
    if (spec.defaultChannel) {
      throw new CatalogFilterError(`${path}.defaultChannel (${defaultChannel}): no bundle of channel "${defaultChannel}" is in range ${emptyRange}; ${advice}`);
    }
    if (emptyRange !== undefined) {
      throw new CatalogFilterError(`${label}: no bundle of the default channel "${defaultChannel}" is in range ${emptyRange}; ${advice}`);
    }
    throw new CatalogFilterError(
      `${label}: the default channel "${defaultChannel}" of package "${pkg.name}" is not among the channels selected; ${advice}`,
    );
  }
  if (spec.defaultChannel) selection.defaultChannel.set(pkg.name, spec.defaultChannel);
}

/**
 * Adds, transitively, a provider for every requirement of a selected bundle that no selected
 * bundle satisfies: in the package a requirement names, or among the packages providing the API
 * (already selected packages first, then by name); within a package, in its default channel
 * first, then its other channels by name; within a channel, the newest entry that satisfies it.
 * The channel's kept set is then re-spanned so that it stays one consistent graph.
 */
function resolveDependencies(selection: Selection, where: string): { package: string; reason: string }[] {
  const index = selection.index;
  const added: { package: string; reason: string }[] = [];
  const work = selection.selectedBundles();
  for (let i = 0; i < work.length; i++) {
    const bundle = work[i]!;
    for (const requirement of bundleRequirements(bundle, selection.warnings)) {
      const candidates = requirement.packageName
        ? index.bundles(requirement.packageName).filter((b) => requirement.satisfiedBy(b))
        : index.providers(requirement.gvk!);
      if (candidates.some((b) => selection.isSelected(b))) continue;
      const choice = chooseProvider(selection, candidates);
      if (!choice) {
        selection.warnings.push(`bundle ${bundle.name} (package ${bundle.package}) requires ${requirement.text}, which no bundle in a channel of the catalog provides`);
        continue;
      }
      const reason = `dependency of ${bundle.name} (${requirement.text})`;
      const newPackage = !selection.kept.has(choice.channel.package);
      const newNames = extendChannel(selection, choice, reason, requirement, where);
      if (newPackage) {
        const pkg = index.packages.get(choice.channel.package);
        const defaultChannel = pkg?.defaultChannel;
        if (defaultChannel !== choice.channel.name) {
          selection.defaultChannel.set(choice.channel.package, choice.channel.name);
          added.push({ package: choice.channel.package, reason: `${reason}; default channel set to ${choice.channel.name}` });
        } else {
          added.push({ package: choice.channel.package, reason });
        }
      }
      for (const name of newNames) work.push(index.bundle(choice.channel.package, name)!);
    }
  }
  return added;
}

interface Provider {
  channel: FbcChannel;
  node: number;
}

function chooseProvider(selection: Selection, candidates: FbcBundle[]): Provider | undefined {
  const index = selection.index;
  const byPackage = new Map<string, Set<string>>();
  for (const b of candidates) {
    let names = byPackage.get(b.package);
    if (!names) byPackage.set(b.package, (names = new Set()));
    names.add(b.name);
  }
  const packages = [...byPackage.keys()].sort(
    (a, b) => Number(selection.kept.has(b)) - Number(selection.kept.has(a)) || compareStrings(a, b),
  );
  for (const pkgName of packages) {
    const names = byPackage.get(pkgName)!;
    const defaultChannel = selection.defaultChannel.get(pkgName) ?? index.packages.get(pkgName)?.defaultChannel;
    const channels = index.channels(pkgName);
    const ordered = [...channels.filter((c) => c.name === defaultChannel), ...channels.filter((c) => c.name !== defaultChannel)];
    for (const channel of ordered) {
      const graph = selection.graph(channel);
      let best: number | undefined;
      graph.names.forEach((name, node) => {
        if (!names.has(name)) return;
        if (best === undefined || newer(graph, node, best)) best = node;
      });
      if (best !== undefined) return { channel, node: best };
    }
  }
  return undefined;
}

function newer(graph: ChannelGraph, a: number, b: number): boolean {
  const va = graph.versions[a];
  const vb = graph.versions[b];
  if (va && vb && va.compare(vb) !== 0) return va.compare(vb) > 0;
  if (va && !vb) return true;
  if (!va && vb) return false;
  return graph.names[a]! > graph.names[b]!;
}

function extendChannel(selection: Selection, { channel, node }: Provider, reason: string, requirement: Requirement, where: string): string[] {
  const graph = selection.graph(channel);
  try {
    graph.head();
  } catch (err) {
    channelFailure(err, `${where}: resolving ${requirement.text} in package "${channel.package}"`);
  }
  const wanted = new Set(selection.keptChannels(channel.package).get(channel.name) ?? []);
  const before = new Set(wanted);
  wanted.add(node);
  const { kept } = graph.span(wanted);
  return selection.keep(channel, kept, (n) =>
    n === node ? reason : before.has(n) ? '' : `on the upgrade path of channel ${channel.name} (for ${graph.names[node]})`,
  );
}

/**
 * Parses and filters a catalog, keeping in memory only what the result needs. The first pass
 * keeps every bundle in outline (a few hundred bytes: what selection and dependency resolution
 * read); the second reads again only the files that hold selected packages, keeping exactly the
 * selected bundles whole, and the filter runs once more on the merged catalog (it selects the
 * same bundles: outlines carry all it reads). `files` must yield the same files each time it is
 * called. For `full: true` without packages there is no second pass: nothing is rebuilt.
 */
export async function parseAndFilterCatalog(
  files: () => AsyncIterable<FbcFile>,
  operator: Operator,
  where: string,
): Promise<CatalogFilterResult> {
  const filesOf = new Map<string, Set<string>>();
  const outlines = await parseDeclarativeConfig(files(), {
    keep: () => false,
    seen: (pkg, path) => {
      let paths = filesOf.get(pkg);
      if (!paths) filesOf.set(pkg, (paths = new Set()));
      paths.add(path);
    },
  });
  let first: CatalogFilterResult | undefined = filterCatalog(outlines, operator, where);
  const wanted = selectionOf(first);
  if (!wanted) return first;
  first = undefined; // not held while the second pass reads
  const paths = new Set([...wanted.packages].flatMap((pkg) => [...(filesOf.get(pkg) ?? [])]));
  const whole = await parseDeclarativeConfig(onlyPaths(files(), paths), {
    keep: (pkg) => wanted.packages.has(pkg),
    keepBundle: (pkg, name) => wanted.bundles.has(key(pkg, name)),
  });
  return filterCatalog(replacePackages(outlines, whole, wanted.packages), operator, where);
}

/** The packages and bundles a first-pass result needs whole; undefined when nothing is rebuilt. */
function selectionOf(result: CatalogFilterResult): { packages: Set<string>; bundles: Set<string> } | undefined {
  if (!result.rebuild) return undefined;
  return {
    packages: new Set(result.config.packages.map((p) => p.name)),
    bundles: new Set(result.bundles.map((b) => key(b.package, b.name))),
  };
}

async function* onlyPaths(files: AsyncIterable<FbcFile>, paths: Set<string>): AsyncGenerator<FbcFile> {
  for await (const file of files) if (paths.has(file.path)) yield file;
}

/** `base` with every object of `packages` taken from `from` instead. */
function replacePackages(base: DeclarativeConfig, from: DeclarativeConfig, packages: Set<string>): DeclarativeConfig {
  const owned = (pkg: unknown): boolean => typeof pkg === 'string' && packages.has(pkg);
  const merge = <T extends { package?: unknown; name?: unknown }>(a: T[], b: T[], ownerOf: (o: T) => unknown): T[] => [
    ...a.filter((o) => !owned(ownerOf(o))),
    ...b.filter((o) => owned(ownerOf(o))),
  ];
  return {
    packages: merge(base.packages, from.packages, (p) => p.name),
    channels: merge(base.channels, from.channels, (c) => c.package),
    bundles: merge(base.bundles, from.bundles, (b) => b.package),
    deprecations: merge(base.deprecations, from.deprecations, (d) => d.package),
    others: merge(base.others, from.others, (o) => o.package),
  };
}
