/** Go's RE2 regular expressions on top of JS RegExp, for Sprig's regex functions. */

const POSIX_CLASSES: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

const cache = new Map<string, RegExp>();

/** Compiles a Go regular expression; throws Go-like `error parsing regexp` messages. */
export function goRegExp(source: string): RegExp {
  const hit = cache.get(source);
  if (hit) return new RegExp(hit.source, hit.flags);
  let pattern = source;
  let flags = 'g';
  const lead = /^\(\?([imsU]+)\)/.exec(pattern);
  if (lead) {
    pattern = pattern.slice(lead[0].length);
    for (const f of lead[1]!) if (f !== 'U' && !flags.includes(f)) flags += f;
  }
  pattern = pattern
    .replace(/\(\?P</g, '(?<')
    .replace(/\[:(\^?)([a-z]+):\]/g, (all, neg: string, name: string) => (POSIX_CLASSES[name] && !neg ? POSIX_CLASSES[name] : all))
    .replace(/\\z/g, '(?![\\s\\S])')
    .replace(/\\A/g, '(?<![\\s\\S])');
  let re: RegExp;
  try {
    re = new RegExp(pattern, `${flags}u`);
  } catch {
    try {
      re = new RegExp(pattern, flags);
    } catch (err) {
      throw new Error(`error parsing regexp: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`);
    }
  }
  cache.set(source, re);
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
