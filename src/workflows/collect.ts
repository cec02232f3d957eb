import { basename } from 'node:path';
import { collectAdditionalImages } from '../collect/additional.js';
import { compileBlockedPattern } from '../config/blocked.js';
import type { ImageSetConfiguration } from '../config/types.js';
import { ConfigError, OcMirrorError } from '../errors.js';
import type { RegistryLocation } from '../image/reference.js';
import type { Logger } from '../log.js';
import { buildPlan, findDestinationConflicts, type PlanOptions } from '../plan/planner.js';
import type { CollectedImage, Plan } from '../plan/types.js';

export interface Collection {
  images: CollectedImage[];
  blocked: RegExp[];
}

/** Runs the collectors of a configuration; content kinds whose collectors are not built are refused. */
export function collectImages(config: ImageSetConfiguration, configPath: string): Collection {
  refuseUnbuiltContent(config, basename(configPath));
  return {
    images: collectAdditionalImages(config.mirror?.additionalImages),
    blocked: (config.mirror?.blockedImages ?? []).map((b) => compileBlockedPattern(b.name)),
  };
}

/** Refused, never silently skipped: a user must know that a section of their config did nothing. */
function refuseUnbuiltContent(config: ImageSetConfiguration, file: string): void {
  const m = config.mirror;
  if (!m) return;
  const unbuilt: [unknown, string, string][] = [
    [m.platform, 'mirror.platform', 'platform releases'],
    [m.operators?.length ? m.operators : undefined, 'mirror.operators', 'operator catalogs'],
    [m.helm, 'mirror.helm', 'helm charts'],
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
