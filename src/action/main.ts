/**
 * The one engine behind every action of the bundle. ncc compiles this module to dist/action/index.js;
 * each action's launcher (dist/<action>/index.js, written by scripts/finish-dist.mjs) calls
 * runAction with its name, and the root action's launcher with none: it reads the `command` input.
 */
import * as core from '@actions/core';
import { errorMessage, OcMirrorError, UsageError } from '../errors.js';
import { ACTION_NAMES, isActionName, type ActionName } from './actions.js';
import { authDocument, withCredentials } from './credentials.js';
import { rootInputs } from './action-yml.js';
import { runDelete } from './delete-action.js';
import { inputVariable, readInputs, type ActionInputs } from './inputs.js';
import { runMirrorAction } from './mirror-action.js';
import { runPack } from './pack-action.js';
import { runPlan } from './plan-action.js';
import { runPush } from './push-action.js';
import { SecretRegistry } from './secrets.js';
import { actionLogger, StepReport } from './step.js';
import { escapeHtml } from './summary-html.js';

/** The root action's input that names the action to run. */
export const COMMAND_INPUT = 'command';

export function commandOf(env: NodeJS.ProcessEnv): ActionName {
  const command = (env[inputVariable(COMMAND_INPUT)] ?? '').trim();
  if (!command) throw new UsageError(`input "${COMMAND_INPUT}": required, one of ${ACTION_NAMES.join(', ')}`);
  if (!isActionName(command)) throw new UsageError(`input "${COMMAND_INPUT}": "${command}" is not one of ${ACTION_NAMES.join(', ')}`);
  return command;
}

/**
 * Runs an action as a step: reads its inputs, writes the credentials to a private authfile for the
 * duration of the run (removed before this returns, whatever happens), runs the engine, and writes
 * outputs and the job summary. A failure fails the step with a one-line message.
 */
export async function runAction(name?: ActionName): Promise<void> {
  const secrets = new SecretRegistry();
  const step = new StepReport(secrets);
  let action: ActionName | undefined = name;
  try {
    if (!action) maskAllSecrets(process.env, secrets);
    action ??= commandOf(process.env);
    const inputs = readInputs(action, process.env, { secrets });
    const log = actionLogger(inputs.action === 'delete' ? inputs.options.engine.logLevel : inputs.options.logLevel);
    for (const warning of inputs.warnings) log.warn(warning);
    core.info(`oc-mirror ${inputs.argv.join(' ')}`);
    await withCredentials(inputs.credentials, { secrets }, (authfile) => dispatch(inputs, step, log, authfile));
  } catch (err) {
    const message = errorMessage(err).replace(/\s*\n\s*/g, ' ');
    if (!(err instanceof OcMirrorError) && err instanceof Error && err.stack) core.debug(err.stack);
    await step.summary(`<h2>oc-mirror ${action ?? 'action'} failed</h2>\n\n<p>❌ ${escapeHtml(message)}</p>\n`).catch(() => undefined);
    core.setFailed(message);
  }
}

/**
 * The root action masks the secret inputs of every action before it reads `command`, so that not
 * even a bad command leaves one unmasked; readInputs does the same for the chosen action's inputs.
 */
function maskAllSecrets(env: NodeJS.ProcessEnv, secrets: SecretRegistry): void {
  for (const spec of rootInputs()) if (spec.kind === 'secret') secrets.add(env[inputVariable(spec.name)]?.trim());
  try {
    authDocument({ authJson: env[inputVariable('auth-json')]?.trim() ?? '' }, secrets);
  } catch {
    // a malformed auth-json is refused, by name, when the action reads its inputs
  }
}

function dispatch(inputs: ActionInputs, step: StepReport, log: ReturnType<typeof actionLogger>, authfile: string | undefined): Promise<void> {
  switch (inputs.action) {
    case 'plan':
      return runPlan(inputs, step, log, authfile);
    case 'mirror':
      return runMirrorAction(inputs, step, log, authfile);
    case 'pack':
      return runPack(inputs, step, log, authfile);
    case 'push':
      return runPush(inputs, step, log, authfile);
    case 'delete':
      return runDelete(inputs, step, log, authfile);
  }
}
