import { createReadStream, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ARCHIVE_WORKING_DIR, DirectoryMetadata } from '../collect/metadata.js';
import { Readable } from 'node:stream';
import { readHistory, writeHistory } from '../archive/history.js';
import { predictArchives, removePastArchives, writeArchives } from '../archive/writer.js';
import { archiveSizeGiB } from '../config/defaults.js';
import { loadImageSetConfiguration } from '../config/load.js';
import { errorMessage } from '../errors.js';
import { imageContent } from '../image/content.js';
import { parseReference, pullReference } from '../image/reference.js';
import type { MirrorOptions } from '../options.js';
import { renderMappingLines } from '../outputs/mapping.js';
import { exitCode } from '../outputs/report.js';
import type { CopyTask } from '../plan/types.js';
import type { ArchiveEntry } from '../archive/writer.js';
import { blobDataPath } from '../store/layout.js';
import { LocalStore } from '../store/store.js';
import { VERSION } from '../version.js';
import { formatBytes } from '../cli/progress.js';
import { CARRIED_IMAGES_ENTRY, gatherArchiveContent } from './archive-content.js';
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
    if (options.dryRun) {
      const missing = await missingFromStore(plan.tasks, store);
      const predicted = await predictSize(plan.tasks, missing, endpoints, store, history, maxArchiveBytes, log);
      return dryRun(plan, dirs, log, (dir) => {
        if (missing.length) writeFileSync(join(dir, 'missing.txt'), renderMappingLines(missing));
        if (missing.length) log.warn(`${missing.length}/${plan.tasks.length} images necessary for mirroring are not available in the cache; see ${join(dir, 'missing.txt')}`);
        else log.info('all images are in the cache: disk to mirror can proceed');
        if (predicted) log.info(`predicted archives: ${predicted}`);
      }, collection.dryRunFiles);
    }

    // Archives of an earlier run must not pass for this run's (ref §4.3), even if nothing succeeds.
    const past = await removePastArchives(options.archiveDir!);
    if (past.length) log.debug(`removed ${past.length} archive(s) of an earlier run`);
    const { outcomes, report } = await copyPlan(plan, endpoints, options, hooks, log, `the local store ${store.root}`);
    const succeeded = outcomes.filter((o) => o.ok).map((o) => o.task);
    if (succeeded.length) {
      const content = await gatherArchiveContent(store, succeeded, history);
      // Beside the image content: what failed (so the far side knows what is missing) and the
      // configuration at the tar root as oc-mirror writes it (ignored by disk to mirror).
      const stamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      addBytes(content.entries, `working-dir/logs/report_${timestamp}.json`, Buffer.from(JSON.stringify(report, null, 2) + '\n'));
      addBytes(content.entries, `isc_${stamp}`, readFileSync(options.configPath));
      // What collectors saved for disk to mirror (graph data, catalogs, charts) travels with the images.
      for (const path of metadata.written()) addFile(content.entries, `${ARCHIVE_WORKING_DIR}/${path}`, join(options.workingDir, path));
      if (Object.keys(content.carried).length) {
        addBytes(content.entries, CARRIED_IMAGES_ENTRY, Buffer.from(JSON.stringify(content.carried, null, 1) + '\n'));
      }
      const result = await writeArchives({
        outDir: options.archiveDir!,
        maxArchiveBytes,
        strict: options.strictArchive,
        mtime: new Date(report.startedAt),
        entries: content.entries,
      });
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

/** The archive sizes this run would write: blob sizes come from the store, or from the sources' manifests. */
async function predictSize(
  tasks: CopyTask[],
  missing: CopyTask[],
  endpoints: WorkflowEndpoints,
  store: LocalStore,
  history: Set<string>,
  maxArchiveBytes: number,
  log: RunLogger,
): Promise<string | undefined> {
  const sizes = new Map<string, number>();
  for (const task of tasks) {
    try {
      const fromStore = !missing.includes(task);
      const ref = parseReference(fromStore ? task.destination : task.source);
      const src = fromStore ? store.repository(ref.repository) : endpoints.source(ref);
      const content = await imageContent(src, pullReference(ref));
      for (const m of content.manifests) sizes.set(m.digest, m.bytes.length);
      for (const b of content.blobs) sizes.set(b.digest, b.size);
    } catch (err) {
      log.warn(`${task.source}: cannot predict its size: ${errorMessage(err)}`);
    }
  }
  const entries = [...sizes].filter(([d]) => !history.has(d)).map(([d, size]) => ({ name: blobDataPath(d), size }));
  if (!entries.length) return 'nothing new to archive';
  const archives = predictArchives(entries, maxArchiveBytes);
  return `${archives.length} archive(s), ${formatBytes(archives.reduce((n, a) => n + a, 0))} (blobs only, links add a few KiB)`;
}

function addFile(entries: ArchiveEntry[], name: string, file: string): void {
  entries.push({ name, size: statSync(file).size, source: async () => createReadStream(file) });
}

function addBytes(entries: ArchiveEntry[], name: string, bytes: Buffer): void {
  entries.push({ name, size: bytes.length, source: async () => Readable.from([bytes]) });
}
