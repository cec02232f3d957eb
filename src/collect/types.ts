/**
 * The contract between the workflows and the collectors (one per content kind: additional images,
 * operator catalogs, releases, helm charts). A collector reads the configuration and its sources
 * through the context and returns plain data: the images to copy, and the cluster resources that
 * only the copy's outcome can complete. It never copies, and never knows which front end runs it.
 */
import type { ImageSetConfiguration } from '../config/types.js';
import type { HttpClient } from '../http/client.js';
import type { ImageReference } from '../image/reference.js';
import type { ImageSource } from '../image/transport.js';
import type { Logger } from '../log.js';
import type { MirrorOptions } from '../options.js';
import type { ImageResult } from '../outputs/report.js';
import type { CollectedImage } from '../plan/types.js';
import type { LocalStore } from '../store/store.js';

/**
 * - `mirrorToMirror`, `mirrorToDisk`: sources are the registries (through registries.conf);
 *   collectors save under `metadata` what disk to mirror will need (graph data, catalogs, charts).
 * - `diskToMirror`: no network but the destination. `source` reads what mirror to disk stored (the
 *   archives, the local store); `metadata` reads what mirror to disk saved.
 * - `delete`: like disk to mirror, from the workspace of an earlier run and the local store.
 */
export type CollectMode = 'mirrorToMirror' | 'mirrorToDisk' | 'diskToMirror' | 'delete';

/**
 * Files under `working-dir/` that travel in the archive. Mirror to disk ships every file written
 * through `write` in its archive, disk to mirror and delete read them back from the archives or the
 * workspace. Paths are relative to working-dir, with `/` separators (e.g.
 * `hold-release/cincinnati-graph-data/stable-4.18.json`).
 */
export interface MetadataFiles {
  /** the bytes, or undefined when no earlier run saved the file */
  read(path: string): Promise<Buffer | undefined>;
  write(path: string, bytes: Buffer | string): Promise<void>;
  /** files directly under a directory; [] when absent */
  list(dir: string): Promise<string[]>;
}

export interface CollectContext {
  config: ImageSetConfiguration;
  /** the config file's base name, for error messages (`isc.yaml mirror.operators[0]: …`) */
  configFile: string;
  mode: CollectMode;
  options: MirrorOptions;
  log: Logger;
  /**
   * Reads an image named by its source reference: from the registries (registries.conf applied)
   * in mirrorTo*, from what mirror to disk stored in diskToMirror and delete.
   */
  source(ref: ImageReference): ImageSource;
  metadata: MetadataFiles;
  /** GETs of non-registry content (Cincinnati, signatures, helm repositories): proxy, TLS, authfile */
  http: HttpClient;
  /**
   * The local store, where collectors put images they build (rebuilt catalogs, the graph image)
   * under the store's host (`options.storeHost`); such images are collected with `pullFrom` set.
   * Absent in diskToMirror and delete: what mirror to disk built is in the archives already.
   */
  store?: LocalStore;
}

/** A file written to `working-dir/cluster-resources/` after the copy. */
export interface ClusterResource {
  /** file name, e.g. `cs-redhat-operator-index-v4-18.yaml` */
  name: string;
  content: string;
}

export interface CollectorOutput {
  images: CollectedImage[];
  /**
   * Cluster resources that depend on where images landed (CatalogSource, ClusterCatalog,
   * UpdateService, signature ConfigMaps); called once the copy is over, in workflows that write to
   * a registry. `results` are every image of the run, with their destinations and statuses.
   */
  clusterResources?(results: readonly ImageResult[]): ClusterResource[] | Promise<ClusterResource[]>;
  /** files a dry run writes into `working-dir/dry-run/` beside mapping.txt (why each operator bundle is there) */
  dryRunFiles?: DryRunFile[];
}

/** A file of `working-dir/dry-run/`, e.g. `operator-bundles.txt`. */
export interface DryRunFile {
  name: string;
  content: string;
}

export type Collector = (ctx: CollectContext) => Promise<CollectorOutput>;
