/**
 * Helm charts → the images they deploy (ref §9). Charts come from repositories (`index.yaml`
 * over HTTP(S)), from registries (`oci://`) or from local directories and archives; each is
 * rendered with its default values as `helm template` would, and the images are read from the
 * rendered manifests.
 *
 * Mirror to mirror and mirror to disk fetch indexes and charts and keep them under
 * `working-dir/helm/` (indexes/<host/path>/index.yaml, charts/<name>-<version>.tgz,
 * local/<name>.tgz), which travels in the archives; disk to mirror reads them back from there and
 * never the network. OCI charts are themselves collected as images, so they travel and arrive at
 * the destination like any other artifact.
 */
import { existsSync } from 'node:fs';
import type { HelmChart, HelmRepository, LocalHelmChart, PlatformFilter } from '../config/types.js';
import { ConfigError, errorMessage } from '../errors.js';
import { isSemverLike } from '../config/semver.js';
import { digestOf } from '../image/digest.js';
import { formatReference, parseReference } from '../image/reference.js';
import type { CollectedImage } from '../plan/types.js';
import { readChartArchive, writeChartArchive, type ChartFiles } from '../helm/chart-archive.js';
import { loadChart, readLocalChart } from '../helm/chart.js';
import { HelmError } from '../helm/errors.js';
import { findImages } from '../helm/images.js';
import { parseJsonPath, type JsonPath } from '../helm/jsonpath.js';
import { ociChartReference, pullOciChart } from '../helm/oci.js';
import { renderChart } from '../helm/render.js';
import { chartMetadataPath, chartUrl, indexMetadataPath, indexUrl, parseIndex, selectVersion, type IndexEntry, type RepositoryIndex } from '../helm/repository.js';
import type { CollectContext, CollectorOutput } from './types.js';

const MAX_CHART_DOWNLOAD_BYTES = 100 * 1024 * 1024;

/** One chart to render, however it was obtained. */
interface ChartJob {
  /** the config entry, for messages: `mirror.helm.repositories[0].charts[1]` */
  field: string;
  /** names the chart before its Chart.yaml is read: `chart web-1.0.0`, `helm local chart tools` */
  where: string;
  files: ChartFiles;
  imagePaths: JsonPath[];
  /** images that come with the chart itself (an OCI chart's artifact) */
  artifacts: string[];
}

function isOffline(ctx: CollectContext): boolean {
  return ctx.mode === 'diskToMirror' || ctx.mode === 'delete';
}

function isOci(url: string): boolean {
  return url.startsWith('oci://');
}

function compileImagePaths(paths: string[] | undefined, field: string, file: string): JsonPath[] {
  return (paths ?? []).map((p, i) => {
    try {
      return parseJsonPath(p);
    } catch (err) {
      throw new ConfigError(`${file} ${field}.imagePaths[${i}]: "${p}" is not a JSONPath: ${errorMessage(err)}`);
    }
  });
}

function refusePlatforms(platforms: PlatformFilter[] | undefined, field: string, file: string): void {
  if (platforms?.length) throw new ConfigError(`${file} ${field}.platforms: per-platform (sparse) copies are not built yet; remove platforms to copy every platform`);
}

/** Everything the configuration can be faulted for, before any chart is fetched. */
function validate(repos: HelmRepository[], locals: LocalHelmChart[], file: string): void {
  repos.forEach((repo, i) => {
    const field = `mirror.helm.repositories[${i}]`;
    const scheme = new URL(repo.url).protocol;
    if (!['http:', 'https:', 'oci:'].includes(scheme)) throw new ConfigError(`${file} ${field}.url: "${repo.url}" is not an http, https or oci URL`);
    if (isOci(repo.url) && !repo.charts?.length) {
      throw new ConfigError(`${file} ${field}.charts: a registry (oci://) cannot list its charts: name each chart with its version`);
    }
    (repo.charts ?? []).forEach((c, j) => {
      const at = `${field}.charts[${j}]`;
      compileImagePaths(c.imagePaths, at, file);
      refusePlatforms(c.platforms, at, file);
      if (isOci(repo.url) && !(c.version && isSemverLike(c.version))) {
        throw new ConfigError(`${file} ${at}.version: a chart in a registry (oci://) needs an exact version${c.version ? `, not "${c.version}"` : ''}`);
      }
    });
  });
  locals.forEach((l, i) => {
    compileImagePaths(l.imagePaths, `mirror.helm.local[${i}]`, file);
    refusePlatforms(l.platforms, `mirror.helm.local[${i}]`, file);
  });
}

/** Metadata this run wrote, by path, so that two repositories' same-named charts cannot overwrite each other unnoticed. */
class ChartKeeper {
  private readonly written = new Map<string, { digest: string; from: string }>();

  constructor(private readonly ctx: CollectContext) {}

  async keep(path: string, bytes: Buffer, from: string): Promise<void> {
    const digest = digestOf(bytes);
    const earlier = this.written.get(path);
    if (earlier) {
      if (earlier.digest === digest) return;
      throw new HelmError(`working-dir/${path} would hold two different charts (from ${earlier.from} and ${from}); mirror them in separate runs`);
    }
    this.written.set(path, { digest, from });
    await this.ctx.metadata.write(path, bytes);
  }
}

async function repositoryIndex(ctx: CollectContext, repo: HelmRepository, keeper: ChartKeeper): Promise<RepositoryIndex> {
  const where = `helm repository ${repo.name}`;
  const path = indexMetadataPath(repo.url);
  if (isOffline(ctx)) {
    const saved = await ctx.metadata.read(path);
    if (!saved) throw new HelmError(`${where}: its index is not in the archives (working-dir/${path}): mirror to disk did not collect this repository`);
    return parseIndex(saved, where);
  }
  let bytes: Buffer;
  try {
    bytes = await ctx.http.getBytes(indexUrl(repo.url), { authenticate: true, accept: 'application/yaml, application/json, */*' });
  } catch (err) {
    throw new HelmError(`${where}: invalid chart repository "${repo.url}": ${errorMessage(err)}`);
  }
  const index = parseIndex(bytes, where);
  await keeper.keep(path, bytes, repo.url);
  return index;
}

async function repositoryChart(ctx: CollectContext, repo: HelmRepository, entry: IndexEntry, keeper: ChartKeeper): Promise<Buffer> {
  const label = `${entry.name}-${entry.version}`;
  const path = chartMetadataPath(entry.name, entry.version);
  let bytes: Buffer;
  let from: string;
  if (isOffline(ctx)) {
    const saved = await ctx.metadata.read(path);
    if (!saved) throw new HelmError(`chart ${label} of helm repository ${repo.name} is not in the archives (working-dir/${path}): mirror to disk did not collect it`);
    bytes = saved;
    from = `working-dir/${path}`;
  } else {
    if (!entry.urls[0]) throw new HelmError(`chart ${label} of helm repository ${repo.name} has no URL in the index`);
    from = chartUrl(repo.url, entry.urls[0]);
    try {
      bytes = await ctx.http.getBytes(from, { authenticate: true, maxBytes: MAX_CHART_DOWNLOAD_BYTES });
    } catch (err) {
      throw new HelmError(`chart ${label} of helm repository ${repo.name}: ${errorMessage(err)}`);
    }
  }
  if (entry.digest && digestOf(bytes) !== `sha256:${entry.digest}`) {
    throw new HelmError(`chart ${label} (${from}): content has digest ${digestOf(bytes)}, the repository index says sha256:${entry.digest}`);
  }
  if (!isOffline(ctx)) await keeper.keep(path, bytes, from);
  return bytes;
}

/** A chart to fetch, named by its config entry before it is fetched (so a failure names the entry). */
interface PendingChart {
  field: string;
  fetch(): Promise<ChartJob>;
}

/** The charts of a repository, in config order; a repository without `charts` gives every version of every non-library chart. */
async function repositoryCharts(ctx: CollectContext, repo: HelmRepository, i: number, keeper: ChartKeeper): Promise<PendingChart[]> {
  const field = `mirror.helm.repositories[${i}]`;
  if (isOci(repo.url)) {
    return (repo.charts ?? []).map((c, j) => ({
      field: `${field}.charts[${j}]`,
      fetch: async () => {
        const ref = parseReference(ociChartReference(repo.url, c.name, c.version!));
        const archive = await pullOciChart(ctx.source(ref), ref);
        const where = `chart ${formatReference(ref)}`;
        return {
          field: `${field}.charts[${j}]`,
          where,
          files: await readChartArchive(archive, where),
          imagePaths: compileImagePaths(c.imagePaths, `${field}.charts[${j}]`, ctx.configFile),
          artifacts: [formatReference(ref)],
        };
      },
    }));
  }
  const index = await repositoryIndex(ctx, repo, keeper);
  const fromIndex = (at: string, pick: () => IndexEntry, chart?: HelmChart): PendingChart => ({
    field: at,
    fetch: async () => {
      const entry = pick();
      const archive = await repositoryChart(ctx, repo, entry, keeper);
      const where = `chart ${entry.name}-${entry.version}`;
      return {
        field: at,
        where,
        files: await readChartArchive(archive, where),
        imagePaths: compileImagePaths(chart?.imagePaths, at, ctx.configFile),
        artifacts: [],
      };
    },
  });
  if (repo.charts) {
    return repo.charts.map((c, j) => fromIndex(`${field}.charts[${j}]`, () => selectVersion(index, c.name, c.version, `helm repository ${repo.name}`), c));
  }
  const all: PendingChart[] = [];
  for (const [name, versions] of [...index].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    for (const entry of versions) {
      if (entry.type === 'library') continue;
      if (!isSemverLike(entry.version)) {
        ctx.log.warn(`helm repository ${repo.name}: chart ${name} version "${entry.version}" is not a semantic version: skipped`);
        continue;
      }
      all.push(fromIndex(field, () => entry));
    }
  }
  return all;
}

/** `helm/local/<name>.tgz`: a local chart as mirror to disk packed it for disk to mirror. */
function localMetadataPath(name: string): string {
  return `helm/local/${encodeURIComponent(name)}.tgz`;
}

async function localJob(ctx: CollectContext, local: LocalHelmChart, i: number, keeper: ChartKeeper): Promise<ChartJob> {
  const field = `mirror.helm.local[${i}]`;
  const where = `helm local chart ${local.name}`;
  const path = localMetadataPath(local.name);
  let files: ChartFiles;
  const saved = isOffline(ctx) ? await ctx.metadata.read(path) : undefined;
  if (saved) {
    files = await readChartArchive(saved, `${where} (working-dir/${path})`);
  } else {
    // Offline without a packed copy (archives of oc-mirror itself): the path, as oc-mirror reads it.
    if (isOffline(ctx) && !existsSync(local.path)) throw new HelmError(`${where}: not in the archives (working-dir/${path}), and ${local.path} does not exist here`);
    const read = await readLocalChart(local.path, where);
    files = read.files;
    if (!isOffline(ctx)) await keeper.keep(path, read.archive ?? (await writeChartArchive(local.name, files)), local.path);
  }
  return { field, where, files, imagePaths: compileImagePaths(local.imagePaths, field, ctx.configFile), artifacts: [] };
}

/** The images of one chart; warnings go to the log. */
async function chartImages(ctx: CollectContext, job: ChartJob): Promise<CollectedImage[]> {
  const chart = await loadChart(job.files, job.where);
  const label = chart.label;
  if (chart.metadata.type === 'library') ctx.log.warn(`chart ${label} (${job.field}) is a library chart: it deploys nothing by itself`);
  const rendered = renderChart(chart);
  const scan = findImages(rendered, job.imagePaths, label);
  for (const w of scan.warnings) ctx.log.warn(w);
  ctx.log.info(`chart ${label}: ${scan.images.length} image(s)${job.artifacts.length ? ' and the chart artifact' : ''}`);
  for (const found of scan.images) ctx.log.debug(`chart ${label}: ${found.image} (${found.template})`);
  const belongsTo = { chart: label };
  return [...job.artifacts, ...scan.images.map((f) => f.image)].map((source) => ({ source, kind: 'helmImage' as const, belongsTo }));
}

/**
 * Collects the images of every chart of `mirror.helm`. Every chart is tried; any failure fails
 * the collection (before anything is copied), with every failing chart named in one line.
 */
export async function collectHelmImages(ctx: CollectContext): Promise<CollectorOutput> {
  const helm = ctx.config.mirror?.helm;
  const repos = helm?.repositories ?? [];
  const locals = helm?.local ?? [];
  validate(repos, locals, ctx.configFile);

  const keeper = new ChartKeeper(ctx);
  const images: CollectedImage[] = [];
  const failures: string[] = [];
  const attempt = async (what: string, run: () => Promise<void>) => {
    try {
      await run();
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      failures.push(`${what}: ${errorMessage(err)}`);
    }
  };
  for (const [i, repo] of repos.entries()) {
    await attempt(`${ctx.configFile} mirror.helm.repositories[${i}]`, async () => {
      for (const pending of await repositoryCharts(ctx, repo, i, keeper)) {
        await attempt(`${ctx.configFile} ${pending.field}`, async () => void images.push(...(await chartImages(ctx, await pending.fetch()))));
      }
    });
  }
  for (const [i, local] of locals.entries()) {
    await attempt(`${ctx.configFile} mirror.helm.local[${i}]`, async () => void images.push(...(await chartImages(ctx, await localJob(ctx, local, i, keeper)))));
  }
  if (failures.length === 1) throw new HelmError(failures[0]!);
  if (failures.length > 1) throw new HelmError(`${failures.length} helm failures: ${failures.join('; ')}`);
  return { images };
}
