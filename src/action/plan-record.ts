import { errorMessage, OcMirrorError } from '../errors.js';
import { imageContent } from '../image/content.js';
import { parseReference, pullReference } from '../image/reference.js';
import type { Logger } from '../log.js';
import type { MirrorOptions } from '../options.js';
import type { CopyTask, Plan } from '../plan/types.js';
import { registryEndpoints } from '../workflows/endpoints.js';
import { shardPlan, type Shard } from './shards.js';
import { taskKey, type TaskSizes } from './task-sizes.js';

/**
 * What the plan action keeps: the plan, the sizes it learnt and its cut into shards. It is cached
 * (the next plan of the same configuration compares against it) and, for a matrix, uploaded as an
 * artifact so that every mirror job takes its part of the same cut.
 */
export interface PlanRecord {
  version: 1;
  plan: Plan;
  /** bytes per taskKey, where known */
  sizes: Record<string, number>;
  /** taskKeys of each shard, in shard order */
  shards: string[][];
}

export function makeRecord(plan: Plan, sizes: TaskSizes, count: number): PlanRecord {
  const shards = shardPlan(plan, count, sizes).map((part) => [...new Set(part.tasks.map(taskKey))]);
  return { version: 1, plan, sizes: Object.fromEntries(sizes), shards };
}

export function parseRecord(text: string, what: string): PlanRecord {
  let doc: PlanRecord;
  try {
    doc = JSON.parse(text) as PlanRecord;
  } catch {
    throw new OcMirrorError(`${what} is not JSON`);
  }
  const ok =
    doc?.version === 1 &&
    typeof doc.plan?.destination === 'string' &&
    Array.isArray(doc.plan.tasks) &&
    doc.plan.tasks.every((t) => typeof t?.source === 'string' && typeof t.destination === 'string') &&
    typeof doc.sizes === 'object' &&
    Array.isArray(doc.shards) &&
    doc.shards.every((s) => Array.isArray(s) && s.every((k) => typeof k === 'string'));
  if (!ok) throw new OcMirrorError(`${what} is not a plan written by the plan action of this version`);
  return doc;
}

/**
 * The part of `plan` one matrix job mirrors. With the plan job's record, an image goes where the
 * record put it; an image the record does not know (the configuration or a catalog changed between
 * the jobs) goes by a hash of its key, which every job computes alike. Without a record the plan is
 * cut by count, which every job also computes alike as long as they see the same plan.
 */
export function shardOf(plan: Plan, shard: Shard, record?: PlanRecord): Plan {
  if (!record) return shardPlan(plan, shard.count)[shard.index - 1]!;
  if (record.shards.length !== shard.count) {
    throw new OcMirrorError(`input "shard": ${shard.index}/${shard.count}, but the plan was cut into ${record.shards.length} shards`);
  }
  const placed = new Map<string, number>();
  record.shards.forEach((keys, i) => keys.forEach((k) => placed.set(k, i)));
  const tasks = plan.tasks.filter((task: CopyTask) => {
    const key = taskKey(task);
    return (placed.get(key) ?? hashShard(key, shard.count)) === shard.index - 1;
  });
  return { destination: plan.destination, tasks };
}

function hashShard(key: string, count: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return h % count;
}

/**
 * Sizes of the plan's images as their sources declare them: manifests plus distinct blobs, read
 * from manifests only. Images built by collectors (in the local store) and images whose manifest
 * cannot be read stay unknown.
 */
export async function probeSizes(plan: Plan, options: MirrorOptions, log: Logger): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  const tasks = [...new Map(plan.tasks.filter((t) => !t.pullFrom).map((t) => [taskKey(t), t])).values()];
  if (tasks.length === 0) return sizes;
  const endpoints = registryEndpoints(options, log);
  try {
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < tasks.length; i = next++) {
        const task = tasks[i]!;
        try {
          const ref = parseReference(task.source);
          const content = await imageContent(endpoints.source(ref), pullReference(ref), AbortSignal.timeout(60_000));
          const bytes = content.manifests.reduce((n, m) => n + m.bytes.length, 0) + content.blobs.reduce((n, b) => n + b.size, 0);
          sizes.set(taskKey(task), bytes);
        } catch (err) {
          log.debug(`${task.source}: size unknown: ${errorMessage(err)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.parallelImages, tasks.length) }, worker));
  } finally {
    await endpoints.close();
  }
  return sizes;
}
