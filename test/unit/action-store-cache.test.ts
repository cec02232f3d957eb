import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cutPacks, parseIndex } from '../../src/action/store-cache.js';

const d = (n: number): string => `sha256:${n.toString(16).padStart(64, '0')}`;

describe('store cache packs', () => {
  it('cuts blobs sorted by digest into packs of at most the pack size; a bigger blob gets its own', () => {
    const blobs = [
      { digest: d(3), size: 40 },
      { digest: d(1), size: 60 },
      { digest: d(2), size: 50 },
      { digest: d(4), size: 500 },
      { digest: d(5), size: 10 },
    ];
    const packs = cutPacks('pfx', blobs, 100);
    assert.deepEqual(
      packs.map((p) => p.blobs.map((b) => b.digest)),
      [[d(1)], [d(2), d(3)], [d(4)], [d(5)]],
    );
    for (const p of packs) assert.match(p.key, /^pfx-pack-[0-9a-f]{40}$/);
  });

  it('the key is the content: the same blobs in any order make the same packs; other blobs other keys', () => {
    const blobs = [1, 2, 3].map((n) => ({ digest: d(n), size: 10 }));
    assert.deepEqual(cutPacks('p', blobs), cutPacks('p', [...blobs].reverse()));
    assert.notEqual(cutPacks('p', blobs)[0]!.key, cutPacks('p', blobs.slice(1))[0]!.key);
    assert.deepEqual(cutPacks('p', []), []);
  });

  it('reads back only a well-formed index', () => {
    const index = { version: 1, packs: [{ key: 'k', blobs: [{ digest: d(1), size: 3 }] }] };
    assert.deepEqual(parseIndex(JSON.stringify(index)), index);
    assert.equal(parseIndex('{'), undefined);
    assert.equal(parseIndex(JSON.stringify({ version: 2, packs: [] })), undefined);
    assert.equal(parseIndex(JSON.stringify({ version: 1, packs: [{ key: 'k', blobs: [{ digest: '../../etc/passwd', size: 3 }] }] })), undefined);
    assert.equal(parseIndex(JSON.stringify({ version: 1, packs: [{ key: 'k', blobs: [{ digest: d(1), size: -1 }] }] })), undefined);
  });
});
