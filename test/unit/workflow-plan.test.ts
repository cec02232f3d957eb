import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Logger } from '../../src/log.js';
import { planCollection } from '../../src/workflows/collect.js';

function recorder(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (m: string) => void lines.push(`${level} ${m}`);
  return { lines, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), trace: at('trace') };
}

test('planning warns when different images would land on one destination, and logs blocked ones', () => {
  const log = recorder();
  const plan = planCollection(
    {
      images: [
        { source: 'quay.io/team/app:v1', kind: 'generic' },
        { source: 'ghcr.io/team/app:v1', kind: 'generic' },
        { source: 'quay.io/legacy/old:v0', kind: 'generic' },
      ],
      blocked: [/legacy\//],
    },
    'docker://mirror.example.com/m',
    { maxNestedPaths: 0 },
    log,
  );
  assert.equal(plan.tasks.length, 2);
  assert.ok(log.lines.includes('info quay.io/legacy/old:v0 is blocked by blockedImages: not mirrored'), log.lines.join('\n'));
  assert.ok(
    log.lines.some((l) => l.startsWith('warn mirror.example.com/m/team/app:v1 is the destination of 2 different images (quay.io/team/app:v1, ghcr.io/team/app:v1)')),
    log.lines.join('\n'),
  );
});

test('an empty plan is refused', () => {
  assert.throws(
    () => planCollection({ images: [{ source: 'quay.io/a/b:1', kind: 'generic' }], blocked: [/.*/] }, 'docker://r.io', { maxNestedPaths: 0 }, recorder()),
    /no images to copy/,
  );
});
