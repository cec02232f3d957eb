/**
 * The delete workflow (ref §11): `--generate` runs the mirroring collectors over the delete
 * configuration, reading only the earlier run's workspace and the local cache, and writes the
 * list of what mirroring wrote at the destination; the second phase deletes what a list names.
 */
import { existsSync, readFileSync, renameSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { DirectoryMetadata } from '../collect/metadata.js';
import { loadDeleteImageSetConfiguration } from '../config/load.js';
import { deleteAsImageSet, inDeleteTerms } from '../delete/config.js';
import { disabledMessage, executeDeletes, type ExecuteResult } from '../delete/executor.js';
import { itemsOfPlan, signatureItems } from '../delete/generate.js';
import { parseDeleteList, renderDeleteList, type ListedItem } from '../delete/list.js';
import type { DeleteOptions } from '../delete/options.js';
import { checkUnderDestination } from '../delete/scope.js';
import { errorMessage, OcMirrorError } from '../errors.js';
import type { RegistryLocation } from '../image/reference.js';
import type { Logger } from '../log.js';
import { buildPlan } from '../plan/planner.js';
import { formatBytes } from '../cli/progress.js';
import { DirectoryLayout } from '../store/directory-reader.js';
import { LayoutSource } from '../store/layout-source.js';
import { LocalStore } from '../store/store.js';
import { VERSION } from '../version.js';
import { collectImages, refuseUnbuiltContent } from './collect.js';
import { checkDestinationAccess } from './copy-plan.js';
import { registryEndpoints, sourceHttpClient, WorkflowEndpoints } from './endpoints.js';
import { storeRoot } from './store-location.js';
import type { RunLogger } from './types.js';
import { prepareWorkingDir, runTimestamp } from './working-dir.js';

export interface DeleteOutcome {
  exitCode: number;
  /** --generate: the list written */
  listFile?: string;
  /** images listed (--generate) or manifests deleted */
  count: number;
}

export function runDelete(options: DeleteOptions, log: RunLogger): Promise<DeleteOutcome> {
  return options.generate ? generateDeleteList(options, log) : deleteFromList(options, log);
}

/** Phase 1: `working-dir/delete/delete-images[-<id>].yaml` and a copy of the request beside it. */
export async function generateDeleteList(options: DeleteOptions, log: RunLogger): Promise<DeleteOutcome> {
  const engine = options.engine;
  const file = basename(engine.configPath);
  const config = deleteAsImageSet(loadDeleteImageSetConfiguration(engine.configPath));
  try {
    refuseUnbuiltContent(config, file);
  } catch (err) {
    throw inDeleteTerms(err);
  }
  if (!existsSync(engine.workingDir)) {
    throw new OcMirrorError(`--workspace: ${engine.workingDir} does not exist; give the workspace of the mirror run that wrote the images`);
  }
  const timestamp = runTimestamp();
  const dirs = prepareWorkingDir(engine.workingDir, timestamp, { wipeClusterResources: false });
  log.attachFile?.(dirs.logFile);
  log.info(`oc-mirror-action ${VERSION}: delete --generate for ${options.destination}, from working-dir ${dirs.root}`);

  // Sources are what the mirror run stored in the local cache: the source registries are not contacted.
  const store = storeRoot(engine);
  const layout = new DirectoryLayout(store);
  const stored = (repository: string) =>
    new LayoutSource(layout, repository, `the local cache ${store}`, 'the mirror run that wrote the workspace stored it there: pass its --cache-dir');
  const http = sourceHttpClient(engine);
  let images;
  try {
    const collection = await collectImages({
      config,
      configFile: file,
      mode: 'delete',
      options: engine,
      log,
      source: (ref) => stored(ref.repository),
      metadata: new DirectoryMetadata(engine.workingDir),
      http,
    });
    images = collection.images;
  } catch (err) {
    throw inDeleteTerms(err);
  } finally {
    await http.close();
  }
  // Catalogs stay (ref §11.1): operators left in the registry may still need them.
  const catalogs = images.filter((i) => i.kind === 'operatorCatalog');
  for (const c of catalogs) log.info(`catalog ${c.source} is not listed: operators that stay may need it; name it in additionalImages to delete it`);
  const { plan } = buildPlan(
    images.filter((i) => i.kind !== 'operatorCatalog'),
    options.destination,
    { maxNestedPaths: engine.maxNestedPaths, blocked: [], pullFrom: { registry: engine.storeHost, prefix: '' } },
  );
  if (!plan.tasks.length) throw new OcMirrorError(`${file}: no images to delete${catalogs.length ? ' (catalogs are never listed: name them in additionalImages)' : ''}`);
  const items = itemsOfPlan(plan.tasks);
  if (options.deleteSignatures) items.push(...(await signatureItems(plan.tasks, (ref) => stored(ref.repository), log)));

  const suffix = options.deleteId ? `-${options.deleteId}` : '';
  const deleteDir = join(dirs.root, 'delete');
  mkdirSync(deleteDir, { recursive: true });
  const listFile = join(deleteDir, `delete-images${suffix}.yaml`);
  const text = renderDeleteList(items);
  writeAtomically(listFile, text);
  writeAtomically(join(deleteDir, `delete-imageset-config${suffix}.yaml`), readFileSync(engine.configPath));
  const count = parseDeleteList(text, listFile).length;
  log.info(`${count} images listed for deletion in ${listFile}`);
  log.info(`check the list, then delete them with: oc-mirror delete --delete-yaml-file ${listFile} ${options.destination}`);
  return { exitCode: 0, listFile, count };
}

/** Phase 2: delete what the list names, after checking every item lies under the destination. */
export async function deleteFromList(options: DeleteOptions, log: RunLogger): Promise<DeleteOutcome> {
  const path = options.deleteYamlFile!;
  const items = parseDeleteList(readFileSync(path, 'utf8'), path);
  const location = checkUnderDestination(items, options.destination, basename(path));
  log.info(`oc-mirror-action ${VERSION}: delete ${options.dryRun ? '(dry run) ' : ''}${items.length} images listed in ${path} from ${options.destination}`);
  if (!items.length) {
    log.info('the list names no images: nothing to delete');
    return { exitCode: 0, count: 0 };
  }
  const endpoints = new WorkflowEndpoints(registryEndpoints(options.engine, log));
  let result: ExecuteResult;
  try {
    await checkDestinationAccess(endpoints, options.destination);
    result = await executeDeletes(items, (ref) => endpoints.registries.destination(ref), { ...options.engine, deleteSignatures: options.deleteSignatures, dryRun: options.dryRun }, log);
  } finally {
    await endpoints.close();
  }
  report(result, options, log);
  if (options.forceCacheDelete) await deleteFromStore(result, location, options, log);
  const failed = result.manifests.filter((m) => m.status === 'failed').length;
  const deleted = result.manifests.filter((m) => m.status === 'deleted').length;
  return { exitCode: failed ? 1 : 0, count: options.dryRun ? 0 : deleted };
}

function report(result: ExecuteResult, options: DeleteOptions, log: Logger): void {
  const dry = options.dryRun;
  for (const { item, status, digest, reason } of result.items) {
    if (status === 'deleted') log.info(`${dry ? 'would delete' : 'deleted'} ${item.imageReference} (${digest})`);
    else if (status === 'gone') log.info(`already gone: ${item.imageReference} (the registry does not have it)`);
    else if (status === 'kept') log.warn(`kept ${item.imageReference} (${digest}): ${reason}`);
    else if (!result.disabledOn) log.error(`failed to delete ${item.imageReference}: ${reason}`);
  }
  for (const m of result.manifests) {
    if (m.role === 'item') continue;
    const what = m.role === 'signature' ? `signature ${m.repository}:${m.tag}` : `manifest ${m.repository}@${m.digest} of a deleted index`;
    if (m.status === 'deleted') log.info(`${dry ? 'would delete' : 'deleted'} ${what}`);
    else if (m.status === 'gone') log.info(`already gone: ${what}`);
    else if (m.status === 'failed' && !result.disabledOn) log.error(`failed to delete ${what}: ${m.reason}`);
  }
  if (result.disabledOn) log.error(disabledMessage(result.disabledOn));

  const count = (status: string, role?: string) => result.manifests.filter((m) => m.status === status && (!role || m.role === role)).length;
  const deleted = count('deleted');
  const detail = `${count('deleted', 'item')} listed, ${count('deleted', 'child')} index children, ${count('deleted', 'signature')} signatures`;
  const gone = result.items.filter((i) => i.status === 'gone').length;
  const kept = result.items.filter((i) => i.status === 'kept').length;
  const failed = count('failed');
  const rest = `${gone} already gone, ${kept} kept, ${failed} failed`;
  if (dry) {
    log.info(`dry run: would delete ${deleted} manifests from ${options.destination} (${detail}); ${gone} already gone, ${kept} kept; nothing was deleted`);
    return;
  }
  (failed ? log.error.bind(log) : log.info.bind(log))(`deleted ${deleted} manifests from ${options.destination} (${detail}); ${rest}`);
  if (deleted) {
    log.info(
      'the registry keeps the blobs of deleted manifests until its garbage collection runs; for the distribution registry: registry garbage-collect /etc/docker/registry/config.yml (with the registry stopped or read-only)',
    );
  }
}

/**
 * `--force-cache-delete` (ref §11.2): the images gone from the destination are removed from the
 * local cache too (where mirror to disk named them without the destination prefix), then the
 * cache's garbage collection reclaims what no tag reaches any more.
 */
async function deleteFromStore(result: ExecuteResult, location: RegistryLocation, options: DeleteOptions, log: Logger): Promise<void> {
  const root = storeRoot(options.engine);
  if (!existsSync(join(root, 'docker'))) {
    log.warn(`--force-cache-delete: there is no local cache at ${root}; nothing removed there`);
    return;
  }
  const store = await LocalStore.open(root, options.engine.storeHost);
  const prefixLength = location.prefix.split('/').filter(Boolean).length;
  let removed = 0;
  for (const { item, status } of result.items) {
    if (status !== 'deleted' && status !== 'gone') continue;
    const repository = item.ref.repository.split('/').slice(prefixLength).join('/');
    const digest = await storedDigest(store, repository, item);
    if (!digest) continue;
    if (options.dryRun) {
      log.info(`would remove ${options.engine.storeHost}/${repository}@${digest} from the local cache`);
      continue;
    }
    await store.deleteManifest(repository, digest);
    removed++;
  }
  if (options.dryRun) return;
  const pruned = await store.pruneUnreferenced();
  log.info(`local cache ${root}: ${removed} images removed; ${pruned.manifests} manifests no tag reaches and ${pruned.blobs} blobs (${formatBytes(pruned.bytes)}) reclaimed`);
}

async function storedDigest(store: LocalStore, repository: string, item: ListedItem): Promise<string | undefined> {
  try {
    return await store.repository(repository).storedManifest(item.ref.tag ?? item.ref.digest!);
  } catch (err) {
    // A name the cache cannot hold was never stored there.
    if (err instanceof OcMirrorError) return undefined;
    throw new OcMirrorError(`local cache: ${item.imageReference}: ${errorMessage(err)}`);
  }
}

function writeAtomically(path: string, content: string | Buffer): void {
  const temp = `${path}.tmp-${process.pid}`;
  writeFileSync(temp, content);
  renameSync(temp, path);
}
