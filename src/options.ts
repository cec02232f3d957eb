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
  /** blobs above this size are uploaded in chunks (bytes); 0 = always monolithic */
  uploadChunkSize: number;
}
