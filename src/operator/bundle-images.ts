/**
 * The images a catalog's selected bundles need (ref §7.3): each bundle's image (`operatorBundle`)
 * and its related images (`operatorRelatedImage`), each recorded with the packages and bundles
 * that need it, so that a failed copy names what it breaks.
 */
import { errorMessage } from '../errors.js';
import { formatReference, parseReference } from '../image/reference.js';
import type { Logger } from '../log.js';
import type { CollectedImage, ImageKind } from '../plan/types.js';
import type { SelectedBundle } from './filter.js';

interface Needed {
  kind: ImageKind;
  packages: Set<string>;
  bundles: Set<string>;
}

export function bundleImages(bundles: readonly SelectedBundle[], catalog: string, log: Pick<Logger, 'warn'>): CollectedImage[] {
  const needed = new Map<string, Needed>();
  const bundleImagesSet = new Set<string>();
  const add = (image: string, bundle: SelectedBundle, kind: ImageKind): void => {
    let source: string;
    try {
      if (image.startsWith('oci:')) throw new Error(`'oci' is not supported in operator catalogs`);
      const ref = parseReference(image);
      if (!ref.tag && !ref.digest) throw new Error('it has no tag or digest');
      source = formatReference(ref);
    } catch (err) {
      log.warn(`catalog ${catalog}: bundle ${bundle.name} (package ${bundle.package}): image "${image}" skipped: ${errorMessage(err)}`);
      return;
    }
    if (kind === 'operatorBundle') bundleImagesSet.add(source);
    let n = needed.get(source);
    if (!n) needed.set(source, (n = { kind, packages: new Set(), bundles: new Set() }));
    n.packages.add(bundle.package);
    n.bundles.add(bundle.name);
  };
  for (const b of bundles) {
    if (b.image) add(b.image, b, 'operatorBundle');
    for (const r of b.relatedImages) if (r.image && r.image !== b.image) add(r.image, b, 'operatorRelatedImage');
  }
  return [...needed.keys()].sort().map((source) => {
    const n = needed.get(source)!;
    return {
      source,
      // An image that is some bundle's own image is a bundle, even where another lists it as related.
      kind: bundleImagesSet.has(source) ? 'operatorBundle' : n.kind,
      belongsTo: { operators: { catalog, packages: [...n.packages].sort(), bundles: [...n.bundles].sort() } },
    };
  });
}

/**
 * `dry-run/operator-bundles.txt`: for each catalog, each selected bundle with its version, its
 * channels and why it was selected, then the packages added as dependencies.
 */
export function renderBundleReasons(
  catalogs: readonly { catalog: string; digest: string; bundles: readonly SelectedBundle[]; addedPackages: readonly { package: string; reason: string }[] }[],
): string {
  const lines: string[] = [];
  for (const c of catalogs) {
    lines.push(`catalog ${c.catalog} (${c.digest}): ${c.bundles.length} bundle(s)`);
    for (const b of c.bundles) {
      lines.push(`  ${b.package} ${b.name} ${b.version} [channels: ${b.channels.join(', ')}]`);
      for (const r of b.reasons) lines.push(`    - ${r}`);
    }
    for (const p of c.addedPackages) lines.push(`  added package ${p.package}: ${p.reason}`);
    lines.push('');
  }
  return lines.join('\n');
}
