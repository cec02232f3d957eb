import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matrixOutput, parseShard, parseShardCount, selectShard, shardPlan } from '../../src/action/shards.js';
import { sizesFromReport, taskKey } from '../../src/action/task-sizes.js';
import { UsageError } from '../../src/errors.js';
import type { RunReport } from '../../src/outputs/report.js';
import type { CopyTask, ImageKind, Plan } from '../../src/plan/types.js';
import { originOf } from '../../src/plan/types.js';

const digest = (n: number): string => `sha256:${n.toString(16).padStart(64, '0')}`;

function task(source: string, kind: ImageKind = 'generic', destination = `mirror.example.com/${source.split('/').slice(1).join('/')}`): CopyTask {
  return { source, destination, kind, origin: originOf(kind) };
}

/** A plan of `n` images with a deterministic spread of sizes (a few big ones, many small). */
function bigPlan(n: number): { plan: Plan; sizes: Map<string, number> } {
  const tasks: CopyTask[] = [];
  const sizes = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const t = task(`quay.io/team/app${i}@${digest(i + 1)}`, i % 7 === 0 ? 'operatorRelatedImage' : 'generic');
    tasks.push(t);
    sizes.set(taskKey(t), ((i * 7919) % 1000) * 1_000_000 + (i % 13 === 0 ? 5_000_000_000 : 0));
  }
  return { plan: { destination: 'docker://mirror.example.com', tasks }, sizes };
}

const load = (p: Plan, sizes: Map<string, number>): number => p.tasks.reduce((s, t) => s + (sizes.get(taskKey(t)) ?? 0), 0);

describe('parseShard / parseShardCount / matrixOutput', () => {
  it('parses i/N', () => {
    assert.deepEqual(parseShard('1/1'), { index: 1, count: 1 });
    assert.deepEqual(parseShard(' 3 / 4 '), { index: 3, count: 4 });
    assert.deepEqual(parseShard('256/256'), { index: 256, count: 256 });
  });

  for (const bad of ['', '1', '0/4', '5/4', '1/0', '-1/4', '1/257', 'a/b', '1/4/2', '1.5/4']) {
    it(`refuses ${JSON.stringify(bad)}`, () => assert.throws(() => parseShard(bad), UsageError));
  }

  it('parses a shard count 1..256', () => {
    assert.equal(parseShardCount('4'), 4);
    for (const bad of ['0', '257', '-1', '2.5', 'four', '']) assert.throws(() => parseShardCount(bad), UsageError, bad);
  });

  it('writes the matrix for strategy.matrix', () => {
    assert.equal(matrixOutput(1), '{"include":[{"shard":"1/1"}]}');
    assert.equal(matrixOutput(3), '{"include":[{"shard":"1/3"},{"shard":"2/3"},{"shard":"3/3"}]}');
    const m = JSON.parse(matrixOutput(256)) as { include: { shard: string }[] };
    assert.equal(m.include.length, 256);
    for (const entry of m.include) assert.doesNotThrow(() => parseShard(entry.shard));
    assert.throws(() => matrixOutput(0), UsageError);
    assert.throws(() => matrixOutput(257), UsageError);
  });
});

describe('shardPlan', () => {
  it('partitions the plan: every task once, each shard in plan order', () => {
    const { plan, sizes } = bigPlan(1000);
    const shards = shardPlan(plan, 7, sizes);
    assert.equal(shards.length, 7);
    const all = shards.flatMap((s) => s.tasks);
    assert.equal(all.length, plan.tasks.length);
    assert.equal(new Set(all).size, plan.tasks.length);
    for (const s of shards) {
      assert.equal(s.destination, plan.destination);
      const positions = s.tasks.map((t) => plan.tasks.indexOf(t));
      assert.deepEqual(positions, [...positions].sort((a, b) => a - b));
    }
  });

  it('balances bytes: shards differ by at most the largest image (greedy largest-first bound)', () => {
    const { plan, sizes } = bigPlan(1000);
    for (const n of [2, 4, 10, 32]) {
      const loads = shardPlan(plan, n, sizes).map((s) => load(s, sizes));
      const largest = Math.max(...sizes.values());
      assert.ok(Math.max(...loads) - Math.min(...loads) <= largest, `${n}: ${loads}`);
      const mean = loads.reduce((a, b) => a + b, 0) / n;
      assert.ok(Math.max(...loads) < mean * 1.1, `${n} shards: ${Math.max(...loads)} vs mean ${mean}`);
    }
  });

  it('puts the largest images into different shards first', () => {
    const tasks = ['a', 'b', 'c', 'd', 'e'].map((n) => task(`quay.io/x/${n}:1`));
    const sizes = new Map([
      ['quay.io/x/a:1', 10],
      ['quay.io/x/b:1', 9],
      ['quay.io/x/c:1', 5],
      ['quay.io/x/d:1', 4],
      ['quay.io/x/e:1', 1],
    ]);
    const shards = shardPlan({ destination: 'docker://m', tasks }, 2, sizes).map((s) => s.tasks.map((t) => t.source.slice(10, 11)));
    // 10→1, 9→2, 5→2 (9 < 10), 4→1 (10 < 14), 1→1 (14 = 14: the first): loads 15 and 14.
    assert.deepEqual(shards, [['a', 'd', 'e'], ['b', 'c']]);
  });

  it('is deterministic: same cut whatever the order the sizes were gathered in', () => {
    const { plan, sizes } = bigPlan(500);
    const reversed = new Map([...sizes].reverse());
    const a = shardPlan(plan, 5, sizes).map((s) => s.tasks.map(taskKey));
    const b = shardPlan(plan, 5, reversed).map((s) => s.tasks.map(taskKey));
    const c = shardPlan(structuredClone(plan), 5, sizes).map((s) => s.tasks.map(taskKey));
    assert.deepEqual(a, b);
    assert.deepEqual(a, c);
  });

  it('never splits one content: the same digest under two names stays in one shard', () => {
    const d = digest(99);
    const tasks = [
      task(`quay.io/a/index@${d}`),
      ...Array.from({ length: 20 }, (_, i) => task(`quay.io/b/filler${i}:1`)),
      task(`registry.example.com/mirror/index@${d}`),
      task('quay.io/c/app:1', 'generic', 'mirror.example.com/one/app:1'),
      task('quay.io/c/app:1', 'generic', 'mirror.example.com/two/app:1'),
    ];
    for (const n of [2, 3, 8]) {
      const shards = shardPlan({ destination: 'docker://m', tasks }, n);
      const shardOf = (pred: (t: CopyTask) => boolean): number[] => shards.flatMap((s, i) => (s.tasks.some(pred) ? [i] : []));
      assert.equal(shardOf((t) => t.source.endsWith(d)).length, 1);
      assert.equal(shardOf((t) => t.source === 'quay.io/c/app:1').length, 1);
    }
  });

  it('balances by count when no size is known, and weighs unknown sizes as the median', () => {
    const tasks = Array.from({ length: 10 }, (_, i) => task(`quay.io/x/i${i}:1`));
    const counts = shardPlan({ destination: 'docker://m', tasks }, 3).map((s) => s.tasks.length);
    assert.deepEqual(counts, [4, 3, 3]);
    // One known huge image: the nine unknown ones weigh the median (the huge one), so they spread.
    const sizes = new Map([['quay.io/x/i0:1', 1_000_000_000]]);
    const spread = shardPlan({ destination: 'docker://m', tasks }, 2, sizes).map((s) => s.tasks.length);
    assert.deepEqual(spread, [5, 5]);
  });

  it('leaves shards empty when there are more shards than images', () => {
    const tasks = [task('quay.io/x/a:1'), task('quay.io/x/b:1')];
    const shards = shardPlan({ destination: 'docker://m', tasks }, 4);
    assert.deepEqual(shards.map((s) => s.tasks.length), [1, 1, 0, 0]);
  });

  it('selectShard is the i-th part of shardPlan', () => {
    const { plan, sizes } = bigPlan(300);
    const shards = shardPlan(plan, 4, sizes);
    for (let i = 1; i <= 4; i++) {
      assert.deepEqual(selectShard(plan, `${i}/4`, sizes), shards[i - 1]);
      assert.deepEqual(selectShard(plan, { index: i, count: 4 }, sizes), shards[i - 1]);
    }
    assert.throws(() => selectShard(plan, { index: 5, count: 4 }), UsageError);
  });
});

describe('sizesFromReport', () => {
  it('keeps the bytes of images copied in the run', () => {
    const report: RunReport = {
      startedAt: '2026-01-01T00:00:00Z',
      finishedAt: '2026-01-01T00:01:00Z',
      workflow: 'mirrorToMirror',
      destination: 'docker://m',
      images: [
        { task: task('quay.io/x/a:1'), status: 'mirrored', bytes: 100 },
        { task: task('quay.io/x/b:1'), status: 'present', bytes: 0 },
        { task: task('quay.io/x/c:1'), status: 'failed', error: 'x' },
      ],
    };
    assert.deepEqual([...sizesFromReport(report)], [['quay.io/x/a:1', 100]]);
  });
});
