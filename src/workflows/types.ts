import type { CopyListener } from '../copy/events.js';
import type { Logger } from '../log.js';
import type { RunReport } from '../outputs/report.js';
import type { Plan } from '../plan/types.js';
import type { WorkingDir } from './working-dir.js';

export interface RunHooks {
  /** called once the plan is known, before the first image is copied */
  copyStarting?(total: number): void;
  listener?: CopyListener;
  /**
   * Sees the plan before anything is copied (or a dry run writes it) and returns the plan to run:
   * the action records it for its summary and narrows it to one shard. Mirror to mirror only.
   */
  plan?(plan: Plan): Plan;
}

export interface RunOutcome {
  exitCode: number;
  report?: RunReport;
  workingDir: WorkingDir;
}

export type RunLogger = Logger & { attachFile?(path: string): void };
