import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { EOL, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ACTION_NAMES } from '../../src/action/actions.js';
import { ACTION_OUTPUTS, copyCounts, renderOutputs, writeOutputs } from '../../src/action/outputs.js';
import { SecretRegistry } from '../../src/action/secrets.js';
import { matrixOutput } from '../../src/action/shards.js';
import { OcMirrorError } from '../../src/errors.js';
import type { RunReport } from '../../src/outputs/report.js';

const scratch = mkdtempSync(join(tmpdir(), 'action-outputs-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Reads a GITHUB_OUTPUT file back the way the runner does: `name<<delim`, lines, `delim`. */
function parseOutputFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(EOL);
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<]+)<<(.+)$/.exec(lines[i]!);
    if (!m) continue;
    const [, name, delimiter] = m;
    const value: string[] = [];
    for (i++; lines[i] !== delimiter; i++) value.push(lines[i]!);
    out[name!] = value.join(EOL);
  }
  return out;
}

describe('renderOutputs', () => {
  it('writes name<<delimiter blocks: numbers in decimal, lists as JSON arrays', () => {
    const text = renderOutputs({ images: 1234, bytes: 98_765_432_109, archives: ['/a/mirror_000001.tar', '/a/mirror_000002.tar'], mapping: '/ws/working-dir/dry-run/mapping.txt' }, undefined, 'DELIM');
    assert.equal(
      text,
      ['images<<DELIM', '1234', 'DELIM', 'bytes<<DELIM', '98765432109', 'DELIM', 'archives<<DELIM', '["/a/mirror_000001.tar","/a/mirror_000002.tar"]', 'DELIM', 'mapping<<DELIM', '/ws/working-dir/dry-run/mapping.txt', 'DELIM', ''].join(EOL),
    );
  });

  it('keeps multi-line values and values that look like delimiters intact', () => {
    const tricky = 'line 1\nmatrix<<EOF\nEOF\nline 4';
    const parsed = parseOutputFile(renderOutputs({ tricky, matrix: matrixOutput(2) }));
    assert.deepEqual(parsed, { tricky, matrix: '{"include":[{"shard":"1/2"},{"shard":"2/2"}]}' });
  });

  it('refuses bad names, non-integers and the delimiter in a value', () => {
    assert.throws(() => renderOutputs({ 'bad name': 'x' }), /output "bad name": not a valid output name/);
    assert.throws(() => renderOutputs({ bytes: 1.5 }), /output "bytes": 1.5 is not a whole number/);
    assert.throws(() => renderOutputs({ bytes: Number.NaN }), OcMirrorError);
    assert.throws(() => renderOutputs({ x: 'a DELIM b' }, undefined, 'DELIM'), /output "x": the value contains the delimiter/);
  });

  it('refuses a value that contains a registered secret, without showing it', () => {
    const secrets = new SecretRegistry(() => {});
    secrets.add('s3cr3t-token');
    assert.throws(
      () => renderOutputs({ images: 3, url: 'https://robot:s3cr3t-token@r.io' }, secrets),
      (err: Error) => err instanceof OcMirrorError && err.message === 'output "url": refused, the value contains a secret',
    );
    assert.doesNotThrow(() => renderOutputs({ images: 3 }, secrets));
  });
});

describe('writeOutputs', () => {
  it('appends to GITHUB_OUTPUT', () => {
    const file = join(scratch, 'output-1');
    writeFileSync(file, 'earlier<<X\nvalue\nX\n');
    writeOutputs({ images: 7, failed: 0 }, { env: { GITHUB_OUTPUT: file } });
    writeOutputs({ 'cluster-resources': '/ws/working-dir/cluster-resources' }, { file });
    const parsed = parseOutputFile(readFileSync(file, 'utf8'));
    assert.deepEqual(parsed, { earlier: 'value', images: '7', failed: '0', 'cluster-resources': '/ws/working-dir/cluster-resources' });
  });

  it('writes nothing at all when one value is refused', () => {
    const file = join(scratch, 'output-2');
    writeFileSync(file, '');
    const secrets = new SecretRegistry(() => {});
    secrets.add('pw-123456');
    assert.throws(() => writeOutputs({ images: 1, leak: 'pw-123456' }, { file, secrets }), OcMirrorError);
    assert.equal(readFileSync(file, 'utf8'), '');
  });

  it('says so when GITHUB_OUTPUT is not set', () => {
    assert.throws(() => writeOutputs({ images: 1 }, { env: {} }), /GITHUB_OUTPUT is not set/);
  });
});

describe('output table and counts', () => {
  it('declares the outputs the issue asks for', () => {
    const names = (a: (typeof ACTION_NAMES)[number]): string[] => ACTION_OUTPUTS[a].map((o) => o.name);
    assert.deepEqual(names('plan'), ['images', 'mapping', 'matrix']);
    for (const a of ['mirror', 'push'] as const) for (const n of ['images', 'failed', 'cluster-resources']) assert.ok(names(a).includes(n), `${a} ${n}`);
    assert.deepEqual(names('pack'), ['archives', 'artifact-name', 'bytes']);
    for (const a of ACTION_NAMES) for (const o of ACTION_OUTPUTS[a]) assert.ok(!o.description.includes('${{'), `${a}.${o.name}`);
  });

  it('counts images at the destination, failures and bytes', () => {
    const task = { source: 'q.io/a:1', destination: 'm/a:1', kind: 'generic' as const, origin: 'additional' as const };
    const report: RunReport = {
      startedAt: '',
      finishedAt: '',
      workflow: 'mirrorToMirror',
      destination: 'docker://m',
      images: [
        { task, status: 'mirrored', bytes: 10 },
        { task, status: 'present', bytes: 0 },
        { task, status: 'failed', error: 'x' },
        { task, status: 'skipped' },
      ],
    };
    assert.deepEqual(copyCounts(report), { images: 2, failed: 2, bytes: 10 });
  });
});
