import type { CopyListener } from '../copy/events.js';
import type { Logger } from '../log.js';
import type { RunReport } from '../outputs/report.js';
import type { WorkingDir } from './working-dir.js';

export interface RunHooks {
  /** called once the plan is known, before the first image is copied */
  copyStarting?(total: number): void;
  listener?: CopyListener;
}

export interface RunOutcome {
  exitCode: number;
  report?: RunReport;
  workingDir: WorkingDir;
}

export type RunLogger = Logger & { attachFile?(path: string): void };
