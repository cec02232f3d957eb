import { collectAdditionalImages } from '../collect/additional.js';
import { collectHelmImages } from '../collect/helm.js';
import { collectReleases } from '../collect/releases.js';
import { collectOperators } from '../collect/operators.js';
import type { ClusterResource, CollectContext, Collector, CollectorOutput, DryRunFile } from '../collect/types.js';
import { compileBlockedPattern } from '../config/blocked.js';
import type { ImageSetConfiguration } from '../config/types.js';
import { ConfigError, OcMirrorError } from '../errors.js';
import type { RegistryLocation } from '../image/reference.js';
import type { Logger } from '../log.js';
import type { ImageResult } from '../outputs/report.js';
import { buildPlan, findDestinationConflicts, type PlanOptions } from '../plan/planner.js';
import type { CollectedImage, Plan } from '../plan/types.js';

export interface Collection {
  images: CollectedImage[];
  blocked: RegExp[];
  /** the collectors' cluster-resource hooks, called after the copy */
  resourceHooks?: NonNullable<CollectorOutput['clusterResources']>[];
  /** what the collectors add to working-dir/dry-run/ */
  dryRunFiles?: DryRunFile[];
}

/**
 * The collectors of each content kind, in oc-mirror's order (release, operator, additional, helm:
 * ref §5.7); a kind absent from the configuration costs nothing.
 */
const COLLECTORS: readonly { present(config: ImageSetConfiguration): boolean; collect: Collector }[] = [
  { present: (c) => !!c.mirror?.platform, collect: (ctx) => collectReleases(ctx) },
  { present: (c) => !!c.mirror?.operators?.length, collect: collectOperators },
  {
    present: (c) => !!c.mirror?.additionalImages?.length,
    collect: async (ctx) => ({ images: collectAdditionalImages(ctx.config.mirror?.additionalImages) }),
  },
  {
    present: (c) => !!(c.mirror?.helm?.repositories?.length || c.mirror?.helm?.local?.length),
    collect: collectHelmImages,
  },
];

/** Runs the collectors of a configuration; content kinds whose collectors are not built are refused. */
export async function collectImages(ctx: CollectContext): Promise<Collection> {
  const images: CollectedImage[] = [];
  const resourceHooks: NonNullable<CollectorOutput['clusterResources']>[] = [];
  const dryRunFiles: DryRunFile[] = [];
  for (const c of COLLECTORS) {
    if (!c.present(ctx.config)) continue;
    const out = await c.collect(ctx);
    images.push(...out.images);
    if (out.clusterResources) resourceHooks.push(out.clusterResources);
    dryRunFiles.push(...(out.dryRunFiles ?? []));
  }
  return {
    images,
    blocked: (ctx.config.mirror?.blockedImages ?? []).map((b) => compileBlockedPattern(b.name)),
    resourceHooks,
    dryRunFiles,
  };
}

/** The cluster resources the collectors derive from the copy's results. */
export async function collectorResources(collection: Collection, results: readonly ImageResult[]): Promise<ClusterResource[]> {
  const out: ClusterResource[] = [];
  for (const hook of collection.resourceHooks ?? []) out.push(...(await hook(results)));
  return out;
}

/**
 * Content kinds without a collector, refused before anything is written: never silently skipped, a
 * user must know that a section of their config did nothing.
 */
export function refuseUnbuiltContent(config: ImageSetConfiguration, file: string): void {
  const m = config.mirror;
  if (!m) return;
  const unbuilt: [unknown, string, string][] = [
    [m.samples?.length ? m.samples : undefined, 'mirror.samples', 'samples (oc-mirror does not implement them either)'],
  ];
  for (const [value, path, what] of unbuilt) {
    if (value !== undefined) throw new ConfigError(`${file} ${path}: ${what} are not built yet in this version; remove the section`);
  }
}

/** The plan of a collection at a destination; blocked images are logged, an empty plan is an error. */
export function planCollection(
  collection: Collection,
  destination: string | RegistryLocation,
  opts: Omit<PlanOptions, 'blocked'>,
  log: Logger,
): Plan {
  const { plan, blocked } = buildPlan(collection.images, destination, { ...opts, blocked: collection.blocked });
  for (const image of blocked) log.info(`${image.source} is blocked by blockedImages: not mirrored`);
  // Two different images named to one destination tag: the one copied last silently wins there.
  for (const c of findDestinationConflicts(plan.tasks)) {
    log.warn(`${c.destination} is the destination of ${c.sources.length} different images (${c.sources.join(', ')}): only one will be there; use targetRepo/targetTag to tell them apart`);
  }
  if (plan.tasks.length === 0) throw new OcMirrorError('no images to copy: every image of the configuration is blocked or none is configured');
  return plan;
}
