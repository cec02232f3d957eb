import type { DeleteImageSetConfiguration, ImageSetConfiguration } from './types.js';

/** oc-mirror's archive size when `archiveSize` is absent (ref §2.1). */
export const DEFAULT_ARCHIVE_SIZE_GIB = 500;

export function archiveSizeGiB(config: Pick<ImageSetConfiguration, 'archiveSize'>): number {
  return config.archiveSize || DEFAULT_ARCHIVE_SIZE_GIB;
}

/**
 * oc-mirror gives a delete configuration with release channels and no architectures
 * `architectures: [amd64]` (ref §2.2), so the delete list names the payloads that were mirrored
 * by default. We skip it when `platforms` is set: the two fields exclude each other.
 */
export function withDeleteDefaults(config: DeleteImageSetConfiguration): DeleteImageSetConfiguration {
  const platform = config.delete.platform;
  if (!platform?.channels?.length || platform.architectures?.length || platform.platforms?.length) return config;
  return { ...config, delete: { ...config.delete, platform: { ...platform, architectures: ['amd64'] } } };
}
