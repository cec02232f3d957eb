/** Sprig's functions (github.com/Masterminds/sprig v3) in Helm's selection, on Go-like values. */
import { createHash, randomBytes, randomInt, randomUUID } from 'node:crypto';
import { posix } from 'node:path';
import { BUILTINS } from './builtins.js';
import { formatDuration, formatTime, toTime } from './dates.js';
import { fixed, ranged, variadic, type FuncTable } from './define.js';
import { Failure } from './error.js';
import { goJson, fromJson } from './encoding.js';
import { formatValue, goQuote } from './fmt.js';
import * as re from './regex.js';
import { SemverVersion, semverCompare } from './semver.js';
import { deepCopy, deepEqual, isEmpty, isMap, isNil, kindOf, sortedKeys, toFloat64, toInt64, typeName, type GoMap } from './values.js';

/** Sprig's strval: strings as they are, everything else as %v. */
export function strval(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString();
  if (v instanceof Error) return v.message;
  return formatValue(v);
}

/** A string parameter; nil reads as "" (Go would refuse it). */
const str = (v: unknown): string => (isNil(v) ? '' : strval(v));
const int = (v: unknown): number => Number(toInt64(v));

function list(v: unknown, fn: string): unknown[] {
  if (Array.isArray(v)) return v;
  throw new Error(`Cannot ${fn} on type ${isNil(v) ? '<nil>' : kindOf(v)}`);
}

function dict(v: unknown): GoMap {
  if (isMap(v)) return v;
  if (isNil(v)) return {};
  throw new Error(`expected a map, got ${typeName(v)}`);
}

/** Sprig's strslice: lists become strings element by element (nils dropped), anything else one string. */
function strslice(v: unknown): string[] {
  if (Array.isArray(v)) return v.filter((x) => !isNil(x)).map(strval);
  if (isNil(v)) return [];
  return [strval(v)];
}

const byteSlice = (s: string, from: number, to?: number): string => Buffer.from(s).subarray(from, to).toString();
const byteLen = (s: string): number => Buffer.byteLength(s);

function trunc(c: number, s: string): string {
  const len = byteLen(s);
  if (c < 0 && len + c > 0) return byteSlice(s, len + c);
  if (c >= 0 && len > c) return byteSlice(s, 0, c);
  return s;
}

function substr(start: number, end: number, s: string): string {
  const len = byteLen(s);
  if (start < 0) return byteSlice(s, 0, end);
  if (end < 0 || end > len) return byteSlice(s, start);
  return byteSlice(s, start, end);
}

const title = (s: string): string => s.replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, sep: string, c: string) => sep + c.toUpperCase());
const untitle = (s: string): string => s.replace(/(^|\s)(\S)/gu, (_m, sep: string, c: string) => sep + c.toLowerCase());

function words(s: string): string[] {
  return s
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean);
}

function wrap(width: number, s: string, sep = '\n'): string {
  const lines = s.split('\n').map((line) => {
    const out: string[] = [];
    let cur = '';
    for (const word of line.split(' ')) {
      if (cur && cur.length + 1 + word.length > width) {
        out.push(cur);
        cur = word;
      } else cur = cur ? `${cur} ${word}` : word;
    }
    out.push(cur);
    return out.join(sep);
  });
  return lines.join('\n');
}

function abbrev(width: number, s: string): string {
  if (width < 4) return '';
  return s.length <= width ? s : `${s.slice(0, width - 3)}...`;
}

function abbrevboth(left: number, right: number, s: string): string {
  if (right < 4 || (left > 0 && right < 7)) return '';
  if (s.length <= right) return s;
  let offset = Math.min(Math.max(left, 0), s.length);
  if (s.length - offset < right - 3) offset = s.length - (right - 3);
  if (offset <= 4) return `${s.slice(0, right - 3)}...`;
  if (offset + right - 3 < s.length) return `...${abbrev(right - 3, s.slice(offset))}`;
  return `...${s.slice(s.length - (right - 3))}`;
}

const ALPHA = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const DIGITS = '0123456789';
function random(chars: string, n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += chars[randomInt(chars.length)];
  return out;
}

function seq(...params: unknown[]): string {
  const p = params.map(int);
  let [start, step, end] = [1, 1, 0];
  if (p.length === 1) end = p[0]!;
  else if (p.length === 2) [start, end] = [p[0]!, p[1]!];
  else if (p.length === 3) [start, step, end] = [p[0]!, p[1]!, p[2]!];
  else return '';
  if (p.length < 3 && start > end) step = -1;
  if (step === 0 || (step > 0 && start > end) || (step < 0 && start < end)) return '';
  const out: number[] = [];
  for (let i = start; step > 0 ? i <= end : i >= end; i += step) out.push(i);
  return out.join(' ');
}

function untilStep(start: number, stop: number, step: number): bigint[] {
  const out: bigint[] = [];
  if (step === 0 || (step > 0 && start >= stop) || (step < 0 && start <= stop)) return out;
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(BigInt(i));
  return out;
}

function split(sep: string, s: string, n = -1): GoMap {
  const parts = s.split(sep);
  const pieces = n > 0 && parts.length > n ? [...parts.slice(0, n - 1), parts.slice(n - 1).join(sep)] : parts;
  const out: GoMap = {};
  pieces.forEach((p, i) => (out[`_${i}`] = p));
  return out;
}

function uniq(v: unknown): unknown[] {
  const out: unknown[] = [];
  for (const x of list(v, 'uniq')) if (!out.some((y) => deepEqual(x, y))) out.push(x);
  return out;
}

function sliceList(v: unknown, ...ix: unknown[]): unknown {
  if (typeof v === 'string') return BUILTINS.slice!.call([v, ...ix], undefined as never);
  const l = list(v, 'slice');
  const [a, b] = ix.map(int);
  return l.slice(a ?? 0, b ?? l.length);
}

function chunk(size: number, v: unknown): unknown[][] {
  const l = list(v, 'chunk');
  const out: unknown[][] = [];
  for (let i = 0; i < l.length; i += size) out.push(l.slice(i, i + size));
  return out;
}

function dictOf(...kv: unknown[]): GoMap {
  const out: GoMap = {};
  for (let i = 0; i < kv.length; i += 2) out[strval(kv[i])] = i + 1 < kv.length ? kv[i + 1] : '';
  return out;
}

function dig(...args: unknown[]): unknown {
  const [def, m] = [args[args.length - 2], args[args.length - 1]];
  let cur: unknown = m;
  for (const k of args.slice(0, -2)) {
    if (!isMap(cur) || !Object.hasOwn(cur, str(k))) return def;
    cur = cur[str(k)];
  }
  return cur;
}

/** mergo.Merge as Sprig uses it: nested maps merge; a key is filled from src when missing or empty in dst (overwrite: always). */
function mergeInto(dst: GoMap, src: GoMap, overwrite: boolean): void {
  for (const [k, s] of Object.entries(src)) {
    const d = dst[k];
    if (isMap(d) && isMap(s) && !isEmpty(d)) {
      mergeInto(d, s, overwrite);
      continue;
    }
    if (overwrite || !Object.hasOwn(dst, k) || isEmpty(d)) dst[k] = s;
  }
}

function merge(overwrite: boolean): (dst: unknown, ...srcs: unknown[]) => GoMap {
  return (dst, ...srcs) => {
    const d = dict(dst);
    for (const s of srcs) mergeInto(d, dict(s), overwrite);
    return d;
  };
}

function floatResult(x: number): number {
  return Number(x.toPrecision(15));
}

function round(a: unknown, p: unknown, roundOn: unknown = 0.5): number {
  const pow = 10 ** int(p);
  const digit = toFloat64(a) * pow;
  const frac = digit - Math.trunc(digit);
  return (frac >= toFloat64(roundOn) ? Math.ceil(digit) : Math.floor(digit)) / pow;
}

function intDivision(name: string, f: (a: bigint, b: bigint) => bigint): (a: unknown, b: unknown) => bigint {
  return (a, b) => {
    const d = toInt64(b);
    if (d === 0n) throw new Error(`runtime error: integer divide by zero in ${name}`);
    return BigInt.asIntN(64, f(toInt64(a), d));
  };
}

const maxOf = (...v: unknown[]): bigint => v.map(toInt64).reduce((a, b) => (b > a ? b : a));
const minOf = (...v: unknown[]): bigint => v.map(toInt64).reduce((a, b) => (b < a ? b : a));

function adler32(s: string): string {
  let a = 1;
  let b = 0;
  for (const byte of Buffer.from(s)) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return String(((b << 16) | a) >>> 0);
}

const hash = (alg: string) => (s: unknown): string => createHash(alg).update(str(s)).digest('hex');

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
function b32enc(s: string): string {
  let bits = '';
  for (const byte of Buffer.from(s)) bits += byte.toString(2).padStart(8, '0');
  let out = '';
  for (let i = 0; i < bits.length; i += 5) out += BASE32[parseInt(bits.slice(i, i + 5).padEnd(5, '0'), 2)];
  return out.padEnd(Math.ceil(out.length / 8) * 8, '=');
}
function b32dec(s: string): string {
  const body = s.replace(/=+$/, '');
  if (!/^[A-Z2-7]*$/.test(body)) return 'illegal base32 data at input byte 0';
  let bits = '';
  for (const c of body) bits += BASE32.indexOf(c).toString(2).padStart(5, '0');
  const bytes: number[] = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes).toString();
}
function b64dec(s: string): string {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) return 'illegal base64 data at input byte 0';
  return Buffer.from(s, 'base64').toString();
}

function urlParse(s: string): GoMap {
  const m = /^(?:([A-Za-z][A-Za-z0-9+.-]*):)?(?:\/\/(?:([^@/?#]*)@)?([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/.exec(s);
  if (!m) throw new Error(`unable to parse url: ${s}`);
  const host = m[3] ?? '';
  return {
    scheme: m[1] ?? '',
    host,
    hostname: host.replace(/:\d*$/, '').replace(/^\[(.*)\]$/, '$1'),
    path: decodeURIComponent(m[4] ?? ''),
    query: m[5] ?? '',
    opaque: '',
    fragment: m[6] ?? '',
    userinfo: m[2] ?? '',
  };
}

function urlJoin(d: unknown): string {
  const m = dict(d);
  const s = (k: string): string => str(m[k]);
  let out = s('scheme') ? `${s('scheme')}:` : '';
  if (s('host') || s('userinfo')) out += `//${s('userinfo') ? `${s('userinfo')}@` : ''}${s('host')}`;
  out += s('opaque') || s('path');
  if (s('query')) out += `?${s('query')}`;
  if (s('fragment')) out += `#${s('fragment')}`;
  return out;
}

function typeIsLike(target: string, v: unknown): boolean {
  const t = typeName(v);
  return target === t || `*${target}` === t;
}

/** The Sprig functions Helm offers (env, expandenv and getHostByName are left out, as Helm does for the first two). */
export const SPRIG: FuncTable = {
  // strings
  abbrev: fixed((w: unknown, s: unknown) => abbrev(int(w), str(s))),
  abbrevboth: fixed((l: unknown, r: unknown, s: unknown) => abbrevboth(int(l), int(r), str(s))),
  trunc: fixed((c: unknown, s: unknown) => trunc(int(c), str(s))),
  trim: fixed((s: unknown) => str(s).trim()),
  upper: fixed((s: unknown) => str(s).toUpperCase()),
  lower: fixed((s: unknown) => str(s).toLowerCase()),
  title: fixed((s: unknown) => title(str(s))),
  untitle: fixed((s: unknown) => untitle(str(s))),
  substr: fixed((a: unknown, b: unknown, s: unknown) => substr(int(a), int(b), str(s))),
  repeat: fixed((n: unknown, s: unknown) => str(s).repeat(Math.max(int(n), 0))),
  trimAll: fixed((cut: unknown, s: unknown) => trimCutset(str(s), str(cut))),
  trimall: fixed((cut: unknown, s: unknown) => trimCutset(str(s), str(cut))),
  trimSuffix: fixed((suf: unknown, s: unknown) => (str(s).endsWith(str(suf)) && str(suf) ? str(s).slice(0, -str(suf).length) : str(s))),
  trimPrefix: fixed((pre: unknown, s: unknown) => (str(s).startsWith(str(pre)) ? str(s).slice(str(pre).length) : str(s))),
  nospace: fixed((s: unknown) => str(s).replace(/\s/gu, '')),
  initials: fixed((s: unknown) => str(s).split(/\s+/).filter(Boolean).map((w) => [...w][0]).join('')),
  randAlphaNum: fixed((n: unknown) => random(ALPHA + DIGITS, int(n))),
  randAlpha: fixed((n: unknown) => random(ALPHA, int(n))),
  randNumeric: fixed((n: unknown) => random(DIGITS, int(n))),
  randAscii: fixed((n: unknown) => random(Array.from({ length: 94 }, (_x, i) => String.fromCharCode(33 + i)).join(''), int(n))),
  swapcase: fixed((s: unknown) => [...str(s)].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join('')),
  shuffle: fixed((s: unknown) => [...str(s)].sort(() => randomInt(3) - 1).join('')),
  snakecase: fixed((s: unknown) => words(str(s)).map((w) => w.toLowerCase()).join('_')),
  kebabcase: fixed((s: unknown) => words(str(s)).map((w) => w.toLowerCase()).join('-')),
  camelcase: fixed((s: unknown) => str(s).split('_').map((w) => (w ? w[0]!.toUpperCase() + w.slice(1) : '')).join('')),
  wrap: fixed((w: unknown, s: unknown) => wrap(int(w), str(s))),
  wrapWith: fixed((w: unknown, sep: unknown, s: unknown) => wrap(int(w), str(s), str(sep))),
  contains: fixed((sub: unknown, s: unknown) => str(s).includes(str(sub))),
  hasPrefix: fixed((pre: unknown, s: unknown) => str(s).startsWith(str(pre))),
  hasSuffix: fixed((suf: unknown, s: unknown) => str(s).endsWith(str(suf))),
  quote: variadic(0, (...v: unknown[]) => v.filter((x) => !isNil(x)).map((x) => goQuote(strval(x))).join(' ')),
  squote: variadic(0, (...v: unknown[]) => v.filter((x) => !isNil(x)).map((x) => `'${strval(x)}'`).join(' ')),
  cat: variadic(0, (...v: unknown[]) => v.filter((x) => !isNil(x)).map(strval).join(' ')),
  indent: fixed((n: unknown, s: unknown) => indent(int(n), str(s))),
  nindent: fixed((n: unknown, s: unknown) => `\n${indent(int(n), str(s))}`),
  replace: fixed((o: unknown, n: unknown, s: unknown) => str(s).replaceAll(str(o), str(n))),
  plural: fixed((one: unknown, many: unknown, n: unknown) => (int(n) === 1 ? str(one) : str(many))),
  sha1sum: fixed(hash('sha1')),
  sha256sum: fixed(hash('sha256')),
  sha512sum: fixed(hash('sha512')),
  adler32sum: fixed((s: unknown) => adler32(str(s))),
  toString: fixed(strval),
  toStrings: fixed(strslice),
  atoi: fixed((s: unknown) => (/^[+-]?\d+$/.test(str(s)) ? BigInt.asIntN(64, BigInt(str(s))) : 0n)),
  int64: fixed(toInt64),
  int: fixed(toInt64),
  float64: fixed(toFloat64),
  seq: variadic(0, seq),
  toDecimal: fixed((v: unknown) => (/^[0-7]+$/.test(str(v)) ? BigInt(`0o${str(v)}`) : 0n)),
  split: fixed((sep: unknown, s: unknown) => split(str(sep), str(s))),
  splitList: fixed((sep: unknown, s: unknown) => str(s).split(str(sep))),
  splitn: fixed((sep: unknown, n: unknown, s: unknown) => split(str(sep), str(s), int(n))),
  join: fixed((sep: unknown, v: unknown) => strslice(v).join(str(sep))),
  sortAlpha: fixed((v: unknown) => strslice(v).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))),

  // integer and float math
  until: fixed((n: unknown) => untilStep(0, int(n), int(n) >= 0 ? 1 : -1)),
  untilStep: fixed((a: unknown, b: unknown, s: unknown) => untilStep(int(a), int(b), int(s))),
  add1: fixed((a: unknown) => BigInt.asIntN(64, toInt64(a) + 1n)),
  add: variadic(0, (...v: unknown[]) => BigInt.asIntN(64, v.map(toInt64).reduce((a, b) => a + b, 0n))),
  sub: fixed((a: unknown, b: unknown) => BigInt.asIntN(64, toInt64(a) - toInt64(b))),
  mul: variadic(1, (...v: unknown[]) => BigInt.asIntN(64, v.map(toInt64).reduce((a, b) => a * b, 1n))),
  div: fixed(intDivision('div', (a, b) => a / b)),
  mod: fixed(intDivision('mod', (a, b) => a % b)),
  max: variadic(1, maxOf),
  biggest: variadic(1, maxOf),
  min: variadic(1, minOf),
  randInt: fixed((lo: unknown, hi: unknown) => BigInt(randomInt(int(lo), int(hi)))),
  add1f: fixed((a: unknown) => floatResult(toFloat64(a) + 1)),
  addf: variadic(0, (...v: unknown[]) => floatResult(v.map(toFloat64).reduce((a, b) => a + b, 0))),
  subf: variadic(1, (a: unknown, ...v: unknown[]) => floatResult(v.map(toFloat64).reduce((x, y) => x - y, toFloat64(a)))),
  mulf: variadic(1, (...v: unknown[]) => floatResult(v.map(toFloat64).reduce((a, b) => a * b, 1))),
  divf: variadic(1, (a: unknown, ...v: unknown[]) => floatResult(v.map(toFloat64).reduce((x, y) => x / y, toFloat64(a)))),
  maxf: variadic(1, (...v: unknown[]) => Math.max(...v.map(toFloat64))),
  minf: variadic(1, (...v: unknown[]) => Math.min(...v.map(toFloat64))),
  ceil: fixed((a: unknown) => Math.ceil(toFloat64(a))),
  floor: fixed((a: unknown) => Math.floor(toFloat64(a))),
  round: ranged(2, 3, round),

  // defaults and types
  default: variadic(1, (d: unknown, ...given: unknown[]) => (given.length === 0 || isEmpty(given[0]) ? d : given[0])),
  empty: fixed(isEmpty),
  coalesce: variadic(0, (...v: unknown[]) => v.find((x) => !isEmpty(x)) ?? null),
  all: variadic(0, (...v: unknown[]) => v.every((x) => !isEmpty(x))),
  any: variadic(0, (...v: unknown[]) => v.some((x) => !isEmpty(x))),
  compact: fixed((v: unknown) => list(v, 'compact').filter((x) => !isEmpty(x))),
  mustCompact: fixed((v: unknown) => list(v, 'compact').filter((x) => !isEmpty(x))),
  ternary: fixed((t: unknown, f: unknown, cond: unknown) => (cond === true ? t : cond === false ? f : isEmpty(cond) ? f : t)),
  fromJson: fixed((s: unknown) => fromJson(str(s))),
  toJson: fixed((v: unknown) => jsonOrEmpty(v, {})),
  toPrettyJson: fixed((v: unknown) => jsonOrEmpty(v, { indent: true })),
  toRawJson: fixed((v: unknown) => jsonOrEmpty(v, { raw: true })),
  mustFromJson: fixed((s: unknown) => mustFromJson(str(s))),
  mustToJson: fixed((v: unknown) => goJson(v)),
  mustToPrettyJson: fixed((v: unknown) => goJson(v, { indent: true })),
  mustToRawJson: fixed((v: unknown) => goJson(v, { raw: true })),
  deepCopy: fixed(deepCopy),
  mustDeepCopy: fixed(deepCopy),
  typeOf: fixed(typeName),
  typeIs: fixed((t: unknown, v: unknown) => str(t) === typeName(v)),
  typeIsLike: fixed((t: unknown, v: unknown) => typeIsLike(str(t), v)),
  kindOf: fixed(kindOf),
  kindIs: fixed((k: unknown, v: unknown) => str(k) === kindOf(v)),
  deepEqual: fixed(deepEqual),

  // paths
  base: fixed((p: unknown) => goBase(str(p))),
  dir: fixed((p: unknown) => goDir(str(p))),
  clean: fixed((p: unknown) => goClean(str(p))),
  ext: fixed((p: unknown) => goExt(str(p))),
  isAbs: fixed((p: unknown) => str(p).startsWith('/')),
  osBase: fixed((p: unknown) => goBase(str(p))),
  osDir: fixed((p: unknown) => goDir(str(p))),
  osClean: fixed((p: unknown) => goClean(str(p))),
  osExt: fixed((p: unknown) => goExt(str(p))),
  osIsAbs: fixed((p: unknown) => str(p).startsWith('/')),

  // encodings
  b64enc: fixed((s: unknown) => Buffer.from(str(s)).toString('base64')),
  b64dec: fixed((s: unknown) => b64dec(str(s))),
  b32enc: fixed((s: unknown) => b32enc(str(s))),
  b32dec: fixed((s: unknown) => b32dec(str(s))),

  // lists
  list: variadic(0, (...v: unknown[]) => v),
  tuple: variadic(0, (...v: unknown[]) => v),
  append: fixed((l: unknown, v: unknown) => [...list(l, 'append'), v]),
  push: fixed((l: unknown, v: unknown) => [...list(l, 'push'), v]),
  mustAppend: fixed((l: unknown, v: unknown) => [...list(l, 'append'), v]),
  mustPush: fixed((l: unknown, v: unknown) => [...list(l, 'push'), v]),
  prepend: fixed((l: unknown, v: unknown) => [v, ...list(l, 'prepend')]),
  mustPrepend: fixed((l: unknown, v: unknown) => [v, ...list(l, 'prepend')]),
  first: fixed((l: unknown) => list(l, 'find first').at(0) ?? null),
  mustFirst: fixed((l: unknown) => list(l, 'find first').at(0) ?? null),
  rest: fixed((l: unknown) => list(l, 'find rest').slice(1)),
  mustRest: fixed((l: unknown) => list(l, 'find rest').slice(1)),
  last: fixed((l: unknown) => list(l, 'find last').at(-1) ?? null),
  mustLast: fixed((l: unknown) => list(l, 'find last').at(-1) ?? null),
  initial: fixed((l: unknown) => list(l, 'find initial').slice(0, -1)),
  mustInitial: fixed((l: unknown) => list(l, 'find initial').slice(0, -1)),
  reverse: fixed((l: unknown) => [...list(l, 'find reverse')].reverse()),
  mustReverse: fixed((l: unknown) => [...list(l, 'find reverse')].reverse()),
  uniq: fixed(uniq),
  mustUniq: fixed(uniq),
  without: variadic(1, (l: unknown, ...omit: unknown[]) => list(l, 'find without').filter((x) => !omit.some((o) => deepEqual(x, o)))),
  mustWithout: variadic(1, (l: unknown, ...omit: unknown[]) => list(l, 'find without').filter((x) => !omit.some((o) => deepEqual(x, o)))),
  has: fixed((needle: unknown, l: unknown) => (isNil(l) ? false : list(l, 'find has').some((x) => deepEqual(x, needle)))),
  mustHas: fixed((needle: unknown, l: unknown) => (isNil(l) ? false : list(l, 'find has').some((x) => deepEqual(x, needle)))),
  slice: variadic(1, sliceList),
  mustSlice: variadic(1, sliceList),
  concat: variadic(0, (...ls: unknown[]) => ls.flatMap((l) => list(l, 'concat'))),
  chunk: fixed((n: unknown, l: unknown) => chunk(int(n), l)),
  mustChunk: fixed((n: unknown, l: unknown) => chunk(int(n), l)),

  // dicts
  dict: variadic(0, dictOf),
  get: fixed((d: unknown, k: unknown) => (Object.hasOwn(dict(d), str(k)) ? dict(d)[str(k)] : '')),
  set: fixed((d: unknown, k: unknown, v: unknown) => {
    const m = dict(d);
    m[str(k)] = v;
    return m;
  }),
  unset: fixed((d: unknown, k: unknown) => {
    const m = dict(d);
    delete m[str(k)];
    return m;
  }),
  hasKey: fixed((d: unknown, k: unknown) => Object.hasOwn(dict(d), str(k))),
  pluck: variadic(1, (k: unknown, ...ds: unknown[]) => ds.map(dict).filter((d) => Object.hasOwn(d, str(k))).map((d) => d[str(k)])),
  keys: variadic(0, (...ds: unknown[]) => ds.flatMap((d) => Object.keys(dict(d)))),
  values: fixed((d: unknown) => sortedKeys(dict(d)).map((k) => dict(d)[k])),
  pick: variadic(1, (d: unknown, ...ks: unknown[]) => {
    const m = dict(d);
    const out: GoMap = {};
    for (const k of ks.map(str)) if (Object.hasOwn(m, k)) out[k] = m[k];
    return out;
  }),
  omit: variadic(1, (d: unknown, ...ks: unknown[]) => {
    const skip = new Set(ks.map(str));
    return Object.fromEntries(Object.entries(dict(d)).filter(([k]) => !skip.has(k)));
  }),
  merge: variadic(1, merge(false)),
  mustMerge: variadic(1, merge(false)),
  mergeOverwrite: variadic(1, merge(true)),
  mustMergeOverwrite: variadic(1, merge(true)),
  dig: variadic(3, dig),

  // regular expressions
  regexMatch: fixed((r: unknown, s: unknown) => re.regexMatch(str(r), str(s))),
  mustRegexMatch: fixed((r: unknown, s: unknown) => re.regexMatch(str(r), str(s))),
  regexFind: fixed((r: unknown, s: unknown) => re.regexFind(str(r), str(s))),
  mustRegexFind: fixed((r: unknown, s: unknown) => re.regexFind(str(r), str(s))),
  regexFindAll: fixed((r: unknown, s: unknown, n: unknown) => re.regexFindAll(str(r), str(s), int(n))),
  mustRegexFindAll: fixed((r: unknown, s: unknown, n: unknown) => re.regexFindAll(str(r), str(s), int(n))),
  regexReplaceAll: fixed((r: unknown, s: unknown, repl: unknown) => re.regexReplaceAll(str(r), str(s), str(repl))),
  mustRegexReplaceAll: fixed((r: unknown, s: unknown, repl: unknown) => re.regexReplaceAll(str(r), str(s), str(repl))),
  regexReplaceAllLiteral: fixed((r: unknown, s: unknown, repl: unknown) => re.regexReplaceAllLiteral(str(r), str(s), str(repl))),
  mustRegexReplaceAllLiteral: fixed((r: unknown, s: unknown, repl: unknown) => re.regexReplaceAllLiteral(str(r), str(s), str(repl))),
  regexSplit: fixed((r: unknown, s: unknown, n: unknown) => re.regexSplit(str(r), str(s), int(n))),
  mustRegexSplit: fixed((r: unknown, s: unknown, n: unknown) => re.regexSplit(str(r), str(s), int(n))),
  regexQuoteMeta: fixed((s: unknown) => re.regexQuoteMeta(str(s))),

  // versions
  semver: fixed((s: unknown) => new SemverVersion(str(s))),
  semverCompare: fixed((c: unknown, v: unknown) => semverCompare(str(c), str(v))),

  // dates
  now: fixed(() => new Date()),
  date: fixed((f: unknown, d: unknown) => formatTime(str(f), toTime(d), 'Local')),
  dateInZone: fixed((f: unknown, d: unknown, z: unknown) => formatTime(str(f), toTime(d), str(z))),
  date_in_zone: fixed((f: unknown, d: unknown, z: unknown) => formatTime(str(f), toTime(d), str(z))),
  htmlDate: fixed((d: unknown) => formatTime('2006-01-02', toTime(d), 'Local')),
  htmlDateInZone: fixed((d: unknown, z: unknown) => formatTime('2006-01-02', toTime(d), str(z))),
  unixEpoch: fixed((d: unknown) => BigInt(Math.floor(toTime(d).getTime() / 1000))),
  duration: fixed((s: unknown) => formatDuration(Number(toInt64(s)))),
  ago: fixed((d: unknown) => formatDuration(Math.round((Date.now() - toTime(d).getTime()) / 1000))),

  // misc
  uuidv4: fixed(() => randomUUID()),
  randBytes: fixed((n: unknown) => randomBytes(int(n)).toString('base64')),
  urlParse: fixed((s: unknown) => urlParse(str(s))),
  urlJoin: fixed(urlJoin),
  fail: fixed((msg: unknown) => {
    throw new Failure(str(msg));
  }),
};

function indent(n: number, s: string): string {
  const pad = ' '.repeat(Math.max(n, 0));
  return pad + s.replaceAll('\n', `\n${pad}`);
}

function trimCutset(s: string, cutset: string): string {
  const chars = new Set(cutset);
  const a = [...s];
  let i = 0;
  let j = a.length;
  while (i < j && chars.has(a[i]!)) i++;
  while (j > i && chars.has(a[j - 1]!)) j--;
  return a.slice(i, j).join('');
}

function jsonOrEmpty(v: unknown, options: { indent?: boolean; raw?: boolean }): string {
  try {
    return goJson(v, options);
  } catch {
    return '';
  }
}

function mustFromJson(s: string): unknown {
  try {
    return JSON.parse(s) as unknown;
  } catch (err) {
    throw new Error((err as Error).message);
  }
}

function goClean(p: string): string {
  if (p === '') return '.';
  const c = posix.normalize(p);
  return c.length > 1 ? c.replace(/\/$/, '') : c;
}
function goBase(p: string): string {
  if (p === '') return '.';
  const t = p.replace(/\/+$/, '');
  if (t === '') return '/';
  return t.slice(t.lastIndexOf('/') + 1);
}
function goDir(p: string): string {
  const i = p.lastIndexOf('/');
  return goClean(p.slice(0, i + 1));
}
function goExt(p: string): string {
  for (let i = p.length - 1; i >= 0 && p[i] !== '/'; i--) if (p[i] === '.') return p.slice(i);
  return '';
}
