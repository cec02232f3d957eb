import type { RunReport } from '../outputs/report.js';
import type { CopyTask } from '../plan/types.js';

/**
 * Bytes per image, where known (from an earlier run's report, a registry probe…), keyed by
 * `taskKey`. An image missing from the map has an unknown size.
 */
export type TaskSizes = ReadonlyMap<string, number>;

/**
 * What identifies an image across plans and runs: its source. The same source planned to two
 * destinations shares a key, since it is the same bytes; destinations change with
 * `--max-nested-paths` or the registry and would make every image look new in a plan diff.
 */
export function taskKey(task: Pick<CopyTask, 'source'>): string {
  return task.source;
}

/**
 * Sizes learnt from a run: the bytes transferred for images copied in it. Images found present
 * transferred nothing and say nothing about their size, so they are left out.
 */
export function sizesFromReport(report: RunReport): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const image of report.images) {
    if (image.status === 'mirrored' && image.bytes !== undefined) sizes.set(taskKey(image.task), image.bytes);
  }
  return sizes;
}

/** The sum of the known sizes of some tasks (each key once) and how many have none. */
export function knownBytes(tasks: readonly CopyTask[], sizes: TaskSizes | undefined): { bytes: number; unknown: number } {
  const seen = new Set<string>();
  let bytes = 0;
  let unknown = 0;
  for (const task of tasks) {
    const key = taskKey(task);
    if (seen.has(key)) continue;
    seen.add(key);
    const size = sizes?.get(key);
    if (size === undefined) unknown++;
    else bytes += size;
  }
  return { bytes, unknown };
}
