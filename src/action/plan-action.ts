import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage, OcMirrorError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Plan } from '../plan/types.js';
import { mirrorToMirror } from '../workflows/mirror-to-mirror.js';
import { artifactsAvailable, uploadZipped } from './artifacts.js';
import type { PlanInputs } from './inputs.js';
import { planCacheKeys, restorePreviousPlan, savePlan } from './plan-cache.js';
import { makeRecord, probeSizes, type PlanRecord } from './plan-record.js';
import { matrixOutput } from './shards.js';
import { stepTempDir, withAuthfile } from './run-common.js';
import type { StepReport } from './step.js';
import { renderPlanSummary } from './summary.js';

/** The plan action: oc-mirror's dry run, sizes, a summary with the changes since the last plan, and the shard matrix. */
export async function runPlan(inputs: PlanInputs, step: StepReport, log: Logger & { attachFile?(path: string): void }, authfile?: string): Promise<void> {
  const options = withAuthfile(inputs.options, authfile);
  let planned: Plan | undefined;
  const outcome = await mirrorToMirror(options, log, {
    plan: (plan) => {
      planned = plan;
      return plan;
    },
  });
  if (!planned) throw new OcMirrorError('the dry run ended without a plan');
  const plan = planned;
  const sizes = await probeSizes(plan, options, log);
  const record = makeRecord(plan, sizes, inputs.shards);

  const keys = planCacheKeys(options.configPath, process.env);
  const previous = await restorePreviousPlan(keys, process.env, log);
  if (previous) log.info(`compared with the plan cached as ${previous.key}`);
  await savePlan(keys, record, process.env, log);
  if (inputs.shards > 1) await uploadPlan(inputs.planArtifact, record, log);

  step.outputs({
    images: new Set(plan.tasks.map((t) => t.source)).size,
    mapping: join(outcome.workingDir.dryRun, 'mapping.txt'),
    matrix: matrixOutput(inputs.shards),
  });
  await step.summary(renderPlanSummary(plan, previous?.record.plan, sizes));
}

/** The mirror jobs of the matrix read the cut from this artifact, so they all take parts of one cut. */
async function uploadPlan(name: string, record: PlanRecord, log: Logger): Promise<void> {
  if (!artifactsAvailable()) {
    log.warn('no artifact service here: the shard jobs will cut the plan by image count, each on its own');
    return;
  }
  const dir = stepTempDir('plan');
  try {
    writeFileSync(join(dir, 'plan.json'), JSON.stringify(record));
    await uploadZipped(name, [join(dir, 'plan.json')], dir);
  } catch (err) {
    throw new OcMirrorError(`the shard jobs need the plan: ${errorMessage(err)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
