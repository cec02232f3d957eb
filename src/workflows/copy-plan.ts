import { CopyEngine, type Endpoints, type TaskOutcome } from '../copy/engine.js';
import type { Logger } from '../log.js';
import type { MirrorOptions } from '../options.js';
import type { RunReport } from '../outputs/report.js';
import type { Plan } from '../plan/types.js';
import { errorMessage, OcMirrorError } from '../errors.js';
import { parseRegistryLocation } from '../image/reference.js';
import { exitCode } from '../outputs/report.js';
import type { WorkflowEndpoints } from './endpoints.js';
import { finishRun, toResult } from './outputs.js';
import type { WorkingDir } from './working-dir.js';
import { collectorResources, type Collection } from './collect.js';
import type { RunHooks, RunOutcome } from './types.js';

/** The copy step every workflow shares: run the plan's tasks and turn the outcomes into the run report. */
export async function copyPlan(
  plan: Plan,
  endpoints: Endpoints,
  options: MirrorOptions,
  hooks: RunHooks,
  log: Logger,
  target: string,
): Promise<{ outcomes: TaskOutcome[]; report: RunReport }> {
  const startedAt = new Date().toISOString();
  log.info(`mirroring ${plan.tasks.length} images to ${target}`);
  hooks.copyStarting?.(plan.tasks.length);
  // A failed release image stops the run (ref §12.2): a release with a missing piece is unusable.
  const outcomes = await new CopyEngine(endpoints, {
    ...options,
    ...(hooks.listener && { listener: hooks.listener }),
    stopsRunOnFailure: (task) => task.origin === 'release',
  }).run(plan.tasks);
  const report: RunReport = {
    startedAt,
    finishedAt: new Date().toISOString(),
    workflow: options.workflow,
    destination: options.destination,
    images: outcomes.map(toResult),
  };
  return { outcomes, report };
}

/**
 * The end of every workflow that writes to a registry (mirror to mirror, disk to mirror): the
 * pre-flight access check, the copy, the cluster resources (IDMS/ITMS and the collectors') and reports.
 */
export async function pushToRegistry(
  plan: Plan,
  collection: Collection,
  endpoints: WorkflowEndpoints,
  options: MirrorOptions,
  hooks: RunHooks,
  log: Logger,
  dirs: WorkingDir,
  timestamp: string,
): Promise<RunOutcome> {
  await checkDestinationAccess(endpoints, options.destination);
  const { report } = await copyPlan(plan, endpoints, options, hooks, log, options.destination);
  const resources = await collectorResources(collection, report.images);
  finishRun(report, { clusterResources: true, resources, maxNestedPaths: options.maxNestedPaths, dirs, timestamp, log });
  return { exitCode: exitCode(report), report, workingDir: dirs };
}

/** Pre-flight (ref §1.4): fail before copying anything when the destination cannot be reached or refuses us. */
export async function checkDestinationAccess(endpoints: WorkflowEndpoints, destination: string): Promise<void> {
  const location = parseRegistryLocation(destination);
  try {
    await endpoints.registries.destinationRegistry(location.registry).checkAccess(AbortSignal.timeout(120_000));
  } catch (err) {
    throw new OcMirrorError(`checking registry "${location.registry}" access: ${errorMessage(err)}`);
  }
}
