import { basename } from 'node:path';
import { collectAdditionalImages } from '../collect/additional.js';
import { compileBlockedPattern } from '../config/blocked.js';
import type { ImageSetConfiguration } from '../config/types.js';
import { ConfigError } from '../errors.js';
import type { CollectedImage } from '../plan/types.js';

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
