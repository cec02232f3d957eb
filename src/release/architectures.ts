/**
 * Which Cincinnati architectures a platform stanza asks for (ref §8.3). Cincinnati names them as
 * Go does (amd64, arm64, ppc64le, s390x) plus `multi`, the graph of the multi-arch payloads.
 */
import type { Platform } from '../config/types.js';

export const CINCINNATI_ARCHITECTURES = ['amd64', 'arm64', 'ppc64le', 's390x', 'multi'] as const;
export type CincinnatiArchitecture = (typeof CINCINNATI_ARCHITECTURES)[number];

export const DEFAULT_ARCHITECTURE: CincinnatiArchitecture = 'amd64';

export interface ArchitectureChoice {
  /** one Cincinnati query per channel and architecture, in this order */
  architectures: CincinnatiArchitecture[];
  /**
   * `platforms` set: the multi-arch payloads are queried and the copy keeps only these os/arch
   * pairs of them (a sparse copy, done by the release content collector).
   */
  platforms?: Platform['platforms'];
}

/**
 * - `platforms` → `multi` only: the os/architecture pairs select manifests inside the multi-arch
 *   payloads, they do not select payloads.
 * - else `architectures` (deprecated), each a separate payload per release; duplicates dropped.
 * - else amd64.
 * The config layer already refused the two together and any architecture outside the list.
 */
export function releaseArchitectures(platform: Platform): ArchitectureChoice {
  if (platform.platforms?.length) return { architectures: ['multi'], platforms: platform.platforms };
  if (platform.architectures?.length) return { architectures: [...new Set(platform.architectures)] };
  return { architectures: [DEFAULT_ARCHITECTURE] };
}
