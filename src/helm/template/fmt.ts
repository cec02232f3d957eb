/** The parts of Go's fmt and strconv that templates print through: %v, Sprint, Sprintf, Quote. */
import { isMap, isNil, sortedKeys, typeName } from './values.js';

const PRINTABLE = /[\p{L}\p{M}\p{N}\p{P}\p{S} ]/u;

/** strconv.Quote: Go-syntax double-quoted string. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    out += quoteChar(ch, '"');
  }
  return `${out}"`;
}

function quoteChar(ch: string, quote: string): string {
  const cp = ch.codePointAt(0)!;
  if (ch === quote || ch === '\\') return `\\${ch}`;
  if (cp >= 0xd800 && cp <= 0xdfff) return '\\ufffd';
  if (PRINTABLE.test(ch)) return ch;
  switch (ch) {
    case '\x07':
      return '\\a';
    case '\b':
      return '\\b';
    case '\f':
      return '\\f';
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\t':
      return '\\t';
    case '\v':
      return '\\v';
  }
  if (cp < 0x80) return `\\x${cp.toString(16).padStart(2, '0')}`;
  if (cp < 0x10000) return `\\u${cp.toString(16).padStart(4, '0')}`;
  return `\\U${cp.toString(16).padStart(8, '0')}`;
}

/** Decimal digits and exponent of a float, as strconv produces before choosing a layout. */
function decompose(f: number, significant?: number): { digits: string; exp: number } {
  const e = significant === undefined ? Math.abs(f).toExponential() : Math.abs(f).toExponential(Math.max(significant - 1, 0));
  const [mant, ex] = e.split('e') as [string, string];
  const digits = mant.replace('.', '').replace(/0+$/, '') || '0';
  return { digits, exp: Number(ex) };
}

function expSuffix(exp: number, e: string): string {
  const sign = exp < 0 ? '-' : '+';
  return `${e}${sign}${String(Math.abs(exp)).padStart(2, '0')}`;
}

function layoutE(digits: string, exp: number, fracDigits: number, e: string): string {
  const d = digits.padEnd(fracDigits + 1, '0').slice(0, fracDigits + 1);
  return (fracDigits > 0 ? `${d[0]}.${d.slice(1)}` : d[0]!) + expSuffix(exp, e);
}

function layoutF(digits: string, exp: number): string {
  if (exp < 0) return `0.${'0'.repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return digits + '0'.repeat(exp + 1 - digits.length);
  return `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

/** strconv.FormatFloat(f, fmt, prec, 64) for fmt in e, E, f, g, G; %v uses the shortest g, which switches to an exponent from 1e6 on and below 1e-4 (1e+06). */
export function formatFloat(f: number, fmt: 'e' | 'E' | 'f' | 'g' | 'G', prec = -1): string {
  if (Number.isNaN(f)) return 'NaN';
  if (!Number.isFinite(f)) return f > 0 ? '+Inf' : '-Inf';
  const neg = f < 0 || Object.is(f, -0) ? '-' : '';
  const a = Math.abs(f);
  switch (fmt) {
    case 'e':
    case 'E': {
      if (prec < 0) {
        const { digits, exp } = decompose(a);
        return neg + layoutE(digits, exp, digits.length - 1, fmt);
      }
      const { digits, exp } = decompose(a, prec + 1);
      return neg + layoutE(digits, exp, prec, fmt);
    }
    case 'f':
      if (prec < 0) {
        const { digits, exp } = decompose(a);
        return neg + layoutF(digits, exp);
      }
      return neg + (a < 1e21 ? a.toFixed(prec) : layoutF(decompose(a).digits, decompose(a).exp) + (prec > 0 ? `.${'0'.repeat(prec)}` : ''));
    case 'g':
    case 'G': {
      const shortest = prec < 0;
      const { digits, exp } = shortest ? decompose(a) : decompose(a, prec === 0 ? 1 : prec);
      let eprec = shortest ? 6 : prec === 0 ? 1 : prec;
      if (!shortest && eprec > digits.length && digits.length >= exp + 1) eprec = digits.length;
      if (exp < -4 || exp >= eprec) {
        return neg + layoutE(digits, exp, digits.length - 1, fmt === 'g' ? 'e' : 'E');
      }
      return neg + layoutF(digits, exp);
    }
  }
}

/** fmt's %v: what `{{ . }}`, print and toString show. */
export function formatValue(v: unknown): string {
  return formatVerb(v, { verb: 'v', flags: '', width: undefined, precision: undefined }, 0);
}

interface Spec {
  verb: string;
  flags: string;
  width: number | undefined;
  precision: number | undefined;
}

function badVerb(v: unknown, spec: Spec): string {
  if (isNil(v)) return `%!${spec.verb}(<nil>)`;
  return `%!${spec.verb}(${typeName(v)}=${formatValue(v)})`;
}

function pad(s: string, spec: Spec, numeric: boolean): string {
  const width = spec.width;
  if (width === undefined || [...s].length >= width) return s;
  const fill = width - [...s].length;
  if (spec.flags.includes('-')) return s + ' '.repeat(fill);
  if (numeric && spec.flags.includes('0')) {
    const sign = /^[+\- ]/.test(s) ? s[0]! : '';
    return sign + '0'.repeat(fill) + s.slice(sign.length);
  }
  return ' '.repeat(fill) + s;
}

function signed(s: string, negative: boolean, spec: Spec): string {
  if (negative) return `-${s}`;
  if (spec.flags.includes('+')) return `+${s}`;
  if (spec.flags.includes(' ')) return ` ${s}`;
  return s;
}

function formatInt(n: bigint, spec: Spec): string | undefined {
  const neg = n < 0n;
  const a = neg ? -n : n;
  const sharp = spec.flags.includes('#');
  let s: string;
  switch (spec.verb) {
    case 'v':
    case 'd':
      s = a.toString(10);
      break;
    case 'x':
      s = (sharp ? '0x' : '') + a.toString(16);
      break;
    case 'X':
      s = (sharp ? '0X' : '') + a.toString(16).toUpperCase();
      break;
    case 'o':
      s = (sharp ? '0' : '') + a.toString(8);
      break;
    case 'O':
      s = `0o${a.toString(8)}`;
      break;
    case 'b':
      s = a.toString(2);
      break;
    case 'c':
      return pad(String.fromCodePoint(Number(n)), spec, false);
    case 'q':
      return pad(`'${quoteChar(String.fromCodePoint(Number(n)), "'")}'`, spec, false);
    case 'U':
      return pad(`U+${a.toString(16).toUpperCase().padStart(4, '0')}`, spec, false);
    case 'e':
    case 'E':
    case 'f':
    case 'F':
    case 'g':
    case 'G':
      return undefined;
    default:
      return undefined;
  }
  if (spec.precision !== undefined) s = s.padStart(spec.precision, '0');
  return pad(signed(s, neg, spec), spec, spec.precision === undefined);
}

function formatFloatSpec(f: number, spec: Spec): string | undefined {
  let s: string;
  const p = spec.precision;
  switch (spec.verb) {
    case 'v':
    case 'g':
    case 'G':
      s = formatFloat(f, spec.verb === 'G' ? 'G' : 'g', p ?? -1);
      break;
    case 'e':
    case 'E':
      s = formatFloat(f, spec.verb, p ?? 6);
      break;
    case 'f':
    case 'F':
      s = formatFloat(f, 'f', p ?? 6);
      break;
    default:
      return undefined;
  }
  if (!s.startsWith('-') && !/Inf|NaN/.test(s)) s = signed(s, false, spec);
  else if (s === '+Inf' && !spec.flags.includes('+')) s = spec.flags.includes(' ') ? ' Inf' : '+Inf';
  return pad(s, spec, Number.isFinite(f));
}

function hexString(s: string, upper: boolean, spec: Spec): string {
  const hex = Buffer.from(s, 'utf8').toString('hex');
  const h = upper ? hex.toUpperCase() : hex;
  if (spec.flags.includes(' ')) {
    return h.match(/../g)?.map((b) => (spec.flags.includes('#') ? (upper ? '0X' : '0x') + b : b)).join(' ') ?? '';
  }
  return (spec.flags.includes('#') && h ? (upper ? '0X' : '0x') : '') + h;
}

function formatVerb(v: unknown, spec: Spec, depth: number): string {
  if (isNil(v)) return spec.verb === 'v' ? pad('<nil>', spec, false) : badVerb(v, spec);
  switch (typeof v) {
    case 'string': {
      switch (spec.verb) {
        case 'v':
        case 's': {
          const s = spec.precision !== undefined ? [...v].slice(0, spec.precision).join('') : v;
          return pad(s, spec, false);
        }
        case 'q':
          return pad(spec.flags.includes('#') && !v.includes('`') ? `\`${v}\`` : goQuote(v), spec, false);
        case 'x':
        case 'X':
          return pad(hexString(v, spec.verb === 'X', spec), spec, false);
        default:
          return badVerb(v, spec);
      }
    }
    case 'boolean':
      return spec.verb === 'v' || spec.verb === 't' ? pad(String(v), spec, false) : badVerb(v, spec);
    case 'bigint':
      return formatInt(v, spec) ?? badVerb(v, spec);
    case 'number':
      return formatFloatSpec(v, spec) ?? badVerb(v, spec);
    case 'function':
      return spec.verb === 'v' || spec.verb === 'p' ? '0x0' : badVerb(v, spec);
  }
  if (Array.isArray(v)) {
    if (spec.verb === 's' || spec.verb === 'v' || spec.verb === 'q' || spec.verb === 'd' || spec.verb === 'x' || spec.verb === 'X' || spec.verb === 't' || spec.verb === 'f') {
      return `[${v.map((x) => formatVerb(x, spec, depth + 1)).join(' ')}]`;
    }
    return badVerb(v, spec);
  }
  if (isMap(v)) {
    return `map[${sortedKeys(v)
      .map((k) => `${formatVerb(k, spec, depth + 1)}:${formatVerb(v[k], spec, depth + 1)}`)
      .join(' ')}]`;
  }
  if (v instanceof Date) return formatDateV(v);
  const str = (v as { toString?: () => string }).toString;
  if (typeof str === 'function' && str !== Object.prototype.toString) return pad(String(v), spec, false);
  const fields = Object.entries(v).filter(([, x]) => typeof x !== 'function');
  return `&{${fields.map(([, x]) => formatVerb(x, spec, depth + 1)).join(' ')}}`;
}

function formatDateV(d: Date): string {
  const iso = d.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${d.getUTCMilliseconds() ? `.${iso.slice(20, 23).replace(/0+$/, '')}` : ''} +0000 UTC`;
}

/** fmt.Sprint: spaces between operands when neither side is a string. */
export function sprint(args: unknown[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += formatValue(a);
  });
  return out;
}

/** fmt.Sprintln: spaces between all operands and a newline. */
export function sprintln(args: unknown[]): string {
  return `${args.map(formatValue).join(' ')}\n`;
}

/** fmt.Sprintf with Go's verbs, flags, width, precision, `*` and explicit `[n]` argument indexes. */
export function sprintf(format: string, args: unknown[]): string {
  let out = '';
  let argIndex = 0;
  let reordered = false;
  let i = 0;
  while (i < format.length) {
    const pct = format.indexOf('%', i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    i = pct + 1;
    let flags = '';
    while (i < format.length && '+-# 0'.includes(format[i]!)) flags += format[i++];
    const readIndex = (): void => {
      const m = /^\[(\d+)\]/.exec(format.slice(i));
      if (m) {
        argIndex = Number(m[1]) - 1;
        reordered = true;
        i += m[0].length;
      }
    };
    const readNumber = (): number | undefined => {
      readIndex();
      if (format[i] === '*') {
        i++;
        const a = args[argIndex++];
        return typeof a === 'bigint' ? Number(a) : undefined;
      }
      const m = /^\d+/.exec(format.slice(i));
      if (!m) return undefined;
      i += m[0].length;
      return Number(m[0]);
    };
    let width = readNumber();
    if (width !== undefined && width < 0) {
      flags += '-';
      width = -width;
    }
    let precision: number | undefined;
    if (format[i] === '.') {
      i++;
      precision = readNumber() ?? 0;
    }
    readIndex();
    if (i >= format.length) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (argIndex >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const spec: Spec = { verb, flags, width, precision };
    const arg = args[argIndex++];
    out += verb === 'T' ? pad(typeName(arg), spec, false) : formatVerb(arg, spec, 0);
  }
  if (!reordered && argIndex < args.length) {
    out += `%!(EXTRA ${args
      .slice(argIndex)
      .map((a) => (isNil(a) ? '<nil>' : `${typeName(a)}=${formatValue(a)}`))
      .join(', ')})`;
  }
  return out;
}
