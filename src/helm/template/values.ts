/**
 * How JS data stands for Go values: objects are maps (map[string]interface{}), arrays are slices,
 * numbers float64, bigints int, null/undefined nil (undefined is Go's "no value"), class instances
 * structs whose function properties are methods.
 */

export type GoMap = Record<string, unknown>;

export const isNil = (v: unknown): v is null | undefined => v === null || v === undefined;

/** A plain object: Go's map[string]interface{}. */
export function isMap(v: unknown): v is GoMap {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A class instance: a Go struct (pointer), with fields and methods. */
export function isStruct(v: unknown): v is object {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !isMap(v);
}

/** Sorted keys, as Go ranges over and prints maps. */
export function sortedKeys(m: GoMap): string[] {
  return Object.keys(m).sort(compareStrings);
}

/** Go compares strings bytewise (UTF-8); code-point order agrees with it. */
function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done) return y.done ? 0 : -1;
    if (y.done) return 1;
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}

/** Go's name of a scalar's type, the same for reflect's Kind and for %T; undefined for others. */
function scalarName(v: unknown): string | undefined {
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'bigint':
      return 'int';
    case 'number':
      return 'float64';
  }
  return undefined;
}

/** reflect.Kind().String() as Sprig's kindOf reports it. */
export function kindOf(v: unknown): string {
  if (isNil(v)) return 'invalid';
  const scalar = scalarName(v);
  if (scalar) return scalar;
  if (typeof v === 'function') return 'func';
  if (Array.isArray(v)) return 'slice';
  if (isMap(v)) return 'map';
  return 'ptr';
}

/** Go's %T. */
export function typeName(v: unknown): string {
  if (isNil(v)) return '<nil>';
  const scalar = scalarName(v);
  if (scalar) return scalar;
  if (typeof v === 'function') return 'func(...interface {}) interface {}';
  if (Array.isArray(v)) return '[]interface {}';
  if (isMap(v)) return 'map[string]interface {}';
  if (v instanceof Date) return 'time.Time';
  const ctor = (v as { constructor?: { goType?: string; name?: string } }).constructor;
  return ctor?.goType ?? `*${ctor?.name ?? 'struct'}`;
}

/** Go template truth: false, 0, nil, and empty strings, slices and maps are false. */
export function truth(v: unknown): boolean {
  if (isNil(v)) return false;
  switch (typeof v) {
    case 'boolean':
      return v;
    case 'string':
      return v.length > 0;
    case 'number':
      return v !== 0;
    case 'bigint':
      return v !== 0n;
  }
  if (Array.isArray(v)) return v.length > 0;
  if (isMap(v)) return Object.keys(v).length > 0;
  return true;
}

/** Sprig's `empty`: the same as not-truth for the values templates see. */
export const isEmpty = (v: unknown): boolean => !truth(v);

const INT64 = (n: bigint): bigint => BigInt.asIntN(64, n);

/** spf13/cast ToInt64 as Sprig uses it: lenient, 0 when the value does not convert. */
export function toInt64(v: unknown): bigint {
  switch (typeof v) {
    case 'bigint':
      return INT64(v);
    case 'number':
      return Number.isFinite(v) ? INT64(BigInt(Math.trunc(v))) : 0n;
    case 'boolean':
      return v ? 1n : 0n;
    case 'string': {
      const s = v.trim().replace(/\.0*$/, '');
      const m = /^([+-]?)(0[xX][0-9a-fA-F_]+|0[oO]?[0-7_]+|0[bB][01_]+|[1-9][0-9_]*|0)$/.exec(s);
      if (!m) return 0n;
      let body = m[2]!.replaceAll('_', '');
      if (/^0[0-7]+$/.test(body)) body = `0o${body.slice(1)}`;
      const n = BigInt(body);
      return INT64(m[1] === '-' ? -n : n);
    }
  }
  return 0n;
}

/** spf13/cast ToFloat64. */
export function toFloat64(v: unknown): number {
  switch (typeof v) {
    case 'number':
      return v;
    case 'bigint':
      return Number(v);
    case 'boolean':
      return v ? 1 : 0;
    case 'string': {
      const s = v.trim();
      if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s) && !/^[+-]?(Inf|inf|NaN)$/.test(s)) return 0;
      return s.toLowerCase().endsWith('inf') ? (s.startsWith('-') ? -Infinity : Infinity) : Number(s);
    }
  }
  return 0;
}

/** Deep copy of plain data (Sprig's deepCopy; structs are shared). */
export function deepCopy(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(deepCopy);
  if (isMap(v)) {
    const out: GoMap = {};
    for (const [k, x] of Object.entries(v)) out[k] = deepCopy(x);
    return out;
  }
  return v;
}

/** reflect.DeepEqual for plain data. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (isNil(a) || isNil(b)) return isNil(a) && isNil(b);
  if (typeof a !== typeof b) return false;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isMap(a)) {
    if (!isMap(b)) return false;
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return a === b;
}
