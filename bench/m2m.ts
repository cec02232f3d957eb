/**
 * Mirror-to-mirror benchmark: our CLI (dist/cli.js as a child process) against
 * `skopeo copy --all` at the same parallelism, on a ~500 MB data set in a local docker-registry,
 * plus a no-op re-run and a single-large-layer run. See bench/README.md.
 *
 *   npm run bench -- [--runs 3] [--parallel 4] [--large-mib 400] [--cli dist/cli.js] [--build]
 *                    [--cpu-prof] [--our-args "--log-level debug"] [--skip-skopeo] [--idle-wait 120] [--tmpfs]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { PushedImage } from '../test/support/images.js';
import type { TestRegistry } from '../test/support/registry.js';
import { requireTools } from '../test/support/tools.js';
import { largeImage, pushDataset, type BenchImage, type DatasetSummary } from './dataset.js';
import {
  attempt,
  attempts,
  cleanupAll,
  cliBundle,
  failures,
  fmt,
  formatRequests,
  freshRegistry,
  generateDataset,
  IDLE_CORES,
  latestReport,
  log,
  machineInfo,
  makeWorkDir,
  measurePool,
  mb,
  MB,
  newestProfile,
  one,
  OUT,
  parseFlags,
  pct,
  reportStatuses,
  RESULT_HEAD,
  ROOT,
  row,
  RunFailure,
  saveEvidence,
  stat,
  table,
  tail,
  useTmpfs,
  verdict,
  verified as verifiedMirror,
  windowed as bracketed,
  writeIsc,
  type FailureRecord,
  type RunMeasurement,
} from './harness.js';
import { childEnv, haveGnuTime, measure, waitIdle, type ProcResult } from './proc.js';
import { summariseProfile, type ProfileSummary } from './profile.js';
import type { VerifyResult } from './registry-check.js';

/** destination path prefix: docker://<dst>/mirror → <dst>/mirror/bench/imgNN:v1 for both tools */
const PREFIX = 'mirror';

const TARGETS = { ratio: 0.7, noopRatio: 0.05, rssBytes: 300 * MB };

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
  parseFlags(argv, HELP, (flag, arg) => {
    switch (flag) {
      case '--runs': a.runs = arg.int(1); break;
      case '--parallel': a.parallel = arg.int(1); break;
      case '--large-mib': a.largeMiB = arg.int(0); break;
      case '--cli': a.cli = resolve(arg.value()); break;
      case '--build': a.build = true; break;
      case '--cpu-prof': a.cpuProf = true; break;
      case '--our-args': a.ourArgs = arg.value().split(/\s+/).filter(Boolean); break;
      case '--skip-skopeo': a.skipSkopeo = true; break;
      case '--idle-wait': a.idleWaitS = arg.int(0); break;
      case '--tmpfs': a.tmpfs = true; break;
      default: return false;
    }
    return true;
  });
  return a;
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
    return { ...r, ...reportStatuses(latestReport(ws)) };
  });
}

function skopeo(ctx: Context, images: BenchImage[], dst: TestRegistry): Promise<SkopeoMeasurement> {
  const { skopeo: bin } = requireTools();
  return windowed(ctx, dst, async () => {
    const r = await measurePool(images, ctx.args.parallel, async (img) => {
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
    return { ...r, slowestImageS: r.slowestS };
  });
}

/** Runs a measurement with the destination's and the source's access logs and the machine's CPU bracketed. */
function windowed<T extends ProcResult>(ctx: Context, dst: TestRegistry, fn: () => Promise<T>): Promise<T & RunMeasurement> {
  return bracketed({ idleWaitS: ctx.args.idleWaitS, src: ctx.src, dst }, fn);
}

function verified(what: string, dst: TestRegistry, pushed: PushedImage[]): Promise<VerifyResult> {
  return verifiedMirror(what, dst, PREFIX, pushed);
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
  if (args.tmpfs) useTmpfs();
  const tools = requireTools();
  const benchStart = performance.now();
  mkdirSync(OUT, { recursive: true });
  const cli = cliBundle(args);
  const cores = cpus().length;
  const machine = machineInfo('m2m benchmark', args.runs, args.parallel, cli, tools, args.tmpfs);

  const dir = makeWorkDir('bench');
  const src = await freshRegistry();
  const ctx: Context = { args, cli, src, dir, cores };

  // --- data set (not timed against anything)
  const { images, pushed, summary, generationS } = await generateDataset(src);
  let t: number;
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
              `registries CPU ${fmt(m.srcRegistryCpuS, 1)} + ${fmt(m.dstRegistryCpuS, 1)} s, other ${fmt(m.otherCpuS, 1)} s, ${m.dstRequests?.total} dst requests); ` +
              `no-op ${fmt(noop.wallS)} s (RSS ${mb(noop.maxRssBytes, 0)} MB, ${noop.dstRequests?.total} dst requests); verified`,
          );
        });
      } else if (!args.skipSkopeo) {
        await attempt(`run ${run}: skopeo`, async (dst) => {
          const m = await skopeo(ctx, images, dst);
          results.verification.push(await verified(`skopeo, run ${run}`, dst, pushed));
          results.skopeo.push(m);
          log(
            `run ${run}: skopeo ${fmt(m.wallS)} s (${mb(summary.distinctBytes / m.wallS, 0)} MB/s, max RSS ${mb(m.maxRssBytes, 0)} MB per process, CPU ${fmt(m.cpuS, 1)} s, ` +
              `registries CPU ${fmt(m.srcRegistryCpuS, 1)} + ${fmt(m.dstRegistryCpuS, 1)} s, other ${fmt(m.otherCpuS, 1)} s, ${m.dstRequests?.total} dst requests); verified`,
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
    await attempt('profiled run', async (dst) => {
      const ws = join(dir, `ws-prof-${++seq}`);
      await ours(ctx, isc, ws, dst, ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
      const runProf = newestProfile(profDir);
      await ours(ctx, isc, ws, dst, ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
      const noopProf = newestProfile(profDir);
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
    one('runs repeated: host busy with other work', String(attempts.pollutedRepeats)),
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
  log(table(RESULT_HEAD, rows));

  // HTTP requests of the first runs, as the registries' access logs saw them
  log(`\nHTTP requests, run 1 (registry access logs):`);
  log(`  ours    → destination: ${formatRequests(results.ours[0]?.dstRequests)}`);
  log(`  ours    → source:      ${formatRequests(results.ours[0]?.srcRequests)}`);
  log(`  no-op   → destination: ${formatRequests(results.noop[0]?.dstRequests)}`);
  log(`  no-op   → source:      ${formatRequests(results.noop[0]?.srcRequests)}`);
  if (results.skopeo[0]) {
    log(`  skopeo  → destination: ${formatRequests(results.skopeo[0].dstRequests)}`);
    log(`  skopeo  → source:      ${formatRequests(results.skopeo[0].srcRequests)}`);
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
    pollutedRepeats: attempts.pollutedRepeats,
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
