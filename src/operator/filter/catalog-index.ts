/** Lookups over a parsed catalog: packages, channels and bundles by name, channel graphs, API providers. */
import { CatalogParseError, compareStrings, type DeclarativeConfig, type FbcBundle, type FbcChannel, type FbcPackage } from '../declarative-config.js';
import { parseVersion } from '../version-range.js';
import { ChannelGraph } from './channel-graph.js';
import { providedGvks } from './dependencies.js';

export class CatalogIndex {
  readonly packages = new Map<string, FbcPackage>();
  private readonly channelsByPackage = new Map<string, FbcChannel[]>();
  private readonly bundlesByPackage = new Map<string, Map<string, FbcBundle>>();
  private readonly graphs = new Map<FbcChannel, ChannelGraph>();
  private gvkProviders?: Map<string, FbcBundle[]>;

  constructor(readonly dc: DeclarativeConfig) {
    for (const p of dc.packages) this.packages.set(p.name, p);
    for (const c of dc.channels) {
      let list = this.channelsByPackage.get(c.package);
      if (!list) this.channelsByPackage.set(c.package, (list = []));
      list.push(c);
    }
    for (const list of this.channelsByPackage.values()) list.sort((a, b) => compareStrings(a.name, b.name));
    for (const b of dc.bundles) {
      let map = this.bundlesByPackage.get(b.package);
      if (!map) this.bundlesByPackage.set(b.package, (map = new Map()));
      map.set(b.name, b);
    }
  }

  /** Package names, sorted. */
  packageNames(): string[] {
    return [...this.packages.keys()].sort(compareStrings);
  }

  /** A package's channels, sorted by name. */
  channels(pkg: string): FbcChannel[] {
    return this.channelsByPackage.get(pkg) ?? [];
  }

  channel(pkg: string, name: string): FbcChannel | undefined {
    return this.channels(pkg).find((c) => c.name === name);
  }

  bundle(pkg: string, name: string): FbcBundle | undefined {
    return this.bundlesByPackage.get(pkg)?.get(name);
  }

  bundles(pkg: string): FbcBundle[] {
    return [...(this.bundlesByPackage.get(pkg)?.values() ?? [])];
  }

  /** Bundles declaring the API (an `olm.gvk` key). */
  providers(gvk: string): FbcBundle[] {
    if (!this.gvkProviders) {
      this.gvkProviders = new Map();
      for (const b of this.dc.bundles) {
        for (const key of providedGvks(b)) {
          let list = this.gvkProviders.get(key);
          if (!list) this.gvkProviders.set(key, (list = []));
          list.push(b);
        }
      }
    }
    return this.gvkProviders.get(gvk) ?? [];
  }

  graph(channel: FbcChannel): ChannelGraph {
    let graph = this.graphs.get(channel);
    if (!graph) {
      graph = new ChannelGraph(channel, (name) => {
        const bundle = this.bundle(channel.package, name);
        if (!bundle) {
          throw new CatalogParseError(`catalog package "${channel.package}" channel "${channel.name}": entry "${name}" has no olm.bundle object`);
        }
        return { text: bundle.version, parsed: parseVersion(bundle.version) };
      });
      this.graphs.set(channel, graph);
    }
    return graph;
  }
}
