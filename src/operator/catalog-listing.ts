/**
 * What `oc-mirror list operators` prints about a catalog (ref §1.8): its packages, a package's
 * channels and their heads, a channel's versions. Plain text in aligned columns.
 */
import { OcMirrorError } from '../errors.js';
import { compareStrings, type DeclarativeConfig, type FbcBundle } from './declarative-config.js';
import { CatalogIndex } from './filter/catalog-index.js';
import { compareVersions, parseVersion } from './version-range.js';

export interface ListQuery {
  package?: string;
  channel?: string;
}

export function renderCatalogListing(dc: DeclarativeConfig, query: ListQuery, catalog: string): string {
  const index = new CatalogIndex(dc);
  if (!query.package) {
    return table(
      ['NAME', 'DISPLAY NAME', 'DEFAULT CHANNEL'],
      index.packageNames().map((name) => packageRow(index, name)),
    );
  }
  const pkg = query.package;
  if (!index.packages.has(pkg)) {
    throw new OcMirrorError(`package "${pkg}" is not in catalog ${catalog} (it has ${index.packageNames().length} packages: ${index.packageNames().slice(0, 20).join(', ')})`);
  }
  if (!query.channel) {
    const channels = index.channels(pkg).map((c) => [pkg, c.name, headOf(index, c)]);
    return `${table(['NAME', 'DISPLAY NAME', 'DEFAULT CHANNEL'], [packageRow(index, pkg)])}\n${table(['PACKAGE', 'CHANNEL', 'HEAD'], channels)}`;
  }
  const channel = index.channel(pkg, query.channel);
  if (!channel) {
    throw new OcMirrorError(`channel "${query.channel}" is not in package "${pkg}" of catalog ${catalog} (channels: ${index.channels(pkg).map((c) => c.name).join(', ')})`);
  }
  const versions = channel.entries.map((e) => index.bundle(pkg, e.name)?.version ?? e.name);
  return table(['VERSIONS'], sortVersions(versions).map((v) => [v]));
}

function packageRow(index: CatalogIndex, name: string): string[] {
  const p = index.packages.get(name)!;
  const defaultChannel = p.defaultChannel ?? '';
  const channel = defaultChannel ? index.channel(name, defaultChannel) : undefined;
  const head = channel ? headOf(index, channel) : '';
  return [name, displayName(index.bundle(name, head)), defaultChannel];
}

function headOf(index: CatalogIndex, channel: Parameters<CatalogIndex['graph']>[0]): string {
  try {
    const graph = index.graph(channel);
    return graph.names[graph.head()]!;
  } catch {
    // A channel without a single head still lists; its head column says so.
    return '(no single head)';
  }
}

/** The CSV's display name, from the bundle's `olm.csv.metadata` property. */
function displayName(bundle: FbcBundle | undefined): string {
  const meta = bundle?.properties.find((p) => p.type === 'olm.csv.metadata')?.value as { displayName?: unknown } | undefined;
  return typeof meta?.displayName === 'string' ? meta.displayName : '';
}

function sortVersions(versions: string[]): string[] {
  return [...new Set(versions)].sort((a, b) => {
    const va = parseVersion(a);
    const vb = parseVersion(b);
    if (va && vb) return compareVersions(va, vb);
    if (va) return -1;
    if (vb) return 1;
    return compareStrings(a, b);
  });
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]! + 2)))
      .join('')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
