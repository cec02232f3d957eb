/** The functions Go's text/template predefines. */
import { fixed, variadic, type FuncTable } from './define.js';
import { sprint, sprintf, sprintln } from './fmt.js';
import { isMap, isNil, truth, typeName } from './values.js';

type Basic = 'bool' | 'int' | 'float' | 'string';

function basicKind(v: unknown): Basic | undefined {
  switch (typeof v) {
    case 'boolean':
      return 'bool';
    case 'bigint':
      return 'int';
    case 'number':
      return 'float';
    case 'string':
      return 'string';
  }
  return undefined;
}

const isNumber = (k: Basic | undefined): boolean => k === 'int' || k === 'float';

/**
 * Go's eq: true when the first argument equals any other. Unlike Go, an int and a float64 of the same
 * value compare equal (values from Helm's values files are float64, literals int).
 */
export function eq(a: unknown, ...others: unknown[]): boolean {
  if (others.length === 0) throw new Error('missing argument for comparison');
  const ka = basicKind(a);
  for (const b of others) {
    const kb = basicKind(b);
    if (isNil(a) || isNil(b)) {
      if (isNil(a) && isNil(b)) return true;
      continue;
    }
    if (ka === undefined || kb === undefined) {
      if ((Array.isArray(a) || isMap(a) || Array.isArray(b) || isMap(b)) || ka !== kb) {
        throw new Error(`non-comparable types ${typeName(a)} and ${typeName(b)}`);
      }
      if (a === b) return true;
      continue;
    }
    if (ka !== kb && !(isNumber(ka) && isNumber(kb))) throw new Error('incompatible types for comparison');
    // eslint-disable-next-line eqeqeq
    if (isNumber(ka) ? a == b : a === b) return true;
  }
  return false;
}

function lessThan(a: unknown, b: unknown): boolean {
  const ka = basicKind(a);
  const kb = basicKind(b);
  if (ka === undefined || kb === undefined || ka === 'bool' || kb === 'bool') throw new Error('invalid type for comparison');
  if (ka !== kb && !(isNumber(ka) && isNumber(kb))) throw new Error('incompatible types for comparison');
  return (a as number) < (b as number);
}

function index(item: unknown, ...indexes: unknown[]): unknown {
  if (isNil(item)) throw new Error('index of untyped nil');
  let v: unknown = item;
  for (const ix of indexes) {
    if (isNil(v)) throw new Error('index of nil pointer');
    if (Array.isArray(v) || typeof v === 'string') {
      const i = intIndex(ix);
      const len = typeof v === 'string' ? Buffer.byteLength(v) : v.length;
      if (i < 0 || i >= len) throw new Error(`index out of range: ${i}`);
      v = typeof v === 'string' ? BigInt(Buffer.from(v)[i]!) : (v[i] ?? null);
    } else if (isMap(v)) {
      if (typeof ix !== 'string') throw new Error(`value has type ${typeName(ix)}; should be string`);
      v = Object.hasOwn(v, ix) ? (v[ix] ?? null) : null;
    } else {
      throw new Error(`can't index item of type ${typeName(v)}`);
    }
  }
  return v;
}

function intIndex(ix: unknown): number {
  if (typeof ix === 'bigint') return Number(ix);
  if (typeof ix === 'number' && Number.isInteger(ix)) return ix;
  if (isNil(ix)) throw new Error('cannot index slice/array with nil');
  throw new Error(`cannot index slice/array with type ${typeName(ix)}`);
}

function slice(item: unknown, ...indexes: unknown[]): unknown {
  if (isNil(item)) throw new Error('slice of untyped nil');
  if (indexes.length > 3) throw new Error(`too many slice indexes: ${indexes.length}`);
  if (typeof item === 'string') {
    if (indexes.length === 3) throw new Error('cannot 3-index slice a string');
    const bytes = Buffer.from(item);
    const [lo, hi] = sliceBounds(indexes, bytes.length);
    return bytes.subarray(lo, hi).toString();
  }
  if (!Array.isArray(item)) throw new Error(`can't slice item of type ${typeName(item)}`);
  const [lo, hi] = sliceBounds(indexes, item.length);
  return item.slice(lo, hi);
}

function sliceBounds(indexes: unknown[], len: number): [number, number] {
  const ix = indexes.map(intIndex);
  const lo = ix[0] ?? 0;
  const hi = ix[1] ?? len;
  for (const i of ix) if (i < 0 || i > len) throw new Error(`index out of range: ${i}`);
  if (lo > hi) throw new Error(`invalid slice index: ${lo} > ${hi}`);
  if (ix[2] !== undefined && hi > ix[2]) throw new Error(`invalid slice index: ${hi} > ${ix[2]}`);
  return [lo, hi];
}

function length(v: unknown): bigint {
  if (typeof v === 'string') return BigInt(Buffer.byteLength(v));
  if (Array.isArray(v)) return BigInt(v.length);
  if (isMap(v)) return BigInt(Object.keys(v).length);
  if (isNil(v)) throw new Error('len of nil pointer');
  throw new Error(`len of type ${typeName(v)}`);
}

/** The text Go's html, js and urlquery escape: one string as is, anything else through Sprint. */
const evalArgs = (args: unknown[]): string => (args.length === 1 && typeof args[0] === 'string' ? args[0] : sprint(args));

function htmlEscape(s: string): string {
  return s.replace(/[&'<>"\0]/g, (c) => ({ '&': '&amp;', "'": '&#39;', '<': '&lt;', '>': '&gt;', '"': '&#34;', '\0': '\uFFFD' })[c]!);
}

function jsEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '\\' || ch === "'" || ch === '"') out += `\\${ch}`;
    else if (ch === '<' || ch === '>' || ch === '&' || ch === '=' || cp < 0x20) out += `\\u${cp.toString(16).toUpperCase().padStart(4, '0')}`;
    else if (cp >= 0x80 && !/[\p{L}\p{M}\p{N}\p{P}\p{S}]/u.test(ch)) out += `\\u${cp.toString(16).toUpperCase().padStart(4, '0')}`;
    else out += ch;
  }
  return out;
}

/** url.QueryEscape. */
function queryEscape(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s)) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function call(fn: unknown, ...args: unknown[]): unknown {
  if (isNil(fn)) throw new Error('call of nil');
  if (typeof fn !== 'function') throw new Error(`non-function of type ${typeName(fn)}`);
  return (fn as (...a: unknown[]) => unknown)(...args);
}

export const BUILTINS: FuncTable = {
  // and/or short-circuit: the executor evaluates their arguments itself.
  and: variadic(1, () => undefined),
  or: variadic(1, () => undefined),
  not: fixed((v: unknown) => !truth(v)),
  len: fixed(length),
  index: variadic(1, index),
  slice: variadic(1, slice),
  print: variadic(0, (...a: unknown[]) => sprint(a)),
  printf: variadic(1, (format: unknown, ...a: unknown[]) => sprintf(typeof format === 'string' ? format : sprint([format]), a)),
  println: variadic(0, (...a: unknown[]) => sprintln(a)),
  html: variadic(0, (...a: unknown[]) => htmlEscape(evalArgs(a))),
  js: variadic(0, (...a: unknown[]) => jsEscape(evalArgs(a))),
  urlquery: variadic(0, (...a: unknown[]) => queryEscape(evalArgs(a))),
  eq: variadic(1, eq),
  ne: fixed((a: unknown, b: unknown) => !eq(a, b)),
  lt: fixed(lessThan),
  le: fixed((a: unknown, b: unknown) => lessThan(a, b) || eq(a, b)),
  gt: fixed((a: unknown, b: unknown) => !lessThan(a, b) && !eq(a, b)),
  ge: fixed((a: unknown, b: unknown) => !lessThan(a, b)),
  call: variadic(1, call),
};
