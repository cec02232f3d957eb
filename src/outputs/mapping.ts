import { pullSpec } from '../plan/naming.js';
import type { CopyTask, Plan } from '../plan/types.js';

/**
 * mapping.txt (ref §3.4): one `docker://<source>=docker://<destination>` line per planned copy, in
 * plan order. The source is written as it is pulled (by digest when there is one) because tools that
 * read mapping files refuse a reference with both a tag and a digest.
 */
export function renderMapping(plan: Plan): string {
  return renderMappingLines(plan.tasks);
}

/** The same format for any list of tasks (missing.txt is a mapping of the tasks not in the cache). */
export function renderMappingLines(tasks: readonly CopyTask[]): string {
  return tasks.map((task) => `docker://${pullSpec(task.pullFrom ?? task.source)}=docker://${task.destination}\n`).join('');
}
