import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type Node as YamlNode, type YAMLMap } from 'yaml';
import { fieldPath, type Locations } from './locations.js';

/**
 * A declarative description of the configuration's shape, and the one walker that checks a YAML
 * tree against it while turning it into plain data. The shape types are derived from the
 * TypeScript types of `types.ts` (`ShapeOf<T>`), so the schema table cannot drift from them: a
 * missing, extra or mistyped field, or a `required` that disagrees with the type's `?`, does
 * not compile.
 */

/** Returns the problem with a value (`"4.x" is not a semantic version`), or undefined when it is fine. */
export type ValueCheck<V> = (value: V) => string | undefined;

export interface StringShape {
  type: 'string';
  /** not run on an empty string: oc-mirror (Go) reads `""` as "not set" */
  check?: ValueCheck<string>;
}
export interface BoolShape {
  type: 'bool';
}
export interface IntShape {
  type: 'int';
  check?: ValueCheck<number>;
}
export interface ListShape<E> {
  type: 'list';
  of: ShapeOf<E>;
}
export interface ObjectShape<T> {
  type: 'object';
  fields: FieldsOf<T>;
}

/** A field that must be present and not empty; optional fields are written as their bare shape. */
export interface RequiredField<S> {
  required: true;
  shape: S;
}

export type ShapeOf<T> = [T] extends [string]
  ? StringShape
  : [T] extends [boolean]
    ? BoolShape
    : [T] extends [number]
      ? IntShape
      : [T] extends [ReadonlyArray<infer E>]
        ? ListShape<E>
        : ObjectShape<T>;

export type FieldsOf<T> = {
  [K in keyof T]-?: {} extends Pick<T, K> ? ShapeOf<NonNullable<T[K]>> : RequiredField<ShapeOf<T[K]>>;
};

/** The runtime view of any shape, which is all the walker needs. */
type AnyShape =
  | StringShape
  | BoolShape
  | IntShape
  | { type: 'list'; of: AnyShape }
  | { type: 'object'; fields: Record<string, AnyShape | RequiredField<AnyShape>> };

// Constructors for the schema table.
export const string: StringShape = { type: 'string' };
export const bool: BoolShape = { type: 'bool' };
export function checkedString(check: ValueCheck<string>): StringShape {
  return { type: 'string', check };
}
export function checkedInt(check: ValueCheck<number>): IntShape {
  return { type: 'int', check };
}
export function list<S>(of: S): { type: 'list'; of: S } {
  return { type: 'list', of };
}
export function object<T>(fields: FieldsOf<T>): ObjectShape<T> {
  return { type: 'object', fields };
}
export function required<S>(shape: S): RequiredField<S> {
  return { required: true, shape };
}

interface WalkContext {
  doc: Document;
  text: string;
  at: Locations;
}

/**
 * Checks `node` against `shape` and returns it as plain data; throws the ConfigError of the first
 * problem met, in document order. Records the line of every field and list entry in `at`.
 */
export function walk<T>(node: YamlNode, shape: ObjectShape<T>, path: string, doc: Document, text: string, at: Locations): T {
  return walkValue(node, shape as unknown as AnyShape, path, { doc, text, at }) as T;
}

function walkValue(raw: unknown, shape: AnyShape, path: string, ctx: WalkContext): unknown {
  const node = resolve(raw, ctx, path);
  const mismatch = (expected: string, hint = ''): never => {
    throw ctx.at.error(path, `expected ${expected}, got ${describe(node, ctx)}${hint}`, ctx.at.lineOfNode(node) ?? ctx.at.lineOf(path));
  };
  const failValue = (problem: string): never => {
    throw ctx.at.error(path, problem, ctx.at.lineOfNode(node) ?? ctx.at.lineOf(path));
  };

  switch (shape.type) {
    case 'string': {
      if (!isScalar(node) || typeof node.value !== 'string') {
        // Go refuses `minVersion: 4.10` (a number) for a string field, and a number would lose the
        // trailing zero anyway, so say how to write it.
        const quoted = isScalar(node) && (typeof node.value === 'number' || typeof node.value === 'boolean');
        return mismatch('a string', quoted ? ` (write it in quotes: "${sourceOf(node, ctx)}")` : '');
      }
      const problem = node.value === '' ? undefined : shape.check?.(node.value);
      if (problem) failValue(problem);
      return node.value;
    }
    case 'bool':
      if (!isScalar(node) || typeof node.value !== 'boolean') return mismatch('true or false');
      return node.value;
    case 'int': {
      if (!isScalar(node) || typeof node.value !== 'number' || !Number.isInteger(node.value)) return mismatch('an integer');
      const problem = shape.check?.(node.value);
      if (problem) failValue(problem);
      return node.value;
    }
    case 'list': {
      if (!isSeq(node)) return mismatch('a list');
      return node.items.map((item, i) => {
        const itemPath = `${path}[${i}]`;
        ctx.at.remember(itemPath, ctx.at.lineOfNode(resolve(item, ctx, itemPath)));
        return walkValue(item, shape.of, itemPath, ctx);
      });
    }
    case 'object':
      if (!isMap(node)) return mismatch('a mapping');
      return walkObject(node, shape.fields, path, ctx);
  }
}

function walkObject(map: YAMLMap, fields: Record<string, AnyShape | RequiredField<AnyShape>>, path: string, ctx: WalkContext): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of map.items) {
    if (!isPair(pair)) continue;
    const keyNode = resolve(pair.key, ctx, path);
    const keyLine = ctx.at.lineOfNode(keyNode);
    if (!isScalar(keyNode) || keyNode.value === null || typeof keyNode.value === 'object') {
      throw ctx.at.error(path, `field names must be plain words, got ${describe(keyNode, ctx)}`, keyLine);
    }
    const key = String(keyNode.value);
    const at = fieldPath(path, key);
    const field = Object.hasOwn(fields, key) ? fields[key] : undefined;
    if (!field) throw ctx.at.error(at, 'unknown field', keyLine);
    ctx.at.remember(at, keyLine);

    const isRequired = 'required' in field;
    const shape = isRequired ? field.shape : field;
    const value = resolve(pair.value, ctx, at);
    if (isNull(value)) {
      // Go decodes `key:` with nothing after it as the zero value: an empty section stays a
      // section, an empty list or scalar is the same as leaving the field out.
      if (shape.type === 'object') out[key] = {};
      else if (isRequired) throw ctx.at.error(at, 'must not be empty', keyLine);
      continue;
    }
    const data = walkValue(value, shape, at, ctx);
    if (isRequired && data === '') throw ctx.at.error(at, 'must not be empty', keyLine);
    out[key] = data;
  }
  for (const [key, field] of Object.entries(fields)) {
    if ('required' in field && !(key in out)) {
      throw ctx.at.error(fieldPath(path, key), 'missing required field', ctx.at.lineOfNode(map) ?? ctx.at.lineOf(path));
    }
  }
  return out;
}

/** A YAML node (aliases followed), or null for a missing value. */
function resolve(node: unknown, ctx: WalkContext, path: string): YamlNode | null {
  if (!isAlias(node)) return (node ?? null) as YamlNode | null;
  const target = node.resolve(ctx.doc);
  // The YAML parser leaves an alias to an anchor that does not exist for us to find.
  if (!target) throw ctx.at.error(path, `alias *${node.source} refers to no anchor`, ctx.at.lineOfNode(node));
  return target;
}

function isNull(node: unknown): boolean {
  return node === null || node === undefined || (isScalar(node) && node.value === null);
}

function sourceOf(node: YamlNode, ctx: WalkContext): string {
  const range = node.range;
  return range ? ctx.text.slice(range[0], range[1]).trim() : String((node as { value?: unknown }).value);
}

function describe(node: unknown, ctx: WalkContext): string {
  if (isNull(node)) return 'nothing';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const v = node.value;
    if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
    if (typeof v === 'number' || typeof v === 'bigint') return `the number ${sourceOf(node, ctx)}`;
    if (typeof v === 'boolean') return `${v}`;
  }
  return 'a value of another kind';
}
