import { CopyEngine, type Endpoints, type TaskOutcome } from '../copy/engine.js';
import type { Logger } from '../log.js';
import type { MirrorOptions } from '../options.js';
import type { RunReport } from '../outputs/report.js';
import type { Plan } from '../plan/types.js';
import { toResult } from './outputs.js';
import type { RunHooks } from './types.js';

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
  const outcomes = await new CopyEngine(endpoints, { ...options, ...(hooks.listener && { listener: hooks.listener }) }).run(plan.tasks);
  const report: RunReport = {
    startedAt,
    finishedAt: new Date().toISOString(),
    workflow: options.workflow,
    destination: options.destination,
    images: outcomes.map(toResult),
  };
  return { outcomes, report };
}
