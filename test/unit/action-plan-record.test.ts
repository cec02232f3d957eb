import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { makeRecord, parseRecord, shardOf } from '../../src/action/plan-record.js';
import type { CopyTask, Plan } from '../../src/plan/types.js';

function task(name: string): CopyTask {
  return { source: `src.example/${name}:v1`, destination: `dst.example/${name}:v1`, kind: 'generic', origin: 'additional' } as CopyTask;
}

const plan: Plan = { destination: 'docker://dst.example', tasks: ['a', 'b', 'c', 'd'].map(task) };
const sizes = new Map([
  ['src.example/a:v1', 100],
  ['src.example/b:v1', 60],
  ['src.example/c:v1', 50],
  ['src.example/d:v1', 10],
]);

describe('plan record and shards', () => {
  it('records a byte-balanced cut, and each shard job takes its part of it', () => {
    const record = makeRecord(plan, sizes, 2);
    assert.deepEqual(record.shards, [['src.example/a:v1', 'src.example/d:v1'], ['src.example/b:v1', 'src.example/c:v1']]);
    assert.deepEqual(shardOf(plan, { index: 1, count: 2 }, record).tasks.map((t) => t.source), ['src.example/a:v1', 'src.example/d:v1']);
    assert.deepEqual(parseRecord(JSON.stringify(record), 'x'), record);
  });

  it('an image the record does not know lands in exactly one shard, the same for every job', () => {
    const record = makeRecord(plan, sizes, 3);
    const grown: Plan = { ...plan, tasks: [...plan.tasks, task('e'), task('f')] };
    const parts = [1, 2, 3].map((index) => shardOf(grown, { index, count: 3 }, record).tasks.map((t) => t.source));
    assert.deepEqual(parts.flat().sort(), grown.tasks.map((t) => t.source).sort());
    assert.deepEqual([1, 2, 3].map((index) => shardOf(grown, { index, count: 3 }, record).tasks.map((t) => t.source)), parts);
  });

  it('without a record the plan is cut by count; a record of another count is refused', () => {
    const parts = [1, 2].map((index) => shardOf(plan, { index, count: 2 }).tasks.length);
    assert.deepEqual(parts, [2, 2]);
    assert.throws(() => shardOf(plan, { index: 1, count: 3 }, makeRecord(plan, sizes, 2)), /the plan was cut into 2 shards/);
  });

  it('refuses a record that is not one', () => {
    assert.throws(() => parseRecord('nope', 'the artifact "p"'), /the artifact "p" is not JSON/);
    assert.throws(() => parseRecord('{"version":1,"plan":{}}', 'the artifact "p"'), /is not a plan written by the plan action/);
  });
});
