import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { DirectoryMetadata } from '../collect/metadata.js';
import type { DryRunFile } from '../collect/types.js';
import { LocalStore } from '../store/store.js';
import { loadImageSetConfiguration } from '../config/load.js';
import type { Logger } from '../log.js';
import type { MirrorOptions } from '../options.js';
import { renderMapping } from '../outputs/mapping.js';
import type { Plan } from '../plan/types.js';
import { VERSION } from '../version.js';
import type { RunHooks, RunLogger, RunOutcome } from './types.js';
import { collectImages, planCollection, refuseUnbuiltContent } from './collect.js';
import { registryEndpoints, sourceHttpClient, WorkflowEndpoints } from './endpoints.js';
import { storeRoot } from './store-location.js';
import { pushToRegistry } from './copy-plan.js';
import { prepareWorkingDir, runTimestamp, type WorkingDir } from './working-dir.js';


/**
 * Mirror to mirror (ref §1.6): collect → plan → copy source → destination → cluster resources.
 * A dry run stops after writing mapping.txt and contacts no destination.
 */
export async function mirrorToMirror(options: MirrorOptions, log: RunLogger, hooks: RunHooks = {}): Promise<RunOutcome> {
  const timestamp = runTimestamp();
  const config = loadImageSetConfiguration(options.configPath);
  refuseUnbuiltContent(config, basename(options.configPath));
  const dirs = prepareWorkingDir(options.workingDir, timestamp, { wipeClusterResources: !options.dryRun });
  log.attachFile?.(dirs.logFile);
  log.info(`oc-mirror-action ${VERSION}: mirror to mirror, ${options.dryRun ? 'dry run, ' : ''}working-dir ${dirs.root}`);

  // Images collectors build (rebuilt catalogs, the graph image) are pushed from the local store.
  const store = await LocalStore.open(storeRoot(options), options.storeHost);
  const endpoints = new WorkflowEndpoints(registryEndpoints(options, log), { host: options.storeHost, source: (repo) => store.repository(repo) });
  const http = sourceHttpClient(options);
  try {
    const collection = await collectImages({
      config,
      configFile: basename(options.configPath),
      mode: 'mirrorToMirror',
      options,
      log,
      source: (ref) => endpoints.source(ref),
      metadata: new DirectoryMetadata(options.workingDir),
      http,
      store,
    });
    const planned = planCollection(collection, options.destination, { maxNestedPaths: options.maxNestedPaths }, log);
    const plan = hooks.plan ? hooks.plan(planned) : planned;
    if (options.dryRun) return dryRun(plan, dirs, log, undefined, collection.dryRunFiles);
    return await pushToRegistry(plan, collection, endpoints, options, hooks, log, dirs, timestamp);
  } finally {
    await http.close();
    await endpoints.close();
  }
}

export function dryRun(plan: Plan, dirs: WorkingDir, log: Logger, extra?: (dryRunDir: string) => void, files: readonly DryRunFile[] = []): RunOutcome {
  rmSync(dirs.dryRun, { recursive: true, force: true });
  mkdirSync(dirs.dryRun, { recursive: true });
  const mapping = join(dirs.dryRun, 'mapping.txt');
  writeFileSync(mapping, renderMapping(plan));
  for (const f of files) writeFileSync(join(dirs.dryRun, basename(f.name)), f.content);
  log.info(`dry run: ${plan.tasks.length} images would be mirrored; see ${mapping}`);
  extra?.(dirs.dryRun);
  return { exitCode: 0, workingDir: dirs };
}
