import { formatReference, parseReference, parseRegistryLocation, type RegistryLocation } from '../image/reference.js';
import { isBlocked } from './blocked.js';
import { mergeMembership } from './membership.js';
import { applyMaxNestedPaths, destinationFor, formatRegistryLocation } from './naming.js';
import { originOf, type CollectedImage, type CopyTask, type ImageKind, type Plan } from './types.js';

export interface PlanOptions {
  /**
   * `--max-nested-paths`; 0 = no limit. oc-mirror applies it in mirror-to-mirror and disk-to-mirror
   * only, so a mirror-to-disk caller passes 0 (the local store has no depth limit).
   */
  maxNestedPaths: number;
  /** blockedImages, already compiled */
  blocked: readonly RegExp[];
  /**
   * Disk to mirror: images are read from where mirror to disk stored them (the local store or
   * archives, named as mirror to disk names its destinations) rather than from their source.
   */
  pullFrom?: RegistryLocation;
}

export interface PlanResult {
  plan: Plan;
  /** images removed by blockedImages, in input order, for the log */
  blocked: CollectedImage[];
}

/**
 * Copy order (ref §5.7): release components first, catalogs last. Related images go before bundles
 * so that a bundle whose related image failed can be skipped rather than mirrored broken.
 */
export const COPY_PRIORITY: Readonly<Record<ImageKind, number>> = {
  ocpReleaseContent: 1,
  ocpRelease: 3,
  cincinnatiGraph: 4,
  operatorRelatedImage: 5,
  generic: 6,
  helmImage: 7,
  operatorBundle: 8,
  operatorCatalog: 9,
};

/**
 * When two collectors plan the very same copy, the kind that says most about the image wins: a
 * bundle also listed among related images stays a bundle, an additional image that an operator needs
 * is reported as an operator image so that its failure names the bundles it breaks.
 */
const MERGE_PRECEDENCE: Readonly<Record<ImageKind, number>> = {
  ocpRelease: 0,
  ocpReleaseContent: 1,
  cincinnatiGraph: 2,
  operatorCatalog: 3,
  operatorBundle: 4,
  operatorRelatedImage: 5,
  generic: 6,
  helmImage: 7,
};

/**
 * Turns collected images into copy tasks at `destination` (a `docker://host[/prefix]` string or an
 * already parsed location: for mirror-to-disk the host is the local store's name).
 *
 * Blocked patterns are matched against the source and against the destination both before and
 * after `--max-nested-paths` flattening, so a pattern written against the natural path still blocks.
 * A copy planned twice (same source, same destination) is kept once, its memberships merged, where
 * oc-mirror copies it once per collector.
 */
export function buildPlan(images: readonly CollectedImage[], destination: string | RegistryLocation, opts: PlanOptions): PlanResult {
  const location = typeof destination === 'string' ? parseRegistryLocation(destination) : destination;
  const planDestination = typeof destination === 'string' ? destination.trim() : formatRegistryLocation(location);

  const blocked: CollectedImage[] = [];
  const tasks = new Map<string, CopyTask>();
  for (const image of images) {
    const named = destinationFor(image, location);
    const flattened = applyMaxNestedPaths(named, opts.maxNestedPaths);
    if (isBlocked(image, named, opts.blocked) || (flattened !== named && isBlocked(image, flattened, opts.blocked))) {
      blocked.push(image);
      continue;
    }
    const source = formatReference(parseReference(image.source));
    const pullFrom = opts.pullFrom ? destinationFor(image, opts.pullFrom) : image.pullFrom;
    const key = `${source}=${flattened}`;
    const existing = tasks.get(key);
    const kind = existing && MERGE_PRECEDENCE[existing.kind] <= MERGE_PRECEDENCE[image.kind] ? existing.kind : image.kind;
    const belongsTo = existing ? mergeMembership(existing.belongsTo, image.belongsTo) : image.belongsTo;
    tasks.set(key, { ...makeTask(source, flattened, kind, belongsTo), ...(pullFrom && { pullFrom }) });
  }

  // Array.prototype.sort is stable: equal priorities keep the collectors' order.
  const ordered = [...tasks.values()].sort((a, b) => COPY_PRIORITY[a.kind] - COPY_PRIORITY[b.kind]);
  return { plan: { destination: planDestination, tasks: ordered }, blocked };
}

function makeTask(source: string, destination: string, kind: ImageKind, belongsTo: CopyTask['belongsTo']): CopyTask {
  return { source, destination, kind, origin: originOf(kind), ...(belongsTo && { belongsTo }) };
}

export interface DestinationConflict {
  destination: string;
  /** the different sources that would be written there, in plan order */
  sources: string[];
}

/**
 * Destinations that more than one different image would be written to: images from two registries
 * with the same path and tag, or a targetRepo/targetTag or `--max-nested-paths` collision. The last
 * copy would silently win. Sources with the same digest hold the same content and do not conflict.
 */
export function findDestinationConflicts(tasks: readonly CopyTask[]): DestinationConflict[] {
  const byDestination = new Map<string, { sources: string[]; contents: Set<string> }>();
  for (const task of tasks) {
    let entry = byDestination.get(task.destination);
    if (!entry) {
      entry = { sources: [], contents: new Set() };
      byDestination.set(task.destination, entry);
    }
    if (!entry.sources.includes(task.source)) entry.sources.push(task.source);
    entry.contents.add(parseReference(task.source).digest ?? task.source);
  }
  return [...byDestination]
    .filter(([, entry]) => entry.contents.size > 1)
    .map(([destination, entry]) => ({ destination, sources: entry.sources }));
}
