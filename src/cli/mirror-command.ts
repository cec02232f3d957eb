import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { archiveSize as checkArchiveSize } from '../config/checks.js';
import { UsageError } from '../errors.js';
import type { LogLevel, MirrorOptions, Workflow } from '../options.js';
import type { FlagSpec, FlagValues, ParsedArgs } from './flags.js';

/** Flags shared by every command (cobra persistent flags in oc-mirror). */
export const COMMON_FLAGS: FlagSpec[] = [
  { name: 'config', short: 'c', kind: 'string', help: 'path to the ImageSetConfiguration (or DeleteImageSetConfiguration) file' },
  { name: 'workspace', kind: 'string', help: 'file://<dir>: working directory of a mirror-to-mirror run' },
  { name: 'cache-dir', kind: 'string', help: 'base directory of the local store (default $OC_MIRROR_CACHE, else $HOME)' },
  { name: 'log-level', kind: 'string', help: 'info, debug, trace or error (default info)' },
  { name: 'authfile', kind: 'string', help: 'registry credentials (default $REGISTRY_AUTH_FILE, else the containers and docker auth files)' },
  { name: 'parallel-images', kind: 'int', help: 'images copied at once, 1..10 (default 4)' },
  { name: 'parallel-layers', kind: 'int', help: 'blobs copied at once per image, 1..10 (default 5)' },
  { name: 'retry-times', kind: 'int', help: 'retries of a failed image on network errors, 429 and 5xx (default 5)' },
  { name: 'retry-delay', kind: 'duration', help: 'delay between retries; 0 = exponential backoff (default 0)' },
  { name: 'src-tls-verify', kind: 'bool', help: 'verify TLS of source registries; false also allows plain HTTP (default true)' },
  { name: 'dest-tls-verify', kind: 'bool', help: 'verify TLS of the destination registry; false also allows plain HTTP (default true)' },
  { name: 'tls-verify', kind: 'bool', help: 'deprecated: sets both --src-tls-verify and --dest-tls-verify', hidden: true },
  { name: 'src-cert-dir', kind: 'string', help: 'directory of CA certificates (*.crt) for source registries' },
  { name: 'dest-cert-dir', kind: 'string', help: 'directory of CA certificates (*.crt) for the destination registry' },
  { name: 'registries-conf', kind: 'string', help: 'registries.conf for source pulls (default $CONTAINERS_REGISTRIES_CONF, else the containers defaults)' },
  { name: 'port', short: 'p', kind: 'int', help: 'port of the local registry used by disk workflows (default 55000)' },
  { name: 'v2', kind: 'bool', help: 'use oc-mirror v2 behaviour (the only one here; accepted for compatibility)', hidden: true },
  { name: 'v1', kind: 'bool', help: '', hidden: true, notSupported: 'this tool implements oc-mirror v2 only; drop --v1' },
  { name: 'help', short: 'h', kind: 'bool', help: 'show this help' },
  { name: 'registries.d', kind: 'string', help: '', hidden: true, notSupported: 'sigstore signature mirroring is not built yet' },
  { name: 'policy', kind: 'string', help: '', hidden: true, notSupported: 'signature verification (--secure-policy) is not built yet' },
  { name: 'cpu-prof', kind: 'bool', help: '', hidden: true, notSupported: 'Go profiling has no equivalent here; use node --cpu-prof dist/cli.js' },
  { name: 'mem-prof', kind: 'bool', help: '', hidden: true, notSupported: 'Go profiling has no equivalent here; use node --heap-prof dist/cli.js' },
];

/** Flags of the mirror (root) command. */
export const MIRROR_FLAGS: FlagSpec[] = [
  ...COMMON_FLAGS,
  { name: 'from', kind: 'string', help: 'file://<dir>: archives to push (disk to mirror)' },
  { name: 'dry-run', kind: 'bool', help: 'write working-dir/dry-run/mapping.txt and copy nothing' },
  { name: 'image-timeout', kind: 'duration', help: 'time limit for one image including its retries (default 10m)' },
  { name: 'max-nested-paths', kind: 'int', help: 'flatten destination paths to at most this many components (0 = no limit)' },
  { name: 'quiet', short: 'q', kind: 'bool', help: 'print only warnings, errors and the results' },
  { name: 'remove-signatures', kind: 'bool', help: 'do not mirror sigstore signatures (they are not mirrored yet in any case)' },
  { name: 'since', kind: 'string', help: 'yyyy-MM-dd: archive again everything archived since that day (mirror to disk)' },
  { name: 'archive-size', kind: 'int', help: 'GiB per archive, overriding archiveSize of the configuration (mirror to disk)' },
  { name: 'strict-archive', kind: 'bool', help: 'fail when a file is larger than archiveSize instead of giving it an archive of its own' },
  { name: 'dry-run-manifest-lists', kind: 'bool', help: '', notSupported: 'listing the children of manifest lists in a dry run is not built yet' },
  { name: 'secure-policy', kind: 'bool', help: '', notSupported: 'signature verification is not built yet' },
  { name: 'ignore-release-signature', kind: 'bool', help: 'mirror release payloads without fetching or verifying their signatures (no signature ConfigMap)' },
  { name: 'rootless-storage-path', kind: 'string', help: '', hidden: true, notSupported: 'it has no effect in oc-mirror v2 either' },
  { name: 'force', short: 'f', kind: 'bool', help: '', hidden: true, notSupported: 'it has no effect in oc-mirror v2 either' },
];

/**
 * Directory names oc-mirror uses inside working-dir. A destination or --from path with one of
 * them as a path component would collide with the workspace. oc-mirror refuses any substring
 * match (so `/data/helm-archive` fails); we compare whole components.
 */
const INTERNAL_KEYWORDS = [
  'cluster-resources',
  'dry-run',
  'graph-preparation',
  'helm',
  'hold-operator',
  'hold-release',
  'delete',
  'logs',
  'operator-catalogs',
  'release-images',
  'signatures',
];

function keywordIn(path: string): string | undefined {
  const parts = path.split('/');
  return INTERNAL_KEYWORDS.find((k) => parts.includes(k));
}

const LOG_LEVELS: LogLevel[] = ['info', 'debug', 'trace', 'error'];

/**
 * Validates the mirror command's flags and arguments in oc-mirror's order, with its messages
 * (ref §1.5), and resolves the options. Prefixes are checked as prefixes, not substrings.
 */
export function mirrorOptions(args: ParsedArgs, env: NodeJS.ProcessEnv, cwd: string): { options: MirrorOptions; warnings: string[] } {
  const f = args.flags;
  const warnings: string[] = [];
  const { str, num, bool } = flagReaders(f);
  const { workspace, logLevel, cacheFlag } = environmentFlags(f, env);

  if (args.positional.length === 0) throw new UsageError('the destination argument is missing: docker://<registry>[/prefix] or file://<dir>');
  if (args.positional.length > 1) throw new UsageError(`unexpected argument "${args.positional[1]}": give exactly one destination`);
  const destination = args.positional[0]!;
  const from = str('from');
  const since = str('since');

  if (!str('config')) throw new UsageError('use the --config flag it is mandatory');
  const toDisk = destination.startsWith('file://');
  const toRegistry = destination.startsWith('docker://');
  if (toDisk && from !== undefined) throw new UsageError('when destination is file://, mirrorToDisk workflow is assumed, and the --from argument is not needed');
  if (toDisk) {
    const kw = keywordIn(destination.slice('file://'.length));
    if (kw) throw new UsageError(`the destination contains an internal oc-mirror keyword '${kw}'`);
  }
  if (from !== undefined && !from.startsWith('file://')) throw new UsageError('when --from is used, it must have file:// prefix');
  if (from !== undefined && since !== undefined) warnings.push('since flag is only taken into account during mirrorToDisk workflow');
  if (from !== undefined) {
    const kw = keywordIn(from.slice('file://'.length));
    if (kw) throw new UsageError(`the path set in --from flag contains an internal oc-mirror keyword '${kw}'`);
  }
  if (since !== undefined && !isDate(since)) throw new UsageError('--since flag needs to be in format yyyy-MM-dd');
  const parallel = parallelFlags(f);
  if (toDisk && workspace !== undefined) throw new UsageError('when destination is file://, mirrorToDisk workflow is assumed, and the --workspace argument is not needed');
  if (toRegistry && workspace !== undefined && from !== undefined) {
    throw new UsageError('when destination is docker://, --from (assumes disk to mirror workflow) and --workspace (assumes mirror to mirror workflow) cannot be used together');
  }
  if (toRegistry && workspace === undefined && from === undefined) {
    throw new UsageError('when destination is docker://, either --from (assumes disk to mirror workflow) or --workspace (assumes mirror to mirror workflow) need to be provided');
  }
  if (!toDisk && !toRegistry) throw new UsageError('destination must have either file:// (mirror to disk) or docker:// (diskToMirror) protocol prefixes');

  const engine = engineFlags(f, env, cwd, cacheFlag);
  const maxNestedPaths = maxNestedPathsFlag(f);
  const imageTimeoutMs = num('image-timeout', 600_000);
  if (imageTimeoutMs <= 0) throw new UsageError('the flag image-timeout must be a positive duration');
  const archiveSize = typeof f['archive-size'] === 'number' ? (f['archive-size'] as number) : undefined;
  const archiveProblem = archiveSize !== undefined ? checkArchiveSize(archiveSize) : undefined;
  if (archiveProblem) throw new UsageError(`the flag archive-size ${archiveProblem}`);

  const workflow: Workflow = toDisk ? 'mirrorToDisk' : from !== undefined ? 'diskToMirror' : 'mirrorToMirror';
  const archiveDir = toDisk ? resolve(cwd, destination.slice('file://'.length)) : undefined;
  const fromDir = from !== undefined ? resolve(cwd, from.slice('file://'.length)) : undefined;
  // ref §1.6: M2D and D2M keep working-dir beside the archives; M2M in the workspace.
  const wsPath = archiveDir ?? fromDir ?? resolve(cwd, workspace!.slice('file://'.length));
  const workingDir = workflow === 'mirrorToMirror' && basename(wsPath) === 'working-dir' ? wsPath : join(wsPath, 'working-dir');
  const options: MirrorOptions = {
    configPath: resolve(cwd, str('config')!),
    workflow,
    destination,
    workingDir,
    dryRun: bool('dry-run', false),
    ...parallel,
    imageTimeoutMs,
    ...engine,
    maxNestedPaths,
    logLevel,
    quiet: bool('quiet', false),
    ...(archiveDir && { archiveDir }),
    ...(fromDir && { fromDir }),
    strictArchive: bool('strict-archive', false),
    ...(archiveSize && { archiveSizeGiB: archiveSize }),
    ...(since !== undefined && { since }),
    ...(bool('ignore-release-signature', false) && { ignoreReleaseSignature: true }),
  };
  return { options, warnings };
}

export function flagReaders(f: FlagValues) {
  return {
    str: (k: string) => (typeof f[k] === 'string' ? (f[k] as string) : undefined),
    num: (k: string, d: number) => (typeof f[k] === 'number' ? (f[k] as number) : d),
    bool: (k: string, d: boolean) => (typeof f[k] === 'boolean' ? (f[k] as boolean) : d),
  };
}

/** The checks oc-mirror makes before any command's own (`setupEnvironment`, ref §1.5), in its order. */
export function environmentFlags(f: FlagValues, env: NodeJS.ProcessEnv): { workspace?: string; logLevel: LogLevel; cacheFlag?: string } {
  const { str } = flagReaders(f);
  const workspace = str('workspace');
  if (workspace !== undefined && !workspace.startsWith('file://')) throw new UsageError('when --workspace is used, it must have file:// prefix');
  const logLevel = str('log-level') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) throw new UsageError(`"${logLevel}": invalid log-level, it should be one of (info,debug,trace,error)`);
  const cacheFlag = str('cache-dir');
  if (cacheFlag !== undefined && env.OC_MIRROR_CACHE) throw new UsageError('either OC_MIRROR_CACHE or --cache-dir can be used but not both');
  return { ...(workspace !== undefined && { workspace }), logLevel: logLevel as LogLevel, ...(cacheFlag !== undefined && { cacheFlag }) };
}

export function parallelFlags(f: FlagValues): Pick<MirrorOptions, 'parallelImages' | 'parallelLayers'> {
  const { num } = flagReaders(f);
  const parallelImages = num('parallel-images', 4);
  if (parallelImages < 1 || parallelImages > 10) throw new UsageError('the flag parallel-images must be between the range 1 to 10');
  const parallelLayers = num('parallel-layers', 5);
  if (parallelLayers < 1 || parallelLayers > 10) throw new UsageError('the flag parallel-layers must be between the range 1 to 10');
  return { parallelImages, parallelLayers };
}

export function maxNestedPathsFlag(f: FlagValues): number {
  const maxNestedPaths = flagReaders(f).num('max-nested-paths', 0);
  if (maxNestedPaths < 0) throw new UsageError('the flag max-nested-paths must not be negative');
  return maxNestedPaths;
}

/** How every command reaches registries and the local store: retries, TLS, credentials, the store's place and name. */
export type EngineFlags = Pick<
  MirrorOptions,
  'retryTimes' | 'retryDelayMs' | 'srcTlsVerify' | 'destTlsVerify' | 'srcCertDir' | 'destCertDir' | 'authfile' | 'cacheDir' | 'storeHost' | 'registriesConf' | 'uploadChunkSize'
>;

export function engineFlags(f: FlagValues, env: NodeJS.ProcessEnv, cwd: string, cacheFlag: string | undefined): EngineFlags {
  const { str, num, bool } = flagReaders(f);
  const retryTimes = num('retry-times', 5);
  if (retryTimes < 0) throw new UsageError('the flag retry-times must not be negative');
  const port = num('port', 55000);
  if (port < 1 || port > 65535) throw new UsageError('the flag port must be between 1 and 65535');
  const tlsBoth = typeof f['tls-verify'] === 'boolean' ? (f['tls-verify'] as boolean) : undefined;
  const chunk = Number(env.OC_MIRROR_UPLOAD_CHUNK_SIZE ?? 0);
  const authfile = str('authfile');
  const srcCertDir = str('src-cert-dir');
  const registriesConf = str('registries-conf');
  const destCertDir = str('dest-cert-dir');
  return {
    retryTimes,
    retryDelayMs: num('retry-delay', 0),
    srcTlsVerify: bool('src-tls-verify', tlsBoth ?? true),
    destTlsVerify: bool('dest-tls-verify', tlsBoth ?? true),
    ...(srcCertDir && { srcCertDir: resolve(cwd, srcCertDir) }),
    ...(destCertDir && { destCertDir: resolve(cwd, destCertDir) }),
    ...(authfile && { authfile: resolve(cwd, authfile) }),
    cacheDir: resolve(cwd, cacheFlag ?? env.OC_MIRROR_CACHE ?? env.HOME ?? homedir()),
    storeHost: `localhost:${port}`,
    ...(registriesConf && { registriesConf: resolve(cwd, registriesConf) }),
    uploadChunkSize: Number.isFinite(chunk) && chunk > 0 ? chunk : 512 * 1024 * 1024,
  };
}

function isDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
}
