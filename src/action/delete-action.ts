import * as core from '@actions/core';
import type { RunLogger } from '../workflows/types.js';
import { runDelete as deleteWorkflow } from '../workflows/delete.js';
import type { DeleteInputs } from './inputs.js';
import type { StepReport } from './step.js';
import { code, formatCount, formatDuration } from './summary-html.js';

/** The delete action: `oc-mirror delete`, generating the list (generate: true) or deleting what a list names. */
export async function runDelete(inputs: DeleteInputs, step: StepReport, log: RunLogger, authfile?: string): Promise<void> {
  const options = authfile ? { ...inputs.options, engine: { ...inputs.options.engine, authfile } } : inputs.options;
  const outcome = await deleteWorkflow(options, log);
  step.outputs({ images: outcome.count, ...(outcome.listFile && { 'delete-yaml-file': outcome.listFile }) });
  const where = code(options.destination, 500);
  const took = formatDuration(step.elapsedMs);
  const body = options.generate
    ? `<p>${formatCount(outcome.count)} images listed for deletion in ${code(outcome.listFile ?? '', 500)} (${took}). ` +
      'Check the list, then run the delete action with <code>delete-yaml-file</code> set to it.</p>'
    : options.dryRun
      ? `<p>Dry run: nothing deleted (${took}); the log lists what would be.</p>`
      : `<p>${outcome.exitCode === 0 ? '✅' : '❌'} ${formatCount(outcome.count)} manifests deleted (${took}); the log lists each one${outcome.exitCode === 0 ? '' : ' and what failed'}.</p>`;
  await step.summary(`<h2>oc-mirror delete${options.generate ? ' --generate' : ''}: ${where}</h2>\n\n${body}\n`);
  if (outcome.exitCode !== 0) core.setFailed('some images could not be deleted; the log says which and why');
}
