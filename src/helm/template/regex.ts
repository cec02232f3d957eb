/** Sprig's regex functions over Go patterns (src/go-regexp.ts). */
import { tryCompileGoRegExp } from '../../go-regexp.js';

const cache = new Map<string, RegExp>();

/** Compiles a Go regular expression (global, for Sprig's find/replace); throws Go-like `error parsing regexp` messages. */
export function goRegExp(source: string): RegExp {
  let re = cache.get(source);
  if (!re) {
    const compiled = tryCompileGoRegExp(source, 'g');
    if ('reason' in compiled) throw new Error(`error parsing regexp: ${compiled.reason}: \`${source}\``);
    re = compiled.regexp;
    cache.set(source, re);
  }
  // a fresh object: global RegExps carry lastIndex between uses
  return new RegExp(re.source, re.flags);
}

export function regexMatch(re: string, s: string): boolean {
  const r = goRegExp(re);
  return r.test(s);
}

export function regexFind(re: string, s: string): string {
  const m = goRegExp(re).exec(s);
  return m ? m[0] : '';
}

export function regexFindAll(re: string, s: string, n: number): string[] {
  if (n === 0) return [];
  const out: string[] = [];
  for (const m of s.matchAll(goRegExp(re))) {
    out.push(m[0]);
    if (n > 0 && out.length >= n) break;
  }
  return out;
}

/** Regexp.ReplaceAllString: `$1`, `${1}`, `$name`, `${name}` expand (a name is as long as possible), `$$` is `$`. */
export function regexReplaceAll(re: string, s: string, repl: string): string {
  return s.replace(goRegExp(re), (...args: unknown[]) => {
    const hasGroups = typeof args[args.length - 1] === 'object';
    const groups = (hasGroups ? args[args.length - 1] : undefined) as Record<string, string | undefined> | undefined;
    const numbered = args.slice(0, hasGroups ? -3 : -2) as (string | undefined)[];
    return repl.replace(/\$(\$|\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))/g, (all, _x, braced?: string, bare?: string) => {
      if (all === '$$') return '$';
      const name = braced ?? bare!;
      if (/^\d+$/.test(name)) return numbered[Number(name)] ?? '';
      return groups?.[name] ?? '';
    });
  });
}

export function regexReplaceAllLiteral(re: string, s: string, repl: string): string {
  return s.replace(goRegExp(re), () => repl);
}

/** Regexp.Split: n < 0 all pieces, n == 0 none, n > 0 at most n. */
export function regexSplit(re: string, s: string, n: number): string[] {
  if (n === 0) return [];
  if (re.length > 0 && s.length === 0) return [''];
  const out: string[] = [];
  let beg = 0;
  for (const m of s.matchAll(goRegExp(re))) {
    if (n > 0 && out.length === n - 1) break;
    const end = m.index;
    if (m[0].length === 0 && (end === 0 || end === s.length)) continue;
    out.push(s.slice(beg, end));
    beg = end + m[0].length;
  }
  out.push(s.slice(beg));
  return out;
}

export function regexQuoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}
