/**
 * What the benchmark scripts (m2m.ts, disk.ts) share: lifecycle (registries and temp dirs stopped
 * on success, error and Ctrl-C), measured attempts that are retried after a failure or a busy host,
 * the CPU bookkeeping around a run, statistics and table formatting, the CLI bundle to measure.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { makeTrackedDir, removeDir } from '../test/support/cleanup.js';
import type { PushedImage } from '../test/support/images.js';
import type { ToolPaths } from '../test/support/tools.js';
import { startRegistry, type TestRegistry } from '../test/support/registry.js';
import { benchImages, pool, pushDataset, summarise, type BenchImage, type DatasetSummary } from './dataset.js';
import { cpuTicks, findPid, haveGnuTime, processCpuS, stopRunning, waitIdle, type ProcResult } from './proc.js';
import { accessLogWindow, verifyMirror, type RequestCounts, type VerifyOptions, type VerifyResult } from './registry-check.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const OUT = join(ROOT, 'bench', 'out');
export const MB = 1e6;
/** the machine counts as idle below this many busy cores */
export const IDLE_CORES = 0.3;

// ---------------------------------------------------------------------------------------------
// Command line

/**
 * Walks `argv` (`--flag value` and `--flag=value`), calling `on(flag, arg)` for each flag; `arg`
 * reads the flag's value. `on` returns false for an unknown flag.
 */
export function parseFlags(
  argv: string[],
  help: string,
  on: (flag: string, arg: { value(): string; int(min: number): number; num(min: number): number }) => boolean,
): void {
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    const [flag, inline] = raw.includes('=') ? [raw.slice(0, raw.indexOf('=')), raw.slice(raw.indexOf('=') + 1)] : [raw, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    const num = (min: number, integer = false) => {
      const n = Number(value());
      if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) throw new Error(`${flag} must be ${integer ? 'an integer' : 'a number'} ≥ ${min}`);
      return n;
    };
    if (flag === '--help' || flag === '-h') {
      process.stdout.write(help);
      process.exit(0);
    }
    if (!on(flag, { value, int: (min) => num(min, true), num: (min) => num(min) })) throw new Error(`unknown argument ${raw}\n${help}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Lifecycle: everything started is stopped on success, error and Ctrl-C

const registries = new Set<TestRegistry>();
let workDir: string | undefined;

/** The bench's temp dir (removed by cleanupAll, and at exit whatever happens). */
export function makeWorkDir(prefix: string): string {
  workDir = makeTrackedDir(prefix);
  return workDir;
}

export async function freshRegistry(): Promise<TestRegistry> {
  const reg = await startRegistry();
  registries.add(reg);
  return reg;
}

export async function dropRegistry(reg: TestRegistry): Promise<void> {
  registries.delete(reg);
  await reg.stop();
}

export async function cleanupAll(): Promise<void> {
  await stopRunning();
  await Promise.all([...registries].map((r) => dropRegistry(r)));
  if (workDir) await removeDir(workDir);
  workDir = undefined;
}

let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write(`\n${sig}: stopping registries and removing temp dirs...\n`);
    void cleanupAll().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------
// Measured attempts: retried after a failure (recorded) or when the host was busy

/** A measured run that failed or produced a wrong mirror: recorded, and the measurement retried. */
export class RunFailure extends Error {
  constructor(
    message: string,
    readonly evidence: string[] = [],
  ) {
    super(message);
  }
}

export interface FailureRecord {
  label: string;
  attempt: number;
  error: string;
  evidence: string[];
}

export const failures: FailureRecord[] = [];

/**
 * A measurement during which something else on the host used a lot of CPU (a test suite in
 * another shell, a build): on 2 cores that alone can move a run by 50 %, so it is repeated.
 */
export class Polluted extends Error {}
/** "other" CPU above OTHER_CORES × wall + OTHER_BASE_S marks a run as polluted (unless a measurement says otherwise) */
const OTHER_CORES = 0.25;
const OTHER_BASE_S = 0.2;
const MAX_POLLUTED = 3;
/** attempts of a measurement after a RunFailure before the bench gives up */
const MAX_ATTEMPTS = 3;

/** Shared counters of the attempts (read them for the report). */
export const attempts = {
  /** set on the last allowed repetition: the measurement is then kept (and flagged) */
  acceptPolluted: false,
  pollutedRepeats: 0,
};

/** Runs one measurement against a fresh destination registry, retrying (fresh again) after a RunFailure. */
export async function attempt<T>(label: string, fn: (dst: TestRegistry) => Promise<T>): Promise<T> {
  let polluted = 0;
  for (let i = 1; ; ) {
    const dst = await freshRegistry();
    attempts.acceptPolluted = polluted >= MAX_POLLUTED;
    try {
      return await fn(dst);
    } catch (err) {
      if (err instanceof Polluted) {
        polluted++;
        attempts.pollutedRepeats++;
        log(`${label}: ${err.message}; repeating it${polluted >= MAX_POLLUTED ? ' (last time: kept whatever happens, flagged)' : ''}`);
        continue;
      }
      if (!(err instanceof RunFailure) || i++ >= MAX_ATTEMPTS) throw err;
      failures.push({ label, attempt: i - 1, error: err.message, evidence: err.evidence });
      log(`${label}: FAILED, attempt ${i - 1}: ${err.message.split('\n')[0]}`);
      for (const line of err.message.split('\n').slice(1).filter((l) => /ERROR|mismatch|digest|HTTP/.test(l)).slice(0, 5)) log(`    ${line.slice(0, 400)}`);
      if (err.evidence.length) log(`    evidence: ${err.evidence.join(', ')}`);
      log('    retrying with a fresh destination (the failed attempt is not timed)');
    } finally {
      await dropRegistry(dst);
    }
  }
}

/** Saves what a failed run left behind (its output, the destination registry's log) under bench/out/. */
export function saveEvidence(dst: TestRegistry | undefined, outputPath?: string): string[] {
  const base = join(OUT, `failure-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const files: string[] = [];
  if (outputPath && existsSync(outputPath)) {
    writeFileSync(`${base}-output.log`, readFileSync(outputPath));
    files.push(relative(ROOT, `${base}-output.log`));
  }
  if (dst) {
    writeFileSync(`${base}-dst-registry.log`, dst.logs());
    files.push(relative(ROOT, `${base}-dst-registry.log`));
  }
  return files;
}

/** Checks a mirror against the source; a wrong one is a RunFailure (with the registry's log as evidence). */
export async function verified(what: string, dst: TestRegistry, prefix: string, pushed: PushedImage[], options?: VerifyOptions): Promise<VerifyResult> {
  const v = await verifyMirror(dst, prefix, pushed, options);
  if (!v.ok) throw new RunFailure(`${what}: the destination does not match the source (mismatch)\n${v.problems.slice(0, 20).join('\n')}`, saveEvidence(dst));
  return v;
}

// ---------------------------------------------------------------------------------------------
// CPU bookkeeping around a run

export interface RunMeasurement extends ProcResult {
  /** cores the whole machine kept busy on average during the run (registries included) */
  machineCores: number;
  /** cores busy on the machine just before the run started (other work on the host) */
  busyBefore: number;
  /** CPU seconds the machine spent during the run on anything but the measured process(es) and the registries */
  otherCpuS: number;
  /** kept although other processes used much CPU during it (see Polluted) */
  polluted?: boolean;
  /** CPU seconds the source and the destination registry spent during the run (0 when the run has none) */
  srcRegistryCpuS: number;
  dstRegistryCpuS: number;
  /** requests in the registries' access logs (absent when the run has no such registry) */
  dstRequests?: RequestCounts;
  srcRequests?: RequestCounts;
}

export interface WindowOptions {
  idleWaitS: number;
  src?: TestRegistry;
  dst?: TestRegistry;
  /**
   * Allowance for "other" CPU before the run counts as polluted, in cores (default 0.25): disk
   * workflows legitimately make the kernel's writeback threads work, which shows up as "other".
   */
  otherCores?: number;
}

/**
 * Runs a measurement with the registries' access logs and CPU and the machine's CPU bracketed.
 * Starts from the same state each time: `sync` (no dirty pages of an earlier run still being
 * written back, competing for CPU and disk), then waits for the machine to be idle.
 */
export async function windowed<T extends ProcResult>(o: WindowOptions, fn: () => Promise<T>): Promise<T & RunMeasurement> {
  execFileSync('sync');
  const busyBefore = await waitIdle(o.idleWaitS, IDLE_CORES, (busy) =>
    log(`  (waiting up to ${o.idleWaitS} s for the machine to go idle: ${fmt(busy)} cores busy by other processes)`),
  );
  if (busyBefore >= IDLE_CORES) log(`  WARNING: measuring on a busy machine (${fmt(busyBefore)} cores busy before the run)`);
  const dWin = o.dst && (await accessLogWindow(o.dst));
  const sWin = o.src && (await accessLogWindow(o.src));
  const dstPid = o.dst && findPid(o.dst.configPath);
  const srcPid = o.src && findPid(o.src.configPath);
  const [dst0, src0] = [processCpuS(dstPid), processCpuS(srcPid)];
  const cores = cpus().length;
  const before = cpuTicks();
  const r = await fn();
  const after = cpuTicks();
  const machineCores = after.total > before.total ? ((after.busy - before.busy) / (after.total - before.total)) * cores : 0;
  const srcRegistryCpuS = processCpuS(srcPid) - src0;
  const dstRegistryCpuS = processCpuS(dstPid) - dst0;
  const otherCpuS = Math.max(0, machineCores * r.wallS - r.cpuS - srcRegistryCpuS - dstRegistryCpuS);
  const polluted = otherCpuS > (o.otherCores ?? OTHER_CORES) * r.wallS + OTHER_BASE_S;
  if (polluted && !attempts.acceptPolluted) {
    throw new Polluted(`other processes on the host used ${fmt(otherCpuS)} CPU-seconds during the ${fmt(r.wallS)} s run`);
  }
  return {
    ...r,
    machineCores,
    busyBefore,
    otherCpuS,
    ...(polluted && { polluted }),
    srcRegistryCpuS,
    dstRegistryCpuS,
    ...(dWin && { dstRequests: await dWin.stop() }),
    ...(sWin && { srcRequests: await sWin.stop() }),
  };
}

/** A pool of measured processes taken as one run. */
export interface PoolResult extends ProcResult {
  /** the slowest single process's wall time */
  slowestS: number;
  processes: number;
}

/**
 * Runs one measured process per item, `width` at a time (`worker` says which of the `width`
 * slots runs it): wall time of the whole pool, the largest peak RSS of any process, the CPU of all.
 * A process exiting non-zero is the caller's to turn into an error (in `run`).
 */
export async function measurePool<T>(items: T[], width: number, run: (item: T, worker: number) => Promise<ProcResult>): Promise<PoolResult> {
  const started = performance.now();
  const each = await pool(items, width, (item, _i, worker) => run(item, worker));
  return sumProcesses(each, (performance.now() - started) / 1000);
}

/** Several measured processes (run one after another or in a pool) as one, over `wallS`. */
export function sumProcesses(each: ProcResult[], wallS: number): PoolResult {
  return {
    wallS,
    maxRssBytes: Math.max(...each.map((r) => r.maxRssBytes)),
    cpuS: each.reduce((s, r) => s + r.cpuS, 0),
    rssMethod: each[0]!.rssMethod,
    exitCode: each.find((r) => r.exitCode !== 0)?.exitCode ?? 0,
    slowestS: Math.max(...each.map((r) => r.wallS)),
    processes: each.length,
  };
}

// ---------------------------------------------------------------------------------------------
// Statistics and formatting

export interface Stat {
  median: number;
  min: number;
  max: number;
  /** (max - min) / median */
  spread: number;
  values: number[];
}

export function stat(values: number[]): Stat {
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { median, min: v[0]!, max: v[v.length - 1]!, spread: median ? (v[v.length - 1]! - v[0]!) / median : 0, values };
}

export const fmt = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : '-');
export const pct = (n: number, d = 1) => (Number.isFinite(n) ? `${(n * 100).toFixed(d)}%` : '-');
export const mb = (bytes: number, d = 1) => fmt(bytes / MB, d);

export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(head), `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** Rows of the result tables: name, median, min, max, spread, target, verdict. */
export const row = (name: string, st: Stat, f: (x: number) => string, target = '', v = '') => [name, f(st.median), f(st.min), f(st.max), pct(st.spread, 0), target, v];
export const one = (name: string, value: string, target = '', v = '') => [name, value, '', '', '', target, v];
export const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
export const RESULT_HEAD = ['measurement', 'median', 'min', 'max', 'spread', 'target', ''];

/** `GET manifest=54, GET blob=113 (total 168)`, or '-' when there were no counts. */
export function formatRequests(c: RequestCounts | undefined): string {
  return c ? Object.entries(c).filter(([k]) => k !== 'total').map(([k, v]) => `${k}=${v}`).join(', ') + ` (total ${c.total})` : '-';
}

export function log(msg: string): void {
  process.stdout.write(`${msg}\n`);
}

export function tail(path: string, lines = 30): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}

// ---------------------------------------------------------------------------------------------
// The CLI under test, its inputs and outputs

export function writeIsc(path: string, src: TestRegistry, images: BenchImage[]): void {
  const isc = {
    kind: 'ImageSetConfiguration',
    apiVersion: 'mirror.openshift.io/v2alpha1',
    mirror: { additionalImages: images.map((i) => ({ name: `${src.host}/${i.repo}:${i.tag}` })) },
  };
  writeFileSync(path, stringify(isc));
}

export interface RunReportFile {
  path: string;
  startedAt: string;
  finishedAt: string;
  images: { status: string; bytes?: number }[];
}

/** The newest `report_*.json` of a workspace (`<ws>/working-dir/logs/`). */
export function latestReport(ws: string): RunReportFile {
  const logs = join(ws, 'working-dir', 'logs');
  const reports = readdirSync(logs)
    .filter((f) => /^report_.*\.json$/.test(f))
    .map((f) => join(logs, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (!reports[0]) throw new Error(`no report_*.json in ${logs}`);
  return { ...JSON.parse(readFileSync(reports[0], 'utf8')), path: reports[0] };
}

/** Images per status of a report, and the bytes it says were copied. */
export function reportStatuses(report: RunReportFile): { statuses: Record<string, number>; bytesCopied: number } {
  const statuses: Record<string, number> = {};
  let bytesCopied = 0;
  for (const img of report.images) {
    statuses[img.status] = (statuses[img.status] ?? 0) + 1;
    bytesCopied += img.bytes ?? 0;
  }
  return { statuses, bytesCopied };
}

/**
 * The bundle to measure: `--cli` (warning when a file in src/ is newer than it), or with `build`
 * src/ bundled by ncc into bench/out/cli-build/ (dist/ untouched).
 */
export function cliBundle(args: { build: boolean; cli: string }): string {
  if (!args.build) {
    if (!existsSync(args.cli)) throw new Error(`${args.cli} does not exist: run npm run build, or pass --build`);
    const bundleTime = statSync(args.cli.endsWith('cli.js') && existsSync(join(dirname(args.cli), 'cli', 'index.js')) ? join(dirname(args.cli), 'cli', 'index.js') : args.cli).mtimeMs;
    const newer = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? newer(join(dir, e.name)) : e.name.endsWith('.ts') && statSync(join(dir, e.name)).mtimeMs > bundleTime ? [join(dir, e.name)] : [],
      );
    const stale = newer(join(ROOT, 'src'));
    if (stale.length) {
      log(`WARNING: ${relative(ROOT, args.cli)} is older than ${stale.length} file(s) in src/ (e.g. ${relative(ROOT, stale[0]!)}): the bench measures the old bundle. Run npm run build, or pass --build.`);
    }
    return args.cli;
  }
  const out = join(OUT, 'cli-build');
  log(`bundling src/ into ${relative(ROOT, out)}/ (ncc)...`);
  execFileSync(process.execPath, [join(ROOT, 'node_modules', '@vercel', 'ncc', 'dist', 'ncc', 'cli.js'), 'build', 'src/cli/main.ts', '-o', join(out, 'cli'), '-q'], { cwd: ROOT, stdio: 'inherit' });
  writeFileSync(join(out, 'package.json'), '{ "type": "module" }\n');
  writeFileSync(join(out, 'cli.js'), "#!/usr/bin/env node\nimport './cli/index.js';\n");
  return join(out, 'cli.js');
}

export function version(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n')[0]!;
  } catch {
    return 'unknown';
  }
}

/** The newest `.cpuprofile` in a directory. */
export function newestProfile(dir: string): string {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(dir, f));
  const newest = files.sort((x, y) => statSync(y).mtimeMs - statSync(x).mtimeMs)[0];
  if (!newest) throw new Error(`no .cpuprofile in ${dir}`);
  return newest;
}

/** `--tmpfs`: every temp dir and registry storage in /dev/shm (os.tmpdir() reads TMPDIR). */
export function useTmpfs(): void {
  if (!existsSync('/dev/shm')) throw new Error('--tmpfs: /dev/shm does not exist');
  process.env.TMPDIR = '/dev/shm';
}

/** What the results are about: machine, versions, storage. Also printed as the bench's header. */
export function machineInfo(title: string, runs: number, parallel: number, cli: string, tools: ToolPaths, tmpfs: boolean): Record<string, unknown> {
  const cores = cpus().length;
  const machine = {
    cores,
    cpu: cpus()[0]?.model,
    memoryBytes: totalmem(),
    node: process.version,
    skopeo: version(tools.skopeo, ['--version']),
    registry: version(tools.registry, ['--version']),
    ourCli: version(process.execPath, [cli, 'version']),
    storage: tmpfs ? 'tmpfs' : 'disk',
    tmpdir: tmpdir(),
  };
  log(`oc-mirror-action ${title}: ${runs} run(s), parallelism ${parallel}, ${cores} cores, node ${process.version}`);
  log(`  ours:   ${relative(ROOT, cli) || cli} (${machine.ourCli})`);
  log(`  skopeo: ${machine.skopeo}; registry: ${machine.registry}`);
  log(`  storage: registries and temp files in ${tmpdir()}${tmpfs ? ' (tmpfs, RAM)' : ' (disk)'}`);
  log(`  peak RSS: ${haveGnuTime ? '/usr/bin/time -v (ru_maxrss of the process)' : '/proc/<pid>/status VmHWM sampled every 20 ms (GNU time not installed)'}`);
  return machine;
}

export interface Dataset {
  images: BenchImage[];
  pushed: PushedImage[];
  summary: DatasetSummary;
  generationS: number;
}

/** Pushes the bench data set (bench/dataset.ts) into `src` and says what it is. */
export async function generateDataset(src: TestRegistry): Promise<Dataset> {
  const images = benchImages();
  const t = performance.now();
  log(`\ngenerating the data set in the source registry ${src.host}...`);
  const pushed = await pushDataset(src, images);
  const generationS = (performance.now() - t) / 1000;
  const summary = summarise(pushed, images);
  log(
    `data set: ${summary.images} images (${summary.singleArch} single-arch, ${summary.multiArch} multi-arch; ${summary.platformImages} platform images; ` +
      `${summary.oci} OCI, ${summary.docker} Docker), ${summary.distinctBlobs} distinct blobs, ${mb(summary.distinctBytes)} MB distinct ` +
      `(${mb(summary.referencedBytes)} MB counting shared blobs per image), largest blob ${mb(summary.largestBlob)} MB; generated in ${fmt(generationS, 1)} s`,
  );
  return { images, pushed, summary, generationS };
}
