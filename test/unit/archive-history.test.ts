import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { historyFileName, readHistory, writeHistory } from '../../src/archive/history.js';

const d = (c: string) => `sha256:${c.repeat(64)}`;

function workingDir(): string {
  return join(mkdtempSync(join(tmpdir(), 'history-test-')), 'working-dir');
}

test('history file names are RFC3339 UTC to the second, as oc-mirror writes them', () => {
  assert.equal(historyFileName(new Date('2025-01-31T12:34:56.789Z')), '.history-2025-01-31T12:34:56Z');
});

test('a missing working-dir or history directory means nothing was shipped', async () => {
  assert.deepEqual(await readHistory(workingDir()), new Set());
  assert.deepEqual(await readHistory(workingDir(), new Date()), new Set());
});

test('each history file is the union of the previous one and the new digests', async () => {
  const wd = workingDir();
  const first = await writeHistory(wd, [d('a'), d('b')], new Date('2025-01-01T00:00:00Z'));
  assert.equal(first, join(wd, '.history', '.history-2025-01-01T00:00:00Z'));
  assert.equal(readFileSync(first, 'utf8'), `${d('a')}\n${d('b')}\n`);
  await writeHistory(wd, [d('c'), d('b')], new Date('2025-02-01T00:00:00Z'));
  await writeHistory(wd, [d('e')], new Date('2025-03-01T00:00:00Z'));
  assert.deepEqual(await readHistory(wd), new Set([d('a'), d('b'), d('c'), d('e')]));
  assert.deepEqual(readdirSync(join(wd, '.history')).sort(), [
    '.history-2025-01-01T00:00:00Z',
    '.history-2025-02-01T00:00:00Z',
    '.history-2025-03-01T00:00:00Z',
  ]);
  await assert.rejects(writeHistory(wd, ['not-a-digest'], new Date()), /"not-a-digest" is not a digest/);
});

test('--since picks the newest file strictly before the date', async () => {
  const wd = workingDir();
  await writeHistory(wd, [d('a')], new Date('2025-01-01T00:00:00Z'));
  await writeHistory(wd, [d('b')], new Date('2025-02-01T00:00:00Z'));
  await writeHistory(wd, [d('c')], new Date('2025-03-01T00:00:00Z'));
  assert.deepEqual(await readHistory(wd, new Date('2025-02-15T00:00:00Z')), new Set([d('a'), d('b')]));
  // a file stamped exactly at --since is not used: what it shipped is shipped again
  assert.deepEqual(await readHistory(wd, new Date('2025-02-01T00:00:00Z')), new Set([d('a')]));
  assert.deepEqual(await readHistory(wd, new Date('2025-01-01T00:00:00Z')), new Set());
  assert.deepEqual(await readHistory(wd, new Date('2030-01-01T00:00:00Z')), new Set([d('a'), d('b'), d('c')]));
});

test('files are ordered by their timestamp, foreign files and bad lines are ignored', async () => {
  const wd = workingDir();
  const dir = join(wd, '.history');
  mkdirSync(dir, { recursive: true });
  // written by another tool with an offset: 2025-01-01T05:00:00Z, older than the next one
  writeFileSync(join(dir, '.history-2025-01-01T06:00:00+01:00'), `${d('a')}\n`);
  writeFileSync(join(dir, '.history-2025-01-01T05:30:00Z'), `${d('b')}\n\n  ${d('c')}  \ngarbage\n`);
  writeFileSync(join(dir, '.history-2099-01-01T00:00:00Z.partial'), `${d('f')}\n`);
  writeFileSync(join(dir, 'notes.txt'), `${d('f')}\n`);
  assert.deepEqual(await readHistory(wd), new Set([d('b'), d('c')]));
  assert.deepEqual(await readHistory(wd, new Date('2025-01-01T05:30:00Z')), new Set([d('a')]));
});
