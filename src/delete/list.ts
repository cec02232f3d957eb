/**
 * The delete list (`working-dir/delete/delete-images[-<id>].yaml`, ref §11.1): what `--generate`
 * writes and `--delete-yaml-file` reads. One parser, one renderer.
 */
import { basename } from 'node:path';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, stringify, type Node as YamlNode, type YAMLMap } from 'yaml';
import { API_VERSION } from '../config/types.js';
import { errorMessage, OcMirrorError } from '../errors.js';
import { parseReference, type ImageReference } from '../image/reference.js';
import type { ImageKind } from '../plan/types.js';

export const DELETE_IMAGE_LIST = 'DeleteImageList';

const KINDS: readonly ImageKind[] = [
  'ocpRelease',
  'ocpReleaseContent',
  'cincinnatiGraph',
  'operatorCatalog',
  'operatorBundle',
  'operatorRelatedImage',
  'generic',
  'helmImage',
];

export interface DeleteItem {
  /** the image's own name, `docker://registry/path[:tag][@digest]` */
  imageName: string;
  /** where mirroring wrote it, `docker://host/prefix/path:tag` or `…@sha256:…` */
  imageReference: string;
  type: ImageKind;
}

/** An item of a list read back, with its position for messages and its parsed reference. */
export interface ListedItem extends DeleteItem {
  /** `items[3]` */
  path: string;
  ref: ImageReference;
}

/** A delete list that cannot be used; the message names the file, the line and the item. */
export class DeleteListError extends OcMirrorError {
  override name = 'DeleteListError';
}

/**
 * Sorted by imageReference (byte order: the same list on every machine) and de-duplicated by it,
 * the first item of a destination winning, as oc-mirror compares destinations only.
 */
export function renderDeleteList(items: readonly DeleteItem[]): string {
  const sorted = [...items].sort((a, b) => (a.imageReference < b.imageReference ? -1 : a.imageReference > b.imageReference ? 1 : 0));
  const unique = sorted.filter((item, i) => i === 0 || sorted[i - 1]!.imageReference !== item.imageReference);
  const doc = {
    kind: DELETE_IMAGE_LIST,
    apiVersion: API_VERSION,
    items: unique.map((i) => ({ imageName: i.imageName, imageReference: i.imageReference, type: i.type })),
  };
  return stringify(doc, { indentSeq: false, lineWidth: 0 });
}

/** Parses a delete list; the first problem is reported, naming the file, line and field. */
export function parseDeleteList(text: string, path: string): ListedItem[] {
  const file = basename(path);
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  const lineOf = (node: unknown): number | undefined => {
    const start = (node as YamlNode | null | undefined)?.range?.[0];
    return start === undefined ? undefined : counter.linePos(start).line;
  };
  const fail = (node: unknown, field: string, problem: string): never => {
    const line = lineOf(node);
    const where = line === undefined ? file : `${file}:${line}`;
    throw new DeleteListError(field ? `${where} ${field}: ${problem}` : `${where}: ${problem}`);
  };
  const syntax = doc.errors[0];
  if (syntax) {
    const line = counter.linePos(syntax.pos[0]).line;
    throw new DeleteListError(`${file}:${line}: invalid YAML: ${syntax.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`);
  }
  const root = doc.contents;
  if (!isMap(root)) return fail(root, '', `not a ${DELETE_IMAGE_LIST} (expected a mapping with kind: ${DELETE_IMAGE_LIST})`);
  // The kind first: another kind of file is named as such, not as a list of unknown fields.
  const kind: unknown = root.get('kind', true);
  if (kind === undefined) return fail(root, 'kind', `missing (expected ${DELETE_IMAGE_LIST})`);
  const kindValue = isScalar(kind) ? kind.value : undefined;
  if (kindValue !== DELETE_IMAGE_LIST) return fail(kind, 'kind', `${isScalar(kind) ? `"${String(kindValue)}"` : 'a collection'} is not ${DELETE_IMAGE_LIST}`);
  const fields = scalarFields(root, '', ['kind', 'apiVersion', 'items'], fail);
  const apiVersion = fields.get('apiVersion');
  if (apiVersion && apiVersion.value !== API_VERSION) return fail(apiVersion.node, 'apiVersion', `"${apiVersion.value}" is not ${API_VERSION}`);

  const itemsNode = root.get('items', true);
  if (itemsNode === undefined) return fail(root, 'items', 'missing');
  if (isScalar(itemsNode) && itemsNode.value === null) return [];
  if (!isSeq(itemsNode)) return fail(itemsNode, 'items', 'must be a list');
  return itemsNode.items.map((node, i) => {
    const at = `items[${i}]`;
    if (!isMap(node)) return fail(node, at, 'must be a mapping with imageName, imageReference and type');
    const f = scalarFields(node, at, ['imageName', 'imageReference', 'type'], fail);
    const need = (key: string) => f.get(key) ?? fail(node, `${at}.${key}`, 'missing');
    const name = need('imageName');
    const reference = need('imageReference');
    const type = need('type');
    const parse = (field: { value: string; node: unknown }, key: string): ImageReference => {
      try {
        return parseReference(field.value);
      } catch (err) {
        return fail(field.node, `${at}.${key}`, errorMessage(err));
      }
    };
    parse(name, 'imageName');
    const ref = parse(reference, 'imageReference');
    if (!ref.tag && !ref.digest) fail(reference.node, `${at}.imageReference`, `${reference.value} names neither a tag nor a digest`);
    if (ref.tag && ref.digest) fail(reference.node, `${at}.imageReference`, `${reference.value} names a tag and a digest: give one of them`);
    if (!KINDS.includes(type.value as ImageKind)) fail(type.node, `${at}.type`, `"${type.value}" is not one of ${KINDS.join(', ')}`);
    return { path: at, imageName: name.value, imageReference: reference.value, type: type.value as ImageKind, ref };
  });
}

type Fail = (node: unknown, field: string, problem: string) => never;

/** The string fields of a mapping; unknown keys, non-string values and the `items` list are told apart. */
function scalarFields(map: YAMLMap, at: string, allowed: readonly string[], fail: Fail): Map<string, { value: string; node: unknown }> {
  const out = new Map<string, { value: string; node: unknown }>();
  for (const pair of map.items) {
    if (!isPair(pair) || !isScalar(pair.key)) return fail(pair, at, 'keys must be plain strings');
    const key = String(pair.key.value);
    const field = at ? `${at}.${key}` : key;
    if (!allowed.includes(key)) return fail(pair.key, field, `unknown field (expected ${allowed.join(', ')})`);
    if (key === 'items') continue;
    if (!isScalar(pair.value) || typeof pair.value.value !== 'string' || pair.value.value === '') {
      return fail(pair.value ?? pair.key, field, 'must be a non-empty string');
    }
    out.set(key, { value: pair.value.value, node: pair.value });
  }
  return out;
}
