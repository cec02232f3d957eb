/**
 * Operator catalogs (ref §7): per `mirror.operators[]` entry, the catalog is pinned to a digest,
 * its file-based catalog read from its layers, filtered, rebuilt into the local store, and the
 * selected bundles' images collected with the catalog. Disk to mirror reads what mirror to disk
 * recorded (saved-selection.ts) and the catalog image from the archives, with no source access.
 *
 * Catalogs are collected one after another; a failing catalog does not stop the others, and the
 * run stops before copying with every catalog's error (ref §7.6).
 */
import { join, resolve } from 'node:path';
import { catalogUniqueName } from '../config/catalog.js';
import type { Operator } from '../config/types.js';
import { CollectionError, ConfigError, errorMessage, OcMirrorError } from '../errors.js';
import { digestTag } from '../image/digest.js';
import { formatReference, type ImageReference } from '../image/reference.js';
import type { RawManifest } from '../image/manifest.js';
import type { ImageSource } from '../image/transport.js';
import type { ImageResult } from '../outputs/report.js';
import type { CollectedImage } from '../plan/types.js';
import { bundleImages, renderBundleReasons } from '../operator/bundle-images.js';
import { configFiles, extractConfigs, inspectCatalog, type CatalogImage } from '../operator/catalog-image.js';
import { catalogFolder, catalogLocation, catalogRepository, catalogTag, filterKey, isRebuilt, type CatalogLocation } from '../operator/catalog-location.js';
import { copyCatalogBlobs, rebuildCatalog } from '../operator/catalog-rebuild.js';
import {
  catalogResourceName,
  loadCatalogSourceTemplate,
  renderCatalogSource,
  renderClusterCatalog,
  type CatalogSourceTemplate,
} from '../operator/cluster-catalogs.js';
import { renderDeclarativeConfig } from '../operator/declarative-config.js';
import { parseAndFilterCatalog, type CatalogFilterResult } from '../operator/filter.js';
import { OciLayoutSource } from '../operator/oci-layout.js';
import { OPERATOR_CATALOGS_DIR, readSelection, saveSelection, savedSelections, selectionPath, type SavedSelection } from '../operator/saved-selection.js';
import { VERSION } from '../version.js';
import type { ClusterResource, CollectContext, CollectorOutput } from './types.js';

/** One catalog entry, collected. */
interface CollectedCatalog {
  op: Operator;
  selection: SavedSelection;
  template?: CatalogSourceTemplate;
}

export async function collectOperators(ctx: CollectContext): Promise<CollectorOutput> {
  const operators = ctx.config.mirror?.operators ?? [];
  const collected: CollectedCatalog[] = [];
  const errors: string[] = [];
  for (const [i, op] of operators.entries()) {
    const where = `${ctx.configFile} mirror.operators[${i}]`;
    try {
      if (op.platforms?.length) throw new ConfigError(`${where}.platforms: per-platform (sparse) catalog copies are not built yet; remove platforms to copy every platform`);
      const selection = ctx.mode === 'mirrorToMirror' || ctx.mode === 'mirrorToDisk' ? await fromSource(ctx, op, where) : await fromArchive(ctx, op, where);
      const template = op.targetCatalogSourceTemplate ? loadCatalogSourceTemplate(resolve(process.cwd(), op.targetCatalogSourceTemplate)) : undefined;
      collected.push({ op, selection, ...(template && { template }) });
    } catch (err) {
      // A configuration problem already names its field; anything else is said with the catalog.
      errors.push(err instanceof ConfigError ? errorMessage(err) : `collect catalog "${op.catalog}": ${errorMessage(err)}`);
    }
  }
  // Every catalog's error at once, with the operator bit of the exit code (ref §7.6, §12.4).
  if (errors.length) throw new CollectionError(errors.join('; '), 'operator');

  const images: CollectedImage[] = [];
  for (const c of collected) {
    images.push(...bundleImages(c.selection.bundles, c.op.catalog, ctx.log));
    images.push(catalogImage(c, ctx));
  }
  return {
    images,
    clusterResources: (results) => catalogResources(collected, results, ctx.log),
    dryRunFiles: [
      {
        name: 'operator-bundles.txt',
        content: renderBundleReasons(
          collected.map((c) => ({ catalog: c.op.catalog, digest: c.selection.catalogDigest, bundles: c.selection.bundles, addedPackages: c.selection.addedPackages })),
        ),
      },
    ],
  };
}

function catalogImage(c: CollectedCatalog, ctx: CollectContext): CollectedImage {
  const { source, image, bundles } = c.selection;
  // What this run built (or took from a layout) is in the store; disk to mirror's planner reads
  // every image from where mirror to disk stored it anyway.
  const inStore = (image.rebuilt || c.op.catalog.startsWith('oci:')) && (ctx.mode === 'mirrorToMirror' || ctx.mode === 'mirrorToDisk');
  return {
    source,
    kind: 'operatorCatalog',
    // The store name is the destination name too: disk to mirror finds the image where mirror to disk put it.
    targetRepo: image.repository,
    targetTag: image.tag,
    ...(inStore && { pullFrom: `${ctx.options.storeHost}/${image.repository}:${image.tag}` }),
    belongsTo: { operators: { catalog: c.op.catalog, packages: [...new Set(bundles.map((b) => b.package))].sort(), bundles: [] } },
  };
}

interface OpenedCatalog {
  loc: CatalogLocation;
  source: ImageSource;
  top: RawManifest;
}

async function openCatalog(ctx: CollectContext, op: Operator): Promise<OpenedCatalog> {
  const loc = catalogLocation(op.catalog, process.cwd());
  if (loc.kind === 'oci') {
    const source = new OciLayoutSource(loc.dir);
    return { loc, source, top: await source.top() };
  }
  const source = ctx.source(loc.ref);
  // Pinned once per run (ref §7.1): everything below reads this digest, whatever the tag does meanwhile.
  const top = await source.getManifest(loc.ref.digest ?? loc.ref.tag!);
  return { loc, source, top };
}

/** Mirror to mirror and mirror to disk: read, filter and rebuild from the source. */
async function fromSource(ctx: CollectContext, op: Operator, where: string): Promise<SavedSelection> {
  const store = ctx.store;
  if (!store) throw new OcMirrorError('operator catalogs need the local store in this workflow');
  const { loc, source, top } = await openCatalog(ctx, op);
  const folder = catalogFolder(loc);
  const key = filterKey(op);
  const repository = catalogRepository(op, loc, where);
  const tag = catalogTag(op, loc);
  const catalogDir = join(ctx.options.workingDir, OPERATOR_CATALOGS_DIR, folder, top.digest.slice(top.digest.indexOf(':') + 1));

  // An earlier run filtered this catalog digest the same way and its image is still in the store: reuse it.
  const earlier = await readSelection(ctx.metadata, selectionPath(folder, top.digest, key));
  if (earlier && earlier.catalog === catalogUniqueName(op) && (await store.repository(earlier.image.repository).manifestDigest(earlier.image.tag)) === earlier.image.digest) {
    ctx.log.info(`catalog ${op.catalog}: ${earlier.bundles.length} bundle(s), filtered catalog reused from the cache (${earlier.image.digest})`);
    await saveSelection(ctx.metadata, folder, earlier);
    return earlier;
  }

  const what = `catalog ${op.catalog}`;
  const image = await inspectCatalog(source, top, what);
  const rebuilt = isRebuilt(op);
  const repo = store.repository(repository);
  // Rebuilt catalogs need every layer in the store; the FBC is then read from there, each blob fetched once.
  if (rebuilt || loc.kind === 'oci') await copyCatalogBlobs(source, image, repo, what);
  const result = await filterFromImage(rebuilt || loc.kind === 'oci' ? repo : source, image, join(catalogDir, 'catalog-config'), op, where, what);
  for (const w of result.warnings) ctx.log.warn(`${what}: ${w}`);

  let stored: SavedSelection['image'];
  let collectedSource: string;
  if (rebuilt) {
    const out = await rebuildCatalog(image, renderDeclarativeConfig(result.config), repo, tag, join(catalogDir, `filtered-layer.tar.tmp-${process.pid}`));
    stored = { repository, tag: out.tag, digest: out.digest, rebuilt: true };
    collectedSource = loc.kind === 'registry' ? formatReference(loc.ref) : `${ctx.options.storeHost}/${repository}:${out.tag}`;
    ctx.log.info(`${what}: ${result.bundles.length} bundle(s) selected, filtered catalog ${out.digest}`);
  } else {
    if (loc.kind === 'oci') {
      // The copy engine reads registries and the store, not layouts: the layout's image goes to the store as it is.
      await storeOriginal(image, repo, tag!);
      collectedSource = `${ctx.options.storeHost}/${repository}:${tag}`;
    } else {
      collectedSource = formatReference(pinned(loc.ref, top.digest));
    }
    stored = { repository, tag: tag ?? digestTag(top.digest), digest: top.digest, rebuilt: false };
    ctx.log.info(`${what}: full catalog, ${result.bundles.length} bundle(s), mirrored as it is`);
  }
  const selection: SavedSelection = {
    catalog: catalogUniqueName(op),
    catalogDigest: top.digest,
    filterKey: key,
    source: collectedSource,
    image: stored,
    bundles: result.bundles,
    addedPackages: result.addedPackages,
  };
  await saveSelection(ctx.metadata, folder, selection);
  return selection;
}

function pinned(ref: ImageReference, digest: string): ImageReference {
  return { ...ref, digest };
}

async function storeOriginal(image: CatalogImage, repo: ReturnType<NonNullable<CollectContext['store']>['repository']>, tag: string): Promise<void> {
  for (const p of image.platforms) if (p.manifest !== image.top) await repo.putManifest(p.manifest, p.manifest.digest);
  await repo.putManifest(image.top, tag);
}

async function filterFromImage(source: ImageSource, image: CatalogImage, dir: string, op: Operator, where: string, what: string): Promise<CatalogFilterResult> {
  await extractConfigs(source, image, dir, what);
  return parseAndFilterCatalog(() => configFiles(dir), op, where);
}

/**
 * Disk to mirror: the selection mirror to disk saved for this entry, checked against the catalog
 * image the archives hold. Filtered again from that image's FBC when this run's configuration
 * selects differently (a subset of what was packed).
 */
async function fromArchive(ctx: CollectContext, op: Operator, where: string): Promise<SavedSelection> {
  const loc = catalogLocation(op.catalog, process.cwd());
  const folder = catalogFolder(loc);
  const unique = catalogUniqueName(op);
  const key = filterKey(op);
  const candidates = (await savedSelections(ctx.metadata, folder))
    .filter((s) => s.catalog === unique)
    .sort((a, b) => Number(b.filterKey === key) - Number(a.filterKey === key));
  for (const s of candidates) {
    const stored = ctx.source({ registry: ctx.options.storeHost, repository: s.image.repository, tag: s.image.tag });
    let top: RawManifest;
    try {
      top = await stored.getManifest(s.image.tag);
    } catch {
      continue;
    }
    if (top.digest !== s.image.digest) continue;
    if (s.filterKey === key) return s;
    const what = `catalog ${op.catalog} (as archived)`;
    const image = await inspectCatalog(stored, top, what);
    const dir = join(ctx.options.workingDir, OPERATOR_CATALOGS_DIR, folder, top.digest.slice(top.digest.indexOf(':') + 1), 'catalog-config');
    const result = await filterFromImage(stored, image, dir, op, where, what);
    ctx.log.warn(
      `${what}: this configuration selects differently from the one mirror to disk used; ${result.bundles.length} bundle(s) are mirrored, but the catalog image mirrored is the one packed (${s.bundles.length} bundle(s)): run mirror to disk with this configuration for a catalog that lists exactly these`,
    );
    return { ...s, filterKey: key, bundles: result.bundles, addedPackages: result.addedPackages };
  }
  throw new OcMirrorError(
    `the archives hold no catalog image for ${unique} that mirror to disk recorded (working-dir/${OPERATOR_CATALOGS_DIR}/${folder}/): run mirror to disk with this catalog first`,
  );
}

/** CatalogSource and ClusterCatalog for each catalog whose image reached the destination (ref §6.2, §6.3). */
function catalogResources(collected: readonly CollectedCatalog[], results: readonly ImageResult[], log: CollectContext['log']): ClusterResource[] {
  const stamp = { createdAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), version: VERSION };
  const out: ClusterResource[] = [];
  for (const c of collected) {
    const copied = results.filter(
      (r) =>
        r.task.kind === 'operatorCatalog' &&
        (r.status === 'mirrored' || r.status === 'present') &&
        r.task.source === c.selection.source &&
        r.task.destination.endsWith(`:${c.selection.image.tag}`),
    );
    for (const r of copied) {
      try {
        const csName = catalogResourceName('cs', r.task.destination);
        if (c.template?.problem) log.warn(`targetCatalogSourceTemplate ${c.template.problem}: the default CatalogSource is written`);
        out.push({ name: `${csName}.yaml`, content: renderCatalogSource(csName, r.task.destination, stamp, c.template?.object) });
        const ccName = catalogResourceName('cc', r.task.destination);
        out.push({ name: `${ccName}.yaml`, content: renderClusterCatalog(ccName, r.task.destination, stamp) });
      } catch (err) {
        log.error(`catalog ${c.op.catalog}: ${errorMessage(err)}`);
      }
    }
  }
  return out;
}
