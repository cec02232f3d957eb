import { UsageError } from '../errors.js';
import type { CopyTask, Plan } from '../plan/types.js';
import { taskKey, type TaskSizes } from './task-sizes.js';

/** One part of a plan cut in `count` parts; `index` counts from 1, as users write `2/4`. */
export interface Shard {
  index: number;
  count: number;
}

/** A workflow run accepts at most 256 matrix jobs, so more shards could never all run. */
export const MAX_SHARDS = 256;

/** The `shards` input: a whole number of parts, 1..256. */
export function parseShardCount(text: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`"${text}" is not a whole number of shards (1 to ${MAX_SHARDS})`);
  const count = Number(text);
  if (count < 1 || count > MAX_SHARDS) throw new UsageError(`${count} shards: must be between 1 and ${MAX_SHARDS} (the matrix limit of a workflow run)`);
  return count;
}

/** `i/N`, as the plan action's matrix gives it. */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new UsageError(`"${text}" is not a shard: expected i/N, e.g. 2/4`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || count > MAX_SHARDS) throw new UsageError(`"${text}": the number of shards must be between 1 and ${MAX_SHARDS}`);
  if (index < 1 || index > count) throw new UsageError(`"${text}": the shard must be between 1 and ${count}`);
  return { index, count };
}

export function formatShard(shard: Shard): string {
  return `${shard.index}/${shard.count}`;
}

/** The `matrix` output: `{"include":[{"shard":"1/N"},…]}`, for `strategy.matrix: ${{ fromJSON(…) }}`. */
export function matrixOutput(count: number): string {
  if (!Number.isInteger(count) || count < 1 || count > MAX_SHARDS) throw new UsageError(`${count} shards: must be between 1 and ${MAX_SHARDS}`);
  const include = Array.from({ length: count }, (_, i) => ({ shard: formatShard({ index: i + 1, count }) }));
  return JSON.stringify({ include });
}

/**
 * Tasks that must travel together. A task already copies a whole multi-arch index with its
 * children; what could still split one is the same content planned twice (one digest under two
 * names, or one source to two destinations), which would then be pulled by two jobs.
 */
function unitKey(task: CopyTask): string {
  const at = task.source.indexOf('@');
  return at >= 0 ? task.source.slice(at + 1) : taskKey(task);
}

interface Unit {
  /** position of its first task in the plan: the tie-break that keeps the cut deterministic */
  first: number;
  keys: Set<string>;
  weight: number;
}

/**
 * Cuts a plan into `count` plans of balanced bytes: units (see unitKey) from the heaviest down,
 * each into the lightest shard so far (the first such on a tie). An image of unknown size weighs
 * the median of the known ones, or 1 when none is known (then shards balance by count). The cut
 * depends only on the plan, the count and the sizes, so every matrix job computes the same one;
 * the jobs must therefore be given the same sizes as the plan job. Each shard keeps the plan's order
 * (release content first, catalogs last). A shard may be empty when there are more shards than units.
 *
 * Not kept together: an operator bundle and its related images. A bundle whose related image fails
 * in another shard is mirrored anyway; each shard's summary still names the bundles a failure breaks.
 */
export function shardPlan(plan: Plan, count: number, sizes?: TaskSizes): Plan[] {
  if (!Number.isInteger(count) || count < 1 || count > MAX_SHARDS) throw new UsageError(`${count} shards: must be between 1 and ${MAX_SHARDS}`);
  const units = new Map<string, Unit>();
  const unitOfTask: Unit[] = [];
  plan.tasks.forEach((task, i) => {
    const key = unitKey(task);
    let unit = units.get(key);
    if (!unit) {
      unit = { first: i, keys: new Set(), weight: 0 };
      units.set(key, unit);
    }
    unit.keys.add(taskKey(task));
    unitOfTask.push(unit);
  });

  const fallback = medianKnownSize(plan.tasks, sizes) ?? 1;
  for (const unit of units.values()) {
    for (const key of unit.keys) unit.weight += sizes?.get(key) ?? fallback;
  }

  const load = new Array<number>(count).fill(0);
  const shardOf = new Map<Unit, number>();
  const ordered = [...units.values()].sort((a, b) => b.weight - a.weight || a.first - b.first);
  for (const unit of ordered) {
    let lightest = 0;
    for (let s = 1; s < count; s++) if (load[s]! < load[lightest]!) lightest = s;
    load[lightest]! += unit.weight;
    shardOf.set(unit, lightest);
  }

  const shards: CopyTask[][] = Array.from({ length: count }, () => []);
  plan.tasks.forEach((task, i) => shards[shardOf.get(unitOfTask[i]!)!]!.push(task));
  return shards.map((tasks) => ({ destination: plan.destination, tasks }));
}

/** The part of the plan one matrix job copies. */
export function selectShard(plan: Plan, shard: string | Shard, sizes?: TaskSizes): Plan {
  // An object is checked as its text would be: a bad index must not quietly select nothing.
  const { index, count } = parseShard(typeof shard === 'string' ? shard : formatShard(shard));
  return shardPlan(plan, count, sizes)[index - 1]!;
}

function medianKnownSize(tasks: readonly CopyTask[], sizes: TaskSizes | undefined): number | undefined {
  if (!sizes || sizes.size === 0) return undefined;
  const known = [...new Set(tasks.map(taskKey))].map((k) => sizes.get(k)).filter((v): v is number => v !== undefined);
  if (known.length === 0) return undefined;
  known.sort((a, b) => a - b);
  const mid = known.length >> 1;
  return known.length % 2 ? known[mid]! : Math.round((known[mid - 1]! + known[mid]!) / 2);
}
