import { createReadStream, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ARCHIVE_WORKING_DIR, DirectoryMetadata } from '../collect/metadata.js';
import { readHistory, writeHistory } from '../archive/history.js';
import { ArchiveWriter, predictArchives, removePastArchives, writeArchives, type ArchiveEntry, type ArchiveResult } from '../archive/writer.js';
import { archiveSizeGiB } from '../config/defaults.js';
import { loadImageSetConfiguration } from '../config/load.js';
import { errorMessage } from '../errors.js';
import type { Endpoints } from '../copy/engine.js';
import { imageContent } from '../image/content.js';
import { ManifestMemo } from '../image/manifest-memo.js';
import { parseReference, pullReference } from '../image/reference.js';
import type { MirrorOptions } from '../options.js';
import { renderMappingLines } from '../outputs/mapping.js';
import { exitCode } from '../outputs/report.js';
import type { CopyTask } from '../plan/types.js';
import { blobDataPath } from '../store/layout.js';
import { LocalStore, type BlobTee } from '../store/store.js';
import { VERSION } from '../version.js';
import { formatBytes } from '../cli/progress.js';
import { gatherArchiveContent, sameEntries, storeContent } from './archive-content.js';
import { collectImages, planCollection, refuseUnbuiltContent } from './collect.js';
import { registryEndpoints, sourceHttpClient, WorkflowEndpoints } from './endpoints.js';
import { dryRun } from './mirror-to-mirror.js';
import type { RunHooks, RunLogger, RunOutcome } from './types.js';
import { copyPlan } from './copy-plan.js';
import { finishRun } from './outputs.js';
import { storeRoot } from './store-location.js';
import { prepareWorkingDir, runTimestamp } from './working-dir.js';

/**
 * Mirror to disk (ref §4): copy into the local store, then write `mirror_NNNNNN.tar` archives of
 * what this image set needs and earlier archives did not carry. Images that fail do not stop the
 * archive: it holds what succeeded, the report says what did not, and the exit code says so too.
 */
export async function mirrorToDisk(options: MirrorOptions, log: RunLogger, hooks: RunHooks = {}): Promise<RunOutcome> {
  const timestamp = runTimestamp();
  const config = loadImageSetConfiguration(options.configPath);
  refuseUnbuiltContent(config, basename(options.configPath));
  const dirs = prepareWorkingDir(options.workingDir, timestamp, { wipeClusterResources: false });
  log.attachFile?.(dirs.logFile);
  log.info(`oc-mirror-action ${VERSION}: mirror to disk, ${options.dryRun ? 'dry run, ' : ''}archives in ${options.archiveDir}`);

  const store = await LocalStore.open(storeRoot(options), options.storeHost);
  // A run killed mid-blob leaves its temp file; one idle for a day belongs to no live run.
  const leftovers = await store.removeTemporaries(24 * 3600 * 1000);
  if (leftovers) log.debug(`removed ${leftovers} stale temporary file(s) from the store`);
  const since = options.since ? new Date(`${options.since}T00:00:00Z`) : undefined;
  const history = await readHistory(options.workingDir, since);
  const maxArchiveBytes = (options.archiveSizeGiB ?? archiveSizeGiB(config)) * 1024 ** 3;

  const endpoints = new WorkflowEndpoints(registryEndpoints(options, log), {
    host: options.storeHost,
    source: (repo) => store.repository(repo),
    destination: (repo) => store.repository(repo),
  });
  const http = sourceHttpClient(options);
  try {
    const metadata = new DirectoryMetadata(options.workingDir);
    const collection = await collectImages({
      config,
      configFile: basename(options.configPath),
      mode: 'mirrorToDisk',
      options,
      log,
      source: (ref) => endpoints.source(ref),
      metadata,
      http,
      store,
    });
    const plan = planCollection(collection, { registry: options.storeHost, prefix: '' }, { maxNestedPaths: 0 }, log);
    const archivePlan = { outDir: options.archiveDir!, maxArchiveBytes, strict: options.strictArchive, mtime: new Date() };
    // Beside the images: the configuration at the tar root as oc-mirror writes it (ignored by
    // disk to mirror), and what collectors saved for disk to mirror (graph data, catalogs, charts).
    const configEntry = fileEntry(`isc_${archivePlan.mtime.toISOString().replace(/\.\d+Z$/, 'Z')}`, options.configPath);
    const extras = () => [configEntry, ...metadata.written().map((path) => fileEntry(`${ARCHIVE_WORKING_DIR}/${path}`, join(options.workingDir, path)))];
    if (options.dryRun) {
      const missing = await missingFromStore(plan.tasks, store);
      const predicted = await predictArchiveSize(plan.tasks, missing, endpoints, store, history, extras(), maxArchiveBytes, log);
      return dryRun(plan, dirs, log, (dir) => {
        if (missing.length) writeFileSync(join(dir, 'missing.txt'), renderMappingLines(missing));
        if (missing.length) log.warn(`${missing.length}/${plan.tasks.length} images necessary for mirroring are not available in the cache; see ${join(dir, 'missing.txt')}`);
        else log.info('all images are in the cache: disk to mirror can proceed');
        log.info(`predicted archives: ${predicted}`);
      }, collection.dryRunFiles);
    }

    // Archives of an earlier run must not pass for this run's (ref §4.3), even if nothing succeeds.
    const past = await removePastArchives(options.archiveDir!);
    if (past.length) log.debug(`removed ${past.length} archive(s) of an earlier run`);

    // The archives are laid out from the sources' manifests before the copy, so that every blob
    // is written into its archive while it streams into the store, never read back. The memo
    // makes the copy work on the very manifests the layout was made from.
    const memo = new ManifestMemo();
    const planned = await gatherArchiveContent(store, plan.tasks, history, (task) => {
      const ref = parseReference(task.pullFrom ?? task.source);
      // An image that cannot be read now is left out of the layout; its copy will say why.
      return imageContent(memo.source(endpoints.source(ref)), pullReference(ref)).catch(() => undefined);
    });
    const plannedEntries = [...planned.entries, ...extras()];
    const writer = await ArchiveWriter.open({ ...archivePlan, entries: plannedEntries });
    const tee: BlobTee = { claim: (desc) => writer.claim(blobDataPath(desc.digest)) };
    let written = false;
    try {
      const copyEndpoints: Endpoints = {
        source: (ref) => memo.source(endpoints.source(ref)),
        destination: (ref) => (ref.registry === store.host ? store.repository(ref.repository, tee) : endpoints.destination(ref)),
      };
      const { outcomes, report } = await copyPlan(plan, copyEndpoints, options, hooks, log, `the local store ${store.root}`);
      const succeeded = outcomes.filter((o) => o.ok).map((o) => o.task);
      if (succeeded.length) {
        const content = await gatherArchiveContent(store, succeeded, history);
        const entries = [...content.entries, ...extras()];
        // What failed travels too, so the far side knows what is missing.
        const reportBytes = Buffer.from(JSON.stringify(report, null, 2) + '\n');
        const reportEntry: ArchiveEntry = { name: `working-dir/logs/report_${timestamp}.json`, size: reportBytes.length, bytes: reportBytes };
        let result: ArchiveResult;
        if (sameEntries(plannedEntries, entries)) {
          result = await writer.finish([reportEntry]);
        } else {
          // Some image failed, or the store holds other content than the layout expected:
          // the archives are written again, from the store, with what succeeded.
          await writer.abandon();
          log.debug('writing the archives again from the local store: what succeeded differs from the layout made before the copy');
          result = await writeArchives({ ...archivePlan, entries: [...entries, reportEntry] });
        }
        written = true;
        for (const w of result.warnings) log.warn(w);
        const total = result.archives.reduce((n, a) => n + a.bytes, 0);
        log.info(
          `${result.archives.length} archive(s), ${formatBytes(total)}: ${content.shipped.size} blobs and manifests written, ${content.skipped} blobs and ${Object.keys(content.carried).length} whole images already carried by earlier archives`,
        );
        for (const a of result.archives) log.info(`  ${a.path} (${formatBytes(a.bytes)})`);
        await writeHistory(options.workingDir, [...history, ...content.shipped], new Date());
      } else {
        log.error('no image could be mirrored: no archive written');
      }
      finishRun(report, { clusterResources: false, maxNestedPaths: 0, dirs, timestamp, log });
      return { exitCode: exitCode(report), report, workingDir: dirs };
    } finally {
      if (!written) await writer.abandon();
    }
  } finally {
    await http.close();
    await endpoints.close();
  }
}

async function missingFromStore(tasks: CopyTask[], store: LocalStore): Promise<CopyTask[]> {
  const missing: CopyTask[] = [];
  for (const task of tasks) {
    const ref = parseReference(task.destination);
    const digest = await store.repository(ref.repository).manifestDigest(pullReference(ref));
    if (!digest) missing.push(task);
  }
  return missing;
}

/**
 * The archives this run would write, computed as the run computes them: images in the store are
 * read there, the others from their sources. Only the run's report is not counted.
 */
async function predictArchiveSize(
  tasks: CopyTask[],
  missing: CopyTask[],
  endpoints: WorkflowEndpoints,
  store: LocalStore,
  history: Set<string>,
  extras: ArchiveEntry[],
  maxArchiveBytes: number,
  log: RunLogger,
): Promise<string> {
  const inStore = storeContent(store);
  const content = await gatherArchiveContent(store, tasks, history, async (task) => {
    try {
      if (!missing.includes(task)) return await inStore(task);
      const ref = parseReference(task.pullFrom ?? task.source);
      return await imageContent(endpoints.source(ref), pullReference(ref));
    } catch (err) {
      log.warn(`${task.source}: cannot predict its size: ${errorMessage(err)}`);
      return undefined;
    }
  });
  const archives = predictArchives([...content.entries, ...extras], maxArchiveBytes);
  const total = archives.reduce((n, a) => n + a, 0);
  return `${archives.length} archive(s), ${formatBytes(total)} (${total} bytes, and the run's report)`;
}

function fileEntry(name: string, file: string): ArchiveEntry {
  return { name, size: statSync(file).size, source: async () => createReadStream(file) };
}
