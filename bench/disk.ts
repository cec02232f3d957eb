/**
 * Disk workflows benchmark: our CLI's mirror to disk (M2D: registry → local store → tar archive)
 * and disk to mirror (D2M: archive → registry) against skopeo doing the same with `oci:` layouts
 * and tar, at the same parallelism and on the same data set as bench/m2m.ts; then the size of an
 * incremental archive after one new image. See bench/README.md.
 *
 *   npm run bench:disk -- [--runs 3] [--parallel 4] [--cli dist/cli.js] [--build] [--cpu-prof]
 *                         [--our-args "..."] [--skip-skopeo] [--skip-incremental] [--new-layers 6,2]
 *                         [--skopeo-layout shared-blobs|separate] [--idle-wait 120] [--tmpfs]
 */
import { mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readTar } from '../test/integration/disk-helpers.js';
import { removeDir } from '../test/support/cleanup.js';
import { MediaTypes, type PushedImage } from '../test/support/images.js';
import type { TestRegistry } from '../test/support/registry.js';
import { requireTools } from '../test/support/tools.js';
import { incrementalImage, pushDataset, type BenchImage, type DatasetSummary } from './dataset.js';
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
  mb,
  MB,
  measurePool,
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
  sumProcesses,
  table,
  tail,
  useTmpfs,
  verdict,
  verified,
  windowed,
  writeIsc,
  type FailureRecord,
  type RunMeasurement,
  type Stat,
} from './harness.js';
import { childEnv, haveGnuTime, measure, type ProcResult } from './proc.js';
import { summariseProfile, type ProfileSummary } from './profile.js';
import type { VerifyResult } from './registry-check.js';

/** D2M destination: docker://<dst>/mirror → <dst>/mirror/bench/imgNN:v1 for both tools */
const PREFIX = 'mirror';

const TARGETS = {
  /** our wall time / skopeo's, for M2D and for D2M */
  ratio: 0.7,
  /** incremental archive size / the new image's new blob bytes */
  incremental: 1.01,
  /** bench/m2m.ts's bound, shown for reference */
  rssBytes: 300 * MB,
};

/**
 * Disk workflows make the kernel's writeback and journal threads work (that CPU is the workload's
 * but no measured process's): a run counts as polluted by other work on the host only above this
 * many cores of "other" CPU, instead of the m2m bench's 0.25.
 */
const DISK_OTHER_CORES = 0.4;

// ---------------------------------------------------------------------------------------------
// Arguments

interface Args {
  runs: number;
  parallel: number;
  cli: string;
  build: boolean;
  cpuProf: boolean;
  ourArgs: string[];
  skipSkopeo: boolean;
  incremental: boolean;
  /** sizes of the new layers of the incremental image, MiB */
  newLayersMiB: number[];
  skopeoLayout: 'shared-blobs' | 'separate';
  idleWaitS: number;
  tmpfs: boolean;
}

const HELP = `usage: npm run bench:disk -- [options]
  --runs N             measurements of each kind (M2D + D2M of ours, of skopeo), fresh each time (default 3)
  --parallel N         images at a time: our --parallel-images and skopeo's worker pool (default 4)
  --cli PATH           the CLI bundle to run (default dist/cli.js)
  --build              bundle src/ with ncc into bench/out/cli-build/ first and run that (dist/ untouched)
  --cpu-prof           one extra, untimed M2D and D2M of ours under node --cpu-prof, profiles in
                       bench/out/prof-disk-*/, top functions printed
  --our-args "..."     extra arguments for our CLI, both directions (e.g. "--parallel-layers 8")
  --skip-skopeo        measure only ours (no ratio)
  --skip-incremental   leave out the incremental archive measurement
  --new-layers A,B     MiB of each new layer of the incremental image (default 6,2; it also reuses a base layer)
  --skopeo-layout L    shared-blobs (default): one oci: layout per skopeo worker (concurrent writers
                       lose index.json entries in a shared one), all sharing one blob directory
                       (--dest-shared-blob-dir); separate: one complete layout per worker (shared
                       base layers stored and archived once per worker)
  --tmpfs              registries, stores, layouts and archives in /dev/shm (RAM) instead of the disk
  --idle-wait S        before each measurement wait up to S seconds for the machine to be idle
                       (< ${IDLE_CORES} cores busy) (default 120)
`;

function parseArgs(argv: string[]): Args {
  const a: Args = {
    runs: 3,
    parallel: 4,
    cli: join(ROOT, 'dist', 'cli.js'),
    build: false,
    cpuProf: false,
    ourArgs: [],
    skipSkopeo: false,
    incremental: true,
    newLayersMiB: [6, 2],
    skopeoLayout: 'shared-blobs',
    idleWaitS: 120,
    tmpfs: false,
  };
  parseFlags(argv, HELP, (flag, arg) => {
    switch (flag) {
      case '--runs': a.runs = arg.int(1); break;
      case '--parallel': a.parallel = arg.int(1); break;
      case '--cli': a.cli = resolve(arg.value()); break;
      case '--build': a.build = true; break;
      case '--cpu-prof': a.cpuProf = true; break;
      case '--our-args': a.ourArgs = arg.value().split(/\s+/).filter(Boolean); break;
      case '--skip-skopeo': a.skipSkopeo = true; break;
      case '--skip-incremental': a.incremental = false; break;
      case '--new-layers': {
        const sizes = arg.value().split(',').map(Number);
        if (!sizes.length || sizes.some((n) => !(n > 0))) throw new Error('--new-layers takes sizes in MiB, e.g. 6,2');
        a.newLayersMiB = sizes;
        break;
      }
      case '--skopeo-layout': {
        const v = arg.value();
        if (v !== 'shared-blobs' && v !== 'separate') throw new Error('--skopeo-layout is shared-blobs or separate');
        a.skopeoLayout = v;
        break;
      }
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
  skopeo: string;
  src: TestRegistry;
  dir: string;
  images: BenchImage[];
  pushed: PushedImage[];
}

/** Where our M2D's wall time went, from the report's timestamps and the archive's mtime. */
interface M2DPhases {
  /** spawn → copy starts: Node, bundle, config, store, removing past archives */
  startS: number;
  /** the copy engine: source registry → local store (report startedAt → finishedAt) */
  copyS: number;
  /** reading the store, writing the tar (finishedAt → the archive's last write) */
  archiveS: number;
  /** archive's last write → exit: its fdatasync and rename, history, report, exit */
  finishS: number;
}

/** Where our D2M's wall time went. */
interface D2MPhases {
  /** spawn → copy starts: Node, bundle, config, indexing the archives, destination check */
  startS: number;
  /** the copy engine: archives → destination registry */
  copyS: number;
  /** outputs (IDMS/ITMS, report) and exit */
  finishS: number;
}

interface OursM2D extends RunMeasurement {
  statuses: Record<string, number>;
  bytesCopied: number;
  archiveBytes: number;
  archives: number;
  phases: M2DPhases;
}

interface OursD2M extends RunMeasurement {
  statuses: Record<string, number>;
  bytesCopied: number;
  phases: D2MPhases;
}

interface SkopeoM2D extends RunMeasurement {
  phases: {
    /** the pool of `skopeo copy --all docker://… oci:…` */
    copyS: number;
    /** `tar -cf` of the layouts */
    tarS: number;
    /** not in wallS: `sync -d archive.tar` afterwards (our archive is fdatasynced before it is renamed) */
    fsyncS: number;
  };
  archiveBytes: number;
  /** the slowest single skopeo process */
  slowestImageS: number;
}

interface SkopeoD2M extends RunMeasurement {
  phases: {
    /** `tar -xf` of the archive */
    untarS: number;
    /** the pool of `skopeo copy --all oci:… docker://…` */
    copyS: number;
  };
  slowestImageS: number;
}

let seq = 0;

function failIfNonZero(what: string, r: ProcResult, logPath: string, dst?: TestRegistry): void {
  if (r.exitCode !== 0) throw new RunFailure(`${what} exited with ${r.exitCode}\n${tail(logPath)}`, saveEvidence(dst, logPath));
}

function archivesIn(dir: string): { path: string; bytes: number; mtimeMs: number }[] {
  return readdirSync(dir)
    .filter((f) => /^mirror_\d{6}\.tar$/.test(f))
    .sort()
    .map((f) => {
      const st = statSync(join(dir, f));
      return { path: join(dir, f), bytes: st.size, mtimeMs: st.mtimeMs };
    });
}

/** Our mirror to disk: `file://<out>`, store in `<cache>/.oc-mirror/.cache`. */
function oursM2D(ctx: Context, isc: string, out: string, cache: string, nodeArgs: string[] = []): Promise<OursM2D> {
  return windowed({ idleWaitS: ctx.args.idleWaitS, src: ctx.src, otherCores: DISK_OTHER_CORES }, async () => {
    const n = ++seq;
    const logPath = join(ctx.dir, `ours-m2d-${n}.log`);
    const argv = [
      ...nodeArgs, ctx.cli,
      '-c', isc, `file://${out}`, '--cache-dir', cache,
      '--src-tls-verify=false', '--parallel-images', String(ctx.args.parallel),
      ...ctx.args.ourArgs,
    ];
    const t0 = Date.now();
    const r = await measure(process.execPath, argv, logPath, join(ctx.dir, `ours-m2d-${n}.time`), childEnv({ CI: 'true' }));
    failIfNonZero('our mirror to disk', r, logPath);
    const report = latestReport(out);
    const archives = archivesIn(out);
    if (!archives.length) throw new RunFailure(`our mirror to disk wrote no mirror_*.tar in ${out}\n${tail(logPath)}`, saveEvidence(undefined, logPath));
    const [started, finished] = [Date.parse(report.startedAt), Date.parse(report.finishedAt)];
    const lastWrite = Math.max(...archives.map((a) => a.mtimeMs));
    const exit = t0 + r.wallS * 1000;
    return {
      ...r,
      ...reportStatuses(report),
      archiveBytes: archives.reduce((s, a) => s + a.bytes, 0),
      archives: archives.length,
      phases: { startS: (started - t0) / 1000, copyS: (finished - started) / 1000, archiveS: (lastWrite - finished) / 1000, finishS: (exit - lastWrite) / 1000 },
    };
  });
}

/** Our disk to mirror: the archives in `from`, read in place, into `docker://<dst>/mirror`. */
function oursD2M(ctx: Context, isc: string, from: string, cache: string, dst: TestRegistry, nodeArgs: string[] = []): Promise<OursD2M> {
  return windowed({ idleWaitS: ctx.args.idleWaitS, dst, otherCores: DISK_OTHER_CORES }, async () => {
    const n = ++seq;
    const logPath = join(ctx.dir, `ours-d2m-${n}.log`);
    const argv = [
      ...nodeArgs, ctx.cli,
      '-c', isc, '--from', `file://${from}`, `docker://${dst.host}/${PREFIX}`, '--cache-dir', cache,
      '--dest-tls-verify=false', '--parallel-images', String(ctx.args.parallel),
      ...ctx.args.ourArgs,
    ];
    const t0 = Date.now();
    const r = await measure(process.execPath, argv, logPath, join(ctx.dir, `ours-d2m-${n}.time`), childEnv({ CI: 'true' }));
    failIfNonZero('our disk to mirror', r, logPath, dst);
    const report = latestReport(from);
    const [started, finished] = [Date.parse(report.startedAt), Date.parse(report.finishedAt)];
    return {
      ...r,
      ...reportStatuses(report),
      phases: { startS: (started - t0) / 1000, copyS: (finished - started) / 1000, finishS: (t0 + r.wallS * 1000 - finished) / 1000 },
    };
  });
}

/** skopeo's side of an archive: where each image's `oci:` layout is, and where its blobs are. */
interface SkopeoLayouts {
  root: string;
  /** image repo → its worker's layout directory (relative to root) */
  layoutOf: Map<string, string>;
  /** the shared blob directory (relative to root), with --skopeo-layout shared-blobs */
  sharedBlobs?: string;
}

function ociRef(root: string, layout: string, img: BenchImage): string {
  return `oci:${join(root, layout)}:${img.repo}:${img.tag}`;
}

/**
 * skopeo's mirror to disk: a pool of `skopeo copy --all docker://… oci:<layout>:<repo>:<tag>`, one
 * layout per worker (see --skopeo-layout), then `tar -cf archive -C <layouts> .`. The wall time is
 * copy + tar; a `sync -d archive` after it is timed apart (phases.fsyncS), not in the wall time.
 */
function skopeoM2D(ctx: Context, runDir: string, archive: string): Promise<SkopeoM2D & { layouts: SkopeoLayouts }> {
  const root = join(runDir, 'skopeo-oci');
  mkdirSync(root, { recursive: true });
  const shared = ctx.args.skopeoLayout === 'shared-blobs';
  const layouts: SkopeoLayouts = { root, layoutOf: new Map(), ...(shared && { sharedBlobs: 'blobs' }) };
  return windowed({ idleWaitS: ctx.args.idleWaitS, src: ctx.src, otherCores: DISK_OTHER_CORES }, async () => {
    const started = performance.now();
    const copy = await measurePool(ctx.images, ctx.args.parallel, async (img, worker) => {
      const n = ++seq;
      const layout = `w${worker + 1}`;
      layouts.layoutOf.set(img.repo, layout);
      const logPath = join(ctx.dir, `skopeo-m2d-${n}.log`);
      // skopeo 1.9 converts Docker schema 2 images to OCI on their way into an oci: layout, so
      // their digests change (see isDockerFormat). --preserve-digests is no way out: it refuses
      // Docker manifest lists, and a Docker manifest it does store, skopeo cannot read back from
      // the layout ("no descriptor found for reference").
      const r = await measure(ctx.skopeo, [
        'copy', '--all', '--src-tls-verify=false',
        ...(shared ? ['--dest-shared-blob-dir', join(root, 'blobs')] : []),
        `docker://${ctx.src.host}/${img.repo}:${img.tag}`, ociRef(root, layout, img),
      ], logPath, join(ctx.dir, `skopeo-m2d-${n}.time`));
      failIfNonZero(`skopeo copy of ${img.repo}:${img.tag} to oci:`, r, logPath);
      return r;
    });
    const n = ++seq;
    const tarLog = join(ctx.dir, `tar-c-${n}.log`);
    const tar = await measure('tar', ['-cf', archive, '-C', root, '.'], tarLog, join(ctx.dir, `tar-c-${n}.time`));
    failIfNonZero('tar -cf', tar, tarLog);
    const wallS = (performance.now() - started) / 1000;
    const syncLog = join(ctx.dir, `sync-${n}.log`);
    const fsync = await measure('sync', ['-d', archive], syncLog, join(ctx.dir, `sync-${n}.time`));
    failIfNonZero('sync -d', fsync, syncLog);
    const all = sumProcesses([copy, tar], wallS);
    return {
      ...all,
      // the skopeo processes' own peak, not tar's
      maxRssBytes: copy.maxRssBytes,
      slowestImageS: copy.slowestS,
      phases: { copyS: copy.wallS, tarS: tar.wallS, fsyncS: fsync.wallS },
      archiveBytes: statSync(archive).size,
      layouts,
    };
  });
}

/** skopeo's disk to mirror: `tar -xf`, then a pool of `skopeo copy --all oci:… docker://…`. */
function skopeoD2M(ctx: Context, runDir: string, archive: string, layouts: SkopeoLayouts, dst: TestRegistry): Promise<SkopeoD2M> {
  const root = join(runDir, 'skopeo-x');
  return windowed({ idleWaitS: ctx.args.idleWaitS, dst, otherCores: DISK_OTHER_CORES }, async () => {
    const started = performance.now();
    mkdirSync(root, { recursive: true });
    const n = ++seq;
    const tarLog = join(ctx.dir, `tar-x-${n}.log`);
    const tar = await measure('tar', ['-xf', archive, '-C', root], tarLog, join(ctx.dir, `tar-x-${n}.time`));
    failIfNonZero('tar -xf', tar, tarLog, dst);
    const copy = await measurePool(ctx.images, ctx.args.parallel, async (img) => {
      const k = ++seq;
      const logPath = join(ctx.dir, `skopeo-d2m-${k}.log`);
      const r = await measure(ctx.skopeo, [
        'copy', '--all', '--preserve-digests', '--dest-tls-verify=false',
        ...(layouts.sharedBlobs ? ['--src-shared-blob-dir', join(root, layouts.sharedBlobs)] : []),
        ociRef(root, layouts.layoutOf.get(img.repo)!, img), `docker://${dst.host}/${PREFIX}/${img.repo}:${img.tag}`,
      ], logPath, join(ctx.dir, `skopeo-d2m-${k}.time`));
      failIfNonZero(`skopeo copy of ${img.repo}:${img.tag} from oci:`, r, logPath, dst);
      return r;
    });
    const all = sumProcesses([tar, copy], (performance.now() - started) / 1000);
    return { ...all, maxRssBytes: copy.maxRssBytes, slowestImageS: copy.slowestS, phases: { untarS: tar.wallS, copyS: copy.wallS } };
  });
}

/** skopeo 1.9 stores Docker schema 2 manifests and lists in an oci: layout only converted to OCI. */
const isDockerFormat = (img: PushedImage) => img.mediaType === MediaTypes.dockerList || img.mediaType === MediaTypes.dockerManifest;

// ---------------------------------------------------------------------------------------------
// Incremental archive

interface ArchivePart {
  entries: number;
  /** bytes of the entries' content */
  bytes: number;
}

interface IncrementalResult {
  image: string;
  /** config and layers of the new image that the first archive did not carry */
  newBlobs: { digest: string; size: number }[];
  newBlobBytes: number;
  /** the base layer it shares with images of the first archive */
  reusedBlobBytes: number;
  first: OursM2D;
  second: OursM2D;
  secondArchiveBytes: number;
  ratio: number;
  /** content of the second archive by kind, plus the tar framing */
  breakdown: Record<string, ArchivePart>;
  /** D2M of the first archive, then of the second, into one fresh registry: 31 images identical to the source */
  verification?: VerifyResult;
}

function breakdownOf(archive: string, newBlobs: Set<string>, newManifests: Set<string>, oldManifests: Set<string>, oldBlobs: Set<string>): Record<string, ArchivePart> {
  const items = readTar(archive);
  const parts: Record<string, ArchivePart> = {};
  const add = (kind: string, bytes: number) => {
    const p = (parts[kind] ??= { entries: 0, bytes: 0 });
    p.entries++;
    p.bytes += bytes;
  };
  let end = 0;
  let framing = 0;
  for (const it of items) {
    // the header block(s) before the entry's data, and the padding after it
    framing += it.offset - end + ((512 - (it.size % 512)) % 512);
    end = it.offset + Math.ceil(it.size / 512) * 512;
    const digest = /\/blobs\/(sha256)\/[0-9a-f]{2}\/([0-9a-f]{64})\/data$/.exec(it.name);
    const d = digest ? `${digest[1]}:${digest[2]}` : '';
    if (it.type === '5') add('directories', it.size);
    else if (d && newBlobs.has(d)) add('new image: new blobs (config, layers)', it.size);
    else if (d && newManifests.has(d)) add('new image: manifest', it.size);
    else if (d && oldManifests.has(d)) add('unchanged images: manifests', it.size);
    else if (d && oldBlobs.has(d)) add('unchanged images: blobs (re-shipped!)', it.size);
    else if (d) add('other blob data', it.size);
    else if (it.name.endsWith('/link')) add(it.name.includes('/_layers/') ? 'links: layers' : it.name.includes('/_manifests/tags/') ? 'links: tags' : 'links: revisions', it.size);
    else if (/^working-dir\/logs\/report_/.test(it.name)) add('report', it.size);
    else if (/^isc_/.test(it.name)) add('ImageSetConfiguration', it.size);
    else add(`other (${it.name})`, it.size);
  }
  const total = statSync(archive).size;
  parts['tar framing (headers, padding, end blocks)'] = { entries: items.length, bytes: framing + (total - end) };
  return parts;
}

function manifestDigests(pushed: PushedImage[]): Set<string> {
  return new Set(pushed.flatMap((p) => [p.digest, ...(p.children ?? []).map((c) => c.digest)]));
}

/**
 * After a first M2D of the 30 images, one new image is pushed to the source (a reused base layer
 * plus new layers) and M2D runs again into the same out dir with the same cache: the second
 * archive should hold little more than the new image's new blobs.
 */
async function incremental(ctx: Context, isc: string): Promise<IncrementalResult> {
  const rd = join(ctx.dir, `incremental-${++seq}`);
  const [out, cache, firstDir] = [join(rd, 'out'), join(rd, 'cache'), join(rd, 'first')];
  try {
    const first = await oursM2D(ctx, isc, out, cache);
    // the second run removes the archives in `out` (as oc-mirror does): keep the first one aside
    mkdirSync(firstDir, { recursive: true });
    for (const a of archivesIn(out)) renameSync(a.path, join(firstDir, a.path.slice(out.length + 1)));

    const img = incrementalImage(ctx.args.newLayersMiB);
    const [added] = await pushDataset(ctx.src, [img]);
    const known = new Set(ctx.pushed.flatMap((p) => p.blobs.map((b) => b.digest)));
    const newBlobs = added!.blobs.filter((b) => !known.has(b.digest));
    const reused = added!.blobs.filter((b) => known.has(b.digest));
    const images = [...ctx.images, img];
    const isc2 = join(rd, 'isc-31.yaml');
    writeIsc(isc2, ctx.src, images);

    const second = await oursM2D(ctx, isc2, out, cache);
    const archives = archivesIn(out);
    const secondArchiveBytes = archives.reduce((s, a) => s + a.bytes, 0);
    const newBlobBytes = newBlobs.reduce((s, b) => s + b.size, 0);
    const breakdown: Record<string, ArchivePart> = {};
    for (const a of archives) {
      const parts = breakdownOf(a.path, new Set(newBlobs.map((b) => b.digest)), manifestDigests([added!]), manifestDigests(ctx.pushed), known);
      for (const [k, p] of Object.entries(parts)) {
        const t = (breakdown[k] ??= { entries: 0, bytes: 0 });
        t.entries += p.entries;
        t.bytes += p.bytes;
      }
    }
    const result: IncrementalResult = {
      image: `${img.repo}:${img.tag}`,
      newBlobs,
      newBlobBytes,
      reusedBlobBytes: reused.reduce((s, b) => s + b.size, 0),
      first,
      second,
      secondArchiveBytes,
      ratio: secondArchiveBytes / newBlobBytes,
      breakdown,
    };

    // Correctness: the enclave side pushes the first archive, later the second one alone (no
    // store: a fresh --cache-dir), and ends up with all 31 images.
    result.verification = await attempt('incremental: D2M of both archives', async (dst) => {
      await oursD2M(ctx, isc, firstDir, join(rd, `d2m-cache-${++seq}`), dst);
      const d2m = await oursD2M(ctx, isc2, out, join(rd, `d2m-cache-${++seq}`), dst);
      if ((d2m.statuses.present ?? 0) !== ctx.images.length) log(`  note: D2M of the second archive: ${JSON.stringify(d2m.statuses)}`);
      return verified('incremental D2M (both archives)', dst, PREFIX, [...ctx.pushed, added!]);
    });
    return result;
  } finally {
    await removeDir(rd);
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
  ours: { m2d: OursM2D; d2m: OursD2M }[];
  skopeo: { m2d: SkopeoM2D; d2m: SkopeoD2M; converted: string[] }[];
  incremental?: IncrementalResult;
  profiles?: { m2d: ProfileSummary & { file: string }; d2m: ProfileSummary & { file: string } };
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
  const machine = machineInfo('disk workflows benchmark', args.runs, args.parallel, cli, tools, args.tmpfs);
  log(`  skopeo side: ${args.skopeoLayout === 'shared-blobs' ? 'one oci: layout per worker, one shared blob directory' : 'one complete oci: layout per worker'}, tar of them all`);

  const dir = makeWorkDir('bench-disk');
  const src = await freshRegistry();
  const { images, pushed, summary, generationS } = await generateDataset(src);
  const isc = join(dir, 'isc.yaml');
  writeIsc(isc, src, images);
  const ctx: Context = { args, cli, skopeo: tools.skopeo, src, dir, images, pushed };
  const ds = summary.distinctBytes;

  const results: Results = {
    startedAt: new Date().toISOString(),
    machine,
    args,
    cli,
    rssMethod: haveGnuTime ? 'gnu-time' : 'proc-vmhwm',
    dataset: { ...summary, generationS },
    ours: [],
    skopeo: [],
    verification: [],
    failures,
  };

  // --- main runs: each is M2D into a fresh out dir and cache, D2M of its archive into a fresh
  // registry, and a check of that registry against the source; ours and skopeo alternate first
  for (let run = 1; run <= args.runs; run++) {
    for (const who of run % 2 === 1 ? ['ours', 'skopeo'] : ['skopeo', 'ours']) {
      if (who === 'ours') {
        await attempt(`run ${run}: ours`, async (dst) => {
          const rd = join(dir, `ours-${run}-${++seq}`);
          try {
            const m2d = await oursM2D(ctx, isc, join(rd, 'out'), join(rd, 'cache'));
            const d2m = await oursD2M(ctx, isc, join(rd, 'out'), join(rd, 'd2m-cache'), dst);
            results.verification.push(await verified(`ours, run ${run}`, dst, PREFIX, pushed));
            results.ours.push({ m2d, d2m });
            const p = m2d.phases;
            log(
              `run ${run}: ours    M2D ${fmt(m2d.wallS)} s (start ${fmt(p.startS)} + copy ${fmt(p.copyS)} + archive ${fmt(p.archiveS)} + finish ${fmt(p.finishS)}; ` +
                `${mb(m2d.archiveBytes)} MB archive, RSS ${mb(m2d.maxRssBytes, 0)} MB, CPU ${fmt(m2d.cpuS, 1)} s, src registry ${fmt(m2d.srcRegistryCpuS, 1)} s, other ${fmt(m2d.otherCpuS, 1)} s); ` +
                `D2M ${fmt(d2m.wallS)} s (start ${fmt(d2m.phases.startS)} + copy ${fmt(d2m.phases.copyS)} + finish ${fmt(d2m.phases.finishS)}; RSS ${mb(d2m.maxRssBytes, 0)} MB, ` +
                `CPU ${fmt(d2m.cpuS, 1)} s, dst registry ${fmt(d2m.dstRegistryCpuS, 1)} s, other ${fmt(d2m.otherCpuS, 1)} s); verified`,
            );
          } finally {
            await removeDir(rd);
          }
        });
      } else if (!args.skipSkopeo) {
        await attempt(`run ${run}: skopeo`, async (dst) => {
          const rd = join(dir, `skopeo-${run}-${++seq}`);
          try {
            const archive = join(rd, 'archive.tar');
            const { layouts, ...m2d } = await skopeoM2D(ctx, rd, archive);
            await removeDir(layouts.root); // the source side's layouts are not the target side's
            const d2m = await skopeoD2M(ctx, rd, archive, layouts, dst);
            const v = await verified(`skopeo, run ${run}`, dst, PREFIX, pushed, { mayConvert: isDockerFormat });
            results.verification.push(v);
            results.skopeo.push({ m2d, d2m, converted: v.converted });
            log(
              `run ${run}: skopeo  M2D ${fmt(m2d.wallS)} s (copy ${fmt(m2d.phases.copyS)} + tar ${fmt(m2d.phases.tarS)}; then fsync ${fmt(m2d.phases.fsyncS)}; ` +
                `${mb(m2d.archiveBytes)} MB archive, RSS ${mb(m2d.maxRssBytes, 0)} MB per process, CPU ${fmt(m2d.cpuS, 1)} s, src registry ${fmt(m2d.srcRegistryCpuS, 1)} s, other ${fmt(m2d.otherCpuS, 1)} s); ` +
                `D2M ${fmt(d2m.wallS)} s (untar ${fmt(d2m.phases.untarS)} + copy ${fmt(d2m.phases.copyS)}; CPU ${fmt(d2m.cpuS, 1)} s, dst registry ${fmt(d2m.dstRegistryCpuS, 1)} s, ` +
                `other ${fmt(d2m.otherCpuS, 1)} s); verified${v.converted.length ? ` (${v.converted.length} Docker images converted to OCI, other digests)` : ''}`,
            );
          } finally {
            await removeDir(rd);
          }
        });
      }
    }
  }

  // --- incremental archive after one new image
  if (args.incremental) {
    log(`\nincremental: M2D, then one new image (${args.newLayersMiB.join(' + ')} MiB of new layers on a reused base layer), M2D again (same out dir, same cache)...`);
    const inc = await incremental(ctx, isc);
    results.incremental = inc;
    log(
      `incremental: first archive ${mb(inc.first.archiveBytes)} MB in ${fmt(inc.first.wallS)} s; second ${mb(inc.secondArchiveBytes)} MB in ${fmt(inc.second.wallS)} s ` +
        `(statuses ${JSON.stringify(inc.second.statuses)}); new blob bytes ${mb(inc.newBlobBytes, 3)} MB; D2M of both archives verified (31 images)`,
    );
  }

  // --- optional CPU profiles of one M2D and one D2M (untimed)
  const stamp = results.startedAt.replace(/[:.]/g, '-');
  if (args.cpuProf) {
    const profDir = join(OUT, `prof-disk-${stamp}`);
    mkdirSync(profDir, { recursive: true });
    await attempt('profiled runs', async (dst) => {
      const rd = join(dir, `prof-${++seq}`);
      try {
        const flags = ['--cpu-prof', `--cpu-prof-dir=${profDir}`];
        await oursM2D(ctx, isc, join(rd, 'out'), join(rd, 'cache'), flags);
        const m2dProf = newestProfile(profDir);
        await oursD2M(ctx, isc, join(rd, 'out'), join(rd, 'd2m-cache'), dst, flags);
        const d2mProf = newestProfile(profDir);
        results.profiles = {
          m2d: { ...summariseProfile(m2dProf), file: relative(ROOT, m2dProf) },
          d2m: { ...summariseProfile(d2mProf), file: relative(ROOT, d2mProf) },
        };
      } finally {
        await removeDir(rd);
      }
    });
  }

  // --- report
  const S = (f: (x: { m2d: OursM2D; d2m: OursD2M }) => number) => stat(results.ours.map(f));
  const K = (f: (x: { m2d: SkopeoM2D; d2m: SkopeoD2M }) => number) => stat(results.skopeo.map(f));
  const haveSkopeo = results.skopeo.length > 0;
  const secs = (x: number) => fmt(x);
  const rows: string[][] = [];
  const ratioRows = (what: string, ours: Stat, sk: Stat | undefined, oursOf: (i: number) => number, skOf: (i: number) => number) => {
    if (!sk) return;
    const ratio = ours.median / sk.median;
    rows.push(one(`${what}: ratio ours / skopeo (medians)`, fmt(ratio), `≤ ${TARGETS.ratio}`, verdict(ratio <= TARGETS.ratio)));
    const pairs = Math.min(results.ours.length, results.skopeo.length);
    rows.push(row(`${what}: ratio ours / skopeo, per run (paired)`, stat(Array.from({ length: pairs }, (_, i) => oursOf(i) / skOf(i))), secs));
  };

  const oM2D = S((x) => x.m2d.wallS);
  const sM2D = haveSkopeo ? K((x) => x.m2d.wallS) : undefined;
  rows.push(row('M2D ours (s)', oM2D, secs));
  rows.push(row('  start-up (Node, config, store)', S((x) => x.m2d.phases.startS), secs));
  rows.push(row('  copy: source registry → store', S((x) => x.m2d.phases.copyS), secs));
  rows.push(row('  archive: store → mirror_000001.tar', S((x) => x.m2d.phases.archiveS), secs));
  rows.push(row('  finish: archive fdatasync, history, exit', S((x) => x.m2d.phases.finishS), secs));
  if (sM2D) {
    rows.push(row('M2D skopeo copy --all to oci: + tar (s)', sM2D, secs));
    rows.push(row('  skopeo copy → oci: layouts', K((x) => x.m2d.phases.copyS), secs));
    rows.push(row('  tar -cf', K((x) => x.m2d.phases.tarS), secs));
    rows.push(row('  (not counted) sync -d of its archive', K((x) => x.m2d.phases.fsyncS), secs));
  }
  ratioRows('M2D', oM2D, sM2D, (i) => results.ours[i]!.m2d.wallS, (i) => results.skopeo[i]!.m2d.wallS);
  if (sM2D) {
    const durable = stat(results.skopeo.map((x) => x.m2d.wallS + x.m2d.phases.fsyncS));
    rows.push(one('M2D: ratio ours / (skopeo + tar + archive fsync)', fmt(oM2D.median / durable.median)));
  }
  rows.push(row('M2D ours: archive size (MB)', S((x) => x.m2d.archiveBytes), (x) => mb(x)));
  if (sM2D) rows.push(row('M2D skopeo: archive size (MB)', K((x) => x.m2d.archiveBytes), (x) => mb(x)));
  rows.push(row('M2D ours: throughput (MB/s, distinct bytes)', S((x) => ds / MB / x.m2d.wallS), (x) => fmt(x, 0)));
  rows.push(row('M2D ours: peak RSS (MB)', S((x) => x.m2d.maxRssBytes), (x) => mb(x, 0), `< ${mb(TARGETS.rssBytes, 0)}`, verdict(S((x) => x.m2d.maxRssBytes).max < TARGETS.rssBytes)));
  if (sM2D) rows.push(row('M2D skopeo: peak RSS per process (MB)', K((x) => x.m2d.maxRssBytes), (x) => mb(x, 0)));
  rows.push(row('M2D ours: CPU user+sys (s)', S((x) => x.m2d.cpuS), secs));
  if (sM2D) rows.push(row('M2D skopeo + tar: CPU, all processes (s)', K((x) => x.m2d.cpuS), secs));
  rows.push(row('M2D source registry CPU during ours (s)', S((x) => x.m2d.srcRegistryCpuS), secs));
  if (sM2D) rows.push(row('M2D source registry CPU during skopeo (s)', K((x) => x.m2d.srcRegistryCpuS), secs));
  rows.push(row('M2D other CPU during ours (kernel writeback, host) (s)', S((x) => x.m2d.otherCpuS), secs));
  if (sM2D) rows.push(row('M2D other CPU during skopeo (s)', K((x) => x.m2d.otherCpuS), secs));
  rows.push(row(`M2D machine cores busy during ours (of ${cores})`, S((x) => x.m2d.machineCores), secs));
  if (sM2D) rows.push(row(`M2D machine cores busy during skopeo (of ${cores})`, K((x) => x.m2d.machineCores), secs));

  const oD2M = S((x) => x.d2m.wallS);
  const sD2M = haveSkopeo ? K((x) => x.d2m.wallS) : undefined;
  rows.push(row('D2M ours (s)', oD2M, secs));
  rows.push(row('  start-up (Node, config, index archives)', S((x) => x.d2m.phases.startS), secs));
  rows.push(row('  copy: archive → destination registry', S((x) => x.d2m.phases.copyS), secs));
  rows.push(row('  finish: outputs, exit', S((x) => x.d2m.phases.finishS), secs));
  if (sD2M) {
    rows.push(row('D2M skopeo tar -xf + copy --all from oci: (s)', sD2M, secs));
    rows.push(row('  tar -xf', K((x) => x.d2m.phases.untarS), secs));
    rows.push(row('  skopeo copy oci: → registry', K((x) => x.d2m.phases.copyS), secs));
  }
  ratioRows('D2M', oD2M, sD2M, (i) => results.ours[i]!.d2m.wallS, (i) => results.skopeo[i]!.d2m.wallS);
  rows.push(row('D2M ours: throughput (MB/s, distinct bytes)', S((x) => ds / MB / x.d2m.wallS), (x) => fmt(x, 0)));
  rows.push(row('D2M ours: peak RSS (MB)', S((x) => x.d2m.maxRssBytes), (x) => mb(x, 0), `< ${mb(TARGETS.rssBytes, 0)}`, verdict(S((x) => x.d2m.maxRssBytes).max < TARGETS.rssBytes)));
  if (sD2M) rows.push(row('D2M skopeo: peak RSS per process (MB)', K((x) => x.d2m.maxRssBytes), (x) => mb(x, 0)));
  rows.push(row('D2M ours: CPU user+sys (s)', S((x) => x.d2m.cpuS), secs));
  if (sD2M) rows.push(row('D2M skopeo + tar: CPU, all processes (s)', K((x) => x.d2m.cpuS), secs));
  rows.push(row('D2M destination registry CPU during ours (s)', S((x) => x.d2m.dstRegistryCpuS), secs));
  if (sD2M) rows.push(row('D2M destination registry CPU during skopeo (s)', K((x) => x.d2m.dstRegistryCpuS), secs));
  rows.push(row('D2M other CPU during ours (s)', S((x) => x.d2m.otherCpuS), secs));
  if (sD2M) rows.push(row('D2M other CPU during skopeo (s)', K((x) => x.d2m.otherCpuS), secs));
  rows.push(row(`D2M machine cores busy during ours (of ${cores})`, S((x) => x.d2m.machineCores), secs));
  if (sD2M) rows.push(row(`D2M machine cores busy during skopeo (of ${cores})`, K((x) => x.d2m.machineCores), secs));

  const inc = results.incremental;
  if (inc) {
    rows.push(one(`incremental: ${inc.image} new blob bytes (MB)`, mb(inc.newBlobBytes, 3)));
    rows.push(one('incremental: second archive (MB)', mb(inc.secondArchiveBytes, 3)));
    rows.push(one('incremental: second archive / new blob bytes', fmt(inc.ratio, 3), `≤ ${TARGETS.incremental}`, verdict(inc.ratio <= TARGETS.incremental)));
    rows.push(one('incremental: fixed part, archive − new blobs (KB)', fmt((inc.secondArchiveBytes - inc.newBlobBytes) / 1e3, 1)));
    rows.push(one('incremental: second M2D wall (s)', fmt(inc.second.wallS)));
  }
  rows.push(one('failed attempts (retried, not timed)', String(failures.length), '0', verdict(failures.length === 0)));
  rows.push(one('runs repeated: host busy with other work', String(attempts.pollutedRepeats)));

  log(`\nresults (${args.runs} run(s) each; spread = (max - min) / median; MB = 10^6 bytes):\n`);
  log(table(RESULT_HEAD, rows));

  const o1 = results.ours[0];
  const s1 = results.skopeo[0];
  log(`\nHTTP requests, run 1 (registry access logs):`);
  log(`  ours   M2D → source:      ${formatRequests(o1?.m2d.srcRequests)}`);
  if (s1) log(`  skopeo M2D → source:      ${formatRequests(s1.m2d.srcRequests)}`);
  log(`  ours   D2M → destination: ${formatRequests(o1?.d2m.dstRequests)}`);
  if (s1) log(`  skopeo D2M → destination: ${formatRequests(s1.d2m.dstRequests)}`);

  if (inc) {
    log(`\nsecond archive (${mb(inc.secondArchiveBytes, 3)} MB) by content:`);
    const parts = Object.entries(inc.breakdown).sort((a, b) => b[1].bytes - a[1].bytes);
    log(table(['kind', 'entries', 'bytes', '% of archive'], parts.map(([k, p]) => [k, String(p.entries), String(p.bytes), pct(p.bytes / inc.secondArchiveBytes, 2)])));
  }
  const first = results.skopeo[0];
  if (first?.converted.length) {
    log(`\nskopeo's mirrors: ${first.converted.length} Docker schema 2 images arrived converted to OCI (other digests: oci: layouts of skopeo 1.9 cannot carry them as they are); their layers were checked, the rest identical to the source`);
  }

  if (results.profiles) {
    for (const [name, p] of Object.entries(results.profiles)) {
      log(`\nCPU profile of ${name === 'm2d' ? 'a mirror to disk' : 'a disk to mirror'} (${p.file}, ${fmt(p.totalMs / 1000)} s profiled):`);
      log(`  by category: ${p.categories.slice(0, 8).map((c) => `${c.name} ${c.pct}%`).join(', ')}`);
      log(table(['top self time', 'ms', '%', 'where'], p.top.slice(0, 15).map((e) => [e.fn, String(e.ms), String(e.pct), e.where])));
    }
  }

  results.summary = {
    m2d: { oursMedianS: oM2D.median, skopeoMedianS: sM2D?.median, ratio: sM2D ? oM2D.median / sM2D.median : undefined },
    d2m: { oursMedianS: oD2M.median, skopeoMedianS: sD2M?.median, ratio: sD2M ? oD2M.median / sD2M.median : undefined },
    incremental: inc && { newBlobBytes: inc.newBlobBytes, archiveBytes: inc.secondArchiveBytes, ratio: inc.ratio },
    peakRssMaxBytes: { m2d: S((x) => x.m2d.maxRssBytes).max, d2m: S((x) => x.d2m.maxRssBytes).max },
    targets: TARGETS,
    failedAttempts: failures.length,
    pollutedRepeats: attempts.pollutedRepeats,
    benchWallS: (performance.now() - benchStart) / 1000,
  };
  const jsonPath = join(OUT, `results-disk-${stamp}.json`);
  writeFileSync(jsonPath, JSON.stringify(results, (_k, v) => (v instanceof Map ? Object.fromEntries(v) : v), 2) + '\n');
  const convertedImages = results.verification.reduce((n, v) => n + v.converted.length, 0);
  log(
    `\nverified ${results.verification.length} mirrors after disk to mirror (manifest digests, child manifests, blob sizes): identical to the source` +
      (convertedImages ? `, but for the Docker images skopeo converted to OCI (${convertedImages} in all; their layers identical)` : ''),
  );
  if (failures.length) {
    log(`\nCORRECTNESS: ${failures.length} measured attempt(s) FAILED and were retried (not timed):`);
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
