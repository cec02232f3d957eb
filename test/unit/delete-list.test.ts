import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deleteAsImageSet, inDeleteTerms } from '../../src/delete/config.js';
import { parseDeleteList, renderDeleteList } from '../../src/delete/list.js';
import { checkUnderDestination, isUnder } from '../../src/delete/scope.js';
import { CollectionError, ConfigError, OcMirrorError } from '../../src/errors.js';
import { parseReference } from '../../src/image/reference.js';
import { parseRegistryLocation } from '../../src/image/reference.js';

const HEX = 'a'.repeat(64);

test('the list is rendered sorted by imageReference, de-duplicated, in oc-mirror layout', () => {
  const text = renderDeleteList([
    { imageName: 'docker://quay.io/b/x:1', imageReference: 'docker://mirror.example.com:5000/ocp/b/x:1', type: 'generic' },
    { imageName: `docker://quay.io/a/y@sha256:${HEX}`, imageReference: `docker://mirror.example.com:5000/ocp/a/y:sha256-${HEX}`, type: 'operatorRelatedImage' },
    { imageName: 'docker://other.io/b/x:1', imageReference: 'docker://mirror.example.com:5000/ocp/b/x:1', type: 'generic' },
  ]);
  assert.equal(
    text,
    `kind: DeleteImageList
apiVersion: mirror.openshift.io/v2alpha1
items:
- imageName: docker://quay.io/a/y@sha256:${HEX}
  imageReference: docker://mirror.example.com:5000/ocp/a/y:sha256-${HEX}
  type: operatorRelatedImage
- imageName: docker://quay.io/b/x:1
  imageReference: docker://mirror.example.com:5000/ocp/b/x:1
  type: generic
`,
  );
  const items = parseDeleteList(text, '/x/delete-images.yaml');
  assert.deepEqual(
    items.map((i) => [i.path, i.ref]),
    [
      ['items[0]', { registry: 'mirror.example.com:5000', repository: 'ocp/a/y', tag: `sha256-${HEX}` }],
      ['items[1]', { registry: 'mirror.example.com:5000', repository: 'ocp/b/x', tag: '1' }],
    ],
  );
});

test('names with or without docker://, references by tag or digest are accepted', () => {
  const items = parseDeleteList(
    `kind: DeleteImageList
items:
- imageName: quay.io/a/y:1
  imageReference: mirror.example.com/ocp/a/y@sha256:${HEX}
  type: generic
`,
    'l.yaml',
  );
  assert.deepEqual(items[0]!.ref, { registry: 'mirror.example.com', repository: 'ocp/a/y', digest: `sha256:${HEX}` });
  assert.deepEqual(parseDeleteList('kind: DeleteImageList\nitems:\n', 'l.yaml'), []);
});

test('bad lists get one line naming the file, line and item', () => {
  const item = (fields: string) => `kind: DeleteImageList\napiVersion: mirror.openshift.io/v2alpha1\nitems:\n- imageName: docker://q.io/a:1\n  imageReference: docker://m.io/p/a:1\n  type: generic\n${fields}`;
  const cases: [string, string][] = [
    ['kind: ImageSetConfiguration\nmirror: {}\n', 'delete-images.yaml:1 kind: "ImageSetConfiguration" is not DeleteImageList'],
    ['- a\n', 'delete-images.yaml:1: not a DeleteImageList (expected a mapping with kind: DeleteImageList)'],
    ['kind: DeleteImageList\nitems: [\n', 'delete-images.yaml:3: invalid YAML'],
    ['kind: DeleteImageList\napiVersion: v1\nitems: []\n', 'delete-images.yaml:2 apiVersion: "v1" is not mirror.openshift.io/v2alpha1'],
    ['kind: DeleteImageList\nextra: 1\nitems: []\n', 'delete-images.yaml:2 extra: unknown field (expected kind, apiVersion, items)'],
    ['kind: DeleteImageList\nitems: {}\n', 'delete-images.yaml:2 items: must be a list'],
    [item('  size: 3\n'), 'delete-images.yaml:7 items[0].size: unknown field (expected imageName, imageReference, type)'],
    [item('- imageName: docker://q.io/b:1\n  type: generic\n'), 'delete-images.yaml:7 items[1].imageReference: missing'],
    [item('- imageName: docker://q.io/b:1\n  imageReference: docker://m.io/p/B:1\n  type: generic\n'), 'delete-images.yaml:8 items[1].imageReference: docker://m.io/p/B:1: "p/B" is not a valid repository path'],
    [item('- imageName: docker://q.io/b:1\n  imageReference: docker://m.io/p/b\n  type: generic\n'), 'delete-images.yaml:8 items[1].imageReference: docker://m.io/p/b names neither a tag nor a digest'],
    [item(`- imageName: docker://q.io/b:1\n  imageReference: docker://m.io/p/b:1@sha256:${HEX}\n  type: generic\n`), 'delete-images.yaml:8 items[1].imageReference: docker://m.io/p/b:1@sha256:'],
    [item('- imageName: oci:///x\n  imageReference: docker://m.io/p/b:1\n  type: generic\n'), 'delete-images.yaml:7 items[1].imageName: oci:///x: transport "oci:" is not supported here'],
    [item('- imageName: docker://q.io/b:1\n  imageReference: docker://m.io/p/b:1\n  type: image\n'), 'delete-images.yaml:9 items[1].type: "image" is not one of ocpRelease'],
    [item('- imageName: docker://q.io/b:1\n  imageReference: 5\n  type: generic\n'), 'delete-images.yaml:8 items[1].imageReference: must be a non-empty string'],
    [item('- plain\n'), 'delete-images.yaml:7 items[1]: must be a mapping'],
  ];
  for (const [text, message] of cases) {
    assert.throws(
      () => parseDeleteList(text, '/w/delete-images.yaml'),
      (err: Error) => err.message.startsWith(message) && !err.message.includes('\n'),
      `${JSON.stringify(text)} → ${message}`,
    );
  }
});

test('an item is under the destination by path components, never by string prefix', () => {
  const at = (ref: string) => ({ ref: parseReference(ref) });
  const del = parseRegistryLocation('docker://host:5000/del');
  assert.equal(isUnder(at('host:5000/del/a:1'), del), true);
  assert.equal(isUnder(at('host:5000/del/x/y@sha256:' + HEX), del), true);
  assert.equal(isUnder(at('host:5000/del-x/a:1'), del), false);
  assert.equal(isUnder(at('host:5000/delx:1'), del), false);
  assert.equal(isUnder(at('host:5001/del/a:1'), del), false);
  assert.equal(isUnder(at('other/del/a:1'), del), false);
  assert.equal(isUnder(at('HOST:5000/del/a:1'), del), true);
  assert.equal(isUnder(at('host:5000/a:1'), parseRegistryLocation('docker://host:5000')), true);

  const items = parseDeleteList(
    `kind: DeleteImageList\nitems:\n${['del/a:1', 'del-x/a:1', 'other/a:1', 'del/b:1'].map((p) => `- imageName: q.io/a:1\n  imageReference: docker://host:5000/${p}\n  type: generic\n`).join('')}`,
    'l.yaml',
  );
  assert.throws(
    () => checkUnderDestination(items, 'docker://host:5000/del', 'l.yaml'),
    { message: 'l.yaml items[1].imageReference: docker://host:5000/del-x/a:1 is not under the destination docker://host:5000/del (and 1 more item); nothing was deleted' },
  );
  assert.deepEqual(checkUnderDestination(items.filter((i) => i.ref.repository.startsWith('del/')), 'docker://host:5000/del/', 'l.yaml'), { registry: 'host:5000', prefix: 'del' });
});

test('the delete stanza becomes the mirror stanza, and field errors speak of delete', () => {
  const config = deleteAsImageSet({
    apiVersion: 'mirror.openshift.io/v2alpha1',
    kind: 'DeleteImageSetConfiguration',
    delete: { additionalImages: [{ name: 'q.io/a:1' }], operators: [{ catalog: 'q.io/c:1' }] },
  });
  assert.deepEqual(config, {
    apiVersion: 'mirror.openshift.io/v2alpha1',
    kind: 'ImageSetConfiguration',
    mirror: { additionalImages: [{ name: 'q.io/a:1' }], operators: [{ catalog: 'q.io/c:1' }] },
  });
  const err = inDeleteTerms(new ConfigError('d.yaml mirror.operators[0].packages: bad; see mirror.operators'));
  assert.equal((err as Error).message, 'd.yaml delete.operators[0].packages: bad; see delete.operators');
  const plain = new Error('mirror.operators');
  assert.equal(inDeleteTerms(plain), plain);
  const host = new OcMirrorError('pull mirror.example.com/a:1 failed');
  assert.equal(inDeleteTerms(host), host);
  const collection = inDeleteTerms(new CollectionError('d.yaml mirror.platform: no graph data saved', 'release'));
  assert.equal((collection as Error).constructor, OcMirrorError);
  assert.equal((collection as Error).message, 'd.yaml delete.platform: no graph data saved');
});
