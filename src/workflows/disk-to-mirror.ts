import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { ArchivedMetadata, DirectoryMetadata } from '../collect/metadata.js';
import { openArchives } from '../archive/reader.js';
import { loadImageSetConfiguration } from '../config/load.js';
import { OcMirrorError } from '../errors.js';
import { isDigest } from '../image/digest.js';
import type { MirrorOptions } from '../options.js';
import { DirectoryLayout } from '../store/directory-reader.js';
import type { LayoutReader } from '../store/layout.js';
import { LayoutSource } from '../store/layout-source.js';
import { StackedLayout } from '../store/stacked-layout.js';
import { VERSION } from '../version.js';
import { CARRIED_IMAGES_ENTRY } from './archive-content.js';
import { collectImages, planCollection, refuseUnbuiltContent } from './collect.js';
import { registryEndpoints, sourceHttpClient, WorkflowEndpoints } from './endpoints.js';
import { dryRun } from './mirror-to-mirror.js';
import type { RunHooks, RunLogger, RunOutcome } from './types.js';
import { pushToRegistry } from './copy-plan.js';
import { storeRoot } from './store-location.js';
import { prepareWorkingDir, runTimestamp } from './working-dir.js';

/**
 * Disk to mirror (ref §4.6): push what the archives in `--from` hold, read in place (no
 * extraction), into the destination registry. The `-c` config may name a subset of what was
 * packed. Only the destination is contacted. Blobs that an earlier archive carried are found in
 * the local store when one exists, or are already at the destination.
 */
export async function diskToMirror(options: MirrorOptions, log: RunLogger, hooks: RunHooks = {}): Promise<RunOutcome> {
  const timestamp = runTimestamp();
  const config = loadImageSetConfiguration(options.configPath);
  refuseUnbuiltContent(config, basename(options.configPath));
  const archives = await openArchives(options.fromDir!);
  const dirs = prepareWorkingDir(options.workingDir, timestamp, { wipeClusterResources: !options.dryRun });
  log.attachFile?.(dirs.logFile);
  log.info(`oc-mirror-action ${VERSION}: disk to mirror from ${options.fromDir}, ${options.dryRun ? 'dry run, ' : ''}to ${options.destination}`);

  const layers: LayoutReader[] = [archives];
  const store = storeRoot(options);
  if (existsSync(store)) layers.push(new DirectoryLayout(store));
  const layout = layers.length > 1 ? new StackedLayout(layers) : archives;
  const stored = (repo: string) =>
    new LayoutSource(
      layout,
      repo,
      `archives in ${options.fromDir}`,
      'an earlier archive carried it: push that archive first, or pass the mirror-to-disk store with --cache-dir',
    );
  const endpoints = new WorkflowEndpoints(registryEndpoints(options, log), { host: options.storeHost, source: stored });
  const http = sourceHttpClient(options);
  try {
    // Collectors see sources as mirror to disk stored them: no network but the destination.
    const collection = await collectImages({
      config,
      configFile: basename(options.configPath),
      mode: 'diskToMirror',
      options,
      log,
      source: (ref) => stored(ref.repository),
      metadata: new ArchivedMetadata(archives, new DirectoryMetadata(options.workingDir)),
      http,
    });
    const plan = planCollection(collection, options.destination, { maxNestedPaths: options.maxNestedPaths, pullFrom: { registry: options.storeHost, prefix: '' } }, log);
    const carried = await readCarried(archives);
    for (const task of plan.tasks) {
      const digest = task.pullFrom && carried[task.pullFrom];
      if (digest) task.expectedDigest = digest;
    }
    if (options.dryRun) return dryRun(plan, dirs, log, undefined, collection.dryRunFiles);
    return await pushToRegistry(plan, collection, endpoints, options, hooks, log, dirs, timestamp);
  } finally {
    await http.close();
    await endpoints.close();
  }
}

/** The images earlier archives carried whole (see mirror to disk): store reference → digest. */
async function readCarried(archives: LayoutReader): Promise<Record<string, string>> {
  const bytes = await archives.readSmall(CARRIED_IMAGES_ENTRY);
  if (!bytes) return {};
  try {
    const parsed = JSON.parse(bytes.toString('utf8')) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string' && isDigest(e[1])));
    }
  } catch {
    /* refused below */
  }
  throw new OcMirrorError(`${CARRIED_IMAGES_ENTRY} in the archives is not a JSON object of digests`);
}
