/** Resolved options of a mirror run: what the CLI and the actions hand to the workflows. Plain data. */
export type Workflow = 'mirrorToMirror' | 'mirrorToDisk' | 'diskToMirror';

export type LogLevel = 'error' | 'info' | 'debug' | 'trace';

export interface MirrorOptions {
  configPath: string;
  workflow: Workflow;
  /** `docker://host[:port][/prefix]` or `file://<dir>` as given */
  destination: string;
  /** absolute path of working-dir */
  workingDir: string;
  dryRun: boolean;
  parallelImages: number;
  parallelLayers: number;
  retryTimes: number;
  retryDelayMs: number;
  imageTimeoutMs: number;
  srcTlsVerify: boolean;
  destTlsVerify: boolean;
  srcCertDir?: string;
  destCertDir?: string;
  authfile?: string;
  maxNestedPaths: number;
  logLevel: LogLevel;
  quiet: boolean;
  /** base of the local store: `<cacheDir>/.oc-mirror/.cache` */
  cacheDir: string;
  /** how the local store is named in plans and mapping.txt: `localhost:<--port>`, as oc-mirror's cache */
  storeHost: string;
  /** mirror to disk: the directory archives are written to */
  archiveDir?: string;
  /** disk to mirror: the directory archives are read from */
  fromDir?: string;
  /** refuse a file larger than archiveSize instead of giving it an archive of its own */
  strictArchive: boolean;
  /** mirror to disk: GiB per archive, overriding the configuration's archiveSize */
  archiveSizeGiB?: number;
  /** registries.conf for source pulls; absent: $CONTAINERS_REGISTRIES_CONF, else the defaults */
  registriesConf?: string;
  /** mirror to disk: include everything archived since this day (yyyy-MM-dd) */
  since?: string;
  /** `--ignore-release-signature`: release payloads are mirrored without fetching or verifying their signatures */
  ignoreReleaseSignature?: boolean;
  /** blobs above this size are uploaded in chunks (bytes); 0 = always monolithic */
  uploadChunkSize: number;
}
