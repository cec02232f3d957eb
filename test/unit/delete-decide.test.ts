import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideRepository, type RepositoryState } from '../../src/delete/decide.js';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const sigTag = (digest: string) => `${digest.replace(':', '-')}.sig`;

function state(tags: Record<string, string>, indexes: Record<string, string[]> = {}): RepositoryState {
  return { tags: new Map(Object.entries(tags)), indexChildren: new Map(Object.entries(indexes)) };
}

test('a listed image that nothing else needs is deleted; one the registry lacks is gone', () => {
  const r = decideRepository('h/del/a', [{ tag: '1', digest: d('1') }, { tag: '2' }], state({ '1': d('1') }), false);
  assert.deepEqual(r, { items: [{ status: 'delete', digest: d('1') }, { status: 'gone' }], children: [], signatures: [] });
});

test('a manifest an index outside the list needs is kept, naming the index', () => {
  const r = decideRepository('h/del/m', [{ digest: d('c') }], state({ '1': d('i'), [`sha256-${'c'.repeat(64)}`]: d('c') }, { [d('i')]: [d('c'), d('e')] }), false);
  assert.deepEqual(r.items, [{ status: 'kept', digest: d('c'), reason: `part of index h/del/m:1 (${d('i')}), which is not being deleted` }]);
});

test('a manifest also tagged with a tag the list does not name is kept', () => {
  const r = decideRepository('h/del/a', [{ tag: '1', digest: d('1') }], state({ '1': d('1'), latest: d('1') }), false);
  assert.deepEqual(r.items, [{ status: 'kept', digest: d('1'), reason: 'also tagged h/del/a:latest, which the list does not name' }]);
  // Listed by digest, its digest tag is part of the item (mirroring names digest-only images so).
  const byDigest = decideRepository('h/del/a', [{ digest: d('1') }], state({ [`sha256-${'1'.repeat(64)}`]: d('1') }), false);
  assert.deepEqual(byDigest.items, [{ status: 'delete', digest: d('1') }]);
});

test("a deleted index takes the children nothing else needs along, after it", () => {
  const s = state({ '1': d('i'), '2': d('j') }, { [d('i')]: [d('a'), d('b')], [d('j')]: [d('b'), d('c')] });
  const r = decideRepository('h/del/m', [{ tag: '1', digest: d('i') }], s, false);
  assert.deepEqual(r.items, [{ status: 'delete', digest: d('i') }]);
  assert.deepEqual(r.children, [d('a')]);
  const both = decideRepository('h/del/m', [{ tag: '1', digest: d('i') }, { tag: '2', digest: d('j') }], s, false);
  assert.deepEqual(both.children, [d('a'), d('b'), d('c')]);
});

test('--delete-signatures: the signature tags of deleted manifests (children too), and only those', () => {
  const s = state(
    { '1': d('9'), keep: d('8'), [sigTag(d('9'))]: d('7'), [sigTag(d('a'))]: d('6'), [sigTag(d('8'))]: d('5') },
    { [d('9')]: [d('a')] },
  );
  const r = decideRepository('h/del/m', [{ tag: '1', digest: d('9') }], s, true);
  assert.deepEqual(r.items, [{ status: 'delete', digest: d('9') }]);
  assert.deepEqual(r.children, [d('a')]);
  assert.deepEqual(r.signatures, [
    { tag: sigTag(d('9')), digest: d('7') },
    { tag: sigTag(d('a')), digest: d('6') },
  ]);
  // Without the flag a signature tag is just another tag: it keeps nothing listed, deletes nothing.
  assert.deepEqual(decideRepository('h/del/m', [{ tag: '1', digest: d('9') }], s, false).signatures, []);
});
