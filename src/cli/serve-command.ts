/**
 * `oc-mirror serve`: the embedded registry on its own. Over the local cache (read-write, what the
 * disk workflows use on localhost:55000), or with `--from file://<dir>` over mirror archives read
 * in place (read-only): a disconnected site can install straight from the transfer disk.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { isIP } from 'node:net';
import { openArchives } from '../archive/reader.js';
import { UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import type { LogLevel } from '../options.js';
import { ReadOnlyLayoutBackend, StoreBackend, type RegistryBackend } from '../server/backend.js';
import { startRegistryServer, type RunningRegistry } from '../server/registry-server.js';
import { LocalStore } from '../store/store.js';
import { parseArgs, type FlagSpec } from './flags.js';

export const DEFAULT_SERVE_PORT = 55000;
export const DEFAULT_SERVE_ADDRESS = '127.0.0.1';

export const SERVE_FLAGS: FlagSpec[] = [
  { name: 'port', short: 'p', kind: 'int', help: `port to listen on (default ${DEFAULT_SERVE_PORT}; 0 picks a free one)` },
  { name: 'address', kind: 'string', help: `address to listen on (default ${DEFAULT_SERVE_ADDRESS}; the registry has no authentication)` },
  { name: 'cache-dir', kind: 'string', help: 'base directory of the local cache (default $OC_MIRROR_CACHE, else $HOME)' },
  { name: 'from', kind: 'string', help: 'file://<dir>: serve the mirror archives in <dir>, read-only, without importing them' },
  { name: 'log-level', kind: 'string', help: 'info, debug, trace or error (default info); debug logs every request' },
  { name: 'v2', kind: 'bool', help: 'accepted for compatibility', hidden: true },
  { name: 'help', short: 'h', kind: 'bool', help: 'show this help' },
];

const USAGE = `oc-mirror serve: serve the local cache, or mirror archives, as a registry (distribution API v2, plain HTTP)

Usage:
  oc-mirror serve [--port 55000] [--cache-dir <dir>]        the local cache, read-write
  oc-mirror serve --from file://<archive dir> [--port N]    archives in place, read-only

Flags:`;

export function serveUsage(): string {
  const lines = SERVE_FLAGS.filter((s) => !s.hidden).map(
    (s) => `  ${s.short ? `-${s.short}, ` : '    '}--${s.name}${s.kind === 'bool' ? '' : ` ${s.kind}`}`.padEnd(30) + s.help,
  );
  return `${USAGE}\n${lines.join('\n')}\n`;
}

const LOG_LEVELS: LogLevel[] = ['info', 'debug', 'trace', 'error'];

/** What `oc-mirror serve` was asked to do, validated. */
export interface ServeOptions {
  port: number;
  address: string;
  logLevel: LogLevel;
  /** archives directory (read-only serving), or undefined for the local cache */
  archivesDir?: string;
  /** `<cache base>/.oc-mirror/.cache` */
  storeRoot: string;
  /** `<cache base>/.oc-mirror`: uploads in progress are spooled here, on the store's filesystem */
  workDir: string;
}

export function serveOptions(argv: string[], env: NodeJS.ProcessEnv, cwd: string): ServeOptions & { help: boolean } {
  const { flags, positional } = parseArgs(argv, SERVE_FLAGS);
  const str = (k: string) => (typeof flags[k] === 'string' ? (flags[k] as string) : undefined);
  if (positional.length > 0) throw new UsageError(`unexpected argument "${positional[0]}": serve takes flags only`);
  const logLevel = str('log-level') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) throw new UsageError(`"${logLevel}": invalid log-level, it should be one of (info,debug,trace,error)`);
  const cacheFlag = str('cache-dir');
  if (cacheFlag !== undefined && env.OC_MIRROR_CACHE) throw new UsageError('either OC_MIRROR_CACHE or --cache-dir can be used but not both');
  const port = typeof flags.port === 'number' ? flags.port : DEFAULT_SERVE_PORT;
  if (port < 0 || port > 65535) throw new UsageError('the flag port must be between 0 and 65535');
  const address = str('address') ?? DEFAULT_SERVE_ADDRESS;
  if (address === '') throw new UsageError('the flag address must not be empty');
  const from = str('from');
  if (from !== undefined && !from.startsWith('file://')) throw new UsageError('when --from is used, it must have file:// prefix');
  const base = resolve(cwd, cacheFlag ?? env.OC_MIRROR_CACHE ?? env.HOME ?? homedir());
  return {
    help: flags.help === true,
    port,
    address,
    logLevel: logLevel as LogLevel,
    ...(from !== undefined && { archivesDir: resolve(cwd, from.slice('file://'.length)) }),
    storeRoot: join(base, '.oc-mirror', '.cache'),
    workDir: join(base, '.oc-mirror'),
  };
}

/** Loopback addresses only reach this machine; anything else exposes an unauthenticated registry. */
export function isLoopback(address: string): boolean {
  if (address === 'localhost') return true;
  if (isIP(address) === 4) return address.startsWith('127.');
  return address === '::1' || address === '0:0:0:0:0:0:0:1' || address.toLowerCase() === '::ffff:127.0.0.1';
}

export interface ServeIo {
  /** where --help goes (default process.stdout) */
  stdout?: { write(text: string): unknown };
  /** stops the server like SIGINT does (tests, embedding) */
  stop?: AbortSignal;
  /** called once the server listens */
  onListening?: (server: RunningRegistry) => void;
}

/**
 * Runs the registry until SIGINT or SIGTERM (or `io.stop`), then closes it and returns 0.
 * `log` is a logger, or a factory given the validated `--log-level`.
 */
export async function runServe(
  argv: string[],
  env: NodeJS.ProcessEnv,
  log: Logger | ((level: LogLevel) => Logger),
  io: ServeIo = {},
): Promise<number> {
  const options = serveOptions(argv, env, process.cwd());
  if (options.help) {
    (io.stdout ?? process.stdout).write(serveUsage());
    return 0;
  }
  const logger = typeof log === 'function' ? log(options.logLevel) : log;
  if (!isLoopback(options.address)) {
    logger.warn(
      `listening on ${options.address}: the registry has no authentication and no TLS, anyone who can reach this address can ${options.archivesDir ? 'read' : 'read and write'} its content`,
    );
  }
  const { backend, uploadParentDir } = await openBackend(options);
  const server = await startRegistryServer({
    backend,
    host: options.address,
    port: options.port,
    log: logger,
    ...(uploadParentDir && { uploadParentDir }),
  });
  logger.info(`serving ${backend.description} on ${server.url}`);
  io.onListening?.(server);
  const why = await stopRequested(io.stop);
  logger.info(`${why}: stopping the registry`);
  await server.close();
  return 0;
}

async function openBackend(options: ServeOptions): Promise<{ backend: RegistryBackend; uploadParentDir?: string }> {
  if (options.archivesDir !== undefined) {
    const archives = await openArchives(options.archivesDir);
    return { backend: new ReadOnlyLayoutBackend(archives, `the archives in ${options.archivesDir} (read-only)`) };
  }
  const store = await LocalStore.open(options.storeRoot);
  return { backend: new StoreBackend(store, `the local cache ${options.storeRoot}`), uploadParentDir: options.workDir };
}

/** Resolves with what asked to stop; the signal handlers are removed again, whichever came first. */
function stopRequested(stop: AbortSignal | undefined): Promise<string> {
  return new Promise((resolve) => {
    const finish = (why: string) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      stop?.removeEventListener('abort', onAbort);
      resolve(why);
    };
    const onInt = () => finish('SIGINT');
    const onTerm = () => finish('SIGTERM');
    const onAbort = () => finish('stop requested');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
    if (stop?.aborted) finish('stop requested');
    else stop?.addEventListener('abort', onAbort, { once: true });
  });
}
