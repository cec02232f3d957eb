import type { MirrorOptions } from '../options.js';

/**
 * Resolved options of `oc-mirror delete` (ref §1.7). Plain data. `engine` holds what deleting
 * shares with mirroring (registries, TLS, credentials, parallelism, retries, the local store, the
 * log level); with `--generate` it also carries the configuration, the workspace and
 * --max-nested-paths, and is what the collectors see.
 */
export interface DeleteOptions {
  engine: MirrorOptions;
  /** `docker://host[:port][/prefix]` as given */
  destination: string;
  /** phase 1: write the delete list; otherwise phase 2: delete what `deleteYamlFile` lists */
  generate: boolean;
  /** absolute path of the list to apply (phase 2) */
  deleteYamlFile?: string;
  /** suffix of the generated file names (phase 1) */
  deleteId?: string;
  /** also list (phase 1) or delete (phase 2) the sigstore `sha256-<hex>.sig` tags of the images */
  deleteSignatures: boolean;
  /** phase 2: also remove the images from the local store and reclaim its unreferenced blobs */
  forceCacheDelete: boolean;
  /** phase 2: say what would be deleted, delete nothing */
  dryRun: boolean;
}
