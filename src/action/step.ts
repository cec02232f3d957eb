import * as core from '@actions/core';
import { RunLogger, type ConsoleSink } from '../log.js';
import type { LogLevel } from '../options.js';
import { writeOutputs, type OutputValue } from './outputs.js';
import type { SecretRegistry } from './secrets.js';
import { bytesOf } from './summary-html.js';
import { SUMMARY_LIMIT_BYTES } from './summary.js';

/**
 * The engine's log lines as workflow commands: warnings and errors become annotations, the rest
 * plain lines. The runner masks every registered secret in them.
 */
const CORE_SINK: ConsoleSink = {
  write(level, line) {
    if (level === 'error') core.error(line);
    else if (level === 'warn') core.warning(line);
    else core.info(line);
  },
};

export function actionLogger(level: LogLevel): RunLogger {
  return new RunLogger(level, CORE_SINK);
}

/** What one action run tells the runner: outputs and the job summary, both checked for secrets. */
export class StepReport {
  readonly startedAt = Date.now();

  constructor(readonly secrets: SecretRegistry) {}

  get elapsedMs(): number {
    return Date.now() - this.startedAt;
  }

  outputs(values: Readonly<Record<string, OutputValue>>): void {
    writeOutputs(values, { secrets: this.secrets });
  }

  /**
   * Appends to the job summary. A summary is not masked by the runner, so one that holds a secret
   * is left out (with a warning saying why); so is one over GitHub's limit, which would be lost anyway.
   */
  async summary(html: string): Promise<void> {
    if (!process.env.GITHUB_STEP_SUMMARY) return;
    if (this.secrets.foundIn(html)) {
      core.warning('the job summary was not written: it would have shown a secret');
      return;
    }
    if (bytesOf(html) > SUMMARY_LIMIT_BYTES) {
      core.warning(`the job summary was not written: ${bytesOf(html)} bytes is over GitHub's limit of ${SUMMARY_LIMIT_BYTES}`);
      return;
    }
    await core.summary.addRaw(html).write();
  }
}
