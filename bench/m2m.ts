/**
 * Mirror-to-mirror benchmark: our CLI (dist/cli.js as a child process) against
 * `skopeo copy --all` at the same parallelism, on a ~500 MB data set in a local docker-registry,
 * plus a no-op re-run and a single-large-layer run. See bench/README.md.
 *
 *   npm run bench -- [--runs 3] [--parallel 4] [--large-mib 400] [--cli dist/cli.js] [--build]
 *                    [--cpu-prof] [--our-args "--log-level debug"] [--skip-skopeo] [--idle-wait 120] [--tmpfs]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { makeTrackedDir, removeDir } from '../test/support/cleanup.js';
import type { PushedImage } from '../test/support/images.js';
import { startRegistry, type TestRegistry } from '../test/support/registry.js';
import { requireTools } from '../test/support/tools.js';
import { benchImages, largeImage, pool, pushDataset, summarise, type BenchImage, type DatasetSummary } from './dataset.js';
import { childEnv, cpuTicks, findPid, haveGnuTime, measure, processCpuS, stopRunning, waitIdle, type ProcResult } from './proc.js';
import { summariseProfile, type ProfileSummary } from './profile.js';
import { accessLogWindow, verifyMirror, type RequestCounts, type VerifyResult } from './registry-check.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'bench', 'out');
/** destination path prefix: docker://<dst>/mirror → <dst>/mirror/bench/imgNN:v1 for both tools */
const PREFIX = 'mirror';
const MB = 1e6;

const TARGETS = { ratio: 0.7, noopRatio: 0.05, rssBytes: 300 * MB };
/** the machine counts as idle below this many busy cores */
const IDLE_CORES = 0.3;

// ---------------------------------------------------------------------------------------------
// Arguments

interface Args {
  runs: number;
  parallel: number;
  largeMiB: number;
  cli: string;
  build: boolean;
  cpuProf: boolean;
  ourArgs: string[];
  skipSkopeo: boolean;
  idleWaitS: number;
  tmpfs: boolean;
}

const HELP = `usage: npm run bench -- [options]
  --runs N          measurements of each kind, fresh destinations each time (default 3)
  --parallel N      images at a time, ours (--parallel-images) and skopeo's worker pool (default 4)
  --large-mib N     size of the single-layer image of the large-layer run; 0 skips it (default 400)
  --cli PATH        the CLI bundle to run (default dist/cli.js)
  --build           bundle src/ with ncc into bench/out/cli-build/ first and run that (dist/ untouched)
  --cpu-prof        one extra, untimed run of ours (and of its no-op re-run) under node --cpu-prof,
                    profiles in bench/out/, top functions printed
  --our-args "..."  extra arguments for our CLI (e.g. "--parallel-layers 8")
  --skip-skopeo     measure only ours (no ratio)
  --tmpfs           keep registry storage and temp files in /dev/shm (RAM) instead of the disk:
                    takes the filesystem out of the registries' cost and out of the noise
  --idle-wait S     before each measurement wait up to S seconds for the machine to be idle
                    (< ${IDLE_CORES} cores busy), so other work on the host does not skew it (default 120)
`;

function parseArgs(argv: string[]): Args {
  const a: Args = { runs: 3, parallel: 4, largeMiB: 400, cli: join(ROOT, 'dist', 'cli.js'), build: false, cpuProf: false, ourArgs: [], skipSkopeo: false, idleWaitS: 120, tmpfs: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    const int = (min: number) => {
      const n = Number(value());
      if (!Number.isInteger(n) || n < min) throw new Error(`${flag} must be an integer ≥ ${min}`);
      return n;
    };
    switch (flag) {
      case '--runs': a.runs = int(1); break;
      case '--parallel': a.parallel = int(1); break;
      case '--large-mib': a.largeMiB = int(0); break;
      case '--cli': a.cli = resolve(value()); break;
      case '--build': a.build = true; break;
      case '--cpu-prof': a.cpuProf = true; break;
      case '--our-args': a.ourArgs = value().split(/\s+/).filter(Boolean); break;
      case '--skip-skopeo': a.skipSkopeo = true; break;
      case '--idle-wait': a.idleWaitS = int(0); break;
      case '--tmpfs': a.tmpfs = true; break;
      case '--help': case '-h': process.stdout.write(HELP); process.exit(0);
      default: throw new Error(`unknown argument ${arg}\n${HELP}`);
    }
  }
  return a;
}

// ---------------------------------------------------------------------------------------------
// Lifecycle: everything started is stopped on success, error and Ctrl-C

const registries = new Set<TestRegistry>();
let workDir: string | undefined;

async function freshRegistry(): Promise<TestRegistry> {
  const reg = await startRegistry();
  registries.add(reg);
  return reg;
}

async function dropRegistry(reg: TestRegistry): Promise<void> {
  registries.delete(reg);
  await reg.stop();
}

async function cleanupAll(): Promise<void> {
  await stopRunning();
  await Promise.all([...registries].map((r) => dropRegistry(r)));
  if (workDir) await removeDir(workDir);
  workDir = undefined;
}

/** A measured run that failed or produced a wrong mirror: recorded, and the measurement retried. */
class RunFailure extends Error {
  constructor(
    message: string,
    readonly evidence: string[] = [],
  ) {
    super(message);
  }
}

interface FailureRecord {
  label: string;
  attempt: number;
  error: string;
  evidence: string[];
}

const failures: FailureRecord[] = [];

/**
 * A measurement during which something else on the host used a lot of CPU (a test suite in
 * another shell, a build): on 2 cores that alone can move a run by 50 %, so it is repeated.
 */
class Polluted extends Error {}
/** "other" CPU above OTHER_CORES × wall + OTHER_BASE_S marks a run as polluted */
const OTHER_CORES = 0.25;
const OTHER_BASE_S = 0.2;
const MAX_POLLUTED = 3;
/** set on the last allowed repetition: the measurement is then kept (and flagged) */
let acceptPolluted = false;
let pollutedRepeats = 0;
/** attempts of a measurement after a RunFailure before the bench gives up */
const MAX_ATTEMPTS = 3;

/** Runs one measurement against a fresh destination registry, retrying (fresh again) after a RunFailure. */
async function attempt<T>(label: string, fn: (dst: TestRegistry) => Promise<T>): Promise<T> {
  let polluted = 0;
  for (let i = 1; ; ) {
    const dst = await freshRegistry();
    acceptPolluted = polluted >= MAX_POLLUTED;
    try {
      return await fn(dst);
    } catch (err) {
      if (err instanceof Polluted) {
        polluted++;
        pollutedRepeats++;
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
function saveEvidence(dst: TestRegistry, outputPath?: string): string[] {
  const base = join(OUT, `failure-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const files: string[] = [];
  if (outputPath && existsSync(outputPath)) {
    writeFileSync(`${base}-output.log`, readFileSync(outputPath));
    files.push(relative(ROOT, `${base}-output.log`));
  }
  writeFileSync(`${base}-dst-registry.log`, dst.logs());
  files.push(relative(ROOT, `${base}-dst-registry.log`));
  return files;
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
// Statistics and formatting

interface Stat {
  median: number;
  min: number;
  max: number;
  /** (max - min) / median */
  spread: number;
  values: number[];
}

function stat(values: number[]): Stat {
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { median, min: v[0]!, max: v[v.length - 1]!, spread: median ? (v[v.length - 1]! - v[0]!) / median : 0, values };
}

const fmt = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : '-');
const pct = (n: number, d = 1) => (Number.isFinite(n) ? `${(n * 100).toFixed(d)}%` : '-');
const mb = (bytes: number, d = 1) => fmt(bytes / MB, d);

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(head), `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.map(line)].join('\n');
}

function log(msg: string): void {
  process.stdout.write(`${msg}\n`);
}

function tail(path: string, lines = 30): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}

// ---------------------------------------------------------------------------------------------
// Measurements

interface Context {
  args: Args;
  cli: string;
  src: TestRegistry;
  dir: string;
  cores: number;
}

interface RunMeasurement extends ProcResult {
  /** cores the whole machine kept busy on average during the run (registries included) */
  machineCores: number;
  /** cores busy on the machine just before the run started (other work on the host) */
  busyBefore: number;
  /** CPU seconds the machine spent during the run on anything but the measured process(es) and the two registries */
  otherCpuS: number;
  /** kept although other processes used much CPU during it (see Polluted) */
  polluted?: boolean;
  /** CPU seconds the source and the destination registry spent during the run */
  srcRegistryCpuS: number;
  dstRegistryCpuS: number;
  dstRequests: RequestCounts;
  srcRequests: RequestCounts;
}

interface OursMeasurement extends RunMeasurement {
  statuses: Record<string, number>;
  bytesCopied: number;
}

interface SkopeoMeasurement extends RunMeasurement {
  /** per image process: the slowest one's wall time */
  slowestImageS: number;
}

let seq = 0;

function ours(ctx: Context, isc: string, ws: string, dst: TestRegistry, nodeArgs: string[] = []): Promise<OursMeasurement> {
  return windowed(ctx, dst, async () => {
    const n = ++seq;
    const logPath = join(ctx.dir, `ours-${n}.log`);
    const argv = [
      ...nodeArgs,
      ctx.cli,
      '-c', isc,
      '--workspace', `file://${ws}`,
      `docker://${dst.host}/${PREFIX}`,
      '--src-tls-verify=false',
      '--dest-tls-verify=false',
      '--parallel-images', String(ctx.args.parallel),
      ...ctx.args.ourArgs,
    ];
    const r = await measure(process.execPath, argv, logPath, join(ctx.dir, `ours-${n}.time`), childEnv({ CI: 'true' }));
    if (r.exitCode !== 0) throw new RunFailure(`our CLI exited with ${r.exitCode}\n${tail(logPath)}`, saveEvidence(dst, logPath));
    const report = latestReport(ws);
    const statuses: Record<string, number> = {};
    let bytesCopied = 0;
    for (const img of report.images) {
      statuses[img.status] = (statuses[img.status] ?? 0) + 1;
      bytesCopied += img.bytes ?? 0;
    }
    return { ...r, statuses, bytesCopied };
  });
}

function latestReport(ws: string): { images: { status: string; bytes?: number }[] } {
  const logs = join(ws, 'working-dir', 'logs');
  const reports = readdirSync(logs)
    .filter((f) => /^report_.*\.json$/.test(f))
    .map((f) => join(logs, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (!reports[0]) throw new Error(`no report_*.json in ${logs}`);
  return JSON.parse(readFileSync(reports[0], 'utf8'));
}

function skopeo(ctx: Context, images: BenchImage[], dst: TestRegistry): Promise<SkopeoMeasurement> {
  const { skopeo: bin } = requireTools();
  return windowed(ctx, dst, async () => {
    const started = performance.now();
    const each = await pool(images, ctx.args.parallel, async (img) => {
      const n = ++seq;
      const logPath = join(ctx.dir, `skopeo-${n}.log`);
      const r = await measure(
        bin,
        [
          'copy', '--all', '--preserve-digests',
          '--src-tls-verify=false', '--dest-tls-verify=false',
          `docker://${ctx.src.host}/${img.repo}:${img.tag}`,
          `docker://${dst.host}/${PREFIX}/${img.repo}:${img.tag}`,
        ],
        logPath,
        join(ctx.dir, `skopeo-${n}.time`),
      );
      if (r.exitCode !== 0) throw new RunFailure(`skopeo copy of ${img.repo}:${img.tag} exited with ${r.exitCode}\n${tail(logPath)}`, saveEvidence(dst, logPath));
      return r;
    });
    return {
      wallS: (performance.now() - started) / 1000,
      maxRssBytes: Math.max(...each.map((r) => r.maxRssBytes)),
      cpuS: each.reduce((s, r) => s + r.cpuS, 0),
      rssMethod: each[0]!.rssMethod,
      exitCode: 0,
      slowestImageS: Math.max(...each.map((r) => r.wallS)),
    };
  });
}

/** Runs a measurement with the destination's and the source's access logs and the machine's CPU bracketed. */
async function windowed<T extends ProcResult>(ctx: Context, dst: TestRegistry, fn: () => Promise<T>): Promise<T & RunMeasurement> {
  // Start every measurement from the same state: no dirty pages of the data generation or of an
  // earlier run still being written back (kernel writeback would compete for CPU and disk).
  execFileSync('sync');
  const busyBefore = await waitIdle(ctx.args.idleWaitS, IDLE_CORES, (busy) =>
    log(`  (waiting up to ${ctx.args.idleWaitS} s for the machine to go idle: ${fmt(busy)} cores busy by other processes)`),
  );
  if (busyBefore >= IDLE_CORES) log(`  WARNING: measuring on a busy machine (${fmt(busyBefore)} cores busy before the run)`);
  const dWin = await accessLogWindow(dst);
  const sWin = await accessLogWindow(ctx.src);
  const dstPid = findPid(dst.configPath);
  const srcPid = findPid(ctx.src.configPath);
  const [dst0, src0] = [processCpuS(dstPid), processCpuS(srcPid)];
  const before = cpuTicks();
  const r = await fn();
  const after = cpuTicks();
  const machineCores = after.total > before.total ? ((after.busy - before.busy) / (after.total - before.total)) * ctx.cores : 0;
  const srcRegistryCpuS = processCpuS(srcPid) - src0;
  const dstRegistryCpuS = processCpuS(dstPid) - dst0;
  const otherCpuS = Math.max(0, machineCores * r.wallS - r.cpuS - srcRegistryCpuS - dstRegistryCpuS);
  const polluted = otherCpuS > OTHER_CORES * r.wallS + OTHER_BASE_S;
  if (polluted && !acceptPolluted) {
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
    dstRequests: await dWin.stop(),
    srcRequests: await sWin.stop(),
  };
}

async function verified(what: string, dst: TestRegistry, pushed: PushedImage[]): Promise<VerifyResult> {
  const v = await verifyMirror(dst, PREFIX, pushed);
  if (!v.ok) throw new RunFailure(`${what}: the destination does not match the source (mismatch)\n${v.problems.slice(0, 20).join('\n')}`, saveEvidence(dst));
  return v;
}

function writeIsc(path: string, src: TestRegistry, images: BenchImage[]): void {
  const isc = {
    kind: 'ImageSetConfiguration',
    apiVersion: 'mirror.openshift.io/v2alpha1',
    mirror: { additionalImages: images.map((i) => ({ name: `${src.host}/${i.repo}:${i.tag}` })) },
  };
  writeFileSync(path, stringify(isc));
}

function cliBundle(args: Args): string {
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

function version(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n')[0]!;
  } catch {
    return 'unknown';
  }
}

// ---------------------------------------------------------------------------------------------
// Main

interface Results {
  startedAt: string;
  machine: Record<string, unknown>;
  args: Args;
  cli: string;
  rssMethod: string;
  dataset: DatasetSummary & { generationS: number };
  ours: OursMeasurement[];
  noop: OursMeasurement[];
  skopeo: SkopeoMeasurement[];
  cliStartupS: number[];
  cliStartupRss: number[];
  large?: { sizeBytes: number; generationS: number; ours: OursMeasurement[]; skopeo: SkopeoMeasurement[] };
  profiles?: { run: ProfileSummary & { file: string }; noop: ProfileSummary & { file: string } };
  verification: VerifyResult[];
  failures: FailureRecord[];
  summary?: Record<string, unknown>;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.tmpfs) {
    if (!existsSync('/dev/shm')) throw new Error('--tmpfs: /dev/shm does not exist');
    process.env.TMPDIR = '/dev/shm'; // os.tmpdir(), used by every temp dir and registry storage
  }
  const tools = requireTools();
  const benchStart = performance.now();
  mkdirSync(OUT, { recursive: true });
  const cli = cliBundle(args);
  const cores = cpus().length;
  const machine = {
    cores,
    cpu: cpus()[0]?.model,
    memoryBytes: totalmem(),
    node: process.version,
    skopeo: version(tools.skopeo, ['--version']),
    registry: version(tools.registry, ['--version']),
    ourCli: version(process.execPath, [cli, 'version']),
    storage: args.tmpfs ? 'tmpfs' : 'disk',
    tmpdir: tmpdir(),
  };
  log(`oc-mirror-action m2m benchmark: ${args.runs} run(s), parallelism ${args.parallel}, ${cores} cores, node ${process.version}`);
  log(`  ours:   ${relative(ROOT, cli) || cli} (${machine.ourCli})`);
  log(`  skopeo: ${machine.skopeo}; registry: ${machine.registry}`);
  log(`  storage: registries and temp files in ${tmpdir()}${args.tmpfs ? ' (tmpfs, RAM)' : ' (disk)'}`);
  log(`  peak RSS: ${haveGnuTime ? '/usr/bin/time -v (ru_maxrss of the process)' : '/proc/<pid>/status VmHWM sampled every 20 ms (GNU time not installed)'}`);

  workDir = makeTrackedDir('bench');
  const dir = workDir;
  const src = await freshRegistry();
  const ctx: Context = { args, cli, src, dir, cores };

  // --- data set (not timed against anything)
  const images = benchImages();
  let t = performance.now();
  log(`\ngenerating the data set in the source registry ${src.host}...`);
  const pushed = await pushDataset(src, images);
  const generationS = (performance.now() - t) / 1000;
  const summary = summarise(pushed, images);
  log(
    `data set: ${summary.images} images (${summary.singleArch} single-arch, ${summary.multiArch} multi-arch; ${summary.platformImages} platform images; ` +
      `${summary.oci} OCI, ${summary.docker} Docker), ${summary.distinctBlobs} distinct blobs, ${mb(summary.distinctBytes)} MB distinct ` +
      `(${mb(summary.referencedBytes)} MB counting shared blobs per image), largest blob ${mb(summary.largestBlob)} MB; generated in ${fmt(generationS, 1)} s`,
  );
  const isc = join(dir, 'isc.yaml');
  writeIsc(isc, src, images);

  const results: Results = {
    startedAt: new Date().toISOString(),
    machine,
    args,
    cli,
    rssMethod: haveGnuTime ? 'gnu-time' : 'proc-vmhwm',
    dataset: { ...summary, generationS },
    ours: [],
    noop: [],
    skopeo: [],
    cliStartupS: [],
    cliStartupRss: [],
    verification: [],
    failures,
  };

  // --- CLI start-up floor: what any run of ours costs before it does anything
  await waitIdle(args.idleWaitS, IDLE_CORES, () => {});
  for (let i = 0; i < 3; i++) {
    const r = await measure(process.execPath, [cli, 'version'], join(dir, 'version.log'), join(dir, 'version.time'));
    results.cliStartupS.push(r.wallS);
    results.cliStartupRss.push(r.maxRssBytes);
  }

  // --- main runs: ours (+ no-op re-run) and skopeo, alternating which goes first
  for (let run = 1; run <= args.runs; run++) {
    for (const who of run % 2 === 1 ? ['ours', 'skopeo'] : ['skopeo', 'ours']) {
      if (who === 'ours') {
        await attempt(`run ${run}: ours`, async (dst) => {
          const ws = join(dir, `ws-${run}-${++seq}`);
          const m = await ours(ctx, isc, ws, dst);
          const v = await verified(`ours, run ${run}`, dst, pushed);
          const noop = await ours(ctx, isc, ws, dst);
          if ((noop.statuses.present ?? 0) !== images.length) {
            throw new RunFailure(`no-op re-run: expected every image "present", got ${JSON.stringify(noop.statuses)}`, saveEvidence(dst));
          }
          results.verification.push(v);
          results.ours.push(m);
          results.noop.push(noop);
          log(
            `run ${run}: ours ${fmt(m.wallS)} s (${mb(summary.distinctBytes / m.wallS, 0)} MB/s, RSS ${mb(m.maxRssBytes, 0)} MB, CPU ${fmt(m.cpuS, 1)} s, ` +
              `registries CPU ${fmt(m.srcRegistryCpuS, 1)} + ${fmt(m.dstRegistryCpuS, 1)} s, other ${fmt(m.otherCpuS, 1)} s, ${m.dstRequests.total} dst requests); ` +
              `no-op ${fmt(noop.wallS)} s (RSS ${mb(noop.maxRssBytes, 0)} MB, ${noop.dstRequests.total} dst requests); verified`,
          );
        });
      } else if (!args.skipSkopeo) {
        await attempt(`run ${run}: skopeo`, async (dst) => {
          const m = await skopeo(ctx, images, dst);
          results.verification.push(await verified(`skopeo, run ${run}`, dst, pushed));
          results.skopeo.push(m);
          log(
            `run ${run}: skopeo ${fmt(m.wallS)} s (${mb(summary.distinctBytes / m.wallS, 0)} MB/s, max RSS ${mb(m.maxRssBytes, 0)} MB per process, CPU ${fmt(m.cpuS, 1)} s, ` +
              `registries CPU ${fmt(m.srcRegistryCpuS, 1)} + ${fmt(m.dstRegistryCpuS, 1)} s, other ${fmt(m.otherCpuS, 1)} s, ${m.dstRequests.total} dst requests); verified`,
          );
        });
      }
    }
  }

  // --- one large layer: RSS must not follow the layer size
  if (args.largeMiB > 0) {
    const big = largeImage(args.largeMiB);
    t = performance.now();
    log(`\ngenerating the large-layer image (${args.largeMiB} MiB layer)...`);
    const [bigPushed] = await pushDataset(src, [big]);
    const large = { sizeBytes: bigPushed!.blobs.reduce((sum, b) => sum + b.size, 0), generationS: (performance.now() - t) / 1000, ours: [] as OursMeasurement[], skopeo: [] as SkopeoMeasurement[] };
    results.large = large;
    const bigIsc = join(dir, 'isc-large.yaml');
    writeIsc(bigIsc, src, [big]);
    const line = (who: string, run: number, m: RunMeasurement) =>
      log(
        `large run ${run}: ${who} ${fmt(m.wallS)} s (${mb(large.sizeBytes / m.wallS, 0)} MB/s, RSS ${mb(m.maxRssBytes, 0)} MB, CPU ${fmt(m.cpuS, 1)} s, ` +
          `registries CPU ${fmt(m.srcRegistryCpuS, 1)} + ${fmt(m.dstRegistryCpuS, 1)} s, other ${fmt(m.otherCpuS, 1)} s); verified`,
      );
    for (let run = 1; run <= args.runs; run++) {
      for (const who of run % 2 === 1 ? ['ours', 'skopeo'] : ['skopeo', 'ours']) {
        if (who === 'ours') {
          await attempt(`large run ${run}: ours`, async (dst) => {
            const m = await ours(ctx, bigIsc, join(dir, `ws-large-${run}-${++seq}`), dst);
            results.verification.push(await verified(`ours large, run ${run}`, dst, [bigPushed!]));
            large.ours.push(m);
            line('ours', run, m);
          });
        } else if (!args.skipSkopeo) {
          await attempt(`large run ${run}: skopeo`, async (dst) => {
            const m = await skopeo(ctx, [big], dst);
            results.verification.push(await verified(`skopeo large, run ${run}`, dst, [bigPushed!]));
            large.skopeo.push(m);
            line('skopeo', run, m);
          });
        }
      }
    }
  }

  // --- optional CPU profile of one run and its no-op re-run (untimed)
  const stamp = results.startedAt.replace(/[:.]/g, '-');
  if (args.cpuProf) {
    const profDir = join(OUT, `prof-${stamp}`);
    mkdirSync(profDir, { recursive: true });
    const newest = () => readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(profDir, f)).sort((x, y) => statSync(y).mtimeMs - statSync(x).mtimeMs)[0]!;
    await attempt('profiled run', async (dst) => {
      const ws = join(dir, `ws-prof-${++seq}`);
      await ours(ctx, isc, ws, dst, ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
      const runProf = newest();
      await ours(ctx, isc, ws, dst, ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
      const noopProf = newest();
      results.profiles = {
        run: { ...summariseProfile(runProf), file: relative(ROOT, runProf) },
        noop: { ...summariseProfile(noopProf), file: relative(ROOT, noopProf) },
      };
    });
  }

  // --- report
  const o = stat(results.ours.map((m) => m.wallS));
  const s = results.skopeo.length ? stat(results.skopeo.map((m) => m.wallS)) : undefined;
  const n = stat(results.noop.map((m) => m.wallS));
  const rss = stat(results.ours.map((m) => m.maxRssBytes));
  const noopRss = stat(results.noop.map((m) => m.maxRssBytes));
  const ratio = s ? o.median / s.median : NaN;
  // the two runs of a pair ran back to back: their ratio is immune to the host drifting over minutes
  const pairs = Math.min(results.ours.length, results.skopeo.length);
  const paired = pairs ? stat(Array.from({ length: pairs }, (_, i) => results.ours[i]!.wallS / results.skopeo[i]!.wallS)) : undefined;
  const noopRatio = n.median / o.median;
  const startup = stat(results.cliStartupS);
  const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
  const row = (name: string, st: Stat, f: (x: number) => string, target = '', v = '') => [name, f(st.median), f(st.min), f(st.max), pct(st.spread, 0), target, v];
  const one = (name: string, value: string, target = '', v = '') => [name, value, '', '', '', target, v];
  const ds = summary.distinctBytes;
  const rows: string[][] = [
    row('ours: m2m wall time (s)', o, (x) => fmt(x)),
    ...(s ? [row('skopeo copy --all: wall time (s)', s, (x) => fmt(x))] : []),
    one('ratio ours / skopeo (medians)', fmt(ratio), `≤ ${TARGETS.ratio}`, s ? verdict(ratio <= TARGETS.ratio) : ''),
    ...(paired ? [row('ratio ours / skopeo, per run (paired)', paired, (x) => fmt(x))] : []),
    row('ours: no-op re-run (s)', n, (x) => fmt(x, 3)),
    one('no-op / first run (medians)', pct(noopRatio), `≤ ${pct(TARGETS.noopRatio, 0)}`, verdict(noopRatio <= TARGETS.noopRatio)),
    one('  same, without the start-up floor', pct((n.median - startup.median) / o.median)),
    row('ours: peak RSS (MB)', rss, (x) => mb(x, 0), `< ${mb(TARGETS.rssBytes, 0)}`, verdict(rss.max < TARGETS.rssBytes)),
    row('ours: peak RSS, no-op (MB)', noopRss, (x) => mb(x, 0)),
    ...(s ? [row('skopeo: peak RSS per process (MB)', stat(results.skopeo.map((m) => m.maxRssBytes)), (x) => mb(x, 0))] : []),
    row('ours: throughput (MB/s, distinct bytes)', stat(results.ours.map((m) => ds / MB / m.wallS)), (x) => fmt(x, 0)),
    ...(s ? [row('skopeo: throughput (MB/s)', stat(results.skopeo.map((m) => ds / MB / m.wallS)), (x) => fmt(x, 0))] : []),
    row('ours: CPU time user+sys (s)', stat(results.ours.map((m) => m.cpuS)), (x) => fmt(x)),
    ...(s ? [row('skopeo: CPU time, all processes (s)', stat(results.skopeo.map((m) => m.cpuS)), (x) => fmt(x))] : []),
    row('registries CPU during ours, src+dst (s)', stat(results.ours.map((m) => m.srcRegistryCpuS + m.dstRegistryCpuS)), (x) => fmt(x)),
    ...(s ? [row('registries CPU during skopeo, src+dst (s)', stat(results.skopeo.map((m) => m.srcRegistryCpuS + m.dstRegistryCpuS)), (x) => fmt(x))] : []),
    row('other CPU on the host during ours (s)', stat(results.ours.map((m) => m.otherCpuS)), (x) => fmt(x)),
    ...(s ? [row('other CPU on the host during skopeo (s)', stat(results.skopeo.map((m) => m.otherCpuS)), (x) => fmt(x))] : []),
    row(`machine cores busy during ours (of ${cores})`, stat(results.ours.map((m) => m.machineCores)), (x) => fmt(x)),
    ...(s ? [row(`machine cores busy during skopeo (of ${cores})`, stat(results.skopeo.map((m) => m.machineCores)), (x) => fmt(x))] : []),
    one('failed attempts (retried, not timed)', String(failures.length), '0', verdict(failures.length === 0)),
    one('runs repeated: host busy with other work', String(pollutedRepeats)),
    row('ours: CLI start-up floor, `version` (s)', startup, (x) => fmt(x, 3)),
    row('ours: CLI start-up floor, `version` RSS (MB)', stat(results.cliStartupRss), (x) => mb(x, 0)),
  ];
  if (results.large) {
    const L = results.large;
    const lo = stat(L.ours.map((m) => m.wallS));
    const lrss = stat(L.ours.map((m) => m.maxRssBytes));
    rows.push(row(`large ${mb(L.sizeBytes, 0)} MB layer: ours wall (s)`, lo, (x) => fmt(x)));
    if (L.skopeo.length) {
      const ls = stat(L.skopeo.map((m) => m.wallS));
      rows.push(row(`large layer: skopeo wall (s)`, ls, (x) => fmt(x)));
      rows.push(one('large layer: ratio ours / skopeo', fmt(lo.median / ls.median)));
    }
    rows.push(row('large layer: ours peak RSS (MB)', lrss, (x) => mb(x, 0), `< ${mb(TARGETS.rssBytes, 0)}`, verdict(lrss.max < TARGETS.rssBytes)));
    if (L.skopeo.length) rows.push(row('large layer: skopeo peak RSS (MB)', stat(L.skopeo.map((m) => m.maxRssBytes)), (x) => mb(x, 0)));
    rows.push(row('large layer: ours throughput (MB/s)', stat(L.ours.map((m) => L.sizeBytes / MB / m.wallS)), (x) => fmt(x, 0)));
  }
  log(`\nresults (${args.runs} run(s) each; spread = (max - min) / median; MB = 10^6 bytes):\n`);
  log(table(['measurement', 'median', 'min', 'max', 'spread', 'target', ''], rows));

  // HTTP requests of the first runs, as the registries' access logs saw them
  const reqRows = (c: RequestCounts | undefined) => (c ? Object.entries(c).filter(([k]) => k !== 'total').map(([k, v]) => `${k}=${v}`).join(', ') + ` (total ${c.total})` : '-');
  log(`\nHTTP requests, run 1 (registry access logs):`);
  log(`  ours    → destination: ${reqRows(results.ours[0]?.dstRequests)}`);
  log(`  ours    → source:      ${reqRows(results.ours[0]?.srcRequests)}`);
  log(`  no-op   → destination: ${reqRows(results.noop[0]?.dstRequests)}`);
  log(`  no-op   → source:      ${reqRows(results.noop[0]?.srcRequests)}`);
  if (results.skopeo[0]) {
    log(`  skopeo  → destination: ${reqRows(results.skopeo[0].dstRequests)}`);
    log(`  skopeo  → source:      ${reqRows(results.skopeo[0].srcRequests)}`);
  }
  log(`  bytes ours uploaded (report): ${mb(results.ours[0]?.bytesCopied ?? 0)} MB for ${mb(ds)} MB distinct`);

  if (results.profiles) {
    for (const [name, p] of Object.entries(results.profiles)) {
      log(`\nCPU profile of ${name === 'run' ? 'a first run' : 'a no-op re-run'} (${p.file}, ${fmt(p.totalMs / 1000)} s profiled):`);
      log(`  by category: ${p.categories.slice(0, 8).map((c) => `${c.name} ${c.pct}%`).join(', ')}`);
      log(table(['top self time', 'ms', '%', 'where'], p.top.slice(0, 15).map((e) => [e.fn, String(e.ms), String(e.pct), e.where])));
    }
  }

  results.summary = {
    oursMedianS: o.median,
    skopeoMedianS: s?.median,
    ratio,
    pairedRatioMedian: paired?.median,
    noopMedianS: n.median,
    noopRatio,
    noopRatioWithoutStartup: (n.median - startup.median) / o.median,
    cliStartupMedianS: startup.median,
    peakRssMaxBytes: rss.max,
    largePeakRssMaxBytes: results.large ? Math.max(...results.large.ours.map((m) => m.maxRssBytes)) : undefined,
    targets: TARGETS,
    failedAttempts: failures.length,
    pollutedRepeats,
    benchWallS: (performance.now() - benchStart) / 1000,
  };
  const jsonPath = join(OUT, `results-${stamp}.json`);
  writeFileSync(jsonPath, JSON.stringify(results, null, 2) + '\n');
  log(`\nverified ${results.verification.length} mirrors (manifest digests, child manifests, blob sizes): all identical to the source`);
  if (failures.length) {
    const attempts = results.ours.length + results.skopeo.length + (results.large ? results.large.ours.length + results.large.skopeo.length : 0) + failures.length;
    log(`\nCORRECTNESS: ${failures.length} of ${attempts} measured attempts FAILED and were retried (not timed):`);
    for (const f of failures) log(`  ${f.label}, attempt ${f.attempt}: ${f.error.split('\n')[0]}${f.evidence.length ? ` (${f.evidence.join(', ')})` : ''}`);
    process.exitCode = 1;
  }
  log(`results: ${relative(ROOT, jsonPath)}; bench took ${fmt((performance.now() - benchStart) / 1000, 0)} s`);
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(() => cleanupAll());
