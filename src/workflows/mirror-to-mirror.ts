import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadImageSetConfiguration } from '../config/load.js';
import type { Logger } from '../log.js';
import type { MirrorOptions } from '../options.js';
import { renderMapping } from '../outputs/mapping.js';
import type { Plan } from '../plan/types.js';
import { VERSION } from '../version.js';
import type { RunHooks, RunLogger, RunOutcome } from './types.js';
import { collectImages, planCollection } from './collect.js';
import { registryEndpoints, WorkflowEndpoints } from './endpoints.js';
import { pushToRegistry } from './copy-plan.js';
import { prepareWorkingDir, runTimestamp, type WorkingDir } from './working-dir.js';


/**
 * Mirror to mirror (ref §1.6): collect → plan → copy source → destination → cluster resources.
 * A dry run stops after writing mapping.txt and contacts no destination.
 */
export async function mirrorToMirror(options: MirrorOptions, log: RunLogger, hooks: RunHooks = {}): Promise<RunOutcome> {
  const timestamp = runTimestamp();
  const config = loadImageSetConfiguration(options.configPath);
  const collection = collectImages(config, options.configPath);
  const dirs = prepareWorkingDir(options.workingDir, timestamp, { wipeClusterResources: !options.dryRun });
  log.attachFile?.(dirs.logFile);
  log.info(`oc-mirror-action ${VERSION}: mirror to mirror, ${options.dryRun ? 'dry run, ' : ''}working-dir ${dirs.root}`);

  const plan = planCollection(collection, options.destination, { maxNestedPaths: options.maxNestedPaths }, log);
  if (options.dryRun) return dryRun(plan, dirs, log);

  const endpoints = new WorkflowEndpoints(registryEndpoints(options, log));
  return pushToRegistry(plan, endpoints, options, hooks, log, dirs, timestamp);
}

export function dryRun(plan: Plan, dirs: WorkingDir, log: Logger, extra?: (dryRunDir: string) => void): RunOutcome {
  rmSync(dirs.dryRun, { recursive: true, force: true });
  mkdirSync(dirs.dryRun, { recursive: true });
  const mapping = join(dirs.dryRun, 'mapping.txt');
  writeFileSync(mapping, renderMapping(plan));
  log.info(`dry run: ${plan.tasks.length} images would be mirrored; see ${mapping}`);
  extra?.(dirs.dryRun);
  return { exitCode: 0, workingDir: dirs };
}
